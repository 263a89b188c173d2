import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// TraceCore 1.1.3's own task folders and reference agents, run by TraceCore and by Rigor:
/// the same `(action, result)` sequence and the same outcome, seed by seed (issue 16).
///
/// TraceCore comes from PyPI into `.build-venv/` (`make tracecore-venv`, which `make test`
/// runs; the test makes it too when it is missing). Skipped, saying why, only when it cannot be
/// installed (PyPI unreachable).
@Suite("TraceCore interop", .serialized)
struct TraceCoreInteropTests {
    static let venv = "\(RepoPaths.root)/.build-venv"

    /// The venv's site-packages with TraceCore 1.1.3 in it, or nil (and the reason printed).
    static let sitePackages: String? = {
        let python = "\(venv)/bin/python"
        let probe = ["-c", "import importlib.metadata as m, sysconfig; assert m.version('tracecore') == '1.1.3'; print(sysconfig.get_paths()['purelib'])"]
        if let r = try? CommandLineRun.run(python, probe), r.status == 0 {
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let make = try? CommandLineRun.run("/usr/bin/make", ["-s", "tracecore-venv"], cwd: RepoPaths.root)
        if let r = try? CommandLineRun.run(python, probe), r.status == 0 {
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        print("TraceCore interop skipped: tracecore 1.1.3 could not be installed into \(venv): \(make?.stdout ?? "") \(make?.stderr ?? "make failed")")
        return nil
    }()

    /// TraceCore's 7 reference pairings (agent_bench/pairings.py).
    static let pairings: [(agent: String, task: String)] = [
        ("toy_agent.py", "filesystem_hidden_config@1"),
        ("rate_limit_agent.py", "rate_limited_api@1"),
        ("chain_agent.py", "rate_limited_chain@1"),
        ("ops_triage_agent.py", "log_alert_triage@1"),
        ("log_stream_monitor_agent.py", "log_stream_monitor@1"),
        ("runbook_verifier_agent.py", "runbook_verifier@1"),
        ("sandboxed_code_auditor_agent.py", "sandboxed_code_auditor@1"),
    ]
    static let seeds = [0, 1, 5]

    @Test("rigor tasks list --tasks-dir <site-packages>/tasks lists every task TraceCore registers",
          .enabled(if: Facility.needed(sitePackages != nil, "TraceCore 1.1.3 in the tools venv (make tracecore-venv)")))
    func listsAll() throws {
        let site = try #require(Self.sitePackages)
        let r = try CommandLineRun.rigor(["tasks", "list", "--json", "--tasks-dir", "\(site)/tasks"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSON.parse(r.stdout).arrayValue ?? []
        let refs = Set(rows.compactMap { $0["ref"]?.stringValue })
        // Every task TraceCore itself registers (tasks/registry.json: 14 in 1.1.3), none broken.
        let registry = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: "\(site)/tasks/registry.json"))))
        let registered = Set((registry["tasks"]?.arrayValue ?? []).compactMap { t in
            t["id"]?.stringValue.map { "\($0)@\(t["version"]?.intValue ?? 0)" } })
        #expect(registered.count >= 14)
        #expect(refs == registered, "\(r.stdout)")
        #expect(rows.allSatisfy { $0["error"] == nil }, "\(r.stdout)")
        for id in ["dice_game", "customer_support_escalation", "multi_role_escalation", "security_incident_triage", "filesystem_hidden_config"] {
            #expect(refs.contains("\(id)@1"), "\(id) missing: \(refs.sorted())")
        }
    }

    @Test("TraceCore's reference pairings: Rigor's (action, result) sequence and outcome equal TraceCore's",
          .enabled(if: Facility.needed(sitePackages != nil, "TraceCore 1.1.3 in the tools venv (make tracecore-venv)")))
    func sameEpisodes() throws {
        let site = try #require(Self.sitePackages)
        let dir = RepoPaths.temporaryDirectory("rigor-tracecore-interop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // TraceCore: one batch, in an empty working directory (it writes ./.agent_bench/runs).
        let jobs = Self.pairings.flatMap { p in Self.seeds.map { s -> JSON in
            ["agent": .string("agents/\(p.agent)"), "task_ref": .string(p.task), "seed": .int(s)] } }
        try JSON.array(jobs).canonicalBytes().write(to: "\(dir)/batch.json")
        let tc = try CommandLineRun.run("\(Self.venv)/bin/tracecore", ["run", "batch", "--batch-file", "\(dir)/batch.json", "--workers", "2"],
                                        cwd: dir, environment: ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb", "HOME": dir])
        #expect(tc.status == 0, "tracecore: \(tc.stdout) \(tc.stderr)")
        var tracecore: [String: JSON] = [:]
        let runs = "\(dir)/.agent_bench/runs"
        for file in try FileManager.default.contentsOfDirectory(atPath: runs) {
            let a = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: "\(runs)/\(file)"))))
            let agent = (a["agent_ref"]?.stringValue ?? "") as NSString
            tracecore["\(agent.lastPathComponent) \(a["task_ref"]?.stringValue ?? "") \(a["seed"]?.intValue ?? -1)"] = a
        }
        #expect(tracecore.count == jobs.count)

        // Rigor: TraceCore's agent files, verbatim, beside TraceCore's `tasks` package (the
        // runbook agent imports tasks.runbook_verifier.shared); at the process level, where an
        // agent may read its own folder.
        let agents = "\(dir)/agents"
        try FileManager.default.createDirectory(atPath: agents, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(site)/tasks", toPath: "\(agents)/tasks")
        for p in Self.pairings {
            try FileManager.default.copyItem(atPath: "\(site)/agent_bench/agents/\(p.agent)", toPath: "\(agents)/\(p.agent)")
            #expect(FileManager.default.contents(atPath: "\(agents)/\(p.agent)") == FileManager.default.contents(atPath: "\(site)/agent_bench/agents/\(p.agent)"))
        }
        _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
        var compared = 0, steps = 0
        for p in Self.pairings {
            for seed in Self.seeds {
                let out = "\(dir)/rigor-\(p.agent)-\(seed).json"
                let r = try CommandLineRun.rigor(
                    ["run", "--agent", "\(agents)/\(p.agent)", "--task", p.task, "--seed", String(seed), "--tasks-dir", "\(site)/tasks",
                     "--isolation", "process", "--out", out, "--state-dir", "\(dir)/state"])
                let label = "\(p.agent) on \(p.task) seed \(seed)"
                let mine = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "\(label): \(r.stderr)")))
                let theirs = try #require(tracecore["\(p.agent) \(p.task) \(seed)"], "\(label): TraceCore made no artifact")
                #expect(theirs["success"] == true && !Self.steps(theirs).isEmpty, "\(label): TraceCore's own episode did not succeed")
                compared += 1
                steps += Self.steps(theirs).count
                #expect(Self.steps(mine) == Self.steps(theirs), "\(label): the (action, result) sequences differ\nrigor: \(Self.steps(mine))\ntracecore: \(Self.steps(theirs))")
                for key in ["success", "termination_reason", "failure_type", "steps_used", "tool_calls_used"] {
                    #expect(mine[key] == theirs[key], "\(label): \(key) \(mine[key] ?? .null) ≠ TraceCore's \(theirs[key] ?? .null)")
                }
                #expect(SpecCheck.check(mine).isEmpty, "\(label): \(SpecCheck.check(mine))")
            }
        }
        print("TraceCore interop: \(compared) episodes, \(steps) steps, identical (action, result) sequences and outcomes")
        #expect(compared == Self.pairings.count * Self.seeds.count)
    }

    /// The trace as `(action, result, budget_delta)` triples.
    static func steps(_ artifact: JSON) -> [JSON] {
        (artifact["action_trace"]?.arrayValue ?? []).map { s in
            ["action": s["action"] ?? .null, "result": s["result"] ?? .null, "budget_delta": s["budget_delta"] ?? .null]
        }
    }
}

private extension Array where Element == UInt8 {
    func write(to path: String) throws { try Data(self).write(to: URL(fileURLWithPath: path)) }
}
