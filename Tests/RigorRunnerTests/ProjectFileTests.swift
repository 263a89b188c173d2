import Foundation
import RigorAgentHost
@testable import RigorRunner
import RigorTestSupport
import Testing

@Suite("rigor.toml")
struct ProjectFileTests {
    /// spec/project.md's example, verbatim: the normative text must parse.
    static func specExample() throws -> String {
        let spec = try String(contentsOfFile: "\(RepoPaths.root)/spec/project.md", encoding: .utf8)
        let start = try #require(spec.range(of: "```toml\n"))
        let end = try #require(spec.range(of: "```", range: start.upperBound..<spec.endIndex))
        return String(spec[start.upperBound..<end.lowerBound])
    }

    @Test("spec/project.md's example parses into tasks, agents and pairings, paths from the project root")
    func specExampleParses() throws {
        let project = try ProjectFile.parse(try Self.specExample(), path: "/work/p/rigor.toml")
        #expect(project.root == "/work/p")
        #expect(project.tasks == ["/work/p/Tasks", "/work/p/vendor/tracecore/tasks"])
        #expect(project.baselines == "/work/p/Baselines")
        #expect(project.state == "/work/p/.rigor")
        #expect(project.isolation == .namespace)
        #expect(project.runsJSON == false)
        #expect(project.agents["toy"] == AgentSpec(ref: "toy", path: "agents/toy_agent.py"))
        #expect(project.agents["multi"] == AgentSpec(ref: "multi", path: "agents/multi", entry: "main.py", python: ".venv"))
        #expect(project.agents["node"] == AgentSpec(ref: "node", path: "agents/node", command: ["node", "agent.js"], files: ["agents/node/"],
                                                    env: ["MODEL": "small"], secrets: ["OPENAI_API_KEY"], secretsFile: ".env"))
        #expect(project.pairings == [Pairing(name: "toy_filesystem", agent: "toy", task: "filesystem_hidden_config@1")])
    }

    @Test("an empty file means the defaults; a single tasks string is one directory")
    func defaults() throws {
        let empty = try ProjectFile.parse("", path: "/p/rigor.toml")
        #expect(empty.tasks == ["/p/Tasks"] && empty.baselines == "/p/Baselines" && empty.state == "/p/.rigor")
        #expect(empty.isolation == nil && !empty.runsJSON && empty.agents.isEmpty && empty.pairings.isEmpty)
        let one = try ProjectFile.parse("[project]\ntasks = \"../shared/tasks\"\nruns_json = true\n", path: "/p/q/rigor.toml")
        #expect(one.tasks == ["/p/shared/tasks"])
        #expect(one.runsJSON)
    }

    @Test("an unknown key is an error naming the key and the file", arguments: [
        ("[project]\ntaks = [\"Tasks\"]\n", "project.taks"),
        ("[projet]\n", "projet"),
        ("[agents.toy]\npath = \"a.py\"\npyton = \".venv\"\n", "agents.toy.pyton"),
        ("[[pairings]]\nname = \"p\"\nagent = \"a\"\ntask = \"t@1\"\nseed = 3\n", "pairings[0].seed"),
        ("runs_json = true\n", "runs_json"),
    ])
    func unknownKeys(text: String, key: String) throws {
        #expect {
            try ProjectFile.parse(text, path: "/p/rigor.toml")
        } throws: { error in
            let message = (error as? ProjectFileError)?.description ?? ""
            return message.contains("'\(key)'") && message.contains("/p/rigor.toml") && message.contains("unknown key")
        }
    }

    @Test("wrong values are errors naming the key", arguments: [
        ("[project]\nisolation = \"jail\"\n", "project.isolation"),
        ("[project]\nruns_json = \"yes\"\n", "project.runs_json"),
        ("[project]\ntasks = [1]\n", "project.tasks"),
        ("[project]\nformat = \"rigor-project/9\"\n", "project.format"),
        ("[agents.toy]\nentry = \"main.py\"\n", "agents.toy"),
        ("[agents.toy]\ncommand = []\n", "agents.toy.command"),
        ("[agents.toy]\npath = \"a\"\nenv = { N = 1 }\n", "agents.toy.env.N"),
        ("[agents.\"../x\"]\npath = \"a\"\n", "agents.../x"),
        ("[[pairings]]\nname = \"a b\"\nagent = \"a\"\ntask = \"t@1\"\n", "pairings[0].name"),
        ("[[pairings]]\nname = \"p\"\nagent = \"a\"\ntask = \"t@1\"\n[[pairings]]\nname = \"p\"\nagent = \"b\"\ntask = \"t@1\"\n", "pairings[1].name"),
        ("[[pairings]]\nname = \"p\"\ntask = \"t@1\"\n", "pairings[0]"),
        ("[project\n", "TOML error"),
    ])
    func invalidValues(text: String, key: String) throws {
        #expect {
            try ProjectFile.parse(text, path: "/p/rigor.toml")
        } throws: { error in
            let message = (error as? ProjectFileError)?.description ?? ""
            return message.contains(key) && message.hasPrefix("/p/rigor.toml")
        }
    }

    @Test("the project file is found from any subdirectory, the nearest first, and not above a project")
    func foundWalkingUp() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-project-find")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/a/b/c", withIntermediateDirectories: true)
        #expect(ProjectFile.find(from: "\(dir)/a/b/c") == nil)
        try "".write(toFile: "\(dir)/a/rigor.toml", atomically: true, encoding: .utf8)
        #expect(ProjectFile.find(from: "\(dir)/a/b/c") == "\(dir)/a/rigor.toml")
        #expect(ProjectFile.find(from: "\(dir)/a/b/c/../") == "\(dir)/a/rigor.toml")
        try "".write(toFile: "\(dir)/a/b/rigor.toml", atomically: true, encoding: .utf8)
        #expect(ProjectFile.find(from: "\(dir)/a/b/c") == "\(dir)/a/b/rigor.toml")
        #expect(ProjectFile.find(from: dir) == nil)
    }

    @Test("a workspace from a project: its paths, agents by name, flags on top")
    func workspaceFromProject() throws {
        let project = try ProjectFile.parse(
            "[project]\ntasks = [\"mine\", \"theirs\"]\nisolation = \"process\"\n[agents.toy]\npath = \"agents/toy.py\"\n[[pairings]]\nname = \"p\"\nagent = \"toy\"\ntask = \"t@1\"\n",
            path: "/p/rigor.toml")
        let workspace = Workspace(project: project)
        #expect(workspace.tasksDirectories == ["/p/mine", "/p/theirs"])
        #expect(workspace.projectRoot == "/p")
        #expect(workspace.stateDirectory == "/p/.rigor")
        #expect(workspace.baselinesDirectory == "/p/Baselines")
        #expect(workspace.defaultIsolation == .process)
        #expect(!workspace.writesRunFiles)
        #expect(try workspace.pairings().pairings.map(\.name) == ["p"])
        let flagged = Workspace(project: project, overrides: WorkspaceOverrides(tasksDirectory: "here", stateDirectory: "/s", baselinesDirectory: "b"))
        #expect(flagged.tasksDirectories == ["here"])
        #expect(flagged.stateDirectory == "/s")
        #expect(flagged.baselinesDirectory == "b")
        #expect(flagged.projectRoot == "/p", "flags never move the project root, which agent refs hang on")
    }

    @Test("rigor init's example task is Tasks/filesystem_hidden_config, byte for byte")
    func exampleTaskIsTheBuiltInOne() throws {
        for name in ["task.toml", "README.md"] {
            let checkout = try String(contentsOfFile: "\(RepoPaths.tasks)/filesystem_hidden_config/\(name)", encoding: .utf8)
            let file = try #require(ProjectScaffold.files.first { $0.path == "\(ProjectScaffold.exampleTaskFolder)/\(name)" })
            #expect(file.contents == checkout, "\(name) differs from the checkout's: update ProjectTemplate")
        }
    }

    @Test("an installed rigor finds the SDK in <prefix>/share/rigor/sdk; a checkout build in Agents/sdk")
    func sdkBesideTheBinary() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-install-layout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/prefix/bin", withIntermediateDirectories: true)
        #expect(Installation.sdkDirectory(besideExecutable: "\(dir)/prefix/bin/rigor") == nil)
        try FileManager.default.createDirectory(atPath: "\(dir)/prefix/share/rigor/sdk", withIntermediateDirectories: true)
        try "".write(toFile: "\(dir)/prefix/share/rigor/sdk/run_agent.py", atomically: true, encoding: .utf8)
        #expect(Installation.sdkDirectory(besideExecutable: "\(dir)/prefix/bin/rigor") == "\(dir)/prefix/share/rigor/sdk")
        #expect(Installation.sdkDirectory(besideExecutable: "\(RepoPaths.root)/.build/x86_64-unknown-linux-gnu/debug/rigor") == RepoPaths.sdk)
    }
}
