import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 21, finding 6: what an agent, a world or a file says never reaches the reader's
/// terminal as an escape sequence. `Agents/adversarial/terminal_escapes` puts ESC sequences, an
/// 8-bit CSI and a bidi override in its args, intent, stderr and failure reason.
@Suite("Terminal injection", .serialized)
struct TerminalInjectionTests {
    /// Bytes no human-readable output may hold: ESC, CSI (U+009B), RLO (U+202E), CR.
    static func controls(in text: String) -> [String] {
        var found: [String] = []
        if text.utf8.contains(0x1B) { found.append("ESC") }
        if text.unicodeScalars.contains("\u{9B}") { found.append("CSI") }
        if text.unicodeScalars.contains("\u{202E}") { found.append("RLO") }
        if text.utf8.contains(0x0D) { found.append("CR") }
        return found
    }

    static let state = RepoPaths.temporaryDirectory("rigor-escapes")

    func rigor(_ arguments: [String]) throws -> CommandResult {
        try CommandLineRun.rigor(arguments + ["--state-dir", Self.state])
    }

    func expectClean(_ r: CommandResult, _ what: String) {
        #expect(Self.controls(in: r.stdout).isEmpty, "\(what) stdout holds \(Self.controls(in: r.stdout)): \(r.stdout.debugDescription)")
        #expect(Self.controls(in: r.stderr).isEmpty, "\(what) stderr holds \(Self.controls(in: r.stderr)): \(r.stderr.debugDescription)")
    }

    func hostileRun(seed: Int, json: Bool = false) throws -> (CommandResult, String) {
        let out = "\(Self.state)/seed-\(seed)\(json ? "-json" : "").json"
        let r = try rigor(["run", "--agent", "Agents/adversarial/terminal_escapes", "--task", "filesystem_hidden_config@1",
                           "--seed", String(seed), "--isolation", "process", "--act-timeout", "30", "--out", out] + (json ? ["--json"] : []))
        return (r, out)
    }

    @Test("rigor run prints the agent's reason and log escaped, as text and as JSON")
    func run() throws {
        let (r, out) = try hostileRun(seed: 1)
        #expect(r.status == 1)
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out))))
        #expect(artifact["termination_reason"] == "sandbox_violation")
        #expect(artifact["failure_reason"]?.stringValue?.contains("\u{1B}[2J") == true, "the artifact keeps what the agent sent")
        #expect(r.stdout.contains("\\x1b[2J"), "the escape is shown, visibly: \(r.stdout)")
        expectClean(r, "rigor run")
        let (j, _) = try hostileRun(seed: 2, json: true)
        expectClean(j, "rigor run --json")
    }

    @Test("runs show, runs list, diff and verify print it escaped",
          arguments: [["runs", "show", "latest", "--trace"], ["runs", "list"], ["runs", "show", "latest", "--json"],
                      ["diff", "A", "B"], ["diff", "A", "B", "--format", "markdown"], ["diff", "A", "B", "--format", "html"],
                      ["diff", "A", "B", "--format", "json"], ["ledger", "list"], ["verify", "A"], ["runs", "verify"]])
    func printers(_ command: [String]) throws {
        let (_, a) = try hostileRun(seed: 3)
        let (_, b) = try hostileRun(seed: 4)
        let r = try rigor(command.map { $0 == "A" ? a : $0 == "B" ? b : $0 })
        #expect(r.status <= 1, "\(command): \(r.stderr)")
        expectClean(r, command.joined(separator: " "))
    }

    @Test("runs export to a terminal shows the artifact with its controls escaped (the same JSON); to a pipe, the canonical bytes",
          .enabled(if: Facility.needed(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1), for a terminal")))
    func exportToATerminal() throws {
        let (_, out) = try hostileRun(seed: 5)
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out))))
        let id = try #require(artifact["run_id"]?.stringValue)
        // A pipe: byte for byte what the store holds, raw controls and all (the hash covers them).
        let piped = try rigor(["runs", "export", id])
        #expect(piped.status == 0)
        #expect(Self.controls(in: piped.stdout).contains("CSI") && Self.controls(in: piped.stdout).contains("RLO"))
        // A terminal (script(1) gives it one; the pty turns each \n into \r\n).
        let command = "\(RepoPaths.rigorBinary) runs export \(id) --state-dir \(Self.state)"
        let shown = try CommandLineRun.run("/usr/bin/script", ["-qfec", command, "/dev/null"]).stdout.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(Self.controls(in: shown).isEmpty, "\(shown.debugDescription)")
        #expect(shown.contains("redirect stdout or pass --out FILE for its canonical bytes"))
        let json = try #require(shown.split(separator: "\n").first { $0.hasPrefix("{") })
        #expect(try JSON.parse(Array(json.utf8)) == artifact, "the same JSON value, only escaped")
    }

    @Test("a task description with escape sequences is listed escaped")
    func taskDescription() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-escapes-task")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let task = "\(dir)/evil"
        try FileManager.default.createDirectory(atPath: task, withIntermediateDirectories: true)
        try """
            id = "evil"
            version = 1
            suite = "x\\u001b[2J"
            description = "\\u001b[2J\\u001b[HPASS\\u009b2J\\u202e"
            world = "hidden_config"
            [budgets]
            steps = 2
            tool_calls = 2
            [actions.list_dir]
            args = { path = "path" }
            """.write(toFile: "\(task)/task.toml", atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(["tasks", "list", "--tasks-dir", dir])
        #expect(r.stdout.contains("PASS"), "\(r.stdout)\(r.stderr)")
        expectClean(r, "tasks list")
    }

    @Test("TerminalText escapes C0 but newline and tab, DEL, C1 and bidi controls, and nothing else",
          arguments: [("a\u{1B}[2Jb", "a\\x1b[2Jb"), ("x\ry", "x\\x0dy"), ("l1\nl2\tt", "l1\nl2\tt"), ("\u{7F}\u{85}\u{9B}", "\\x7f\\x85\\x9b"),
                      ("\u{202A}\u{202E}\u{2066}\u{2069}", "\\u202a\\u202e\\u2066\\u2069"), ("é → ✓ \u{200D}", "é → ✓ \u{200D}")])
    func escaping(input: String, expected: String) {
        #expect(TerminalText.escaped(input) == expected)
        #expect(TerminalText.shown(TerminalText.paint(input, "31")) == "\u{1B}[31m\(expected)\u{1B}[0m")
    }

    @Test("a colour mark can only come from Rigor: a forged one is escaped")
    func forgedMark() {
        let forged = "\u{E000}abc\u{E001}32;1mPASS"
        #expect(!TerminalText.shown(forged).utf8.contains(0x1B))
    }

    @Test("pretty JSON escapes DEL, C1 and bidi controls; canonical JSON (hashed) keeps them raw")
    func prettyJSON() throws {
        let value: JSON = ["s": .string("\u{1B}\u{7F}\u{9B}\u{202E}\u{2066}ok")]
        let pretty = String(decoding: try value.prettyBytes(), as: UTF8.self)
        #expect(pretty.contains(#"\u001b\u007f\u009b\u202e\u2066ok"#), "\(pretty)")
        #expect(try JSON.parse(pretty) == value)
        let canonical = String(decoding: try value.canonicalBytes(style: .jcs), as: UTF8.self)
        #expect(canonical == "{\"s\":\"\\u001b\u{7F}\u{9B}\u{202E}\u{2066}ok\"}")
    }
}
