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

    /// The long flags a `--help` text lists, whole (`--seeds` is not `--seed`).
    static func flags(in help: String) -> Set<String> {
        var found = Set<String>()
        var rest = Substring(help)
        while let r = rest.range(of: "--[a-z0-9][a-z0-9-]*", options: .regularExpression) {
            found.insert(String(rest[r]))
            rest = rest[r.upperBound...]
        }
        return found
    }

    /// `rigor <path> --help`; for a group whose default subcommand takes the flags (`rigor run
    /// --agent ...`), that subcommand's help.
    static func help(_ path: [String]) throws -> CommandResult {
        let help = try CommandLineRun.rigor(path + ["--help"])
        if let line = help.stdout.split(separator: "\n").first(where: { $0.contains(" (default)") }),
           let name = line.split(separator: " ").first {
            return try CommandLineRun.rigor(path + [String(name), "--help"])
        }
        return help
    }

    /// The README's shell command lines: code blocks, continuation lines joined, comments cut,
    /// split at `|`, `&&` and `;`; each a `rigor` command after any `NAME=value` assignments
    /// (`OPENAI_API_KEY=... rigor run ...`).
    static func readmeCommands() throws -> [(line: String, words: [String])] {
        let readme = try String(contentsOfFile: "\(RepoPaths.root)/README.md", encoding: .utf8)
        var inBlock = false
        var pending = ""
        var commands: [(String, [String])] = []
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if raw.hasPrefix("```") { inBlock.toggle(); pending = ""; continue }
            guard inBlock else { continue }
            var line = pending + (raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "")
            if line.hasSuffix("\\") || raw.hasSuffix("\\") {
                line = line.hasSuffix("\\") ? String(line.dropLast()) : line
                pending = line + " "
                continue
            }
            pending = ""
            for segment in line.components(separatedBy: CharacterSet(charactersIn: "|&;")) {
                var words = segment.split(separator: " ").map(String.init)
                if words.first == "$" { words.removeFirst() }
                while let first = words.first, first.range(of: "^[A-Za-z_][A-Za-z0-9_]*=", options: .regularExpression) != nil { words.removeFirst() }
                guard words.first == "rigor" else { continue }
                commands.append((segment.trimmingCharacters(in: .whitespaces), words))
            }
        }
        return commands
    }

    /// Every `--flag` on a README command line is a whole flag of that command's `--help`
    /// (hidden old names are not: the README uses the current ones), lines that set variables
    /// before `rigor` and lines continued with `\` included.
    @Test("every flag the README shows exists, whole, in the --help of its command")
    func readmeFlags() throws {
        var checked = 0
        var sawAssignment = false
        var helps: [[String]: Set<String>] = [:]
        for (line, words) in try Self.readmeCommands() {
            let path = Array(words.dropFirst().prefix { $0.range(of: "^[a-z]+$", options: .regularExpression) != nil && $0 != "latest" })
            let flags = words.filter { $0.hasPrefix("--") && $0.count > 2 }.map { String($0.split(separator: "=").first ?? "") }
            guard !flags.isEmpty else { continue }
            if line.contains("--secret") && line.contains("--env") { sawAssignment = true }
            if helps[path] == nil {
                let help = try Self.help(path)
                #expect(help.status == 0, "rigor \(path.joined(separator: " ")) --help: \(help.stderr)")
                helps[path] = Self.flags(in: help.stdout)
            }
            for flag in flags {
                #expect(helps[path]?.contains(flag) == true, "README: `\(line)` — \(flag) is not a flag of `rigor \(path.joined(separator: " ")) --help`")
                checked += 1
            }
        }
        #expect(checked > 30, "the README's command lines were found")
        #expect(sawAssignment, "the README's `NAME=... rigor run ... --secret ... --env` line was checked")
    }

    /// Flags of the main commands that neither the README nor spec/ mention, on purpose.
    static let undocumented: [String: Set<String>] = [:]

    /// The other way: every flag the main commands' `--help` lists is documented in the README
    /// or spec/ (as a whole flag), unless listed in `undocumented` with the reason.
    @Test("every flag of run, run pairing, batch, ci and replay --help is in the README or spec/",
          arguments: [["run"], ["run", "pairing"], ["batch"], ["ci"], ["replay"]])
    func helpFlagsDocumented(_ path: [String]) throws {
        var docs = try String(contentsOfFile: "\(RepoPaths.root)/README.md", encoding: .utf8)
        for file in try FileManager.default.contentsOfDirectory(atPath: "\(RepoPaths.root)/spec") where file.hasSuffix(".md") {
            docs += "\n" + (try String(contentsOfFile: "\(RepoPaths.root)/spec/\(file)", encoding: .utf8))
        }
        let documented = Self.flags(in: docs)
        let help = try Self.help(path)
        #expect(help.status == 0, "\(help.stderr)")
        let listed = Self.flags(in: help.stdout).subtracting(["--help", "--version"])
        #expect(listed.count >= 3, "rigor \(path.joined(separator: " ")) --help lists its flags: \(help.stdout)")
        let missing = listed.subtracting(documented).subtracting(Self.undocumented[path.joined(separator: " "), default: []]).sorted()
        #expect(missing.isEmpty, "rigor \(path.joined(separator: " ")) --help lists \(missing.joined(separator: ", ")), which neither README.md nor spec/ mentions")
    }
}
