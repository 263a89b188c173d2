import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The acceptance matrix of sharded batches (issue 22): 12 pairings × 100 seeds, run once on
/// one host and then as shards under each engine's variables; the merged result must be the
/// one-host batch exactly.
///
/// The 12 pairings are the fastest of the 17 built-in ones (30 seeds each, debug build, a
/// loaded 2-core machine: 0.53–0.77 s; the other five took 0.86–2.45 s): the 1,200 episodes
/// then take about 20 s per batch in a debug build instead of about 40 s.
enum ShardMatrix {
    static let pairings = [
        "log_stream_monitor", "rate_limit_api", "sandboxed_code_auditor", "security_incident_triage",
        "customer_support_escalation", "exact_answer_vault", "toy_filesystem", "chain_rate_limited",
        "ops_log_alert_triage", "runbook_verifier", "chain_deterministic_service", "ops_incident_chain",
    ]
    static let seeds = "0..99"
    static let episodes = 1200

    struct OneHost: Sendable {
        let summary: JSON
        let summaryFile: String
        let directory: String
    }

    /// The one-host batch, run once for every test that compares with it.
    static let oneHost: Result<OneHost, any Error> = Result {
        let dir = RepoPaths.temporaryDirectory("rigor-onehost")
        let r = try CommandLineRun.rigor(["batch", "--pairings", pairings.joined(separator: ","), "--seeds", seeds, "--json", "--quiet",
                                          "--state-dir", "\(dir)/state"])
        guard r.status <= 1, !r.stdout.isEmpty else { throw ShardTestError("one-host batch failed (\(r.status)): \(r.stderr)") }
        let file = "\(dir)/one.json"
        try Data(r.stdout.utf8).write(to: URL(fileURLWithPath: file))
        return OneHost(summary: try JSON.parse(r.stdout), summaryFile: file, directory: dir)
    }

    static func hashes(_ summary: JSON) -> [String: String] {
        var out: [String: String] = [:]
        for e in summary["episodes"]?.arrayValue ?? [] {
            out["\(e["pairing"]?.stringValue ?? "")#\(e["seed"]?.intValue ?? -1)"] = e["artifact_hash"]?.stringValue
        }
        return out
    }

    /// Per pairing, what the summary says that does not depend on timing or run ids.
    static func perPairing(_ summary: JSON) -> [String: JSON] {
        var out: [String: JSON] = [:]
        for p in summary["pairings"]?.arrayValue ?? [] {
            let failures: [JSON] = (p["first_failures"]?.arrayValue ?? []).map {
                ["seed": $0["seed"] ?? .null, "termination_reason": $0["termination_reason"] ?? .null, "failure_reason": $0["failure_reason"] ?? .null]
            }
            out[p["name"]?.stringValue ?? ""] = ["passed": p["passed"] ?? .null, "total": p["total"] ?? .null, "pass_rate": p["pass_rate"] ?? .null,
                                                 "wilson_95": p["wilson_95"] ?? .null, "first_failures": .array(failures)]
        }
        return out
    }

    /// The merged summary and store give what the one-host batch gave: every artifact hash, the
    /// counts, the per-pairing statistics, `rigor compare` with zero flips, and a store whose
    /// ledger and runs verify.
    static func expectMatchesOneHost(merged: JSON, mergedFile: String, mergedStore: String, shards: Int) throws {
        let one = try oneHost.get()
        let expected = hashes(one.summary)
        #expect(expected.count == episodes)
        #expect(hashes(merged) == expected)
        for key in ["total", "passed", "failed", "failed_by_type", "steps", "tool_calls"] {
            #expect(merged[key] == one.summary[key], "\(key): \(String(describing: merged[key])) vs \(String(describing: one.summary[key]))")
        }
        #expect(perPairing(merged) == perPairing(one.summary))
        #expect(merged["merge"]?["shard_count"]?.intValue == shards)
        #expect(merged["merge"]?["missing_shards"] == [])
        #expect(merged["merge"]?["runs_added"]?.intValue == episodes)

        let compare = try CommandLineRun.rigor(["compare", one.summaryFile, mergedFile, "--json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        let c = try JSON.parse(compare.stdout)
        let overall = c["overall"]
        #expect(overall?["matched"]?.intValue == episodes)
        #expect(overall?["only_before"] == 0 && overall?["only_after"] == 0)
        #expect(overall?["mcnemar"]?["pass_to_fail"] == 0 && overall?["mcnemar"]?["fail_to_pass"] == 0)
        for p in c["pairings"]?.arrayValue ?? [] {
            #expect(p["pass_to_fail_seeds"] == [] && p["fail_to_pass_seeds"] == [], "\(p["name"] ?? .null)")
        }

        let ledger = try CommandLineRun.rigor(["ledger", "verify", "--state-dir", mergedStore, "--json"])
        #expect(ledger.status == 0, "\(ledger.stdout)\(ledger.stderr)")
        let runs = try CommandLineRun.rigor(["runs", "verify", "--state-dir", mergedStore])
        #expect(runs.status == 0, "\(runs.stdout)\(runs.stderr)")
    }

    /// This process's environment with `extra` on top.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        if env["RIGOR_WORLD_KEY"] == nil { env["RIGOR_WORLD_KEY"] = TestWorldKey.fixed.hex }
        return env
    }
}

struct ShardTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
