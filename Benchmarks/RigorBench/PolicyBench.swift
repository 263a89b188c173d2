import Foundation
import RigorRunner
import RigorSpec
import RigorTasks

/// Policies (spec/policy.md): the cost of the gate per step with 50 rules (target: p50 ≤ 20 µs),
/// redaction and the action export on a large artifact, and batch throughput with a policy on
/// versus off.
func runPolicyBench(root: String, tmp: String, largest: JSON) throws {
    print("")
    print("Policy gate (50 rules: globs, argument conditions, count and rate limits, sequences, an approver)")
    print("")
    let policyText = fiftyRulePolicy()
    let layer = try PolicyLayerBench.parse(policyText)
    var state = PolicyState(policy: layer)
    let types = ["read_file", "list_dir", "set_output", "delete_path", "request_approval", "deploy", "fetch", "extract_value"]
    var perStep: [UInt64] = []
    let steps = 200_000
    perStep.reserveCapacity(steps)
    var denied = 0
    for i in 0..<steps {
        let type = types[i % types.count]
        let args: [String: JSON] = type == "request_approval" ? ["action": "delete_path", "reason": "r"]
            : ["path": .string("/app/dir\(i % 7)/file\(i % 13).txt"), "size": .int(i % 5000)]
        let t = MonotonicClock.nanoseconds()
        let r = state.evaluate(type: type, args: args, step: i + 1)
        if r.executed { state.recordExecuted(type: type, args: args, step: i + 1) } else { denied += 1 }
        perStep.append(MonotonicClock.nanoseconds() - t)
    }
    perStep.sort()
    print("| measurement (\(steps) steps, evaluate + record)   | value      | target   |")
    print("|----------------------------------------------|------------|----------|")
    print("| policy gate per step, p50                    | \(fmtMicros(percentile(perStep, 0.5)).padding(toLength: 10, withPad: " ", startingAt: 0)) | ≤ 20 µs  |")
    print("| policy gate per step, p95                    | \(fmtMicros(percentile(perStep, 0.95)).padding(toLength: 10, withPad: " ", startingAt: 0)) |          |")
    print("| policy gate per step, p99                    | \(fmtMicros(percentile(perStep, 0.99)).padding(toLength: 10, withPad: " ", startingAt: 0)) |          |")
    print("| actions denied                               | \(String(denied).padding(toLength: 10, withPad: " ", startingAt: 0)) |          |")

    print("")
    print("Redaction and the action export (the 100,000-step artifact)")
    print("")
    let artifactBytes = try largest.canonicalBytes()
    let mb = Double(artifactBytes.count) / 1_048_576
    let steps100k = Double(largest["action_trace"]?.arrayValue?.count ?? 0)
    func best(_ body: () throws -> Void) rethrows -> Double {
        var b = Double.infinity
        for _ in 0..<3 {
            let t = MonotonicClock.nanoseconds()
            try body()
            b = min(b, Double(MonotonicClock.nanoseconds() - t))
        }
        return b
    }
    let plain = Redactor()
    var withSecrets = Redactor()
    for (i, s) in ["sk-live-0123456789abcdef", "hunter2-but-longer", "0xDEADBEEFCAFE"].enumerated() { withSecrets.add(.init(name: "S\(i)", value: s)) }
    let tPlain = best { _ = plain.redact(largest) }
    let tSecrets = best { _ = withSecrets.redact(largest) }
    var exported: JSON = .null
    let tExport = try best { exported = try ActionExport.document([largest], redactor: plain) }
    let exportBytes = try exported.canonicalBytes()
    let tValidate = best { _ = ActionExport.problems(exported) }
    print("| operation (\(String(format: "%.1f", mb)) MB artifact)                 | best of 3  | rate               |")
    print("|------------------------------------------------|------------|--------------------|")
    print("| redact (built-in patterns only)                | \(String(format: "%8.1f ms", tPlain / 1e6)) | \(String(format: "%7.1f MB/s", mb / (tPlain / 1e9)).padding(toLength: 18, withPad: " ", startingAt: 0)) |")
    print("| redact (3 secrets + built-in patterns)         | \(String(format: "%8.1f ms", tSecrets / 1e6)) | \(String(format: "%7.1f MB/s", mb / (tSecrets / 1e9)).padding(toLength: 18, withPad: " ", startingAt: 0)) |")
    print("| action export (build, redact again)            | \(String(format: "%8.1f ms", tExport / 1e6)) | \(String(format: "%9.0f steps/s", steps100k / (tExport / 1e9)).padding(toLength: 18, withPad: " ", startingAt: 0)) |")
    print("| action export, schema validation               | \(String(format: "%8.1f ms", tValidate / 1e6)) | \(String(format: "%7.1f MB/s", Double(exportBytes.count) / 1_048_576 / (tValidate / 1e9)).padding(toLength: 18, withPad: " ", startingAt: 0)) |")

    print("")
    print("Batch with a policy on vs off (toy_filesystem + approval_cleanup × seeds 0..39, Python agents, 2 workers, three interleaved rounds)")
    print("")
    let policyFile = "\(tmp)/bench-policy.toml"
    try policyText.write(toFile: policyFile, atomically: true, encoding: .utf8)
    var ws = Workspace(root: root, stateDirectory: "\(tmp)/policy-batch-state")
    ws.writesRunFiles = false
    let pairings = [Pairing(name: "toy_filesystem", agent: "Agents/toy_agent.py", task: "filesystem_hidden_config@1"),
                    Pairing(name: "approval_cleanup", agent: "Agents/approval_cleanup_agent.py", task: "approval_gated_cleanup@1")]
    var rates: [String: [Double]] = ["off": [], "on": []]
    var passed: [String: Int] = [:]
    for _ in 0..<3 {
        for mode in ["off", "on"] {
            var batch = Batch(pairings: pairings, seeds: Array(0..<40), workers: 2, isolation: .process)
            batch.policyFile = mode == "on" ? policyFile : nil
            let t = MonotonicClock.nanoseconds()
            let outcomes = try batch.run(in: ws) { _, _ in }
            let seconds = Double(MonotonicClock.nanoseconds() - t) / 1e9
            rates[mode, default: []].append(Double(outcomes.count) / seconds)
            passed[mode] = outcomes.filter(\.passed).count
        }
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    print("| policy | episodes/s (median; rounds)         | passed |")
    print("|--------|-------------------------------------|--------|")
    for mode in ["off", "on"] {
        let r = rates[mode] ?? []
        print("| \(mode.padding(toLength: 6, withPad: " ", startingAt: 0)) | \(String(format: "%6.1f", median(r))) (\(r.map { String(format: "%.1f", $0) }.joined(separator: " ")))".padding(toLength: 46, withPad: " ", startingAt: 0) + "| \(passed[mode] ?? 0)/80  |")
    }
}

/// Fifty rules of every kind that never change the outcome of the benchmark's pairings (they
/// approve or observe, or limit actions the agents do not send): the cost is the gate's, not a
/// different episode's.
func fiftyRulePolicy() -> String {
    var text = "format = \"rigor-policy/1\"\n[approver]\nkind = \"asked_first\"\nrequest = \"request_approval\"\nmatch_arg = \"action\"\n"
    for i in 0..<50 {
        text += "\n[[rules]]\nid = \"bench-\(i)\"\n"
        switch i % 6 {
        case 0: text += "action = \"read_*\"\nargs = { path = \"/secret\(i)/*\" }\ndecision = \"rejected\"\n"
        case 1: text += "action = [\"fetch\", \"upload\"]\nrate = { max = 1000, per_steps = 10 }\ndecision = \"rejected\"\n"
        case 2: text += "action = \"wipe_\(i)\"\nmax_count = 0\ndecision = \"rejected\"\n"
        case 3: text += "action = \"deploy_\(i)\"\nafter = \"approve\"\ndecision = \"rejected\"\n"
        case 4: text += "action = \"*\"\nargs = { size = { min = 100000 } }\ndecision = \"requires_approval\"\n"
        default: text += "action = \"list_*\"\nargs = { path = { one_of = [\"/x\(i)\", \"/y\(i)\"] } }\ndecision = \"observed\"\n"
        }
    }
    return text
}

/// Reads the benchmark's policy text through the same reader rigor uses.
enum PolicyLayerBench {
    static func parse(_ text: String) throws -> Policy {
        try PolicyLayer.parse(text, path: "bench-policy.toml", source: "flag").policy
    }
}
