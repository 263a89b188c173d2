import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// Agents declared in a project's `rigor.toml` — a directory with an entry point, command lines
/// with declared files, a file with declared files and a declared python — run through the
/// built `rigor` from a subdirectory of a project made by `rigor init` outside the checkout:
/// the run, `rigor replay`, and a bundle sealed, verified and replayed from itself alone all
/// give the same artifact_hash; editing a declared file changes agent_hash (issue 17, item 3).
@Suite("agents declared in rigor.toml, through the rigor CLI: run, replay, bundles")
struct ProjectDeclaredAgentsTests {
    enum Declared: String, CaseIterable, CustomStringConvertible {
        case directory = "multi", nodeCommand = "nodecmd", pythonModule = "pymod", fileWithData = "withdata"
        var description: String { rawValue }

        /// A file of the agent's declaration (not its entry point), relative to the project root.
        var helper: String {
            switch self {
            case .directory: return "agents/multi/solver.py"
            case .nodeCommand: return "agents/nodecmd/helper.js"
            case .pythonModule: return "agents/pymod/solver/logic.py"
            case .fileWithData: return "agents/data/key.txt"
            }
        }
    }

    static let declarations = """

        [agents.multi]
        path = "agents/multi"
        entry = "main.py"

        [agents.nodecmd]
        command = ["node", "agent.js"]
        path = "agents/nodecmd"
        files = ["agents/nodecmd/"]

        [agents.pymod]
        command = ["python3", "-m", "solver.agent"]
        path = "agents/pymod"
        files = ["agents/pymod/"]

        [agents.withdata]
        path = "agents/reader.py"
        files = ["agents/data/"]
        python = "/usr/bin/python3"

        [[pairings]]
        name = "multi"
        agent = "multi"
        task = "filesystem_hidden_config@1"

        [[pairings]]
        name = "nodecmd"
        agent = "nodecmd"
        task = "filesystem_hidden_config@1"

        [[pairings]]
        name = "pymod"
        agent = "pymod"
        task = "filesystem_hidden_config@1"

        [[pairings]]
        name = "withdata"
        agent = "withdata"
        task = "filesystem_hidden_config@1"
        """

    static let nodeSolver = """
        const path = require('path');
        exports.Solver = class {
          constructor() { this.plan = [{ type: 'list_dir', args: { path: '/app' } }]; }
          next(obs) {
            const a = obs.last_action || {}, r = obs.last_action_result || {};
            if (r.ok && a.type === 'list_dir') {
              for (const p of (r.files || []).filter((p) => path.basename(p).startsWith('.config_')).sort())
                this.plan.push({ type: 'read_file', args: { path: p } });
            } else if (r.ok && a.type === 'read_file' && (r.content || '').includes('API_KEY=')) {
              this.plan.push({ type: 'extract_value', args: { content: r.content, key: 'API_KEY' } });
            } else if (r.ok && a.type === 'extract_value') {
              this.plan.push({ type: 'set_output', args: { key: 'API_KEY', value: r.value } });
            }
            return this.plan.shift() || { type: 'list_dir', args: { path: '/app' } };
          }
        };
        """

    static let nodeAgent = """
        const { Solver } = require('./helper');
        let solver = new Solver();
        require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
          const msg = JSON.parse(line);
          if (msg.type === 'reset') solver = new Solver();
          if (msg.type === 'observe') process.stdout.write(JSON.stringify({ type: 'action', action: solver.next(msg.observation || {}) }) + '\\n');
          if (msg.type === 'end') process.exit(0);
        });
        """

    static func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A project from `rigor init` (in a fresh temporary directory) with the four declared
    /// agents and a pairing each; every agent solves the task (the example agent's strategy).
    static func declaredProject(_ dir: String) throws -> ProjectTests.Project {
        let p = try ProjectTests.initialise("\(dir)/proj", rigor: RepoPaths.rigorBinary)
        let example = try String(contentsOfFile: "\(p.root)/agents/example_agent.py", encoding: .utf8)
        try write("\(p.root)/agents/multi/solver.py", example)
        try write("\(p.root)/agents/multi/main.py", "from solver import Agent")
        try write("\(p.root)/agents/nodecmd/agent.js", nodeAgent)
        try write("\(p.root)/agents/nodecmd/helper.js", nodeSolver)
        try write("\(p.root)/agents/pymod/solver/__init__.py", "")
        try write("\(p.root)/agents/pymod/solver/logic.py", example)
        try write("\(p.root)/agents/pymod/solver/agent.py", """
            import rigor_sdk
            from solver.logic import Agent

            if __name__ == "__main__":
                reader, writer = rigor_sdk.claim_stdio()
                raise SystemExit(rigor_sdk.serve(Agent(), reader, writer))
            """)
        // A file agent that reads a declared data file beside it.
        try write("\(p.root)/agents/data/key.txt", "API_KEY")
        try write("\(p.root)/agents/reader.py", example.replacingOccurrences(
            of: "KEY = \"API_KEY\"",
            with: "KEY = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), \"data\", \"key.txt\")).read().strip()"))
        let toml = "\(p.root)/rigor.toml"
        try (try String(contentsOfFile: toml, encoding: .utf8) + declarations).write(toFile: toml, atomically: true, encoding: .utf8)
        return p
    }

    static func exported(_ p: ProjectTests.Project, _ runID: String) throws -> JSON {
        let r = try p.run(["runs", "export", runID])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSON.parse(r.stdout)
    }

    @Test("a declared agent runs from a subdirectory (pairing and --agent NAME); replay and bundle replay reproduce its artifact_hash; editing a declared file changes agent_hash",
          arguments: Declared.allCases)
    func runReplayBundle(_ agent: Declared) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-declared-agent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try Self.declaredProject(dir)

        let (run, summary) = try p.json(["run", "pairing", agent.rawValue, "--seed", "5"])
        #expect(run.status == 0, "\(agent): \(run.stdout) \(run.stderr)")
        #expect(summary["success"] == true, "\(agent): \(run.stdout)")
        #expect(summary["agent_ref"] == .string(agent.rawValue))
        let runID = try #require(summary["run_id"]?.stringValue, "\(run.stderr)")
        let hash = try #require(summary["artifact_hash"]?.stringValue)
        let agentHash = try #require(try Self.exported(p, runID)["agent_hash"]?.stringValue)

        let (byName, named) = try p.json(["run", "--agent", agent.rawValue, "--task", "filesystem_hidden_config@1", "--seed", "5"])
        #expect(byName.status == 0, "\(byName.stderr)")
        #expect(named["artifact_hash"] == .string(hash), "--agent NAME is the same agent as the pairing's")

        let replay = try p.run(["replay", runID])
        #expect(replay.status == 0 && replay.stdout.contains("reproduced"), "\(agent): replay: \(replay.stdout) \(replay.stderr)")

        let (seal, sealed) = try p.json(["bundle", "seal", runID])
        #expect(seal.status == 0, "\(agent): bundle seal: \(seal.stderr)")
        let bundlePath = try #require(sealed["bundle"]?.stringValue)
        let verify = try p.run(["bundle", "verify", bundlePath])
        #expect(verify.status == 0, "\(agent): bundle verify: \(verify.stdout) \(verify.stderr)")
        let bundle = try RigorRunner.Bundle.load(bundlePath)
        // A directory agent's files are hashed by their path inside it; declared ones by theirs from the root.
        let hashedName = agent == .directory ? "solver.py" : agent.helper
        #expect(bundle.manifest["agent"]?["places"]?[hashedName] == .string(agent.helper),
                "the bundle carries the declared file at its place: \(bundle.manifest["agent"] ?? .null)")

        // The project's copy changes; the bundle carries its own.
        let helper = "\(p.root)/\(agent.helper)"
        try (try String(contentsOfFile: helper, encoding: .utf8) + "\n").write(toFile: helper, atomically: true, encoding: .utf8)
        let (bundleReplay, replayed) = try p.json(["bundle", "replay", bundlePath])
        #expect(bundleReplay.status == 0, "\(agent): bundle replay: \(bundleReplay.stdout) \(bundleReplay.stderr)")
        #expect(replayed["status"] == "reproduced" && replayed["replayed_hash"] == .string(hash), "\(agent): \(bundleReplay.stdout)")

        let changed = try p.run(["replay", runID])
        #expect(changed.status == 1 && changed.stdout.contains("changed") && changed.stdout.contains("agent_hash"),
                "\(agent): the edited declared file is a changed agent: \(changed.stdout) \(changed.stderr)")
        let (again, rerun) = try p.json(["run", "pairing", agent.rawValue, "--seed", "5"])
        #expect(again.status == 0, "\(again.stderr)")
        let newHash = try Self.exported(p, try #require(rerun["run_id"]?.stringValue))["agent_hash"]?.stringValue
        #expect(newHash != nil && newHash != agentHash, "\(agent): editing \(agent.helper) must change agent_hash")
    }

    @Test("a declared file outside the project root cannot travel in a bundle: seal refuses, naming it, and writes no bundle")
    func outsideFileRefused() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-declared-outside")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try Self.declaredProject(dir)
        try Self.write("\(dir)/shared/notes.txt", "outside the project")
        let toml = "\(p.root)/rigor.toml"
        try (try String(contentsOfFile: toml, encoding: .utf8) + """

            [agents.outside]
            path = "agents/multi"
            files = ["\(dir)/shared/"]
            """).write(toFile: toml, atomically: true, encoding: .utf8)
        let (run, summary) = try p.json(["run", "--agent", "outside", "--task", "filesystem_hidden_config@1", "--seed", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = "\(dir)/outside.rigorbundle"
        let seal = try p.run(["bundle", "seal", try #require(summary["run_id"]?.stringValue), "--out", out])
        #expect(seal.status == 2, "\(seal.stdout) \(seal.stderr)")
        #expect(seal.stderr.contains("\(dir)/shared/notes.txt") && seal.stderr.contains("outside the project root"), "\(seal.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// How an attack rewrites a declared agent's bundle.
    enum Tampering: String, CaseIterable, CustomStringConvertible {
        case placeClimbs = "a file's place climbs out"
        case placeAbsolute = "a file's place is absolute"
        case pathClimbs = "the declared path climbs out"
        case declaredFileAbsolute = "a declared file is absolute"
        case programClimbs = "the command's program climbs out"
        var description: String { rawValue }
    }

    @Test("a declared agent's bundle whose places or declaration lead outside does not verify; replay refuses it and writes nothing there",
          arguments: Tampering.allCases)
    func hostileDeclaration(_ how: Tampering) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-declared-hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try Self.declaredProject(dir)
        let (run, summary) = try p.json(["run", "pairing", "nodecmd", "--seed", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let (_, sealed) = try p.json(["bundle", "seal", try #require(summary["run_id"]?.stringValue)])
        var bundle = try RigorRunner.Bundle.load(try #require(sealed["bundle"]?.stringValue))
        #expect(bundle.verify().isEmpty)

        let escaped = "/tmp/rigor-escape-declared-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: escaped) }
        let climbing = String(repeating: "../", count: 12) + String(escaped.dropFirst())
        var manifest = try #require(bundle.manifest.objectValue)
        var section = try #require(manifest["agent"]?.objectValue)
        var places = try #require(section["places"]?.objectValue)
        var declaration = try #require(section["declaration"]?.objectValue)
        switch how {
        case .placeClimbs: places["agents/nodecmd/helper.js"] = .string(climbing)
        case .placeAbsolute: places["agents/nodecmd/helper.js"] = .string(escaped)
        case .pathClimbs: declaration["path"] = .string(climbing)
        case .declaredFileAbsolute: declaration["files"] = [.string(escaped)]
        case .programClimbs: section["command"] = [.string(climbing), "agent.js"]
        }
        section["places"] = .object(places)
        section["declaration"] = .object(declaration)
        manifest["agent"] = .object(section)
        bundle.manifest = .object(manifest)
        let evil = "\(dir)/evil.rigorbundle"
        try Data(try bundle.encoded()).write(to: URL(fileURLWithPath: evil))

        let verify = try CommandLineRun.rigor(["bundle", "verify", evil], cwd: dir)
        #expect(verify.status == 1, "\(how): verify said \(verify.status): \(verify.stdout)\(verify.stderr)")
        let replay = try CommandLineRun.rigor(["bundle", "replay", evil, "--json"], cwd: dir)
        #expect(replay.status == 2, "\(how): replay said \(replay.status): \(replay.stdout)\(replay.stderr)")
        #expect(replay.stderr.contains("does not verify"), "\(how): \(replay.stderr)")
        #expect(!FileManager.default.fileExists(atPath: escaped), "\(how): replay wrote \(escaped)")
    }

    @Test("a secret from the project's secrets_file reaches the agent, and is redacted from everything written: store, export, runs show, bundle, output")
    func secretsFile() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-secrets-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try ProjectTests.initialise("\(dir)/proj", rigor: RepoPaths.rigorBinary)
        let name = "AGENT_TEST_FILE_SECRET"
        let sentinel = "file-sentinel-\(UUID().uuidString)"
        // Written by the agent into its action, its intent and its log: all must be scrubbed.
        try Self.write("\(p.root)/agents/leaky.py", """
            import os, sys

            class Agent:
                def reset(self, task):
                    self.secret = os.environ.get("\(name)", "")
                def observe(self, observation):
                    pass
                def act(self):
                    print("leaking " + self.secret, file=sys.stderr)
                    value = "%s len-%d" % (self.secret, len(self.secret))
                    return {"type": "set_output", "args": {"key": "API_KEY", "value": value}, "intent": "leak " + self.secret}
            """)
        try Self.write("\(p.root)/config/agent.env", "# the agent's secrets\n\(name)=\"\(sentinel)\"")
        let toml = "\(p.root)/rigor.toml"
        try (try String(contentsOfFile: toml, encoding: .utf8) + """

            [agents.leaky]
            path = "agents/leaky.py"
            secrets = ["\(name)"]
            secrets_file = "config/agent.env"
            """).write(toFile: toml, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env[name] = nil
        func rigor(_ args: [String]) throws -> CommandResult { try CommandLineRun.run(RepoPaths.rigorBinary, args, cwd: p.sub, environment: env) }

        var printed = ""
        let run = try rigor(["run", "--agent", "leaky", "--task", "filesystem_hidden_config@1", "--seed", "2", "--json"])
        printed += run.stdout + run.stderr
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let runID = try #require(try JSON.parse(run.stdout)["run_id"]?.stringValue)
        let export = try rigor(["runs", "export", runID])
        printed += export.stdout + export.stderr
        let artifact = try JSON.parse(export.stdout)
        let first = artifact["action_trace"]?.arrayValue?.first
        // The agent had the file's value (its length), and it was replaced before it was written.
        #expect(first?["action"]?["args"]?["value"] == .string("[REDACTED:\(name)] len-\(sentinel.utf8.count)"), "\(first ?? .null)")
        #expect(first?["intent"] == .string("leak [REDACTED:\(name)]"))
        #expect(artifact["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue?.contains("leaking [REDACTED:\(name)]") == true)
        #expect(artifact["diagnostics"]?["agent"]?["env_names"] == [.string(name)])
        let show = try rigor(["runs", "show", runID])
        printed += show.stdout + show.stderr
        #expect(show.stdout.contains("[REDACTED:\(name)]"), "\(show.stdout)")
        let bundle = "\(p.root)/.rigor/leaky.rigorbundle"
        let seal = try rigor(["bundle", "seal", runID, "--out", bundle])
        printed += seal.stdout + seal.stderr
        #expect(seal.status == 0, "\(seal.stderr)")

        #expect(!printed.contains(sentinel), "rigor printed the secret")
        let grep = try CommandLineRun.run("/bin/sh", ["-c", "grep -r -l -a -F '\(sentinel)' '\(p.root)/.rigor'; true"])
        #expect(grep.stdout.isEmpty, "files holding the secret: \(grep.stdout)")
        let unpacked = try Compression.decompress([UInt8](try #require(FileManager.default.contents(atPath: bundle))), what: "bundle")
        #expect(!String(decoding: unpacked, as: UTF8.self).contains(sentinel), "the bundle, decompressed, holds the secret")
        #expect(String(decoding: unpacked, as: UTF8.self).contains("[REDACTED:\(name)]"))

        // Without the line in the file, nothing runs, and the error says where Rigor looked.
        try Self.write("\(p.root)/config/agent.env", "# emptied")
        let missing = try rigor(["run", "--agent", "leaky", "--task", "filesystem_hidden_config@1", "--seed", "2"])
        #expect(missing.status == 2, "\(missing.stdout) \(missing.stderr)")
        #expect(missing.stderr.contains(name) && missing.stderr.contains("\(p.root)/config/agent.env"), "\(missing.stderr)")
    }
}
