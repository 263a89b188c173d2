import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 17, item 6: `rigor runs show` reads a failure — the failing step and the agent's log.
@Suite("rigor runs show: failing step and agent log")
struct RunsShowTests {
    /// Writes 30 numbered lines to stderr (one with an escape sequence), lists /app twice, then
    /// sends an action the task does not offer: the episode fails at step 3.
    static let agentSource = #"""
        import sys

        class Agent:
            def reset(self, task):
                self.n = 0
                for i in range(30):
                    sys.stderr.write("log line %d\n" % i)
                sys.stderr.write("bell \x1b[2J here\n")
                sys.stderr.flush()

            def observe(self, observation):
                pass

            def act(self):
                self.n += 1
                if self.n < 3:
                    return {"type": "list_dir", "args": {"path": "/app"}}
                return {"type": "teleport", "args": {"to": "the answer"}}
        """#

    func failedRun() throws -> (state: String, dir: String) {
        let dir = RepoPaths.temporaryDirectory("rigor-runs-show")
        let agent = "\(dir)/chatty_agent.py"
        try Self.agentSource.write(toFile: agent, atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "3",
                                          "--state-dir", "\(dir)/state"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        return ("\(dir)/state", dir)
    }

    @Test("runs show prints the failing step's action and result and the last lines of the agent's log, escaped")
    func text() throws {
        let (state, dir) = try failedRun()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(["runs", "show", "latest", "--state-dir", state])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("failing step 3"), "\(r.stdout)")
        #expect(r.stdout.contains(#"{"args":{"to":"the answer"},"type":"teleport"}"#))
        #expect(r.stdout.contains(#""error":"unknown_action""#))
        // The default 20 lines: the end of the log, and a count of what is not shown.
        #expect(r.stdout.contains("log line 29"))
        #expect(!r.stdout.contains("log line 0\n"))
        #expect(r.stdout.contains("11 earlier lines"), "\(r.stdout)")
        #expect(r.stdout.contains("bell \\x1b[2J here"), "the agent's escape is shown, not obeyed")
        #expect(!r.stdout.utf8.contains(0x1B))
        let all = try CommandLineRun.rigor(["runs", "show", "latest", "--log-lines", "0", "--state-dir", state])
        #expect(all.stdout.contains("log line 0\n") && all.stdout.contains("nothing dropped"), "\(all.stdout)")
    }

    @Test("runs show --json carries the failing step and the whole kept log, with the artifact beside them")
    func json() throws {
        let (state, dir) = try failedRun()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(["runs", "show", "latest", "--json", "--state-dir", state])
        #expect(r.status == 0, "\(r.stderr)")
        let view = try JSON.parse(r.stdout)
        #expect(view["termination_reason"] == "unknown_action")
        #expect(view["failing_step"]?["step"] == 3)
        #expect(view["failing_step"]?["chosen_as"] == "last_step")
        #expect(view["failing_step"]?["action"]?["type"] == "teleport")
        #expect(view["failing_step"]?["result"]?["error"] == "unknown_action")
        #expect(view["agent_log"]?["bytes_dropped"] == 0)
        #expect(view["agent_log"]?["lines"] == 31)
        #expect(view["agent_log"]?["tail"]?.stringValue?.hasPrefix("log line 0\n") == true)
        #expect(view["artifact"]?["artifact_hash"] == view["artifact_hash"])
    }

    @Test("the log line says how many bytes the runner dropped")
    func droppedBytes() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-runs-show")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 100 KB on stderr: more than the 64 KiB the runner keeps.
        let agent = "\(dir)/flood.py"
        try """
            import sys
            class Agent:
                def reset(self, task):
                    sys.stderr.write(("x" * 99 + "\\n") * 1000)
                    sys.stderr.write("the end\\n")
                def observe(self, observation):
                    pass
                def act(self):
                    return {"type": "teleport", "args": {}}
            """.write(toFile: agent, atomically: true, encoding: .utf8)
        _ = try CommandLineRun.rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "1", "--state-dir", "\(dir)/state"])
        let view = try JSON.parse(try CommandLineRun.rigor(["runs", "show", "latest", "--json", "--state-dir", "\(dir)/state"]).stdout)
        let dropped = try #require(view["agent_log"]?["bytes_dropped"]?.intValue)
        #expect(dropped > 30_000)
        let r = try CommandLineRun.rigor(["runs", "show", "latest", "--state-dir", "\(dir)/state"])
        #expect(r.stdout.contains("\(dropped) bytes dropped before those by the runner's stderr limit"), "\(r.stdout)")
        #expect(r.stdout.contains("the end"))
    }
}
