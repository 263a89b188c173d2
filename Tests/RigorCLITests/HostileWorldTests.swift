import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// World programs that misbehave (spec/world-protocol.md §6): each is contained (nothing of it
/// outlives the episode, the runner goes on) and classified as the task's failure,
/// `world_failed` / `logic_failure`, with a message naming the task — never the agent's.
@Suite("Hostile worlds", .serialized)
struct HostileWorldTests {
    /// The world programs, bash scripts named so that the process table shows them
    /// (`rigorhostileworld_<name>.sh`). Each answers `setup` properly unless its fault is there.
    static let ready = #"printf '{"type":"ready","visible_state":{"files_seen":[]}}\n'"#
    static let worlds: [String: String] = [
        "crash_at_setup": "read -r line; exit 3",
        "crash_on_execute": "read -r line; \(ready); read -r line; kill -SEGV $$",
        "hang": "read -r line; \(ready); read -r line; exec -a rigorhostileworld_hang_sleep sleep 600",
        "garbage": "read -r line; \(ready); read -r line; echo 'this is not json'; sleep 5",
        "huge_output": "read -r line; \(ready); read -r line; head -c 3000000 /dev/zero | tr '\\\\0' x; sleep 5",
        "wrong_answer": #"read -r line; \#(ready); read -r line; printf '{"type":"ready"}\n'; sleep 5"#,
        "error_answer": #"read -r line; printf '{"type":"error","message":"cannot build the world"}\n'; sleep 5"#,
        "forks_a_daemon": "read -r line; (setsid bash -c 'exec -a rigorhostileworld_forks_a_daemon_child sleep 600' &); exit 1",
    ]

    /// A tasks directory holding one task per hostile world; returns its path.
    static func makeTasks(in dir: String, secretFile: String) throws -> String {
        let tasks = "\(dir)/tasks"
        var all = worlds
        // Tries to read a file outside its directory (the runner's private secret) and reports
        // what it got in its result: contained when nothing of it reaches the artifact.
        all["reads_outside"] = """
            read -r line; \(ready); read -r line
            leak=$(cat '\(secretFile)' 2>/dev/null | tr -dc 'A-Za-z0-9')
            printf '{"type":"result","result":{"ok":true,"leak":"%s"},"io_audit":[],"verdict":{"status":"pending","message":""}}\\n' "$leak"
            read -r line; exit 0
            """
        for (name, body) in all {
            let id = "hostile_\(name)"
            let folder = "\(tasks)/\(id)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let script = "rigorhostileworld_\(name).sh"
            try ("#!/bin/bash\n" + body + "\n").write(toFile: "\(folder)/\(script)", atomically: true, encoding: .utf8)
            try """
                id = "\(id)"
                version = 1
                suite = "hostile"
                description = "A world that misbehaves: \(name)."
                [world]
                command = ["bash", "\(script)"]
                [world_config]
                timeout_seconds = 2
                [budgets]
                steps = 5
                tool_calls = 5
                [sandbox]
                filesystem_roots = ["/app"]
                [actions.list_dir]
                args = { path = "path" }
                [actions.read_file]
                args = { path = "path" }
                [actions.extract_value]
                args = { content = "string", key = "string" }
                [actions.set_output]
                args = { key = "string", value = "string" }
                """.write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        }
        return tasks
    }

    struct Outcome {
        let status: Int32
        let artifact: JSON
        let stderr: String
        var reason: String? { artifact["termination_reason"]?.stringValue }
    }

    func run(_ name: String, tasks: String, dir: String, level: String) throws -> Outcome {
        let out = "\(dir)/\(name)-\(level).json"
        let t0 = Date()
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/toy_agent.py", "--task", "hostile_\(name)@1", "--seed", "1", "--tasks-dir", tasks,
             "--out", out, "--state-dir", "\(dir)/state", "--isolation", level])
        #expect(Date().timeIntervalSince(t0) < 20, "\(name) under \(level) took too long")
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "\(name): no artifact: \(r.stderr)")))
        #expect(SpecCheck.check(artifact).isEmpty, "\(name): \(SpecCheck.check(artifact))")
        // Contained: nothing of the world program is left running.
        #expect(ProcessTable.pids(commandLineContaining: "rigorhostileworld_\(name)").isEmpty, "\(name) still running under \(level)")
        return Outcome(status: r.status, artifact: artifact, stderr: r.stderr)
    }

    static let levels: [String] = HostileAgentTests.bwrapWorks ? ["process", "namespace"] : ["process"]

    @Test("Crash, hang, garbage, huge output, wrong or error answers, daemons: world_failed naming the task", arguments: levels)
    func classified(level: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = try Self.makeTasks(in: dir, secretFile: "/nonexistent")
        for name in Self.worlds.keys.sorted() {
            let o = try run(name, tasks: tasks, dir: dir, level: level)
            #expect(o.status == 1, "\(name): rigor exited \(o.status): \(o.stderr)")
            #expect(o.reason == "world_failed", "\(name) under \(level): \(o.reason ?? "nil")")
            #expect(o.artifact["failure_type"] == "logic_failure")
            let message = o.artifact["failure_reason"]?.stringValue ?? ""
            #expect(message.hasPrefix("task hostile_\(name)@1: "), "\(name): \(message)")
            // Set-up failures never start the agent; later ones leave no step for the failed action.
            #expect(o.artifact["action_trace"]?.arrayValue?.isEmpty == true, "\(name): a step was recorded")
        }
    }

    @Test("The messages say what went wrong")
    func messages() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = try Self.makeTasks(in: dir, secretFile: "/nonexistent")
        let expected = [
            "crash_at_setup": "exited before answering 'setup' (exited with code 3)",
            "crash_on_execute": "exited before answering 'execute' (killed by signal 11",
            "hang": "did not answer 'execute' within 2 s",
            "garbage": "a line that is not JSON",
            "huge_output": "without a newline",
            "wrong_answer": "answered with 'ready' where rigor-world/1 expects 'result'",
            "error_answer": "reported an error on 'setup': cannot build the world",
        ]
        for (name, fragment) in expected.sorted(by: { $0.key < $1.key }) {
            let o = try run(name, tasks: tasks, dir: dir, level: "process")
            let message = o.artifact["failure_reason"]?.stringValue ?? ""
            #expect(message.contains(fragment), "\(name): \(message)")
        }
    }

    @Test("A world that reads outside its directory gets nothing of the runner's", arguments: levels)
    func readsOutside(level: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A secret only the runner's user may read, outside the task folder.
        let secret = "\(dir)/secret.txt"
        try "RUNNERSECRET42".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        let tasks = try Self.makeTasks(in: dir, secretFile: secret)
        let o = try run("reads_outside", tasks: tasks, dir: dir, level: level)
        let leak = o.artifact["action_trace"]?.arrayValue?.first?["result"]?["leak"]?.stringValue
        if geteuid() == 0 || level == "namespace" {
            #expect(leak == "", "the world read the runner's secret under \(level)")
        }
        #expect(o.reason == "steps_exhausted" || o.reason == "world_failed", "\(o.reason ?? "nil")")
    }

    @Test("rigor tasks validate names the broken task and says why")
    func validateReports() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-world")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = try Self.makeTasks(in: dir, secretFile: "/nonexistent")
        let pairings = "\(dir)/pairings.json"
        try #"[{"name": "crash", "agent": "Agents/toy_agent.py", "task": "hostile_crash_at_setup@1"}]"#
            .write(toFile: pairings, atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(
            ["tasks", "validate", "--tasks-dir", tasks, "--tasks", "hostile_crash_at_setup@1", "--seeds", "0..1", "--null-seeds", "0",
             "--pairings-file", pairings, "--state-dir", "\(dir)/state"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("FAIL"), "\(r.stdout)")
        #expect(r.stdout.contains("world_failed: task hostile_crash_at_setup@1: its world program exited before answering 'setup'"), "\(r.stdout)")
    }
}
