import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTasks
import RigorTestSupport
import Testing

/// One entry of `Agents/pairings.json`: a reference agent and the task it must solve.
struct SuitePairing: Sendable, CustomTestStringConvertible {
    let name: String
    let agent: String
    let task: String

    var testDescription: String { name }

    /// Read when the tests are listed, so a broken file shows up as an empty suite and the
    /// `pairingsFileIsComplete` test fails with a message.
    static let all: [SuitePairing] = {
        guard let data = FileManager.default.contents(atPath: "\(RepoPaths.agents)/pairings.json"),
              let items = (try? JSON.parse([UInt8](data)))?.arrayValue else { return [] }
        return items.compactMap { item in
            guard let name = item["name"]?.stringValue, let agent = item["agent"]?.stringValue,
                  let task = item["task"]?.stringValue else { return nil }
            return SuitePairing(name: name, agent: agent, task: task)
        }
    }()

    /// Every task the pairings cover, sorted.
    static var tasks: [String] { Set(all.map(\.task)).sorted() }
}

@Suite("Task suite")
struct TaskSuiteTests {
    let state = RepoPaths.temporaryDirectory("rigor-task-suite")

    /// Runs under the fixed test world key, so every seed's world is the same on every machine
    /// and every run: a random key per run made "the do-nothing agent never solves a task"
    /// flaky (a constant guess wins guess_the_number when the hidden number happens to match).
    func run(agent: String, task: String, seed: Int) throws -> EpisodeResult {
        let agentPath = agent.hasPrefix("/") ? agent : "\(RepoPaths.root)/\(agent)"
        let request = try RepoPaths.workspace(state: state).prepare(
            RunOptions(agent: agentPath, task: task, seed: seed, isolation: .process, worldKey: TestWorldKey.fixed))
        return try Episode.run(request)
    }

    @Test("pairings.json lists a reference agent for every task under Tasks/, with distinct snake_case names")
    func pairingsFileIsComplete() throws {
        let pairings = SuitePairing.all
        #expect(!pairings.isEmpty, "Agents/pairings.json is missing or unreadable")
        #expect(Set(pairings.map(\.name)).count == pairings.count)
        for p in pairings {
            #expect(p.name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }, "\(p.name)")
            #expect(FileManager.default.fileExists(atPath: "\(RepoPaths.root)/\(p.agent)"), "\(p.agent)")
        }
        let registry = try TaskRegistry(directory: RepoPaths.tasks)
        let refs = registry.loadAll().compactMap { try? $0.get().manifest.ref }
        #expect(Set(refs) == Set(SuitePairing.tasks))
    }

    @Test("every reference agent solves its task on seeds 0–19 with spec-valid artifacts", arguments: SuitePairing.all)
    func referenceAgentSucceeds(_ pairing: SuitePairing) throws {
        for seed in 0..<20 {
            let r = try run(agent: pairing.agent, task: pairing.task, seed: seed)
            #expect(r.record.success, "seed \(seed): \(r.record.termination) \(r.record.failureReason ?? "") \(r.agentLog)")
            #expect(r.record.stepsUsed == r.record.trace.count)
            #expect(SpecCheck.check(r.artifact).isEmpty, "seed \(seed): \(SpecCheck.check(r.artifact))")
        }
    }

    @Test("the same pairing and seed give the same artifact_hash", arguments: SuitePairing.all)
    func sameHash(_ pairing: SuitePairing) throws {
        let a = try run(agent: pairing.agent, task: pairing.task, seed: 5)
        let b = try run(agent: pairing.agent, task: pairing.task, seed: 5)
        #expect(a.artifactHash == b.artifactHash)
    }

    @Test("the do-nothing agent never solves a task", arguments: SuitePairing.tasks)
    func doNothingFails(_ task: String) throws {
        for seed in 0..<3 {
            let r = try run(agent: "Agents/do_nothing.py", task: task, seed: seed)
            #expect(!r.record.success, "seed \(seed)")
            #expect(r.record.termination.failureType != nil)
            #expect(!r.record.trace.contains { $0.action["type"] == "set_output" })
        }
    }

    @Test("looping on a cheap valid action ends in budget_exhausted", arguments: SuitePairing.tasks)
    func loopExhaustsBudget(_ task: String) throws {
        let r = try run(agent: "Agents/malformed/loop_first_action.py", task: task, seed: 0)
        #expect(r.record.termination.failureType == .budgetExhausted, "\(r.record.termination) \(r.record.failureReason ?? "")")
        #expect(r.artifact["failure_type"] == "budget_exhausted")
        #expect(SpecCheck.check(r.artifact).isEmpty, "\(SpecCheck.check(r.artifact))")
    }

    /// An agent file that answers `set_output(key, value)` at once, every step.
    func guesser(key: String, value: String) throws -> String {
        let agent = "\(RepoPaths.temporaryDirectory("rigor-guesser"))/guesser.py"
        try """
            class Guesser:
                def reset(self, task): pass
                def observe(self, observation): pass
                def act(self):
                    return {"type": "set_output", "args": {"key": "\(key)", "value": "\(value)"}}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        return agent
    }

    @Test("exact_answer_vault: one wrong VAULT_CODE ends the episode in logic_failure", arguments: [0, 1, 2])
    func vaultWrongAnswerIsTerminal(seed: Int) throws {
        let r = try run(agent: try guesser(key: "VAULT_CODE", value: "VLT-GUESS"), task: "exact_answer_vault@1", seed: seed)
        #expect(r.record.termination == .validatorFailed)
        #expect(r.artifact["failure_type"] == "logic_failure")
        #expect(r.record.stepsUsed == 1, "a second guess must not be allowed")
        #expect(SpecCheck.check(r.artifact).isEmpty, "\(SpecCheck.check(r.artifact))")
    }

    @Test("the same guess is not terminal where the manifest sets no max_submissions")
    func wrongAnswerElsewhereIsNotTerminal() throws {
        let r = try run(agent: try guesser(key: "ALERT_CODE", value: "ALERT-0000"), task: "log_alert_triage@1", seed: 0)
        #expect(r.record.termination.failureType == .budgetExhausted)
    }

    @Test("rate_limited_api: an agent that hammers /token instead of waiting never gets the token")
    func hammeringNeverPasses() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-hammer")
        let agent = "\(dir)/hammer.py"
        try """
            class Hammer:
                def reset(self, task): self.payload = None
                def observe(self, observation): self.obs = observation
                def act(self):
                    result = self.obs.get("last_action_result") or {}
                    if "payload_template" in result: self.payload = result["payload_template"]
                    if self.payload is None: return {"type": "get_client_config", "args": {}}
                    return {"type": "call_api", "args": {"endpoint": "/token", "payload": self.payload}}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        for seed in 0..<3 {
            let r = try run(agent: agent, task: "rate_limited_api@1", seed: seed)
            #expect(r.record.termination == .toolCallsExhausted, "seed \(seed): \(r.record.termination)")
            #expect(r.record.trace.dropFirst().allSatisfy { $0.result["error"] == "rate_limited" })
        }
    }

    @Test("sandboxed_code_auditor: the answer is never written in the world", arguments: [0, 1, 2, 3])
    func auditAnswerIsNotInTheWorld(seed: Int) throws {
        let r = try run(agent: "Agents/sandboxed_code_auditor_agent.py", task: "sandboxed_code_auditor@1", seed: seed)
        #expect(r.record.success)
        let answer = try #require(r.record.trace.last?.action["args"]?["value"]?.stringValue)
        #expect(answer.contains("|"))
        let task = try TaskRegistry(directory: RepoPaths.tasks).resolve("sandboxed_code_auditor@1")
        let world = try #require(try task.makeWorld(seed: seed, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
        for (path, content) in world.fileContents {
            #expect(!content.contains(answer), "\(path) holds the answer")
        }
    }

    @Test("every task has its own task_hash")
    func taskHashesDiffer() throws {
        let tasks = try TaskRegistry(directory: RepoPaths.tasks).loadAll().map { try $0.get() }
        #expect(tasks.count >= 11)
        #expect(Set(tasks.map(\.taskHash)).count == tasks.count)
    }

    @Test("file worlds are functions of the seed: same seed, same files; another seed, other files",
          arguments: SuitePairing.tasks)
    func fileWorldsAreDeterministic(_ ref: String) throws {
        let task = try TaskRegistry(directory: RepoPaths.tasks).resolve(ref)
        // A world program is a process the runner starts (WorldProgramTaskTests covers those).
        guard case .builtIn = task.world else { return }
        guard let a = try task.makeWorld(seed: 7, key: TestWorldKey.fixed) as? ReportedAnswerWorld else { return }
        let b = try #require(try task.makeWorld(seed: 7, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
        let c = try #require(try task.makeWorld(seed: 8, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
        #expect(a.fileContents == b.fileContents)
        #expect(a.fileContents != c.fileContents)
    }
}
