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
}
