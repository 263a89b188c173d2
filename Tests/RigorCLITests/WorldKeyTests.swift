import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Keyed worlds (spec/determinism.md §1.1) and hashes that depend only on what the episode is:
/// an agent that knows the seed cannot rebuild the world; the key file is made safely; the same
/// pairing and key hash the same as root or not, at every level, from any directory.
@Suite("World keys and machine-independent hashes", .serialized)
struct WorldKeyTests {
    /// The environment of a run that must use the state directory's key file, not the tests' fixed key.
    static var fileKeyEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = ""
        return env
    }

    func artifact(_ path: String) throws -> JSON {
        try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: path), "no artifact at \(path)")))
    }

    @Test("an oracle that rebuilds exact_answer_vault from the seed and the public generator fails", arguments: [0, 1, 2, 3])
    func oracleFails(seed: Int) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-oracle")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/adversarial/oracle_vault.py", "--task", "exact_answer_vault@1", "--seed", String(seed),
             "--isolation", "process", "--state-dir", dir, "--out", "\(dir)/a.json"], environment: Self.fileKeyEnvironment)
        let a = try artifact("\(dir)/a.json")
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(a["success"] == false)
        #expect(a["failure_type"] == "logic_failure")
        #expect(a["steps_used"] == 1)
        // The key file the world was built under: private, and its id is what the artifact records.
        var st = stat()
        #expect(lstat("\(dir)/world.key", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_mode & 0o077 == 0)
        #expect(a["world_key_id"]?.stringValue?.hasPrefix("sha256:") == true)
    }

    @Test("positive control: the same oracle handed the world key (which no agent gets) passes in one step", arguments: [0, 3])
    func oracleWithTheKeyPasses(seed: Int) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-oracle-key")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = String(repeating: "5a", count: 32)
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = key
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/adversarial/oracle_vault.py", "--task", "exact_answer_vault@1", "--seed", String(seed),
             "--isolation", "process", "--env", "ORACLE_WORLD_KEY=\(key)", "--state-dir", dir, "--out", "\(dir)/a.json"], environment: env)
        let a = try artifact("\(dir)/a.json")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(a["success"] == true)
        #expect(a["steps_used"] == 1)
    }

    @Test("the world key is never shown to the agent: not in its environment, not in the artifact")
    func keyNotShown() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-keyshow")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "5",
             "--state-dir", dir, "--out", "\(dir)/a.json"], environment: Self.fileKeyEnvironment)
        #expect(r.status == 0, "\(r.stderr)")
        let key = try String(contentsOfFile: "\(dir)/world.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 64)
        let text = try String(contentsOfFile: "\(dir)/a.json", encoding: .utf8)
        #expect(!text.contains(key))
        #expect(!r.stdout.contains(key) && !r.stderr.contains(key))
    }

    @Test("a planted symlink at world.key is refused, and its target is left untouched")
    func symlinkRefused() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-keylink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = "\(dir)/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        chmod(victim, 0o600)
        try FileManager.default.createDirectory(atPath: "\(dir)/state", withIntermediateDirectories: true)
        #expect(symlink(victim, "\(dir)/state/world.key") == 0)
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "5",
             "--state-dir", "\(dir)/state"], environment: Self.fileKeyEnvironment)
        #expect(r.status != 0 && r.status < 128)
        #expect(r.stderr.contains("symbolic link"), "\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        var st = stat()
        #expect(stat(victim, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test("a malformed RIGOR_WORLD_KEY is refused with a message that says what a key is")
    func badKeyEnvironment() throws {
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = "not-hex"
        let dir = RepoPaths.temporaryDirectory("rigor-badkey")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "5", "--state-dir", dir],
            environment: env)
        #expect(r.status == 2)
        #expect(r.stderr.contains("64 hex digits"), "\(r.stderr)")
    }

    @Test("replaying a run in a workspace that holds another key says which key it needs")
    func replayWithOtherKey() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-rekey")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "5",
             "--state-dir", "\(dir)/a", "--out", "\(dir)/a.json"], environment: Self.fileKeyEnvironment)
        #expect(run.status == 0, "\(run.stderr)")
        try FileManager.default.createDirectory(atPath: "\(dir)/b", withIntermediateDirectories: true)
        let r = try CommandLineRun.rigor(["replay", "\(dir)/a.json", "--state-dir", "\(dir)/b"], environment: Self.fileKeyEnvironment)
        #expect(r.status == 2)
        #expect(r.stderr.contains("world key"), "\(r.stderr)")
        // With the recorded key it reproduces.
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = try String(contentsOfFile: "\(dir)/a/world.key", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let again = try CommandLineRun.rigor(["replay", "\(dir)/a.json", "--state-dir", "\(dir)/b"], environment: env)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    }

    /// Runs `rigor` as the unprivileged user `nobody` (uid 65534), from `cwd`.
    func rigorAsNobody(_ arguments: [String], cwd: String) throws -> CommandResult {
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = TestWorldKey.fixed.hex
        env["HOME"] = cwd
        return try CommandLineRun.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                                           RepoPaths.rigorBinary] + arguments, cwd: cwd, environment: env)
    }

    /// Whether `nobody` can run the built rigor and read the repository (a checkout in a 0700
    /// home cannot be); the test says so and skips the unprivileged half otherwise.
    static let nobodyCanRun: Bool = {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return false }
        let r = try? CommandLineRun.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                                            RepoPaths.rigorBinary, "version"])
        if r?.status != 0 { print("unprivileged half skipped: uid 65534 cannot run \(RepoPaths.rigorBinary)") }
        return r?.status == 0
    }()

    @Test("the same pairing hashes the same as root at the namespace level, as root at the process level, and as an unprivileged user at the process level, from other working directories; ci, diff and replay agree")
    func sameHashEverywhere() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-anywhere")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o777)
        let root = RepoPaths.root
        var hashes: [String: String] = [:]
        var levels = ["process"]
        if Facility.bwrapWorks { levels.append("namespace") } else { #expect(Facility.mayLack("bwrap namespaces (the namespace level)")) }
        let common = ["--tasks-dir", "\(root)/Tasks", "--sdk-dir", "\(root)/Agents/sdk"]
        for level in levels {
            let out = "\(dir)/root-\(level).json"
            let r = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "42",
                                              "--isolation", level, "--state-dir", "\(dir)/state-\(level)", "--out", out] + common)
            #expect(r.status == 0, "\(r.stderr)")
            hashes["root-\(level)"] = try artifact(out)["artifact_hash"]?.stringValue
        }
        // Record baselines as root at the strongest level; check them back at the process level.
        let baselines = "\(dir)/baselines"
        let pairings = "\(dir)/pairings.json"
        try #"[{"name": "toy", "agent": "Agents/toy_agent.py", "task": "filesystem_hidden_config@1"}]"#
            .write(toFile: pairings, atomically: false, encoding: .utf8)
        let record = try CommandLineRun.rigor(["baseline", "record", "--pairings", "toy", "--seeds", "41..42", "--baselines", baselines,
                                               "--pairings-file", pairings, "--state-dir", "\(dir)/state-rec"] + common)
        #expect(record.status == 0, "\(record.stdout)\(record.stderr)")
        let ci = try CommandLineRun.rigor(["ci", "--baselines", baselines, "--isolation", "process", "--state-dir", "\(dir)/state-ci"] + common)
        #expect(ci.status == 0, "\(ci.stdout)\(ci.stderr)")

        if !Self.nobodyCanRun { #expect(Facility.mayLack("root with setpriv, and a rigor uid 65534 can run (the unprivileged half)")) }
        if Self.nobodyCanRun {
            let cwd = "\(dir)/elsewhere"
            try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
            chmod(cwd, 0o777)
            let out = "\(cwd)/nobody.json"
            let r = try rigorAsNobody(["run", "--agent", "\(root)/Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                       "--seed", "42", "--isolation", "process", "--state-dir", "\(cwd)/state", "--out", out] + common, cwd: cwd)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            // The level's notice says what a runner that is not root cannot clean up (finding 12).
            #expect(r.stderr.contains("a daemon it leaves can outlive the episode, and outlives a runner killed with SIGKILL"), "\(r.stderr)")
            let a = try artifact(out)
            #expect(a["diagnostics"]?["guard"]?["separate_uid"] == false)
            hashes["nobody-process"] = a["artifact_hash"]?.stringValue
            // The baselines recorded as root reproduce for the unprivileged user.
            let ciNobody = try rigorAsNobody(["ci", "--baselines", baselines, "--isolation", "process", "--state-dir", "\(cwd)/state-ci"] + common, cwd: cwd)
            #expect(ciNobody.status == 0, "\(ciNobody.stdout)\(ciNobody.stderr)")
            // And the reverse: baselines recorded by the unprivileged user at the process level
            // reproduce for root at the strongest level, from yet another directory.
            let theirs = "\(cwd)/baselines"
            let recordNobody = try rigorAsNobody(["baseline", "record", "--pairings", "toy", "--seeds", "41..42", "--baselines", theirs,
                                                  "--pairings-file", pairings, "--isolation", "process", "--state-dir", "\(cwd)/state-rec"] + common,
                                                 cwd: cwd)
            #expect(recordNobody.status == 0, "\(recordNobody.stdout)\(recordNobody.stderr)")
            let ciRoot = try CommandLineRun.rigor(["ci", "--baselines", theirs, "--isolation", levels.last ?? "process",
                                                   "--state-dir", "\(dir)/state-ci-root"] + common, cwd: dir)
            #expect(ciRoot.status == 0, "\(ciRoot.stdout)\(ciRoot.stderr)")
        }
        #expect(Set(hashes.values).count == 1, "\(hashes)")
        // diff and replay agree with ci: the runs are the same episode.
        let files = hashes.keys.sorted().map { "\(dir)/\($0 == "nobody-process" ? "elsewhere/nobody" : $0).json" }
        for other in files.dropFirst() {
            let d = try CommandLineRun.rigor(["diff", files[0], other])
            #expect(d.status == 0, "\(d.stdout)")
        }
        let replay = try CommandLineRun.rigor(["replay", files[0], "--isolation", "process", "--state-dir", "\(dir)/state-replay"] + common)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
    }
}
