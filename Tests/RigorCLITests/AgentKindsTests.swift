import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// Agents as a user's project has them (issue 17, items 3 and 4): a node agent with a helper
/// module, a Python agent importing a package from its own venv, a multi-file Python agent;
/// each run through the built `rigor` at every isolation level, from a project that others can
/// enter and from one under a 0700 directory (what `mktemp -d` makes). Then settings and
/// secrets: handed to the agent, never written by Rigor.
@Suite("agents as directories, venvs and commands; settings and secrets", .serialized)
struct AgentKindsTests {
    /// One self-contained project (its own Tasks/ and Agents/sdk copies) in an open directory
    /// and one in a directory closed to others; made once.
    struct Fixture: Sendable {
        let base: String
        let open: String
        let closed: String
        let venvReady: Bool
        let venvProblem: String
    }

    static let fixture: Fixture = {
        let fm = FileManager.default
        // Under the system's temporary directory, never inside the checkout; removed when the
        // test process exits (the suites that share it run in any order).
        let base = RepoPaths.temporaryDirectory("rigor-agent-kinds")
        FixtureRemoval.atExit(base)
        let open = "\(base)/open/project"
        let closed = "\(base)/closed/project"
        var venvReady = true
        var venvProblem = ""
        for project in [open, closed] {
            try? fm.createDirectory(atPath: "\(project)/Tasks", withIntermediateDirectories: true)
            try? fm.createDirectory(atPath: "\(project)/Agents", withIntermediateDirectories: true)
            try? fm.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: "\(project)/Tasks/filesystem_hidden_config")
            try? fm.copyItem(atPath: RepoPaths.sdk, toPath: "\(project)/Agents/sdk")
            writeAgents(in: project)
            // A project file, so that commands work from any subdirectory (`agents/`).
            write("\(project)/rigor.toml", "[project]\nformat = \"rigor-project/1\"")
            // The venv, made with the system's python (visible in every sandbox), and a package
            // of our own installed into it from a local directory: no network.
            let made = shell("/usr/bin/python3 -m venv \(project)/.venv && \(project)/.venv/bin/pip install -q --no-index --no-build-isolation "
                             + "\(project)/pkgsrc")
            if made.status != 0 { venvReady = false; venvProblem = made.stderr }
        }
        chmod("\(base)/open", 0o755)
        chmod("\(base)/closed", 0o700)
        return Fixture(base: base, open: open, closed: closed, venvReady: venvReady, venvProblem: venvProblem)
    }()

    static func writeAgents(in project: String) {
        // A multi-file Python agent: the entry imports a sibling module.
        write("\(project)/agents/multi/main.py", """
            from strategy import first_action, second_action

            class Agent:
                def reset(self, task):
                    self.step = 0
                def observe(self, observation):
                    self.step += 1
                def act(self):
                    return first_action() if self.step == 1 else second_action()
            """)
        write("\(project)/agents/multi/strategy.py", """
            def first_action():
                return {"type": "list_dir", "args": {"path": "/app"}, "intent": "sibling import works"}

            def second_action():
                return {"type": "set_output", "args": {"key": "API_KEY", "value": "multi"}}
            """)
        // A node agent in a directory: `agent` (executable, #!/usr/bin/env node) requires ./helper.
        write("\(project)/agents/node/agent", """
            #!/usr/bin/env node
            const helper = require('./helper');
            const readline = require('readline');
            const rl = readline.createInterface({ input: process.stdin });
            let step = 0;
            rl.on('line', (line) => {
              const msg = JSON.parse(line);
              if (msg.type === 'observe') {
                step += 1;
                process.stdout.write(JSON.stringify({ type: 'action', action: helper.actionFor(step), intent: 'helper module works' }) + '\\n');
              } else if (msg.type === 'end') {
                process.exit(0);
              }
            });
            """, mode: 0o755)
        write("\(project)/agents/node/helper.js", """
            exports.actionFor = (step) => step === 1
              ? { type: 'list_dir', args: { path: '/app' } }
              : { type: 'set_output', args: { key: 'API_KEY', value: 'node' } };
            """)
        // A package installed into the venv, which the system's python does not have.
        write("\(project)/pkgsrc/setup.py", """
            from setuptools import setup
            setup(name="rigorvenvpkg", version="1.0", py_modules=["rigorvenvpkg"])
            """)
        write("\(project)/pkgsrc/rigorvenvpkg.py", """
            ROOT = "/app"
            def answer():
                return "venv"
            """)
        write("\(project)/agents/venv_agent.py", """
            import rigorvenvpkg

            class Agent:
                def reset(self, task):
                    self.step = 0
                def observe(self, observation):
                    self.step += 1
                def act(self):
                    if self.step == 1:
                        return {"type": "list_dir", "args": {"path": rigorvenvpkg.ROOT}, "intent": "venv package works"}
                    return {"type": "set_output", "args": {"key": "API_KEY", "value": rigorvenvpkg.answer()}}
            """)
        // Uses a secret and a setting, reporting only that they are there (and the secret's length).
        write("\(project)/agents/secret_user.py", """
            import os, sys

            class Agent:
                def reset(self, task):
                    self.secret = os.environ.get("AGENT_SENTINEL_SECRET")
                    self.mode = os.environ.get("AGENT_MODE")
                def observe(self, observation):
                    pass
                def act(self):
                    if not self.secret or self.mode != "fast":
                        sys.exit(3)
                    return {"type": "set_output", "args": {"key": "API_KEY", "value": "len-%d" % len(self.secret)}}
            """)
        // Tries the network, which the namespace level turns off.
        write("\(project)/agents/net_agent.py", """
            import socket

            class Agent:
                def reset(self, task):
                    pass
                def observe(self, observation):
                    pass
                def act(self):
                    socket.create_connection(("127.0.0.1", 9), timeout=2)
                    return {"type": "list_dir", "args": {"path": "/app"}}
            """)
    }

    static func write(_ path: String, _ text: String, mode: Int = 0o644) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: mode])
    }

    static func chmod(_ path: String, _ mode: Int) {
        try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static func shell(_ command: String) -> (status: Int32, stdout: String, stderr: String) {
        guard let r = try? CommandLineRun.run("/bin/sh", ["-c", command]) else { return (-1, "", "could not start /bin/sh") }
        return (r.status, r.stdout, r.stderr)
    }

    /// The ways an agent runs: a level, and whether it is forked from a fork server.
    enum Level: String, CaseIterable, CustomStringConvertible {
        case none, process, namespace, processForked = "process+fork", namespaceForked = "namespace+fork"
        var description: String { rawValue }
        var flags: [String] {
            switch self {
            case .none: return ["--isolation", "none"]
            case .process: return ["--isolation", "process"]
            case .namespace: return ["--isolation", "namespace"]
            case .processForked: return ["--isolation", "process", "--fork-server"]
            case .namespaceForked: return ["--isolation", "namespace", "--fork-server"]
            }
        }
    }

    enum Kind: String, CaseIterable, CustomStringConvertible {
        case multiFilePython = "multi-file python", nodeWithHelper = "node with a helper", venvPython = "python with a venv package"
        var description: String { rawValue }
        var agentFlags: [String] {
            switch self {
            case .multiFilePython: return ["--agent", "agents/multi"]
            case .nodeWithHelper: return ["--agent", "agents/node"]
            case .venvPython: return ["--agent", "agents/venv_agent.py", "--python", ".venv"]
            }
        }
        var intent: String {
            switch self {
            case .multiFilePython: return "sibling import works"
            case .nodeWithHelper: return "helper module works"
            case .venvPython: return "venv package works"
            }
        }
    }

    /// `rigor run` in `project`, or in its subdirectory `from` (relative to the project).
    func run(_ args: [String], in project: String, from subdirectory: String? = nil,
             environment: [String: String]? = nil) throws -> CommandResult {
        // Runs live in the store; --out writes the artifact as a file too (under .rigor/, where
        // the sentinel test looks for leaks).
        let out = "\(project)/.rigor/out-\(UUID().uuidString.prefix(8)).json"
        return try CommandLineRun.rigor(["run"] + args + ["--task", "filesystem_hidden_config@1", "--seed", "7", "--out", out],
                                        cwd: subdirectory.map { "\(project)/\($0)" } ?? project, environment: environment)
    }

    static let isRoot = geteuid() == 0
    static let hasNamespaces = (try? CommandLineRun.run("/usr/bin/bwrap", ["--unshare-all", "--ro-bind", "/", "/", "/bin/true"]))?.status == 0

    @Test("each kind of agent runs at every level, in an open project and under a 0700 directory",
          arguments: Kind.allCases, Level.allCases)
    func runsEverywhere(kind: Kind, level: Level) throws {
        let f = Self.fixture
        if kind == .venvPython { #expect(f.venvReady, "could not make the venv: \(f.venvProblem)") }
        for (where_, project) in [("open", f.open), ("0700", f.closed)] {
            if [.namespace, .namespaceForked].contains(level) && !Self.hasNamespaces { #expect(Facility.mayLack("bwrap namespaces (\(level))")); continue }
            if level == .namespaceForked && !Self.isRoot { #expect(Facility.mayLack("root (the jailed fork server of \(level))")); continue }
            let result = try run(kind.agentFlags + level.flags + ["--json"], in: project)
            let out = try JSON.parse(result.stdout.isEmpty ? "{}" : result.stdout)
            let reason = out["termination_reason"]?.stringValue ?? "none"
            #expect(!["agent_exited", "agent_crashed", "protocol_error"].contains(reason),
                    "\(kind) at \(level) (\(where_)): \(reason): \(out["failure_reason"]?.stringValue ?? "") \(result.stderr)")
            let path = try #require(out["artifact_path"]?.stringValue, "\(result.stderr)")
            let artifact = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path.hasPrefix("/") ? path : "\(project)/\(path)"))))
            let first = artifact["action_trace"]?.arrayValue?.first
            #expect(first?["action"]?["type"]?.stringValue == "list_dir")
            #expect(artifact["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue?.contains("Traceback") != true)
            if Self.isRoot && where_ == "0700" && [.process, .processForked].contains(level) {
                // A uid of its own cannot reach files under a directory closed to others, and at
                // this level nothing can show them where they are: the agent ran copies.
                #expect(artifact["diagnostics"]?["guard"]?["agent_files"]?.stringValue?.hasPrefix("copied") == true)
            }
            #expect(out["steps_used"]?.intValue ?? 0 >= 2, "\(kind) at \(level) (\(where_))")
            _ = kind.intent
        }
    }

    @Test("the same agent hashes the same at every level and in both projects' places; editing a helper changes agent_hash")
    func helperEditChangesHash() throws {
        let f = Self.fixture
        let copy = "\(f.base)/edit/project"
        try? FileManager.default.createDirectory(atPath: "\(f.base)/edit", withIntermediateDirectories: true)
        _ = Self.shell("cp -a \(f.open) \(copy)")
        func hash(_ agent: [String], _ level: String = "process") throws -> String {
            // From a subdirectory of the project: the agent paths are the project root's.
            let r = try run(agent + ["--isolation", level, "--json"], in: copy, from: "agents/node")
            let path = try #require(try JSON.parse(r.stdout)["artifact_path"]?.stringValue, "\(r.stderr)")
            let artifact = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path.hasPrefix("/") ? path : "\(copy)/\(path)"))))
            return try #require(artifact["agent_hash"]?.stringValue)
        }
        let multi = try hash(["--agent", "agents/multi"])
        let node = try hash(["--agent", "agents/node"])
        #expect(try hash(["--agent", "agents/multi"], "none") == multi)
        Self.write("\(copy)/agents/multi/strategy.py", "# edited\n" + (try String(contentsOfFile: "\(copy)/agents/multi/strategy.py", encoding: .utf8)))
        Self.write("\(copy)/agents/node/helper.js", "// edited\n" + (try String(contentsOfFile: "\(copy)/agents/node/helper.js", encoding: .utf8)))
        #expect(try hash(["--agent", "agents/multi"]) != multi)
        #expect(try hash(["--agent", "agents/node"]) != node)
        // Bytecode a run leaves beside the agent is not the agent.
        Self.write("\(copy)/agents/multi/__pycache__/strategy.cpython-311.pyc", "junk")
        let edited = try hash(["--agent", "agents/multi"])
        Self.write("\(copy)/agents/multi/__pycache__/strategy.cpython-311.pyc", "other junk")
        #expect(try hash(["--agent", "agents/multi"]) == edited)
    }

    @Test("a connection refused at the namespace level is reported as the network being off by policy, outside the hash")
    func networkOffIsSaid() throws {
        guard Self.hasNamespaces else { #expect(Facility.mayLack("bwrap namespaces (the network is off only there)")); return }
        let project = Self.fixture.open
        let r = try run(["--agent", "agents/net_agent.py", "--isolation", "namespace"], in: project)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("network is off"), "\(r.stdout)")
        let shown = try CommandLineRun.rigor(["runs", "show", "latest"], cwd: project)
        #expect(shown.stdout.contains("network is off"), "\(shown.stdout)")
        let json = try run(["--agent", "agents/net_agent.py", "--isolation", "namespace", "--json"], in: project)
        let out = try JSON.parse(json.stdout)
        #expect(out["failure_reason"]?.stringValue?.contains("network") == false)
        let process = try run(["--agent", "agents/net_agent.py", "--isolation", "process"], in: project)
        #expect(!process.stdout.contains("network is off"), "the note is for the level that turns the network off")
    }

    @Test("a venv whose interpreter is gone is an error that names it, not a misleading bwrap: execvp")
    func brokenVenvIsNamed() throws {
        let f = Self.fixture
        let broken = "\(f.base)/brokenvenv"
        try? FileManager.default.createDirectory(atPath: "\(broken)/bin", withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: "\(broken)/bin/python3", withDestinationPath: "/nonexistent/python3.99")
        let r = try run(["--agent", "agents/venv_agent.py", "--python", broken], in: f.open)
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("/nonexistent/python3.99") && !r.stderr.contains("execvp"), "\(r.stderr)")
        let missing = try run(["--agent", "agents/nothere"], in: f.open)
        #expect(missing.status == 2 && missing.stderr.contains("\(f.open)/agents/nothere"), "\(missing.stderr)")
    }

    @Test("a command line with declared files (node agent.js, python -m pkg) runs at every level and hashes its files",
          arguments: [IsolationLevel.none, .process, .namespace])
    func commandLines(level: IsolationLevel) throws {
        if level == .namespace && !Self.hasNamespaces { #expect(Facility.mayLack("bwrap namespaces (the namespace level)")); return }
        let project = Self.fixture.open
        Self.write("\(project)/agents/nodecmd/agent.js", """
            const helper = require('./helper');
            require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
              const msg = JSON.parse(line);
              if (msg.type === 'observe') process.stdout.write(JSON.stringify({ type: 'action', action: helper.first() }) + '\\n');
              if (msg.type === 'end') process.exit(0);
            });
            """)
        Self.write("\(project)/agents/nodecmd/helper.js", "exports.first = () => ({ type: 'list_dir', args: { path: '/app' } });")
        Self.write("\(project)/agents/pymod/pkg/__init__.py", "")
        Self.write("\(project)/agents/pymod/pkg/agent.py", """
            import rigor_sdk
            from pkg.strategy import first

            class Agent:
                def reset(self, task): pass
                def observe(self, observation): pass
                def act(self): return first()

            if __name__ == "__main__":
                reader, writer = rigor_sdk.claim_stdio()
                raise SystemExit(rigor_sdk.serve(Agent(), reader, writer))
            """)
        Self.write("\(project)/agents/pymod/pkg/strategy.py", "def first():\n    return {'type': 'list_dir', 'args': {'path': '/app'}}")
        let workspace = Workspace(root: project)
        let specs = [AgentSpec(ref: "nodecmd", path: "agents/nodecmd", command: ["node", "agent.js"]),
                     AgentSpec(ref: "pymod", path: "agents/pymod", command: ["python3", "-m", "pkg.agent"], env: ["AGENT_MODE": "fast"])]
        for spec in specs {
            let agent = try workspace.resolveAgent(spec)
            #expect(agent.hashedFiles.keys.contains { $0.hasSuffix("helper.js") || $0.hasSuffix("strategy.py") }, "\(agent.hashedFiles.keys)")
            let request = try workspace.prepare(RunOptions(agent: spec.ref, task: "filesystem_hidden_config@1", seed: 7, isolation: level,
                                                           worldKey: TestWorldKey.fixed), resolvedAgent: agent)
            let result = try RigorRunner.Episode.run(request)
            #expect(result.record.trace.first?.action["type"]?.stringValue == "list_dir",
                    "\(spec.ref) at \(level): \(result.record.failureReason ?? "") \(result.agentLog)")
        }
        let missing = AgentSpec(ref: "nowhere", path: "agents/nodecmd", command: ["no-such-program-xyz", "agent.js"])
        #expect(throws: RunnerError.self) { try workspace.resolveAgent(missing) }
    }
}

/// Trees a test made that must go when the test process ends (a fixture several suites share,
/// which no single test may remove).
enum FixtureRemoval {
    nonisolated(unsafe) private static var paths: [String] = []
    private static let lock = NSLock()

    static func atExit(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        if paths.isEmpty {
            atexit {
                FixtureRemoval.lock.lock()
                let all = FixtureRemoval.paths
                FixtureRemoval.lock.unlock()
                for p in all { try? FileManager.default.removeItem(atPath: p) }
            }
        }
        paths.append(path)
    }
}

extension AgentKindsTests {
    /// A script speaking the protocol itself, whose `#!` names `interpreter`; its first action
    /// imports the venv's package (which the system's python does not have).
    static func writeShebangAgent(_ path: String, interpreter: String) {
        write(path, """
            #!\(interpreter)
            import json, sys
            import rigorvenvpkg
            step = 0
            for line in sys.stdin:
                message = json.loads(line)
                if message["type"] == "observe":
                    step += 1
                    action = {"type": "list_dir", "args": {"path": rigorvenvpkg.ROOT}} if step == 1 else \\
                             {"type": "set_output", "args": {"key": "API_KEY", "value": rigorvenvpkg.answer()}}
                    print(json.dumps({"type": "action", "action": action, "intent": "shebang venv works"}), flush=True)
                elif message["type"] == "end":
                    break
            """, mode: 0o755)
    }

    @Test("an executable whose #! names a venv's python runs at every level; a #! interpreter that is gone or out of the agent's reach is named, never the agent's failure",
          arguments: [IsolationLevel.none, .process, .namespace])
    func shebangInterpreter(level: IsolationLevel) throws {
        let f = Self.fixture
        #expect(f.venvReady, "could not make the venv: \(f.venvProblem)")
        if level == .namespace && !Self.hasNamespaces { #expect(Facility.mayLack("bwrap namespaces (the namespace level)")); return }
        for project in [f.open, f.closed] {
            Self.writeShebangAgent("\(project)/agents/venv_script", interpreter: "\(project)/.venv/bin/python")
            Self.writeShebangAgent("\(project)/agents/gone_script", interpreter: "\(project)/.gone/bin/python")
        }
        // Open project: the venv's python runs the script, at every level (at the namespace
        // level only because its venv is shown to the agent).
        let r = try run(["--agent", "agents/venv_script", "--isolation", level.rawValue, "--json"], in: f.open, from: "agents")
        let out = try JSON.parse(r.stdout.isEmpty ? "{}" : r.stdout)
        #expect(!["agent_exited", "agent_crashed", "protocol_error"].contains(out["termination_reason"]?.stringValue ?? "none"),
                "\(level): \(r.stdout) \(r.stderr)")
        #expect((out["steps_used"]?.intValue ?? 0) >= 2, "\(level): \(r.stdout) \(r.stderr)")
        #expect(!r.stderr.contains("execvp"), "\(r.stderr)")

        // An interpreter that does not exist: an error before the run, naming it and what to do.
        let gone = try run(["--agent", "agents/gone_script", "--isolation", level.rawValue, "--json"], in: f.open)
        #expect(gone.status == 2, "\(level): \(gone.status) \(gone.stdout) \(gone.stderr)")
        #expect(gone.stdout.isEmpty, "no run is recorded for it: \(gone.stdout)")
        #expect(gone.stderr.contains("'\(f.open)/.gone/bin/python'") && gone.stderr.contains("#!") && gone.stderr.contains("make the venv again"),
                "\(gone.stderr)")
        #expect(!gone.stderr.contains("execvp") && !gone.stderr.contains("agent_exited"), "\(gone.stderr)")

        // Under a 0700 directory, as root: the agent's uid cannot open the interpreter by the
        // path the script names. At the namespace level the sandbox shows it; at the process
        // level nothing can, which is said, naming the interpreter and the way out.
        guard Self.isRoot else { #expect(Facility.mayLack("root (a uid of the agent's own)")); return }
        let closed = try run(["--agent", "agents/venv_script", "--isolation", level.rawValue, "--json"], in: f.closed)
        if level == .process {
            #expect(closed.status == 2, "\(closed.stdout) \(closed.stderr)")
            #expect(closed.stderr.contains("cannot reach '\(f.closed)/.venv/bin/python'") && closed.stderr.contains("--isolation namespace"),
                    "\(closed.stderr)")
        } else {
            #expect(closed.status == 0 || closed.status == 1, "\(level): \(closed.stdout) \(closed.stderr)")
            let reason = (try? JSON.parse(closed.stdout))?["termination_reason"]?.stringValue ?? "none"
            #expect(!["agent_exited", "agent_crashed", "protocol_error"].contains(reason), "\(level) (0700): \(closed.stdout) \(closed.stderr)")
        }
    }
}
