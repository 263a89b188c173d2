import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// A user who picks `--isolation process` is told once, on stderr, what that level leaves
/// visible to the agent (spec/guard.md "What is not isolated"); machines reading `--json` on
/// stdout never see it.
@Suite("What a chosen isolation level does not hide")
struct IsolationNoticeTests {
    func run(_ extra: [String]) throws -> CommandResult {
        let state = RepoPaths.temporaryDirectory("rigor-notice")
        defer { try? FileManager.default.removeItem(atPath: state) }
        return try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                         "--seed", "1", "--state-dir", state] + extra)
    }

    @Test("--isolation process: one stderr line naming the shared /tmp and the readable command lines; stdout stays JSON")
    func processLevelSaysWhatItDoesNotHide() throws {
        let r = try run(["--isolation", "process", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("--isolation process") }
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        let line = String(lines.first ?? "")
        #expect(line.contains("/tmp"))
        #expect(line.contains("command line"))
        #expect(line.contains("namespace"))
        #expect((try? JSON.parse(r.stdout)) != nil, "stdout is not pure JSON: \(r.stdout)")
        #expect(!r.stdout.contains("--isolation process"))
    }

    @Test("--record runs twice but says it once")
    func onceEvenWhenRunningTwice() throws {
        let r = try run(["--isolation", "process", "--record"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "--isolation process").count == 2, "stderr: \(r.stderr)")
    }

    @Test("the default level says nothing")
    func defaultIsQuiet() throws {
        let r = try run(["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("does not hide"), "stderr: \(r.stderr)")
    }

    func rigor(_ args: [String]) throws -> CommandResult {
        let state = RepoPaths.temporaryDirectory("rigor-notice")
        defer { try? FileManager.default.removeItem(atPath: state) }
        return try CommandLineRun.rigor(args + ["--state-dir", state])
    }

    /// The notice lines for `level` in `stderr`.
    func notices(_ stderr: String, _ level: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.contains("--isolation \(level) ") }
    }

    @Test("batch and run pairing say it too, once per command however many episodes run, and never on stdout",
          arguments: ["process", "none"])
    func batchAndPairing(_ level: String) throws {
        let batch = try rigor(["batch", "--pairings", "toy_filesystem", "--seeds", "0..2", "--workers", "2", "--isolation", level, "--json"])
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(notices(batch.stderr, level).count == 1, "batch stderr: \(batch.stderr)")
        #expect((try? JSON.parse(batch.stdout)) != nil, "stdout is not pure JSON: \(batch.stdout)")
        let pairing = try rigor(["run", "pairing", "toy_filesystem", "--seed", "1", "--isolation", level, "--json"])
        #expect(pairing.status == 0, "\(pairing.stderr)")
        #expect(notices(pairing.stderr, level).count == 1, "run pairing stderr: \(pairing.stderr)")
        #expect((try? JSON.parse(pairing.stdout)) != nil, "stdout is not pure JSON: \(pairing.stdout)")
    }

    @Test("baseline record, ci, replay and tasks validate say it too, once per command; without --isolation they say nothing",
          arguments: ["process", "none"])
    func everyCommandThatRunsEpisodes(_ level: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-notice")
        defer { try? FileManager.default.removeItem(atPath: state) }
        func rigor(_ args: [String]) throws -> CommandResult { try CommandLineRun.rigor(args + ["--state-dir", state]) }
        let baselines = "\(state)/baselines"
        let commands: [(String, [String])] = [
            ("baseline record", ["baseline", "record", "--pairings", "toy_filesystem", "--seeds", "0..1", "--baselines", baselines]),
            ("ci", ["ci", "--baselines", baselines]),
            ("replay", ["replay", "latest"]),
            ("tasks validate", ["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--seeds", "0", "--null-seeds", "0",
                                "--determinism-seeds", "1"]),
        ]
        for (name, args) in commands {
            let chosen = try rigor(args + ["--isolation", level])
            #expect(chosen.status == 0, "\(name): \(chosen.stdout) \(chosen.stderr)")
            #expect(notices(chosen.stderr, level).count == 1, "\(name) --isolation \(level): stderr: \(chosen.stderr)")
            #expect(!chosen.stdout.contains("--isolation \(level) "), "\(name): the notice went to stdout")
        }
        // The default level (the strongest available) is not a choice the user made: no notice.
        let quiet = try rigor(["ci", "--baselines", baselines])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("does not hide") && !quiet.stderr.contains("contains nothing"), "ci: \(quiet.stderr)")
    }

    @Test("--isolation none has its own notice, which says it contains nothing and sets no limits (not the process level's)")
    func noneSaysItsOwn() throws {
        let r = try run(["--isolation", "none", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = notices(r.stderr, "none")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(lines.first?.contains("no resource limits") == true)
        #expect(!r.stderr.contains("--isolation process"), "stderr: \(r.stderr)")
    }

    @Test("rigor run --json reports the level it ran at (diagnostics.guard), and the memory line says what the limit really covers",
          arguments: ["none", "process"])
    func levelAndMemoryLine(_ level: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-notice")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let common = ["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "1",
                      "--isolation", level, "--state-dir", state]
        let json = try CommandLineRun.rigor(common + ["--json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(try JSON.parse(json.stdout)["isolation"] == .string(level), "\(json.stdout)")

        let out = "\(state)/run.json"
        let human = try CommandLineRun.rigor(common + ["--out", out])
        #expect(human.status == 0, "\(human.stderr)")
        let memory = try #require(human.stdout.split(separator: "\n").first { $0.hasPrefix("  memory") }, "\(human.stdout)")
        let artifact = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        #expect(artifact["diagnostics"]?["guard"]?["isolation"] == .string(level))
        if level == "none" {
            // No rlimit and no cgroup at none: the line must not claim a per-process limit.
            #expect(memory.contains("no limit at --isolation none"), "\(memory)")
            #expect(!memory.contains("per process only"), "\(memory)")
        } else if artifact["diagnostics"]?["cgroup"]?["used"] == true {
            #expect(memory.contains("2 GiB for all the episode's processes together"), "\(memory)")
        } else {
            #expect(memory.contains("2 GiB per process only"), "\(memory)")
        }
    }
}
