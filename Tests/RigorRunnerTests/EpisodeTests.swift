import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

@Suite("Episodes")
struct EpisodeTests {
    let state = RepoPaths.temporaryDirectory("rigor-episodes")

    func run(agent: String, seed: Int, workspace: Workspace? = nil, isolation: IsolationLevel = .process) throws -> EpisodeResult {
        let ws = workspace ?? RepoPaths.workspace(state: state)
        let request = try ws.prepare(RunOptions(agent: "\(RepoPaths.root)/\(agent)", task: "filesystem_hidden_config@1", seed: seed, isolation: isolation))
        return try Episode.run(request)
    }

    @Test("the toy agent succeeds on seeds 0–99 with spec-valid artifacts")
    func toySeeds() throws {
        for seed in 0..<100 {
            let r = try run(agent: "Agents/toy_agent.py", seed: seed)
            #expect(r.record.success, "seed \(seed): \(r.record.termination) \(r.record.failureReason ?? "") \(r.agentLog)")
            #expect(SpecCheck.check(r.artifact).isEmpty, "seed \(seed): \(SpecCheck.check(r.artifact))")
        }
    }

    @Test("same inputs give the same artifact_hash, and the hash recomputes from the artifact")
    func sameHash() throws {
        let a = try run(agent: "Agents/toy_agent.py", seed: 11)
        let b = try run(agent: "Agents/toy_agent.py", seed: 11)
        #expect(a.artifactHash == b.artifactHash)
        #expect(a.record.runID != b.record.runID)
        #expect(try HashRecipe.rigor.hash(a.artifact) == a.artifactHash)
        #expect(a.artifact["started_at"] != nil && a.artifact["wall_clock_elapsed_s"] != nil)
    }

    @Test("the observation keeps TraceCore's shape")
    func observationShape() throws {
        let r = try run(agent: "Agents/toy_agent.py", seed: 2)
        let first = try #require(r.record.trace.first?.observation)
        #expect(first["step"] == 1)
        #expect(first["task"]?["id"] == "filesystem_hidden_config")
        #expect(first["last_action"] == .null)
        #expect(first["last_action_result"] == .null)
        #expect(first["visible_state"]?["files_seen"] == [])
        #expect(first["budget_remaining"] == ["steps": 200, "tool_calls": 40])
        let second = try #require(r.record.trace.dropFirst().first?.observation)
        #expect(second["last_action"]?["type"] == "list_dir")
        #expect(second["visible_state"]?["files_seen"]?.arrayValue?.count == 3)
        #expect(second["budget_remaining"] == ["steps": 199, "tool_calls": 39])
    }

    /// A copy of the task with other budgets, in a temporary Tasks directory.
    func workspace(steps: Int, toolCalls: Int) throws -> Workspace {
        let dir = RepoPaths.temporaryDirectory("rigor-tasks")
        let folder = "\(dir)/filesystem_hidden_config"
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: folder)
        var manifest = try String(contentsOfFile: "\(folder)/task.toml", encoding: .utf8)
        manifest = manifest.replacingOccurrences(of: "steps = 200", with: "steps = \(steps)")
        manifest = manifest.replacingOccurrences(of: "tool_calls = 40", with: "tool_calls = \(toolCalls)")
        try manifest.write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        return Workspace(root: RepoPaths.root, tasksDirectory: dir, stateDirectory: state)
    }

    @Test("budgets are checked before every action: no action runs once one is zero", arguments: [
        (3, 40, "steps_exhausted", 3, 3), (200, 2, "tool_calls_exhausted", 2, 2), (0, 40, "steps_exhausted", 0, 0),
    ])
    func budgets(steps: Int, toolCalls: Int, reason: String, stepsUsed: Int, toolCallsUsed: Int) throws {
        let r = try run(agent: "Agents/malformed/loop_list_dir.py", seed: 0, workspace: try workspace(steps: steps, toolCalls: toolCalls))
        #expect(r.record.termination.rawValue == reason)
        #expect(r.record.termination.failureType == .budgetExhausted)
        #expect(r.record.stepsUsed == stepsUsed)
        #expect(r.record.toolCallsUsed == toolCallsUsed)
        #expect(r.artifact["action_trace"]?.arrayValue?.count == stepsUsed)
        #expect(r.record.trace.last.map { $0.budgetAfter.steps >= 0 && $0.budgetAfter.toolCalls >= 0 } ?? true)
        #expect(SpecCheck.check(r.artifact).isEmpty, "\(SpecCheck.check(r.artifact))")
    }

    @Test("the agent sees only the pinned environment, never the caller's")
    func pinnedEnvironment() throws {
        setenv("RIGOR_TEST_SECRET", "hunter2-should-not-leak", 1)
        defer { unsetenv("RIGOR_TEST_SECRET") }
        let r = try run(agent: "Agents/toy_agent.py", seed: 1)
        let env = try #require(r.artifact["diagnostics"]?["environment"]?.objectValue)
        #expect(Set(env.keys) == ["PATH", "HOME", "TMPDIR", "LC_ALL", "LANG", "TZ", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "RIGOR_SEED", "RIGOR_PROTOCOL"])
        #expect(env["RIGOR_SEED"] == "1")
        let text = String(decoding: try r.artifact.canonicalBytes(), as: UTF8.self)
        #expect(!text.contains("hunter2-should-not-leak"))
    }
}
