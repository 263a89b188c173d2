import Foundation
import RigorSpec
import RigorTestSupport
import Testing

@Suite("Baselines and the CI gate")
struct CIGateTests {
    @Test("the committed baselines reproduce (make test fails when they no longer do)")
    func committedBaselines() throws {
        let state = RepoPaths.temporaryDirectory("rigor-ci")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try CommandLineRun.rigor(["ci", "--json", "--state-dir", state, "--junit", "\(state)/junit.xml", "--summary", "\(state)/summary.md"])
        let report = try JSON.parse(r.stdout)
        let regressions = (report["checks"]?.arrayValue ?? []).filter { $0["reproduced"] == false }
        #expect(r.status == 0, "regressions: \(regressions)")
        #expect((report["total"]?.intValue ?? 0) >= 55, "every pairing × seeds 0..4 is committed")
        let junit = try String(contentsOfFile: "\(state)/junit.xml", encoding: .utf8)
        #expect(junit.contains("<testsuites name=\"rigor ci\""))
        #expect(junit.components(separatedBy: "<testcase ").count - 1 == report["total"]?.intValue)
        #expect(try String(contentsOfFile: "\(state)/summary.md", encoding: .utf8).contains("baselines reproduced"))
    }

    /// A private copy of one task and a pairings file, so the test can change them.
    struct Sandbox {
        let dir: String
        var tasks: String { "\(dir)/Tasks" }
        var baselines: String { "\(dir)/Baselines" }
        var state: String { "\(dir)/state" }
        var pairings: String { "\(dir)/pairings.json" }

        init(agent: String) throws {
            dir = RepoPaths.temporaryDirectory("rigor-ci-sandbox")
            try FileManager.default.createDirectory(atPath: tasks, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: "\(tasks)/filesystem_hidden_config")
            try #"[{"name":"toy_filesystem","agent":"\#(agent)","task":"filesystem_hidden_config@1"}]"#
                .write(toFile: pairings, atomically: true, encoding: .utf8)
        }

        func rigor(_ args: [String]) throws -> CommandResult {
            try CommandLineRun.rigor(args + ["--tasks-dir", tasks, "--state-dir", state, "--pairings-file", pairings])
        }

        func ci() throws -> (CommandResult, JSON) {
            let r = try rigor(["ci", "--baselines", baselines, "--json"])
            return (r, try JSON.parse(r.stdout))
        }
    }

    @Test("a change to a task's world fails CI, names the pairing and the divergent step; restoring it passes")
    func worldEdit() throws {
        let box = try Sandbox(agent: "Agents/toy_agent.py")
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        #expect(try box.rigor(["baseline", "record", "--pairings", "all", "--seeds", "0..1", "--baselines", box.baselines]).status == 0)
        #expect(try box.ci().0.status == 0)
        let manifest = "\(box.tasks)/filesystem_hidden_config/task.toml"
        let original = try String(contentsOfFile: manifest, encoding: .utf8)
        // The hidden file now says API_TOKEN=…: listing is unchanged, reading it is not.
        try original.replacingOccurrences(of: "output_key = \"API_KEY\"", with: "output_key = \"API_TOKEN\"")
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let (r, report) = try box.ci()
        #expect(r.status == 1)
        for check in report["checks"]?.arrayValue ?? [] {
            #expect(check["pairing"] == "toy_filesystem")
            #expect(check["reproduced"] == false)
            #expect(check["first_divergent_step"] == 2, "\(check)")
            #expect(check["divergence"]?["parts"]?.arrayValue?.contains("result") == true)
            #expect(check["regressions"]?.arrayValue?.contains { $0.stringValue?.contains("outcome changed") == true } == true)
        }
        let text = try box.rigor(["ci", "--baselines", box.baselines])
        #expect(text.stdout.contains("toy_filesystem") && text.stdout.contains("first divergent step 2"))
        try original.write(toFile: manifest, atomically: true, encoding: .utf8)
        #expect(try box.ci().0.status == 0)
    }

    @Test("an agent that solves the task in more steps is a budget regression")
    func budgetRegression() throws {
        let agentDir = RepoPaths.temporaryDirectory("rigor-ci-agent")
        defer { try? FileManager.default.removeItem(atPath: agentDir) }
        let agent = "\(agentDir)/reference_agent.py"
        try FileManager.default.copyItem(atPath: "\(RepoPaths.agents)/toy_agent.py", toPath: agent)
        let box = try Sandbox(agent: agent)
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        #expect(try box.rigor(["baseline", "record", "--pairings", "all", "--seeds", "0..1", "--baselines", box.baselines]).status == 0)
        // Swap in a slower solver: it lists the directory three times before doing the same work.
        try """
            class Agent:
                def reset(self, task):
                    self.lists = 3
                    self.obs = None
                def observe(self, observation):
                    self.obs = observation
                def act(self):
                    last = self.obs.get("last_action") or {}
                    result = self.obs.get("last_action_result") or {}
                    if last.get("type") == "read_file" and result.get("ok"):
                        return {"type": "extract_value", "args": {"content": result["content"], "key": "API_KEY"}}
                    if last.get("type") == "extract_value" and result.get("ok"):
                        return {"type": "set_output", "args": {"key": "API_KEY", "value": result["value"]}}
                    if self.lists:
                        self.lists -= 1
                        return {"type": "list_dir", "args": {"path": "/app"}}
                    hidden = [f for f in self.obs["visible_state"]["files_seen"] if "/.config_" in f]
                    return {"type": "read_file", "args": {"path": hidden[0]}}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        let (r, report) = try box.ci()
        #expect(r.status == 1)
        for check in report["checks"]?.arrayValue ?? [] {
            let reasons = check["regressions"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(reasons.contains { $0.hasPrefix("budget: steps used 4 →") }, "\(reasons)")
            #expect(!reasons.contains { $0.contains("outcome changed") })
        }
        let junit = "\(box.dir)/junit.xml"
        _ = try box.rigor(["ci", "--baselines", box.baselines, "--junit", junit])
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<failure message=\""))
    }

    @Test("bad configuration exits 2; --update is refused under CI=true")
    func badConfiguration() throws {
        let missing = try CommandLineRun.rigor(["ci", "--baselines", "/nonexistent/baselines"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("rigor baseline record"))
        var env = ProcessInfo.processInfo.environment
        env["CI"] = "true"
        let update = try CommandLineRun.rigor(["ci", "--update"], environment: env)
        #expect(update.status == 2)
        #expect(update.stderr.contains("CI=true"))
        let record = try CommandLineRun.rigor(["baseline", "record", "--pairings", "toy_filesystem", "--seeds", "0"], environment: env)
        #expect(record.status == 2)
        #expect(record.stderr.contains("refusing to overwrite"))
    }

    /// The toy agent, except that on the seeds `failing` picks it sends an undeclared action
    /// (the episode ends invalid_action at step 1).
    static func flakyToy(failing condition: String) throws -> String {
        let toy = try String(contentsOfFile: "\(RepoPaths.agents)/toy_agent.py", encoding: .utf8)
        return toy + """

            class FlakyAgent(ToyAgent):
                def act(self):
                    seed = int(os.environ.get("RIGOR_SEED", "0"))
                    if \(condition):
                        return {"type": "give_up", "args": {}}
                    return ToyAgent.act(self)

            Agent = FlakyAgent

            """
    }

    @Test("ci --gate outcome passes an agent that improved (fewer steps), which the exact gate fails; the summary names the gate")
    func outcomeGate() throws {
        let agentDir = RepoPaths.temporaryDirectory("rigor-ci-improve")
        defer { try? FileManager.default.removeItem(atPath: agentDir) }
        let agent = "\(agentDir)/improving_agent.py"
        // Recorded with a slow solver (it lists /app three times first), then the toy agent is swapped in.
        let toy = try String(contentsOfFile: "\(RepoPaths.agents)/toy_agent.py", encoding: .utf8)
        try (toy + "\nclass Slow(ToyAgent):\n    def reset(self, t):\n        ToyAgent.reset(self, t)\n        self.extra = 2\n"
             + "    def act(self):\n        if self.extra:\n            self.extra -= 1\n            return {\"type\": \"list_dir\", \"args\": {\"path\": \"/app\"}}\n"
             + "        return ToyAgent.act(self)\n\nAgent = Slow\n").write(toFile: agent, atomically: true, encoding: .utf8)
        let box = try Sandbox(agent: agent)
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        #expect(try box.rigor(["baseline", "record", "--pairings", "all", "--seeds", "0..2", "--baselines", box.baselines]).status == 0)
        try FileManager.default.removeItem(atPath: agent)
        try FileManager.default.copyItem(atPath: "\(RepoPaths.agents)/toy_agent.py", toPath: agent)
        let exact = try box.ci()
        #expect(exact.0.status == 1, "\(exact.0.stdout)")
        let r = try box.rigor(["ci", "--baselines", box.baselines, "--gate", "outcome", "--json", "--summary", "\(box.dir)/summary.md"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let report = try JSON.parse(r.stdout)
        #expect(report["gate"] == "outcome")
        #expect(report["passed"] == true)
        #expect(report["changed"] == 3)
        for check in report["checks"]?.arrayValue ?? [] {
            #expect(check["regressions"]?.arrayValue?.isEmpty == true)
            #expect(check["changes"]?.arrayValue?.contains { $0.stringValue?.hasPrefix("artifact_hash changed") == true } == true, "\(check)")
        }
        let summary = try String(contentsOfFile: "\(box.dir)/summary.md", encoding: .utf8)
        #expect(summary.contains("Gate: outcome"), "\(summary)")
        // An outcome change still fails the outcome gate.
        try Self.flakyToy(failing: "seed == 1").write(toFile: agent, atomically: true, encoding: .utf8)
        #expect(try box.rigor(["ci", "--baselines", box.baselines, "--gate", "outcome"]).status == 1)
    }

    @Test("ci --gate stats fails a planted regression (every seed flips) and passes noise (2 of 20 flip), by McNemar")
    func statsGate() throws {
        let agentDir = RepoPaths.temporaryDirectory("rigor-ci-stats")
        defer { try? FileManager.default.removeItem(atPath: agentDir) }
        let agent = "\(agentDir)/stats_agent.py"
        try FileManager.default.copyItem(atPath: "\(RepoPaths.agents)/toy_agent.py", toPath: agent)
        let box = try Sandbox(agent: agent)
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        #expect(try box.rigor(["baseline", "record", "--pairings", "all", "--seeds", "0..19", "--baselines", box.baselines]).status == 0)

        try Self.flakyToy(failing: "seed % 10 == 0").write(toFile: agent, atomically: true, encoding: .utf8)
        let noise = try box.rigor(["ci", "--baselines", box.baselines, "--gate", "stats", "--json", "--summary", "\(box.dir)/noise.md"])
        #expect(noise.status == 0, "\(noise.stdout)\(noise.stderr)")
        let n = try JSON.parse(noise.stdout)
        #expect(n["comparison"]?["pairings"]?.arrayValue?.first?["pass_to_fail_seeds"] == [0, 10])
        #expect(n["comparison"]?["significant_drop"] == false)
        #expect(try String(contentsOfFile: "\(box.dir)/noise.md", encoding: .utf8).contains("Gate: stats"))
        // The same noise fails the exact and outcome gates.
        #expect(try box.rigor(["ci", "--baselines", box.baselines, "--gate", "outcome"]).status == 1)

        try Self.flakyToy(failing: "True").write(toFile: agent, atomically: true, encoding: .utf8)
        let junit = "\(box.dir)/junit.xml"
        let drop = try box.rigor(["ci", "--baselines", box.baselines, "--gate", "stats", "--json", "--junit", junit])
        #expect(drop.status == 1, "\(drop.stdout)")
        let d = try JSON.parse(drop.stdout)
        #expect(d["comparison"]?["significant_drop"] == true)
        #expect(d["passed"] == false)
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("pass-rate (McNemar)"))
    }

    @Test("an unknown --gate is bad usage")
    func badGate() throws {
        let r = try CommandLineRun.rigor(["ci", "--gate", "fuzzy"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("exact, outcome, stats"))
    }
}
