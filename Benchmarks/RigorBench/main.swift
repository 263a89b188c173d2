// `make bench`: the runner's own cost per step on long episodes, and the hashing rate.
//
// The Swift agent runs in loop mode (list_dir forever) against a copy of
// filesystem_hidden_config whose budgets are raised to N steps, so an episode lasts exactly N
// steps. The runner records, per step, the time spent in the runner itself (build and send
// the observation; decode, check, execute and record the action) apart from the time the
// agent takes to answer (its think time plus the pipe round trip).
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let i = min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))
    return Double(sorted[i])
}

func fmtMicros(_ nanos: Double) -> String { String(format: "%.1f µs", nanos / 1000) }

// `rigor-bench --intentproof`: only the IntentProof export/verify table (no agent needed).
if CommandLine.arguments.contains("--intentproof") {
    runIntentProofBench()
    exit(0)
}

let root = FileManager.default.currentDirectoryPath
// `rigor-bench gateway`: only the model gateway tables (no agent needed).
if CommandLine.arguments.dropFirst().first == "gateway" {
    let scratch = NSTemporaryDirectory() + "rigor-bench-gateway-\(getpid())"
    try runGatewayBench(tmp: scratch)
    try? FileManager.default.removeItem(atPath: scratch)
    exit(0)
}
// `RIGOR_BENCH_ONLY=metrics .build/release/rigor-bench`: only the metrics tables.
if ProcessInfo.processInfo.environment["RIGOR_BENCH_ONLY"] == "metrics" {
    let scratch = NSTemporaryDirectory() + "rigor-bench-metrics-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    try runMetricsBench(tmp: scratch)
    exit(0)
}
let agentBinary = "\(root)/.build/release/rigor-swift-agent"
guard FileManager.default.isExecutableFile(atPath: agentBinary) else {
    print("rigor-bench: \(agentBinary) is missing; run `make bench` (it builds in release first)")
    exit(2)
}
let tmp = NSTemporaryDirectory() + "rigor-bench-\(getpid())"
let taskDir = "\(tmp)/Tasks/filesystem_hidden_config"
try? FileManager.default.createDirectory(atPath: "\(tmp)/Tasks", withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

func prepareTask(steps: Int) throws {
    try? FileManager.default.removeItem(atPath: taskDir)
    try FileManager.default.copyItem(atPath: "\(root)/Tasks/filesystem_hidden_config", toPath: taskDir)
    var manifest = try String(contentsOfFile: "\(taskDir)/task.toml", encoding: .utf8)
    manifest = manifest.replacingOccurrences(of: "steps = 200", with: "steps = \(steps)")
    manifest = manifest.replacingOccurrences(of: "tool_calls = 40", with: "tool_calls = \(steps)")
    manifest = manifest.replacingOccurrences(of: "wall_clock_seconds = 60", with: "wall_clock_seconds = 3600")
    try manifest.write(toFile: "\(taskDir)/task.toml", atomically: true, encoding: .utf8)
}

let workspace = Workspace(root: root, tasksDirectory: "\(tmp)/Tasks", stateDirectory: "\(tmp)/state")
/// `RIGOR_BENCH_ONLY=policy`: only the 100,000-step episode (whose artifact the policy tables use) and the policy tables.
let policyOnly = ProcessInfo.processInfo.environment["RIGOR_BENCH_ONLY"] == "policy"

// `rigor-bench shared-store`: only the PostgreSQL-vs-SQLite tables (`make bench-store`).
if CommandLine.arguments.dropFirst().first == "shared-store" {
    try runSharedStoreBench(root: root, rigorBinary: "\(root)/.build/release/rigor", tmp: tmp)
    try? FileManager.default.removeItem(atPath: tmp)
    exit(0)
}

print("Runner overhead per step (Swift agent in loop mode, isolation=process, release build)")
print("")
print("| steps   | episode wall | per step (total) | runner median | runner p95 | agent+IPC median | artifact assembly+hash |")
print("|---------|--------------|------------------|---------------|------------|------------------|------------------------|")
var largest: JSON = .null
var tenThousandSteps: JSON = .null
for steps in policyOnly ? [100_000] : [1_000, 10_000, 100_000] {
    try prepareTask(steps: steps)
    var request = try workspace.prepare(RunOptions(agent: agentBinary, task: "filesystem_hidden_config@1", seed: 1, isolation: .process), collectTiming: true)
    request.agent = request.agent.appending(arguments: ["--loop"])
    let t0 = MonotonicClock.nanoseconds()
    let result = try Episode.run(request)
    let wall = Double(MonotonicClock.nanoseconds() - t0)
    guard let timing = result.timing, result.record.stepsUsed == steps else {
        print("episode ended early: \(result.record.termination) \(result.record.failureReason ?? "")")
        exit(1)
    }
    let runner = timing.runnerNanosPerStep.sorted()
    let agent = timing.agentNanosPerStep.sorted()
    print("| \(String(steps).padding(toLength: 7, withPad: " ", startingAt: 0)) | \(String(format: "%9.3f s", wall / 1e9))  | \(fmtMicros(wall / Double(steps)).padding(toLength: 16, withPad: " ", startingAt: 0)) | \(fmtMicros(percentile(runner, 0.5)).padding(toLength: 13, withPad: " ", startingAt: 0)) | \(fmtMicros(percentile(runner, 0.95)).padding(toLength: 10, withPad: " ", startingAt: 0)) | \(fmtMicros(percentile(agent, 0.5)).padding(toLength: 16, withPad: " ", startingAt: 0)) | \(String(format: "%.1f ms", Double(timing.assemblyNanos) / 1e6)) |")
    largest = result.artifact
    if steps == 10_000 { tenThousandSteps = result.artifact }
}

if !policyOnly {
print("")
print("Artifact hashing (the 100,000-step artifact)")
print("")
let bytes = try largest.canonicalBytes(style: .jcs)
let mb = Double(bytes.count) / 1_048_576
func rate(_ label: String, _ body: () throws -> Void) rethrows {
    var best = Double.infinity
    for _ in 0..<5 {
        let t = MonotonicClock.nanoseconds()
        try body()
        best = min(best, Double(MonotonicClock.nanoseconds() - t))
    }
    print("| \(label.padding(toLength: 46, withPad: " ", startingAt: 0)) | \(String(format: "%8.1f ms", best / 1e6)) | \(String(format: "%7.1f MB/s", mb / (best / 1e9))) |")
}
print("| operation (\(String(format: "%.1f", mb)) MB canonical)".padding(toLength: 49, withPad: " ", startingAt: 0) + "| best of 5  | rate         |")
print("|------------------------------------------------|------------|--------------|")
try rate("artifact_hash (strip timings, JCS, SHA-256)") { _ = try HashRecipe.rigor.hash(largest) }
try rate("JCS serialisation only") { _ = try largest.canonicalBytes(style: .jcs) }
rate("SHA-256 only") { _ = Digest.sha256(bytes) }
try rate("parse (JSON → value)") { _ = try JSON.parse(bytes) }

let rigorBinary = "\(root)/.build/release/rigor"
try runStoreBench(root: root, rigorBinary: rigorBinary, tmp: tmp)
let realBatch = try runStoreSizeBench(rigorBinary: rigorBinary, root: root, tmp: tmp, seeds: "0..99")
try runSharedStoreBench(root: root, rigorBinary: rigorBinary, tmp: tmp)
runDiffBench()
try runMetricsBench(tmp: tmp)
runIntentProofBench()
try runServerBench(root: root, tmp: tmp, longRun: tenThousandSteps, batch: realBatch)
try runShardBench(root: root, rigorBinary: rigorBinary, agentBinary: agentBinary, tmp: tmp)
try runGatewayBench(tmp: tmp)
}
try runPolicyBench(root: root, tmp: tmp, largest: largest)
