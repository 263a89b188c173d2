import CRigorSpawn
import Foundation
import Testing

/// The end-of-episode sweep asks the kernel whether an agent's uid has any task left instead of
/// scanning /proc: kill(-1) as the uid cannot tell (it succeeds whenever any process exists on
/// the machine, even when every one refused the signal), so each sweep used to scan.
@Suite("The uid sweep", .enabled(if: getuid() == 0, "needs root (to take another uid)"))
struct UIDSweepTests {
    /// A uid outside the range agents get (200000–259999), different for each test process.
    static let uid = uid_t(300_000 + Int(getpid()) % 50_000)

    /// Starts `sleep 30` as `uid` (python3 drops to it, then execs).
    static func sleeper(_ uid: uid_t) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-I", "-c", "import os; os.setgroups([]); os.setgid(\(uid)); os.setuid(\(uid)); os.execv('/bin/sleep', ['sleep', '30'])"]
        try process.run()
        return process
    }

    @Test("a uid with no task has none; one with a live process has one; after the sweep, none")
    func probeFollowsTheKernelsCount() throws {
        let uid = Self.uid
        #expect(rigor_uid_has_tasks(uid) == 0)

        let process = try Self.sleeper(uid)
        let deadline = Date(timeIntervalSinceNow: 10)
        while rigor_count_uid(uid) < 1 && Date() < deadline { usleep(10_000) }
        try #require(rigor_count_uid(uid) == 1, "the sleeper never ran as uid \(uid)")
        #expect(rigor_uid_has_tasks(uid) == 1)

        #expect(rigor_kill_uid(uid, 50) == 0)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)
        #expect(rigor_uid_has_tasks(uid) == 0)
    }

    @Test("the probe needs root and a uid other than 0")
    func probeRefusesRoot() {
        #expect(rigor_uid_has_tasks(0) == -EPERM)
    }
}
