import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 17, item 6: one spelling per thing on every command — `latest` and run-id prefixes
/// wherever a run is taken, `--baselines DIR`, `--out FILE` — and a README that uses them.
@Suite("Consistent flags and selectors")
struct ConsistentFlagsTests {
    func rigor(_ args: [String], state: String) throws -> CommandResult {
        try CommandLineRun.rigor(args + ["--state-dir", state])
    }

    /// One Swift-agent run in a fresh store; returns the state directory and the run id.
    func storeWithRun() throws -> (String, String) {
        let state = RepoPaths.temporaryDirectory("rigor-flags")
        let r = try rigor(["run", "--agent", RepoPaths.swiftAgent, "--task", "filesystem_hidden_config@1", "--seed", "5", "--json"], state: state)
        #expect(r.status == 0, "\(r.stderr)")
        return (state, try #require(try JSON.parse(r.stdout)["run_id"]?.stringValue))
    }

    @Test("verify takes latest and run-id prefixes as well as files")
    func verifyLatest() throws {
        let (state, runID) = try storeWithRun()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let latest = try rigor(["verify", "latest"], state: state)
        #expect(latest.status == 0, "\(latest.stdout)\(latest.stderr)")
        #expect(latest.stdout.contains("OK") && latest.stdout.contains(runID))
        let prefix = try rigor(["verify", String(runID.prefix(6)), "--json"], state: state)
        #expect(prefix.status == 0)
        #expect(try JSON.parse(prefix.stdout).arrayValue?.first?["hash_ok"] == true)
        let unknown = try rigor(["verify", "ffffffffff"], state: state)
        #expect(unknown.status == 2 && unknown.stderr.contains("latest"))
        let missingFile = try rigor(["verify", "nothing-here.json"], state: state)
        #expect(missingFile.status == 2)
    }

    @Test("baseline record and list take --baselines DIR like ci; --dir still works, with a note")
    func baselinesFlag() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-flags")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairings = "\(dir)/pairings.json"
        try #"[{"name":"swift","agent":"\#(RepoPaths.swiftAgent)","task":"filesystem_hidden_config@1"}]"#
            .write(toFile: pairings, atomically: true, encoding: .utf8)
        let common = ["--pairings-file", pairings, "--state-dir", "\(dir)/state"]
        let record = try CommandLineRun.rigor(["baseline", "record", "--pairings", "all", "--seeds", "1", "--baselines", "\(dir)/B"] + common)
        #expect(record.status == 0, "\(record.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/B/swift/seed-1.json"))
        #expect(try CommandLineRun.rigor(["baseline", "list", "--baselines", "\(dir)/B"] + common).stdout.contains("swift"))
        #expect(try CommandLineRun.rigor(["ci", "--baselines", "\(dir)/B"] + common).status == 0)
        let old = try CommandLineRun.rigor(["baseline", "record", "--pairings", "all", "--seeds", "2", "--dir", "\(dir)/B"] + common)
        #expect(old.status == 0)
        #expect(old.stderr.contains("--dir is deprecated; use --baselines"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/B/swift/seed-2.json"))
        let help = try CommandLineRun.rigor(["baseline", "record", "--help"])
        #expect(help.stdout.contains("--baselines <dir>") && !help.stdout.contains("--dir <"))
    }

    @Test("bundle seal, diff, runs export and ledger export write to --out FILE; --output still works",
          arguments: [["bundle", "seal", "latest"], ["diff", "latest", "latest"], ["runs", "export", "latest"], ["ledger", "export"]])
    func outFlag(_ command: [String]) throws {
        let (state, _) = try storeWithRun()
        defer { try? FileManager.default.removeItem(atPath: state) }
        for flag in ["--out", "--output"] {
            let file = "\(state)/written-\(flag.dropFirst(2))"
            let r = try rigor(command + [flag, file], state: state)
            #expect(r.status == 0, "\(command) \(flag): \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: file), "\(command) \(flag) wrote nothing")
        }
        let help = try CommandLineRun.rigor(command.filter { $0 != "latest" } + ["--help"])
        #expect(help.stdout.contains("--out <file>"), "\(help.stdout)")
        #expect(!help.stdout.contains("--output"), "the old name is hidden")
    }

    @Test("runs list has a seed column and prints task refs and agents whole")
    func runsList() throws {
        let state = RepoPaths.temporaryDirectory("rigor-flags")
        defer { try? FileManager.default.removeItem(atPath: state) }
        // 28 characters: the old listing cut task refs at 27.
        let long = "deterministic_rate_service@1"
        _ = try rigor(["run", "--agent", "Agents/malformed/unknown_action.py", "--task", long, "--seed", "17"], state: state)
        _ = try rigor(["run", "--agent", RepoPaths.swiftAgent, "--task", "filesystem_hidden_config@1", "--seed", "4"], state: state)
        let r = try rigor(["runs", "list"], state: state)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        #expect(header.contains("seed"), "\(r.stdout)")
        let old = try #require(lines.first { $0.contains("unknown_action.py") })
        #expect(old.contains(" \(long) "), "\(r.stdout)")
        #expect(old.contains(" 17 "))
        #expect(lines.contains { $0.contains(" 4 ") && $0.hasSuffix("rigor-swift-agent") })
        // Columns line up: every row's task starts where the header's does.
        let taskColumn = try #require(header.range(of: "task")).lowerBound.utf16Offset(in: header)
        for line in lines.dropFirst() {
            #expect(line.utf16.count > taskColumn && (line.contains(long) ? line.range(of: long)?.lowerBound.utf16Offset(in: line) == taskColumn : true))
        }
    }

    /// Every `--flag` on a README command line is in that command's `--help` (hidden old
    /// names are not: the README uses the current ones).
    @Test("every flag the README shows exists in the --help of its command")
    func readmeFlags() throws {
        let readme = try String(contentsOfFile: "\(RepoPaths.root)/README.md", encoding: .utf8)
        var inBlock = false
        var checked = 0
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inBlock.toggle(); continue }
            guard inBlock else { continue }
            let code = line.split(separator: "#").first.map(String.init) ?? ""
            for segment in code.components(separatedBy: CharacterSet(charactersIn: "|&")) {
                var words = segment.split(separator: " ").map(String.init)
                if words.first == "$" { words.removeFirst() }
                guard words.first == "rigor" else { continue }
                let path = Array(words.dropFirst().prefix { $0.range(of: "^[a-z]+$", options: .regularExpression) != nil && $0 != "latest" })
                let flags = words.filter { $0.hasPrefix("--") }.map { String($0.split(separator: "=").first ?? "") }
                guard !flags.isEmpty else { continue }
                var help = try CommandLineRun.rigor(path + ["--help"])
                #expect(help.status == 0, "rigor \(path.joined(separator: " ")) --help: \(help.stderr)")
                // A group whose default subcommand takes the flags (`rigor run --agent ...`):
                // that subcommand's help must list them.
                if let line = help.stdout.split(separator: "\n").first(where: { $0.contains(" (default)") }),
                   let name = line.split(separator: " ").first {
                    help = try CommandLineRun.rigor(path + [String(name), "--help"])
                }
                for flag in flags {
                    #expect(help.stdout.contains(flag), "README: `\(segment.trimmingCharacters(in: .whitespaces))` — \(flag) is not in `rigor \(path.joined(separator: " ")) --help`")
                    checked += 1
                }
            }
        }
        #expect(checked > 30, "the README's command lines were found")
    }
}
