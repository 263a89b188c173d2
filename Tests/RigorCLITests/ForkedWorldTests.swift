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
}
