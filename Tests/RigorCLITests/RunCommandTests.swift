import Foundation
import RigorSpec
import RigorTestSupport
import Testing

@Suite("rigor run")
struct RunCommandTests {
    func runToy(seed: Int, state: String, agent: String = "Agents/toy_agent.py", extra: [String] = []) throws -> (CommandResult, JSON) {
        let r = try CommandLineRun.rigor(
            ["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", String(seed), "--json",
             "--state-dir", state, "--strict-spec"] + extra)
        return (r, try JSON.parse(r.stdout))
    }

    @Test("the toy agent succeeds; the same pairing twice gives the same artifact_hash")
    func deterministic() throws {
        let state = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (r1, s1) = try runToy(seed: 42, state: state)
        let (r2, s2) = try runToy(seed: 42, state: state)
        #expect(r1.status == 0, "stderr: \(r1.stderr)")
        #expect(r2.status == 0)
        #expect(s1["success"] == true)
        #expect(s1["artifact_hash"] == s2["artifact_hash"])
        #expect(s1["run_id"] != s2["run_id"])
        // The store holds the runs; plain JSON only when asked (--out).
        #expect(s1["artifact_path"] == .null)
        #expect(!FileManager.default.fileExists(atPath: "\(state)/runs"))
        #expect(try StoredRuns.artifact(try #require(s1["run_id"]?.stringValue), stateDirectory: state)["artifact_hash"] == s1["artifact_hash"])
        let (r3, s3) = try runToy(seed: 42, state: state, extra: ["--out", "\(state)/copy.json"])
        #expect(r3.status == 0)
        #expect(s3["artifact_path"] == .string("\(state)/copy.json"))
        #expect(try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(state)/copy.json"))))["artifact_hash"] == s1["artifact_hash"])
        let (_, other) = try runToy(seed: 43, state: state)
        #expect(other["artifact_hash"] != s1["artifact_hash"])
    }

    @Test("the Swift agent solves the task too")
    func swiftAgent() throws {
        let state = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        for seed in [0, 42, 99] {
            let (r, s) = try runToy(seed: seed, state: state, agent: RepoPaths.swiftAgent)
            #expect(r.status == 0, "stderr: \(r.stderr) stdout: \(r.stdout)")
            #expect(s["success"] == true)
            #expect(s["steps_used"] == 4)
        }
    }

    @Test("the human verdict names the pairing, the budgets, the hash and where the run is stored")
    func humanVerdict() throws {
        let state = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                          "--seed", "42", "--state-dir", state])
        #expect(r.status == 0)
        #expect(r.stdout.contains("PASS"))
        #expect(r.stdout.contains("filesystem_hidden_config@1"))
        #expect(r.stdout.contains("/ 200"))
        #expect(r.stdout.contains("/ 40"))
        #expect(r.stdout.contains("sha256:"))
        #expect(r.stdout.contains("stored in"))
        #expect(r.stdout.contains("rigor runs show "))
        #expect(!r.stdout.contains("written to"), "no plain JSON file unless asked")
    }

    @Test("a success whose validator says nothing more than ok (TraceCore's `return {\"ok\": True}`) reads `success`, with no dangling dash")
    func silentValidator() throws {
        let dir = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = "\(dir)/tasks"
        try FileManager.default.createDirectory(atPath: tasks, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/service_port_lookup", toPath: "\(tasks)/service_port_lookup")
        func run() throws -> CommandResult {
            _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
            return try CommandLineRun.rigor(["run", "--agent", "Agents/port_lookup_agent.py", "--task", "service_port_lookup@1",
                                             "--tasks-dir", tasks, "--seed", "1", "--state-dir", "\(dir)/state"])
        }
        let said = try run()
        #expect(said.status == 0, "stderr: \(said.stderr)")
        #expect(said.stdout.contains("outcome     success — PORT is the billing service's live port\n"), "\(said.stdout)")
        let world = "\(tasks)/service_port_lookup/world.py"
        let source = try String(contentsOfFile: world, encoding: .utf8)
        let silent = source.replacingOccurrences(of: #"return {"ok": True, "message": "PORT is the billing service's live port"}"#,
                                                 with: #"return {"ok": True}"#)
        #expect(silent != source, "the world's success line moved: update this test")
        try silent.write(toFile: world, atomically: true, encoding: .utf8)
        let quiet = try run()
        #expect(quiet.status == 0, "stderr: \(quiet.stderr)")
        #expect(quiet.stdout.contains("outcome     success\n"), "\(quiet.stdout)")
        #expect(!quiet.stdout.contains("success —"), "\(quiet.stdout)")
    }

    @Test("bad usage and bad input exit 2 with a message that says what to do", arguments: [
        (["run", "--agent", "Agents/toy_agent.py", "--task", "nope@1"], "not found; known: "),
        (["run", "--agent", "Agents/missing.py", "--task", "filesystem_hidden_config@1"], "does not exist"),
        (["run", "--agent", "README.md", "--task", "filesystem_hidden_config@1"], "chmod +x"),
        (["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--isolation", "jail"], "none, process, namespace"),
        (["run", "--task", "filesystem_hidden_config@1"], "--agent"),
        (["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--bogus"], "--bogus"),
        (["verify", "/nonexistent.json"], "does not exist; pass the path of an artifact"),
        (["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--tasks-dir", "/nonexistent"], "--tasks-dir"),
    ])
    func badUsage(args: [String], message: String) throws {
        let r = try CommandLineRun.rigor(args)
        #expect(r.status == 2, "status \(r.status) for \(args)")
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }

    // Every command's own input checks run after parsing (InputChecked), so a mistyped option
    // is named even when the rest of the command line would fail those checks too.
    @Test("a mistyped option is named before any other problem with the command line", arguments: [
        (["run", "pairing", "--lsit"], "Unknown option '--lsit'. Did you mean '--list'?"),
        (["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--isolation", "jail", "--sede", "1"],
         "Unknown option '--sede'. Did you mean '--seed'?"),
        (["runs", "list", "--outcome", "maybe", "--limt", "3"], "Unknown option '--limt'. Did you mean '--limit'?"),
        (["batch", "--wrokers", "2"], "Unknown option '--wrokers'. Did you mean '--workers'?"),
        (["tasks", "validate", "--isolation", "jail", "--wrokers", "2"], "Unknown option '--wrokers'. Did you mean '--workers'?"),
    ])
    func typoFirst(args: [String], message: String) throws {
        let r = try CommandLineRun.rigor(args)
        #expect(r.status == 2, "status \(r.status) for \(args)")
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }

    @Test("`rigor run --pairing NAME` (a common guess) is refused with a hint naming `rigor run pairing NAME`", arguments: [
        (["run", "--pairing", "toy_filesystem"], "rigor run pairing toy_filesystem [--seed N]"),
        (["run", "--pairings=toy_filesystem", "--seed", "3"], "rigor run pairing toy_filesystem [--seed N]"),
        (["run", "--seed", "3", "--pairing"], "rigor run pairing <name> [--seed N]"),
    ])
    func pairingHint(args: [String], hint: String) throws {
        let r = try CommandLineRun.rigor(args)
        #expect(r.status == 2, "status \(r.status) for \(args)")
        #expect(r.stderr.contains("Hint: a named pairing runs as `\(hint)`"), "stderr: \(r.stderr)")
    }

    @Test("`rigor tasks validate` takes the tasks by name too: a ref or a bare id (every version), like --tasks; none matching says which")
    func validateByName() throws {
        let common = ["--seeds", "0", "--null-seeds", "0", "--isolation", "process", "--json"]
        for names in [["filesystem_hidden_config"], ["filesystem_hidden_config@1"]] {
            let r = try CommandLineRun.rigor(["tasks", "validate"] + names + common)
            #expect(r.status == 0, "\(names): \(r.stdout) \(r.stderr)")
            let rows = try JSON.parse(r.stdout).arrayValue ?? []
            #expect(rows.compactMap { $0["task"]?.stringValue } == ["filesystem_hidden_config@1"], "\(names): \(r.stdout)")
        }
        let both = try CommandLineRun.rigor(["tasks", "validate", "dice_game", "--tasks", "filesystem_hidden_config@1"] + common)
        #expect(both.status == 0, "\(both.stderr)")
        #expect(Set((try JSON.parse(both.stdout).arrayValue ?? []).compactMap { $0["task"]?.stringValue }) == ["dice_game@1", "filesystem_hidden_config@1"])
        let none = try CommandLineRun.rigor(["tasks", "validate", "no_such_task"] + common)
        #expect(none.status == 2, "\(none.stdout) \(none.stderr)")
        #expect(none.stderr.contains("no task matched no_such_task"), "\(none.stderr)")
    }

    @Test("`rigor tasks validate --agent` checks a task no pairing names (a TraceCore folder, a colleague's) with the agent given; without it the task fails, saying how to name one")
    func validateWithAgent() throws {
        let dir = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = "\(dir)/tasks/unpaired_lookup"
        try FileManager.default.createDirectory(atPath: "\(dir)/tasks", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/service_port_lookup", toPath: folder)
        let manifest = try String(contentsOfFile: "\(folder)/task.toml", encoding: .utf8)
        try manifest.replacingOccurrences(of: #"id = "service_port_lookup""#, with: #"id = "unpaired_lookup""#)
            .write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        _ = try CommandLineRun.run("/bin/chmod", ["-R", "a+rX", dir])
        let common = ["unpaired_lookup", "--tasks-dir", "\(dir)/tasks", "--seeds", "0..2", "--null-seeds", "0", "--isolation", "process",
                      "--state-dir", "\(dir)/state"]
        let bare = try CommandLineRun.rigor(["tasks", "validate"] + common)
        #expect(bare.status == 1, "\(bare.stdout) \(bare.stderr)")
        #expect(bare.stdout.contains("no reference agent: pair one with the task, or give --agent"), "\(bare.stdout)")
        let given = try CommandLineRun.rigor(["tasks", "validate"] + common + ["--agent", "Agents/port_lookup_agent.py", "--json"])
        #expect(given.status == 0, "\(given.stdout) \(given.stderr)")
        let rows = try JSON.parse(given.stdout).arrayValue ?? []
        #expect(rows.count == 1)
        #expect(rows.first?["task"] == "unpaired_lookup@1")
        #expect(rows.first?["reference_agents"] == .array([.string("Agents/port_lookup_agent.py")]))
        #expect(rows.first?["reference_passed"] == 3 && rows.first?["reference_total"] == 3, "\(given.stdout)")
        // A wrong agent is a failing reference, not a pass.
        let wrong = try CommandLineRun.rigor(["tasks", "validate"] + common + ["--agent", "Agents/do_nothing.py", "--json"])
        #expect(wrong.status == 1, "\(wrong.stdout) \(wrong.stderr)")
        #expect((try JSON.parse(wrong.stdout).arrayValue ?? []).first?["reference_passed"] == 0)
        // A missing agent, or a file that is no agent, is bad input: exit 2, saying what to do, nothing run.
        for (agent, message) in [("\(dir)/no_such_agent.py", "does not exist"), ("/etc/passwd", "is not executable")] {
            let bad = try CommandLineRun.rigor(["tasks", "validate"] + common + ["--agent", agent])
            #expect(bad.status == 2, "\(agent): \(bad.stdout) \(bad.stderr)")
            #expect(bad.stderr.contains(message), "\(agent): \(bad.stderr)")
            #expect(!bad.stdout.contains("OK "), "\(bad.stdout)")
        }
    }

    @Test("no hint where the command line is not the pairing guess")
    func noPairingHint() throws {
        for args in [["run", "--agent", "x.py"], ["run", "pairing", "--pairing", "x"], ["batch", "--pairing", "x"]] {
            let r = try CommandLineRun.rigor(args)
            #expect(r.status == 2, "status \(r.status) for \(args)")
            #expect(!r.stderr.contains("Hint: a named pairing"), "\(args): \(r.stderr)")
        }
    }

    @Test("a command's own input checks still refuse bad values, with its usage", arguments: [
        (["run", "pairing"], "name a pairing, or pass --list or --all", "rigor run pairing --help"),
        (["runs", "list", "--outcome", "maybe"], "--outcome must be success or failure", "rigor runs list --help"),
        (["batch", "--pairings", "all", "--seeds", "0..1", "--isolation", "jail"], "none, process, namespace", "rigor batch --help"),
        (["tasks", "validate", "--isolation", "jail"], "none, process, namespace", "rigor tasks validate --help"),
        (["baseline", "record", "--pairings", "all", "--seeds", "0", "--isolation", "jail"], "none, process, namespace", "rigor baseline record --help"),
        (["ci", "--workers", "0"], "--workers is 0; it must be between 1 and 1024 workers", "rigor ci --help"),
        (["diff", "a", "b", "--width", "10"], "--width is 10; it must be between 60 and 1000 columns", "rigor diff --help"),
    ])
    func inputChecks(args: [String], message: String, help: String) throws {
        let r = try CommandLineRun.rigor(args)
        #expect(r.status == 2, "status \(r.status) for \(args)")
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
        #expect(r.stderr.contains(help), "stderr: \(r.stderr)")
    }

    @Test("help and version exit 0")
    func help() throws {
        let h = try CommandLineRun.rigor(["run", "--help"])
        #expect(h.status == 0)
        #expect(h.stdout.contains("pairing"))
        let e = try CommandLineRun.rigor(["run", "episode", "--help"])
        #expect(e.status == 0)
        #expect(e.stdout.contains("--strict-spec"))
        let v = try CommandLineRun.rigor(["version", "--json"])
        #expect(v.status == 0)
        #expect(try JSON.parse(v.stdout)["spec_version"] == "tracecore-spec-v1.0")
        let t = try CommandLineRun.rigor(["tasks", "list", "--json"])
        #expect(t.status == 0)
        #expect(try JSON.parse(t.stdout).arrayValue?.contains { $0["ref"] == "filesystem_hidden_config@1" } == true)
    }
}
