import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// A runner killed with SIGKILL cannot clean up after its episode; the next one must (spec/guard.md
/// "When the runner dies"). The namespace level has its pid namespace for that; these tests are
/// about the process level.
@Suite("After a runner killed with SIGKILL", .serialized)
struct DeadRunnerTests {
    /// The hostile agent, copied under a name of this test's own, so that the process table
    /// shows only its processes under that name.
    func agentCopy(in dir: String) throws -> (path: String, name: String) {
        let name = "dead_runner_daemon_\(UUID().uuidString.prefix(8)).py"
        let path = "\(dir)/\(name)"
        try FileManager.default.copyItem(atPath: "\(RepoPaths.agents)/adversarial/runner_killed_daemon.py", toPath: path)
        return (path, name)
    }

    func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    @Test("a daemon an agent left at the process level is killed when the next runner starts an agent",
          .enabled(if: geteuid() == 0, "a runner that is not root and has no cgroup leaves it (spec/guard.md)"))
    func daemonIsKilledByTheNextRunner() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-dead-runner")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Any runner that starts an agent sweeps what dead runners left, those of suites running
        // alongside too: one may sweep the daemon before this test's next runner does. Then
        // nothing is left to prove anything with, and the scenario runs again (at most 3 times).
        var name = ""
        var survived = false
        for _ in 0..<3 where !survived {
            let (agent, copyName) = try agentCopy(in: dir)
            name = copyName
            let runner = Process()
            runner.executableURL = URL(fileURLWithPath: RepoPaths.rigorBinary)
            runner.currentDirectoryURL = URL(fileURLWithPath: RepoPaths.root)
            runner.arguments = ["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "1", "--isolation", "process",
                                "--act-timeout", "60", "--state-dir", "\(dir)/state"]
            runner.standardOutput = FileHandle.nullDevice
            runner.standardError = FileHandle.nullDevice
            try runner.run()
            // The agent and its daemon, both up.
            let up = waitFor(seconds: 20) { ProcessTable.pids(commandLineContaining: name).count >= 2 }
            try #require(up, "the agent never started its daemon")
            kill(runner.processIdentifier, SIGKILL)
            runner.waitUntilExit()
            survived = !ProcessTable.pids(commandLineContaining: name).isEmpty
        }
        try #require(survived, "nothing survived the runner, 3 times: the test proves nothing")

        let next = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                            "--seed", "2", "--isolation", "process", "--state-dir", "\(dir)/state"])
        #expect(next.status == 0, "\(next.stderr)")
        let gone = waitFor(seconds: 5) { ProcessTable.pids(commandLineContaining: name).isEmpty }
        #expect(gone, "left by the dead runner, still alive after the next one: \(ProcessTable.pids(commandLineContaining: name))")
        for pid in ProcessTable.pids(commandLineContaining: name) { kill(pid, SIGKILL) }
    }
}
