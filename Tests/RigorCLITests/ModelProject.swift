import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// A throwaway project for the model gateway tests (spec/model-gateway.md): a `rigor.toml` in a
/// fresh temporary directory declaring the two reference LLM agents (run with the tools venv's
/// Python, which has the `openai` and `anthropic` SDKs), any agents a test writes, a pairing
/// per reference agent, `[models]` settings, and a copy of filesystem_hidden_config@1 whose
/// manifest a test may change (a `[models]` table of budgets, a shorter wall clock).
struct ModelProject {
    let root: String
    var state: String { "\(root)/.rigor" }

    /// The tools venv's Python when both SDKs import there (made by `make tools-venv` if need be).
    static let python: String? = ToolsVenv.python(importing: "openai, anthropic", for: "the model gateway tests")
    static let needsSDKs = "the openai and anthropic SDKs in .build-venv-tools (make tools-venv)"

    /// The environment every command gets: the test runner's, without any real provider key.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for name in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "RIGOR_STORE"] {
            env.removeValue(forKey: name)
        }
        return env.merging(extra) { _, given in given }
    }

    /// - agents: name → Python source of an agent written by the test (`agents/<name>.py`).
    /// - models: lines for the `[models]` table of rigor.toml (`ignore = [...]`).
    /// - taskModels: lines for a `[models]` table in the task's manifest (`calls = 50`).
    static func make(_ label: String, upstream: FakeModelUpstream?, agents: [String: String] = [:], models: String = "",
                     taskModels: String? = nil, wallClockSeconds: Int? = nil) throws -> ModelProject {
        let root = RepoPaths.temporaryDirectory("rigor-models-\(label)")
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(root)/agents", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)/Tasks", withIntermediateDirectories: true)
        try fm.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: "\(root)/Tasks/filesystem_hidden_config")
        var manifest = try String(contentsOfFile: "\(root)/Tasks/filesystem_hidden_config/task.toml", encoding: .utf8)
        if let wallClockSeconds {
            #expect(manifest.contains("wall_clock_seconds = 60"))
            manifest = manifest.replacingOccurrences(of: "wall_clock_seconds = 60", with: "wall_clock_seconds = \(wallClockSeconds)")
        }
        if let taskModels { manifest += "\n[models]\n\(taskModels)\n" }
        try manifest.write(toFile: "\(root)/Tasks/filesystem_hidden_config/task.toml", atomically: true, encoding: .utf8)

        var toml = "[project]\nformat = \"rigor-project/1\"\n"
        let python = Self.python ?? "/usr/bin/python3"
        for name in ["openai", "anthropic"] {
            try fm.copyItem(atPath: "\(RepoPaths.agents)/llm_\(name)_agent.py", toPath: "\(root)/agents/llm_\(name)_agent.py")
            toml += "\n[agents.\(name)]\npath = \"agents/llm_\(name)_agent.py\"\npython = \"\(python)\"\n"
        }
        for (name, source) in agents.sorted(by: { $0.key < $1.key }) {
            try source.write(toFile: "\(root)/agents/\(name).py", atomically: true, encoding: .utf8)
            toml += "\n[agents.\(name)]\npath = \"agents/\(name).py\"\n"
        }
        for name in ["openai", "anthropic"] {
            toml += "\n[[pairings]]\nname = \"\(name)\"\nagent = \"\(name)\"\ntask = \"filesystem_hidden_config@1\"\n"
        }
        toml += "\n[models]\n\(models)\n"
        if let upstream {
            toml += "\n[models.upstreams]\nopenai = \"\(upstream.url)\"\nanthropic = \"\(upstream.url)\"\n"
        }
        try toml.write(toFile: "\(root)/rigor.toml", atomically: true, encoding: .utf8)
        return ModelProject(root: root)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs the built rigor in the project root.
    func rigor(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try CommandLineRun.run(RepoPaths.rigorBinary, arguments, cwd: root, environment: Self.environment(environment))
    }

    /// Runs it with `--json` and parses what it printed (null when it printed no JSON).
    func json(_ arguments: [String], environment: [String: String] = [:]) throws -> (CommandResult, JSON) {
        let r = try rigor(arguments + ["--json"], environment: environment)
        return (r, (try? JSON.parse(r.stdout)) ?? .null)
    }

    /// Runs one episode (`rigor run --agent NAME`); its summary and its stored artifact.
    func run(_ agent: String, seed: Int, _ extra: [String] = [], environment: [String: String] = [:]) throws -> (CommandResult, JSON) {
        let (r, summary) = try json(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", String(seed)] + extra,
                                    environment: environment)
        let id = try #require(summary["run_id"]?.stringValue, "no run: \(r.stdout) \(r.stderr)")
        return (r, try artifact(id))
    }

    func artifact(_ runID: String) throws -> JSON {
        try StoredRuns.artifact(runID, stateDirectory: state)
    }

    /// The replay report of `runID` (`rigor replay RUN --json`).
    func replay(_ runID: String, _ extra: [String] = []) throws -> (CommandResult, JSON) {
        try json(["replay", runID] + extra)
    }

    /// The agent's stderr as the artifact keeps it (its tail).
    static func agentLog(_ artifact: JSON) -> String {
        artifact["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue ?? ""
    }

    /// The JSON an agent printed on a line of its own after `marker ` (the last such line).
    static func report(_ artifact: JSON, _ marker: String) throws -> JSON {
        let log = agentLog(artifact)
        let line = try #require(log.split(separator: "\n").last { $0.hasPrefix("\(marker) ") }, "no \(marker) line in the agent's log: \(log.suffix(2000))")
        return try JSON.parse(String(line.dropFirst(marker.count + 1)))
    }
}
