import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Python worlds forked from the task SDK's warm server (a batch at the process level): the
/// same artifacts as exec'd worlds, and the same containment and classification when the world
/// misbehaves — a forked world that crashes, hangs, kills its parent or leaves a daemon ends its
/// own episode as `world_failed`, and the next episode of the batch runs as if nothing happened.
@Suite("Forked Python worlds", .serialized)
struct ForkedWorldTests {
    /// Python worlds that misbehave after answering `setup` (or at it), through the task SDK.
    static let worlds: [String: String] = [
        "exits_at_setup": "def setup(env):\n    raise SystemExit(3)\n",
        "crashes_on_action": "import os\ndef setup(env):\n    pass\ndef validate(env):\n    return {'ok': False}\n"
            + "def list_dir(env, path):\n    os.kill(os.getpid(), 11)\n",
        "hangs": "import time\ndef setup(env):\n    pass\ndef validate(env):\n    return {'ok': False}\n"
            + "def list_dir(env, path):\n    time.sleep(600)\n",
        "kills_its_parent": "import os, signal\ndef setup(env):\n    pass\ndef validate(env):\n    return {'ok': False}\n"
            + "def list_dir(env, path):\n    os.kill(os.getppid(), signal.SIGKILL)\n    os._exit(4)\n",
        "leaves_a_daemon": "import os, time\ndef setup(env):\n    if os.fork() == 0:\n        os.setsid()\n"
            + "        os.execvp('bash', ['bash', '-c', 'exec -a rigorforkedworld_daemon sleep 600'])\n    raise SystemExit(1)\n",
        // The server compiles world files ahead: one that does not compile is the task's error, in its episode.
        "does_not_compile": "def setup(env):\n    return (\n",
    ]

    /// A tasks directory with the repository's service_port_lookup (a well-behaved Python world)
    /// and one task per hostile world above.
    static func makeTasks(in dir: String) throws -> String {
        let tasks = "\(dir)/tasks"
        try FileManager.default.createDirectory(atPath: tasks, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/service_port_lookup", toPath: "\(tasks)/service_port_lookup")
        for (name, body) in worlds {
            let folder = "\(tasks)/forked_\(name)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try body.write(toFile: "\(folder)/world.py", atomically: true, encoding: .utf8)
            try """
                id = "forked_\(name)"
                version = 1
                suite = "hostile"
                description = "A Python world that misbehaves: \(name)."
                [world]
                command = ["world.py"]
                [world_config]
                timeout_seconds = 2
                [budgets]
                steps = 5
                tool_calls = 5
                [sandbox]
                filesystem_roots = ["/srv"]
                [actions.list_dir]
                args = { path = "path" }
                [actions.read_file]
                args = { path = "path" }
                [actions.set_output]
                args = { key = "string", value = "string" }
                """.write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        }
        _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
        return tasks
    }

    /// The pairings: the port lookup agent on every task (it lists /srv first, so each hostile
    /// world's action runs), the well-behaved task last.
    static func pairingsFile(in dir: String) throws -> String {
        var items = worlds.keys.sorted().map { name in
            #"{"name": "\#(name)", "agent": "\#(RepoPaths.root)/Agents/port_lookup_agent.py", "task": "forked_\#(name)@1"}"#
        }
        items.append(#"{"name": "good", "agent": "\#(RepoPaths.root)/Agents/port_lookup_agent.py", "task": "service_port_lookup@1"}"#)
        let path = "\(dir)/pairings.json"
        try ("[" + items.joined(separator: ",\n") + "]").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func batch(_ extra: [String], dir: String, tasks: String, pairings: String, names: String, seeds: String) throws -> (status: Int32, summary: JSON, stderr: String) {
        let r = try CommandLineRun.rigor(["batch", "--pairings-file", pairings, "--pairings", names, "--seeds", seeds, "--workers", "1",
                                          "--tasks-dir", tasks, "--isolation", "process", "--json", "--state-dir", "\(dir)/state"] + extra)
        return (r.status, try JSON.parse(r.stdout), r.stderr)
    }

    func diagnosticsWorld(runID: String, dir: String) throws -> JSON? {
        let r = try CommandLineRun.rigor(["runs", "export", runID, "--state-dir", "\(dir)/state"])
        return try JSON.parse(r.stdout)["diagnostics"]?["world"]
    }

    @Test("A batch forks Python worlds from the warm server, and their artifacts equal exec'd worlds' byte for byte in the hashed part")
    func sameArtifacts() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-forked-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = try Self.makeTasks(in: dir), pairings = try Self.pairingsFile(in: dir)
        let forked = try batch([], dir: dir, tasks: tasks, pairings: pairings, names: "good", seeds: "0..5")
        let exec = try batch(["--no-fork-server"], dir: dir, tasks: tasks, pairings: pairings, names: "good", seeds: "0..5")
        #expect(forked.status == 0 && exec.status == 0, "\(forked.stderr) \(exec.stderr)")
        let hashes = { (s: JSON) in (s["episodes"]?.arrayValue ?? []).compactMap { $0["artifact_hash"]?.stringValue } }
        #expect(hashes(forked.summary).count == 6)
        #expect(hashes(forked.summary) == hashes(exec.summary))
        let first = try #require(forked.summary["episodes"]?.arrayValue?.first?["run_id"]?.stringValue)
        #expect(try diagnosticsWorld(runID: first, dir: dir)?["launched_by"] == "fork_server")
        let last = try #require(exec.summary["episodes"]?.arrayValue?.first?["run_id"]?.stringValue)
        #expect(try diagnosticsWorld(runID: last, dir: dir)?["launched_by"] == "exec")
    }

    @Test("Forked worlds that crash, hang, kill their parent or leave a daemon: world_failed naming the task, nothing left running, the batch goes on")
    func hostile() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-forked-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = try Self.makeTasks(in: dir), pairings = try Self.pairingsFile(in: dir)
        let names = Self.worlds.keys.sorted().joined(separator: ",") + ",good"
        let t0 = Date()
        let r = try batch([], dir: dir, tasks: tasks, pairings: pairings, names: names, seeds: "0..1")
        #expect(Date().timeIntervalSince(t0) < 60, "the batch took \(Date().timeIntervalSince(t0)) s")
        let episodes = r.summary["episodes"]?.arrayValue ?? []
        #expect(episodes.count == (Self.worlds.count + 1) * 2, "\(r.stderr)")
        for e in episodes {
            let name = e["pairing"]?.stringValue ?? "?"
            if name == "good" {
                #expect(e["success"] == true, "the well-behaved world after the hostile ones: \(e)")
                continue
            }
            #expect(e["termination_reason"] == "world_failed", "\(name): \(e)")
            #expect(e["failure_type"] == "logic_failure", "\(name): \(e)")
            let runID = try #require(e["run_id"]?.stringValue)
            let artifact = try JSON.parse(try CommandLineRun.rigor(["runs", "export", runID, "--state-dir", "\(dir)/state"]).stdout)
            #expect(artifact["failure_reason"]?.stringValue?.hasPrefix("task forked_\(name)@1: ") == true, "\(name): \(artifact["failure_reason"] ?? .null)")
            #expect(SpecCheck.check(artifact).isEmpty, "\(name): \(SpecCheck.check(artifact))")
            #expect(artifact["diagnostics"]?["world"]?["launched_by"] == "fork_server", "\(name): not forked")
        }
        #expect(ProcessTable.pids(commandLineContaining: "rigorforkedworld_daemon").isEmpty, "a forked world's daemon outlived its episode")
    }

    @Test("The server compiles a world's files ahead, and the world runs that code; a changed file is loaded afresh; _parameter_names equals inspect's")
    func compiledAhead() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-forked-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let world = "\(dir)/world.py"
        try "VALUE = 'on disk'\n".write(toFile: world, atomically: true, encoding: .utf8)
        let script = """
            import inspect, functools, os, sys
            sys.argv = ["fork_server.py", "--world-sdk=\(RepoPaths.root)/Agents/tasks_sdk", "--world-file=\(world)"]
            sys.path.insert(0, "\(RepoPaths.root)/Agents/sdk")
            import fork_server, run_world
            path = "\(world)"
            assert fork_server._world_code(path) is None, "compiled before the server compiled it"
            code = fork_server._world_code(path, compile_it=True)
            assert code is not None and fork_server._world_code(path) is code
            assert fork_server._world_code(os.path.dirname(path) + "/./world.py") is code
            # The world executes the server's code object, not the file: here, another source.
            run_world._precompiled = lambda p: compile("VALUE = 'compiled ahead'", p, "exec") if p == path else None
            assert run_world._load(path, "w1").VALUE == "compiled ahead"
            run_world._precompiled = fork_server._world_code
            assert run_world._load(path, "w2").VALUE == "on disk"
            with open(path, "w") as f:
                f.write("VALUE = 'changed since'\\n")
            assert fork_server._world_code(path) is None, "a changed file still served compiled"
            assert run_world._load(path, "w3").VALUE == "changed since"
            with open(path, "w") as f:
                f.write("def broken(:\\n")
            assert fork_server._world_code(path, compile_it=True) is None
            # The surface's parameter names, as inspect.signature gives them, for every kind of callable.
            def a(x, y=1, *args, z, w=2, **kw): pass
            def b(): pass
            def c(p, /, q, *, r): pass
            def d(*args): pass
            def e(**kw): pass
            def wrapped(fn):
                @functools.wraps(fn)
                def inner(*args, **kwargs): return fn(*args, **kwargs)
                return inner
            def s(x): pass
            s.__signature__ = inspect.Signature([inspect.Parameter("zz", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
            class C:
                def m(self, x): pass
            for fn in (a, b, c, d, e, wrapped(a), wrapped(c), s, lambda q, *r: None, functools.partial(a, 1), C().m, len):
                want = list(inspect.signature(fn).parameters)
                got = run_world._parameter_names(fn)
                assert got == want, (fn, got, want)
            print("ok")
            """
        let r = try CommandLineRun.run("/usr/bin/env", ["python3", "-s", "-B", "-c", script])
        #expect(r.status == 0 && r.stdout.contains("ok"), "\(r.stdout) \(r.stderr)")
    }

    @Test("A batch's Python agents and Python worlds fork from one server per CPU: the agent and the world of an episode are siblings")
    func oneServerForBoth() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-forked-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = "\(dir)/tasks/siblings"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The world passes when the agent reports the world's own parent as its parent.
        try """
            import os
            def setup(env):
                pass
            def validate(env):
                parent = env.get_agent_output("parent")
                return {"ok": parent == str(os.getppid()), "terminal": parent is not None}
            def set_output(env, key, value):
                env.set_agent_output(key, value)
                return {"ok": True}
            """.write(toFile: "\(folder)/world.py", atomically: true, encoding: .utf8)
        try """
            id = "siblings"
            version = 1
            suite = "forked"
            description = "Passes when the agent and the world have the same parent process."
            [world]
            command = ["world.py"]
            [budgets]
            steps = 2
            tool_calls = 2
            [actions.set_output]
            args = { key = "string", value = "string" }
            """.write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        try """
            import os
            class Agent:
                def reset(self, task):
                    self.done = False
                def observe(self, observation):
                    pass
                def act(self):
                    if self.done:
                        return {"type": "wait", "args": {}}
                    self.done = True
                    return {"type": "set_output", "args": {"key": "parent", "value": str(os.getppid())}}
            """.write(toFile: "\(dir)/sibling_agent.py", atomically: true, encoding: .utf8)
        try #"[{"name": "siblings", "agent": "\#(dir)/sibling_agent.py", "task": "siblings@1"}]"#
            .write(toFile: "\(dir)/pairings.json", atomically: true, encoding: .utf8)
        _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
        let r = try batch([], dir: dir, tasks: "\(dir)/tasks", pairings: "\(dir)/pairings.json", names: "siblings", seeds: "0..2")
        let episodes = r.summary["episodes"]?.arrayValue ?? []
        #expect(episodes.count == 3 && episodes.allSatisfy { $0["success"] == true }, "\(r.summary) \(r.stderr)")
        let first = try #require(episodes.first?["run_id"]?.stringValue)
        #expect(try diagnosticsWorld(runID: first, dir: dir)?["launched_by"] == "fork_server")
        // A tasks directory named relative to the caller's: the world (in a directory of its own) still finds its files.
        let relative = try CommandLineRun.rigor(["run", "--agent", "sibling_agent.py", "--task", "siblings@1", "--tasks-dir", "tasks",
                                                 "--isolation", "process", "--state-dir", "\(dir)/state", "--json"], cwd: dir)
        #expect(relative.status == 0 && (try? JSON.parse(relative.stdout)["termination_reason"]) == "success", "\(relative.stdout) \(relative.stderr)")
    }

    @Test("A world file hard-linked to one only the server may read is not run from the server's compiled copy: world_failed, permission denied")
    func compiledAheadIsNoBackdoor() throws {
        // As root each world runs as a uid of its own; without root it shares the server's uid,
        // and there is nothing the server may read that the world may not.
        guard getuid() == 0 else { return }
        let dir = RepoPaths.temporaryDirectory("rigor-forked-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A world that would pass, in a file the world's uid may find (stat) but not read.
        let hidden = "\(dir)/hidden/secret_world.py"
        try FileManager.default.createDirectory(atPath: "\(dir)/hidden", withIntermediateDirectories: true)
        try ("def setup(env):\n    pass\ndef validate(env):\n    return {'ok': True, 'terminal': True}\n"
            + "def list_dir(env, path):\n    return {'ok': True, 'files': []}\n").write(toFile: hidden, atomically: true, encoding: .utf8)
        let folder = "\(dir)/tasks/linked"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A hard link: task_hash covers it (a symbolic link is refused, as the hash never follows one).
        try FileManager.default.linkItem(atPath: hidden, toPath: "\(folder)/world.py")
        try """
            id = "linked"
            version = 1
            suite = "hostile"
            description = "Its world file is a hard link to a file only root may read."
            [world]
            command = ["world.py"]
            [budgets]
            steps = 2
            tool_calls = 2
            [sandbox]
            filesystem_roots = ["/srv"]
            [actions.list_dir]
            args = { path = "path" }
            """.write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        try #"[{"name": "linked", "agent": "\#(RepoPaths.root)/Agents/port_lookup_agent.py", "task": "linked@1"}]"#
            .write(toFile: "\(dir)/pairings.json", atomically: true, encoding: .utf8)
        _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
        _ = try CommandLineRun.run("/bin/chmod", ["600", hidden])
        let r = try batch([], dir: dir, tasks: "\(dir)/tasks", pairings: "\(dir)/pairings.json", names: "linked", seeds: "0..2")
        let episodes = r.summary["episodes"]?.arrayValue ?? []
        #expect(episodes.count == 3, "\(r.stderr)")
        for e in episodes {
            #expect(e["termination_reason"] == "world_failed", "the world ran a file it may not read: \(e)")
            let runID = try #require(e["run_id"]?.stringValue)
            let artifact = try JSON.parse(try CommandLineRun.rigor(["runs", "export", runID, "--state-dir", "\(dir)/state"]).stdout)
            #expect(artifact["failure_reason"]?.stringValue?.contains("PermissionError") == true, "\(artifact["failure_reason"] ?? .null)")
        }
    }

    @Test("A Python world whose task folder lies under a directory closed to others (root's 0700 home) runs at every level: copies for its uid at the process level (forked or exec'd), bwrap as root then setpriv at the namespace level; the artifacts equal an open folder's")
    func closedTaskFolder() throws {
        // Only root gives worlds a uid of their own; without root the world is the runner's user.
        guard getuid() == 0 else { return }
        let dir = RepoPaths.temporaryDirectory("rigor-closed-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for place in ["open", "closed"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(place)/tasks", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/service_port_lookup", toPath: "\(dir)/\(place)/tasks/service_port_lookup")
        }
        try #"[{"name": "good", "agent": "\#(RepoPaths.root)/Agents/port_lookup_agent.py", "task": "service_port_lookup@1"}]"#
            .write(toFile: "\(dir)/pairings.json", atomically: true, encoding: .utf8)
        _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
        _ = try CommandLineRun.run("/bin/chmod", ["700", "\(dir)/closed"])
        let hashes = { (s: JSON) in (s["episodes"]?.arrayValue ?? []).compactMap { $0["artifact_hash"]?.stringValue } }
        let open = try batch([], dir: dir, tasks: "\(dir)/open/tasks", pairings: "\(dir)/pairings.json", names: "good", seeds: "0..2")
        #expect(open.status == 0 && hashes(open.summary).count == 3, "\(open.stderr)")
        var levels: [[String]] = [[], ["--no-fork-server"]]
        if Facility.bwrapWorks { levels.append(["--isolation", "namespace"]) }
        for extra in levels {
            let closed = try batch(extra, dir: dir, tasks: "\(dir)/closed/tasks", pairings: "\(dir)/pairings.json", names: "good", seeds: "0..2")
            #expect(closed.status == 0, "\(extra): \(closed.summary) \(closed.stderr)")
            #expect(hashes(closed.summary) == hashes(open.summary), "\(extra): the same artifacts as from an open folder")
            let runID = try #require(closed.summary["episodes"]?.arrayValue?.first?["run_id"]?.stringValue)
            let world = try diagnosticsWorld(runID: runID, dir: dir)
            let atProcessLevel = !extra.contains("namespace")
            #expect((world?["files"] != nil) == atProcessLevel, "\(extra): \(world ?? .null)")
            #expect(world?["launched_by"] == (extra.isEmpty ? "fork_server" : "exec"), "\(extra): \(world ?? .null)")
        }
    }
}
