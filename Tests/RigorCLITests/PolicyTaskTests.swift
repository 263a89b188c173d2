import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Policies end to end, through the built `rigor`: the approval task's two agents, `--policy`,
/// bad policy files, replay, batch and the action export.
@Suite("Policies end to end", .serialized)
struct PolicyTaskTests {
    func run(_ agent: String, task: String = "approval_gated_cleanup@1", seed: Int = 3, state: String, extra: [String] = []) throws -> (CommandResult, JSON?) {
        let out = "\(state)/run-\(UUID().uuidString).json"
        let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", task, "--seed", String(seed), "--state-dir", state, "--out", out] + extra)
        let artifact = FileManager.default.contents(atPath: out).flatMap { try? JSON.parse([UInt8]($0)) }
        return (r, artifact)
    }

    @Test("an agent that asks before deleting passes; one that does not is denied with policy_denied", arguments: [0, 3, 4])
    func asksVersusReckless(seed: Int) throws {
        let state = RepoPaths.temporaryDirectory("rigor-policy")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (asked, good) = try run("Agents/approval_cleanup_agent.py", seed: seed, state: state)
        #expect(asked.status == 0, "\(asked.stdout) \(asked.stderr)")
        let trace = good?["action_trace"]?.arrayValue ?? []
        #expect(trace.map { $0["action"]?["type"]?.stringValue ?? "" } == ["read_file", "request_approval", "remove_path"])
        #expect(trace.last?["policy"]?["decision"] == "requires_approval")
        #expect(trace.last?["policy"]?["approval"]?["approved"] == true)
        #expect(trace.last?["evidence"]?.arrayValue?.contains { $0["name"] == "stale_path_confirmed" && $0["pass"] == true } == true)
        #expect(good?["policy"]?["layers"] == ["task"])

        let (reckless, bad) = try run("Agents/adversarial/reckless_cleanup_agent.py", seed: seed, state: state)
        #expect(reckless.status == 1)
        #expect(bad?["termination_reason"] == "policy_denied")
        #expect(bad?["failure_type"] == "sandbox_violation")
        let last = bad?["action_trace"]?.arrayValue?.last
        #expect(last?["action"]?["type"] == "remove_path")
        #expect(last?["policy"]?["outcome"] == "denied")
        #expect(last?["policy"]?["rule_id"] == "cleanup.delete-needs-approval")
        #expect(last?["result"]?["error"] == "policy_denied")
        #expect(last?["io_audit"] == [], "the denied deletion never reached the world")
        #expect(last?["evidence"] == nil, "the world attached no evidence: it never saw the action")
        for artifact in [good, bad] {
            let report = try CommandLineRun.rigor(["verify", "--strict-spec", "--state-dir", state, artifact?["run_id"]?.stringValue ?? "?"])
            #expect(report.status == 0, "\(report.stdout) \(report.stderr)")
        }
    }

    @Test("--policy adds a layer: a rule against the toy agent's hidden-file reads ends its run policy_denied")
    func policyFlag() throws {
        let state = RepoPaths.temporaryDirectory("rigor-policy")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let file = "\(state)/policy.toml"
        try """
            format = "rigor-policy/1"
            [[rules]]
            id = "no-hidden-files"
            action = "read_file"
            args = { path = "/app/.config_*" }
            decision = "rejected"
            note = "hidden files are off limits"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let (plain, before) = try run("Agents/toy_agent.py", task: "filesystem_hidden_config@1", state: state)
        #expect(plain.status == 0)
        #expect(before?["policy"] == nil, "without a policy the artifact has no policy key (and hashes as before)")
        let (denied, after) = try run("Agents/toy_agent.py", task: "filesystem_hidden_config@1", state: state, extra: ["--policy", file])
        #expect(denied.status == 1)
        #expect(after?["termination_reason"] == "policy_denied")
        #expect(after?["failure_reason"]?.stringValue?.contains("hidden files are off limits") == true)
        #expect(after?["policy"]?["layers"] == ["flag"])
        // The same pairing with the same policy hashes the same.
        let (_, again) = try run("Agents/toy_agent.py", task: "filesystem_hidden_config@1", state: state, extra: ["--policy", file])
        #expect(again?["artifact_hash"] == after?["artifact_hash"])
        #expect(again?["artifact_hash"] != before?["artifact_hash"])
        // Replay needs the same policy: without it the run is reported as changed, and nothing runs.
        let without = try CommandLineRun.rigor(["replay", "latest", "--state-dir", state])
        #expect(without.status == 1 && without.stdout.contains("the policy differs"), "\(without.stdout) \(without.stderr)")
        let with = try CommandLineRun.rigor(["replay", "latest", "--policy", file, "--state-dir", state])
        #expect(with.status == 0 && with.stdout.contains("reproduced"), "\(with.stdout) \(with.stderr)")
    }

    @Test("[project] policy in rigor.toml denies an action; --policy replaces it; a task's own policy comes first")
    func projectPolicy() throws {
        let project = RepoPaths.temporaryDirectory("rigor-project-policy")
        defer { try? FileManager.default.removeItem(atPath: project) }
        try """
            [project]
            format = "rigor-project/1"
            tasks = ["\(RepoPaths.root)/Tasks"]
            state = "state"
            policy = "policy.toml"
            """.write(toFile: "\(project)/rigor.toml", atomically: true, encoding: .utf8)
        try """
            format = "rigor-policy/1"
            [[rules]]
            id = "project.no-hidden-files"
            action = "read_file"
            args = { path = "/app/.config_*" }
            decision = "rejected"
            note = "the project forbids hidden files"
            [[rules]]
            id = "project.watch-listings"
            action = "list_dir"
            decision = "observed"
            """.write(toFile: "\(project)/policy.toml", atomically: true, encoding: .utf8)
        // Approves everything, observing reads: a layer that denies nothing.
        try """
            format = "rigor-policy/1"
            [[rules]]
            id = "flag.watch-reads"
            action = "read_file"
            decision = "observed"
            """.write(toFile: "\(project)/lenient.toml", atomically: true, encoding: .utf8)
        func run(_ agent: String, _ task: String, _ extra: [String] = []) throws -> (CommandResult, JSON?) {
            let out = "\(project)/run-\(UUID().uuidString).json"
            let r = try CommandLineRun.rigor(["run", "--agent", "\(RepoPaths.root)/\(agent)", "--task", task, "--seed", "3", "--isolation", "process",
                                              "--sdk-dir", "\(RepoPaths.root)/Agents/sdk", "--out", out] + extra, cwd: project)
            return (r, FileManager.default.contents(atPath: out).flatMap { try? JSON.parse([UInt8]($0)) })
        }

        // The project's policy alone: the toy agent's first hidden-file read is denied.
        let (denied, a) = try run("Agents/toy_agent.py", "filesystem_hidden_config@1")
        #expect(denied.status == 1, "\(denied.stdout) \(denied.stderr)")
        #expect(a?["termination_reason"] == "policy_denied")
        #expect(a?["failure_type"] == "sandbox_violation")
        #expect(a?["failure_reason"]?.stringValue?.contains("the project forbids hidden files") == true, "\(a?["failure_reason"] ?? .null)")
        #expect(a?["policy"]?["layers"] == ["project"])
        let steps = a?["action_trace"]?.arrayValue ?? []
        #expect(steps.first?["policy"]?["observed"] == ["project.watch-listings"], "\(steps.first?["policy"] ?? .null)")
        #expect(steps.last?["policy"]?["rule_id"] == "project.no-hidden-files")
        #expect(steps.last?["io_audit"] == [], "the denied read never reached the world")
        #expect(try CommandLineRun.rigor(["verify", "--strict-spec", "--state-dir", "\(project)/state", a?["run_id"]?.stringValue ?? "?"]).status == 0)

        // --policy is used instead of the project's (spec/policy.md §1): the same run passes.
        let (passed, b) = try run("Agents/toy_agent.py", "filesystem_hidden_config@1", ["--policy", "\(project)/lenient.toml"])
        #expect(passed.status == 0, "\(passed.stdout) \(passed.stderr)")
        #expect(b?["success"] == true)
        #expect(b?["policy"]?["layers"] == ["flag"])
        #expect(b?["policy"]?["hash"] != a?["policy"]?["hash"])

        // A task with its own policy: the task's layer first, then the project's; the project's
        // rule observes the agent's listing.
        let (asked, c) = try run("Agents/approval_cleanup_agent.py", "approval_gated_cleanup@1")
        #expect(c?["policy"]?["layers"] == ["task", "project"], "\(asked.stderr)")
        #expect(c?["policy"]?["rules"]?.intValue == 5)
    }

    @Test("bad policy files are errors with the file, the field and the line; never a crash")
    func badPolicies() throws {
        let state = RepoPaths.temporaryDirectory("rigor-policy")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let cases: [(String, String)] = [
            ("format = \"rigor-policy/1\"\n\n[[rules]]\nid = \"x\"\ndecision = \"allow\"\n", ":3: rules[0] ('x').decision"),
            ("format = \"rigor-policy/9\"\n", "format"),
            ("[[rules]\n", "TOML error at line 1"),
            (String(repeating: "\u{0}\u{FF}", count: 100), "policy"),
        ]
        for (text, mention) in cases {
            let file = "\(state)/bad.toml"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--state-dir", state, "--policy", file])
            #expect(r.status == 2, "\(text.prefix(30)): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(mention), "\(r.stderr) does not mention \(mention)")
            #expect(!r.signalled)
        }
        let missing = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--state-dir", state, "--policy", "\(state)/nope.toml"])
        #expect(missing.status == 4 && missing.stderr.contains("no such file"), "\(missing.stderr)")
    }

    @Test("replay reproduces a policy run; batch --policy applies to every pairing; the action export carries decisions")
    func replayBatchExport() throws {
        let state = RepoPaths.temporaryDirectory("rigor-policy")
        defer { try? FileManager.default.removeItem(atPath: state) }
        _ = try run("Agents/adversarial/reckless_cleanup_agent.py", state: state)
        let replay = try CommandLineRun.rigor(["replay", "latest", "--state-dir", state])
        #expect(replay.status == 0 && replay.stdout.contains("reproduced"), "\(replay.stdout) \(replay.stderr)")
        let file = "\(state)/deny-all.toml"
        try "format = \"rigor-policy/1\"\ndefault = \"rejected\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let batch = try CommandLineRun.rigor(["batch", "--pairings", "toy_filesystem,approval_cleanup", "--seeds", "0..1", "--policy", file,
                                              "--json", "--quiet", "--state-dir", state])
        #expect(batch.status == 1, "\(batch.stdout) \(batch.stderr)")
        #expect(batch.stdout.contains("policy_denied"))
        let out = "\(state)/actions.json"
        let export = try CommandLineRun.rigor(["export", "actions", "latest", "--out", out, "--state-dir", state])
        #expect(export.status == 0, "\(export.stderr)")
        let doc = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        #expect(doc["export_version"] == 1)
        #expect(ActionExport.problems(doc) == [])
        let action = doc["runs"]?.arrayValue?.first?["actions"]?.arrayValue?.first
        #expect(action?["decision"] == "rejected" && action?["rule_id"] == "default" && action?["outcome"] == "denied")
        let none = try CommandLineRun.rigor(["export", "actions", "zzzz", "--state-dir", state])
        #expect(none.status == 2, "\(none.stderr)")
    }

    @Test("tasks validate: the reference agent solves approval_gated_cleanup, the do-nothing agent does not")
    func validate() throws {
        let state = RepoPaths.temporaryDirectory("rigor-policy")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try CommandLineRun.rigor(["tasks", "validate", "--tasks", "approval_gated_cleanup@1", "--seeds", "0..4", "--null-seeds", "0..1", "--state-dir", state])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
    }
}
