import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// A store Rigor may read but not write: on a read-only mount, or owned by someone else. Every
/// reading command works; every writing command says the store is read-only, with the exit code
/// for I/O errors.
@Suite("a read-only store")
struct ReadOnlyStoreTests {
    /// How the store is made unwritable. The tests run as root, which file modes do not stop.
    enum Lock: String, CaseIterable, CustomStringConvertible {
        /// A read-only bind mount of the state directory, in a mount namespace of its own.
        case readOnlyMount = "read-only mount"
        /// Modes 0555/0444, read by an unprivileged user (nobody) that does not own them.
        case otherUser = "another user's files"

        var description: String { rawValue }
    }

    /// A store with two runs, its WAL checkpointed away, and its state directory's path. The
    /// last run is also written as plain JSON (`--out`) to `runs/latest.json`, as `runs_json`
    /// would, for `rigor verify`.
    static func populatedStore() throws -> (root: String, state: String, runID: String) {
        let root = RepoPaths.temporaryDirectory("rigor-ro")
        let state = "\(root)/state"
        var runID = ""
        for agent in ["Agents/toy_agent.py", "Agents/malformed/unknown_action.py"] {
            let out = agent.hasPrefix("Agents/malformed") ? ["--out", "\(state)/runs/latest.json"] : []
            let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "3",
                                             "--isolation", "process", "--json", "--state-dir", state] + out)
            runID = try JSON.parse(r.stdout)["run_id"]?.stringValue ?? ""
        }
        return (root, state, runID)
    }

    /// Runs `rigor` with `arguments` against the locked state directory.
    static func rigor(_ arguments: [String], state: String, lock: Lock) throws -> CommandResult {
        let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LC_ALL": "C.UTF-8", "NO_COLOR": "1"]
        // `rigor verify` reads only the file it is given.
        let args = arguments.first == "verify" ? arguments : arguments + ["--state-dir", state, "--tasks-dir", RepoPaths.tasks, "--sdk-dir", RepoPaths.sdk]
        switch lock {
        case .readOnlyMount:
            let script = #"mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@""#
            return try CommandLineRun.run("/usr/bin/unshare", ["-m", "/bin/sh", "-c", script, state, RepoPaths.rigorBinary] + args,
                                          cwd: "/tmp", environment: environment)
        case .otherUser:
            let prefix = getuid() == 0 ? ["--reuid=65534", "--regid=65534", "--clear-groups", RepoPaths.rigorBinary] : []
            let executable = getuid() == 0 ? "/usr/bin/setpriv" : RepoPaths.rigorBinary
            return try CommandLineRun.run(executable, prefix + args, cwd: "/tmp", environment: environment)
        }
    }

    static func lockModes(_ state: String) throws {
        let files = FileManager.default
        for name in try files.contentsOfDirectory(atPath: state) where !name.hasPrefix(".") {
            var isDir: ObjCBool = false
            _ = files.fileExists(atPath: "\(state)/\(name)", isDirectory: &isDir)
            if isDir.boolValue {
                for inner in try files.contentsOfDirectory(atPath: "\(state)/\(name)") { chmod("\(state)/\(name)/\(inner)", 0o444) }
                chmod("\(state)/\(name)", 0o555)
            } else {
                chmod("\(state)/\(name)", 0o444)
            }
        }
        chmod(state, 0o555)
    }

    @Test("reading commands work on a store Rigor cannot write", arguments: Lock.allCases)
    func reading(_ lock: Lock) throws {
        if lock == .readOnlyMount && !Facility.isRoot { #expect(Facility.mayLack("root (unshare -m for a read-only bind mount)")); return }
        let (root, state, runID) = try Self.populatedStore()
        defer { chmod(state, 0o755); try? FileManager.default.removeItem(atPath: root) }
        #expect(!FileManager.default.fileExists(atPath: "\(state)/rigor.db-wal"), "the WAL is checkpointed when the last writer closes")
        if lock == .otherUser { try Self.lockModes(state) }
        let exported = "\(state)/runs/latest.json"
        let commands: [[String]] = [
            ["runs", "list"], ["runs", "list", "--json"], ["runs", "show", "latest", "--trace"], ["runs", "export", runID],
            ["runs", "verify"], ["ledger", "verify"], ["ledger", "list"], ["ledger", "export"],
            ["diff", String(runID.prefix(8)), "latest"], ["verify", exported],
        ]
        for command in commands {
            let r = try Self.rigor(command, state: state, lock: lock)
            #expect(r.status == 0, "\(lock): rigor \(command.joined(separator: " ")) said \(r.status): \(r.stdout.prefix(300))\(r.stderr)")
        }
        let list = try JSON.parse(try Self.rigor(["runs", "list", "--json"], state: state, lock: lock).stdout).arrayValue ?? []
        #expect(list.count == 2, "\(lock)")
        // Reading left nothing behind (no WAL, no shared-memory file) and changed nothing.
        let names = try FileManager.default.contentsOfDirectory(atPath: state).sorted()
        #expect(names == ["rigor.db", "runs"], "\(lock): \(names)")
    }

    @Test("writing commands say the store is read-only, with the exit code of an I/O error", arguments: Lock.allCases)
    func writing(_ lock: Lock) throws {
        if lock == .readOnlyMount && !Facility.isRoot { #expect(Facility.mayLack("root (unshare -m for a read-only bind mount)")); return }
        let (root, state, runID) = try Self.populatedStore()
        defer { chmod(state, 0o755); try? FileManager.default.removeItem(atPath: root) }
        if lock == .otherUser { try Self.lockModes(state) }
        let outside = "\(root)/other.json"
        _ = try CommandLineRun.rigor(["runs", "export", runID, "-o", outside, "--state-dir", state])
        chmod(outside, 0o444)
        let commands: [[String]] = [
            ["run", "--agent", "\(RepoPaths.agents)/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "4", "--isolation", "process"],
            ["runs", "import", outside], ["runs", "gc"],
        ]
        for command in commands {
            let r = try Self.rigor(command, state: state, lock: lock)
            #expect(r.status == 4, "\(lock): rigor \(command.joined(separator: " ")) said \(r.status): \(r.stderr)")
            #expect(r.stderr.contains("read-only"), "\(lock): rigor \(command.joined(separator: " ")): \(r.stderr)")
            #expect(!r.stderr.contains("SQLite"), "\(lock): a raw SQLite error: \(r.stderr)")
        }
    }
}
