import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 21, finding 5: every number Rigor reads from a flag or a task manifest either is taken
/// (the command runs) or is refused with exit 2 and a message that names the input; never a trap
/// (exit 132/134, or any status above 128). And no value that makes no sense is taken silently:
/// a flag's `Rule` says which values are refused (exit 2 naming the flag and the allowed range)
/// and which are clamped (taken, with `--help` saying what they mean).
@Suite("Numeric input fuzz")
struct NumericInputTests {
    /// Values no numeric input should crash on. Negative ones are passed as `--flag=value`.
    static let values = ["-1", "0", "-0", "1", "1.5", "1e30", "-1e30", "1e300", "1e-30", "inf", "-inf", "nan", "9223372036854775807",
                         "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "abc", ""]
    /// Seed lists, on top of `values`.
    static let seedLists = ["0..9223372036854775807", "-9223372036854775808..9223372036854775807", "9223372036854775807..9223372036854775807",
                            "-9223372036854775808..<-9223372036854775807", "5..1", "0..<0", "0..abc", "1,,2", "0..999999,0..999999"]

    /// Every numeric flag of every command, as the command line it is tried in (`VALUE` is
    /// replaced). Accepted values run for real, on the cheapest agent and task there is.
    /// (`serve --port` has its own test in ServeCommandTests: an accepted port serves forever.)
    static let flags: [(String, [String])] = [
        ("run --seed", ["run", "--agent", "Agents/malformed/exit_immediately", "--task", "filesystem_hidden_config@1", "--isolation", "process", "--seed=VALUE"]),
        ("run --act-timeout", ["run", "--agent", "Agents/malformed/exit_immediately", "--task", "filesystem_hidden_config@1", "--isolation", "process", "--act-timeout=VALUE"]),
        ("run pairing --seed", ["run", "pairing", "toy_filesystem", "--isolation", "process", "--seed=VALUE"]),
        ("run pairing --act-timeout", ["run", "pairing", "toy_filesystem", "--isolation", "process", "--act-timeout=VALUE"]),
        ("batch --workers", ["batch", "--pairings", "toy_filesystem", "--seeds", "0", "--isolation", "process", "--workers=VALUE"]),
        ("batch --seeds", ["batch", "--pairings", "toy_filesystem", "--isolation", "process", "--workers", "1", "--seeds=VALUE"]),
        ("batch --act-timeout", ["batch", "--pairings", "toy_filesystem", "--seeds", "0", "--isolation", "process", "--act-timeout=VALUE"]),
        ("batch --shard I", ["batch", "--pairings", "toy_filesystem", "--seeds", "0..3", "--isolation", "process", "--shard=VALUE/4"]),
        ("batch --shard N", ["batch", "--pairings", "toy_filesystem", "--seeds", "0..3", "--isolation", "process", "--shard=1/VALUE"]),
        ("batch --shard-count", ["batch", "--pairings", "toy_filesystem", "--seeds", "0..3", "--isolation", "process", "--shard-from", "k8s",
                                 "--shard-count=VALUE"]),
        ("baseline record --workers", ["baseline", "record", "--pairings", "toy_filesystem", "--seeds", "0", "--baselines", "DIR/baselines", "--isolation", "process", "--workers=VALUE"]),
        ("baseline record --seeds", ["baseline", "record", "--pairings", "toy_filesystem", "--baselines", "DIR/baselines", "--isolation", "process", "--seeds=VALUE"]),
        ("baseline record --act-timeout", ["baseline", "record", "--pairings", "toy_filesystem", "--seeds", "0", "--baselines", "DIR/baselines", "--isolation", "process", "--act-timeout=VALUE"]),
        ("tasks validate --workers", ["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--seeds", "0", "--null-seeds", "0", "--isolation", "process", "--workers=VALUE"]),
        ("tasks validate --seeds", ["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--null-seeds", "0", "--isolation", "process", "--seeds=VALUE"]),
        ("tasks validate --null-seeds", ["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--seeds", "0", "--isolation", "process", "--null-seeds=VALUE"]),
        ("tasks validate --act-timeout", ["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--seeds", "0", "--null-seeds", "0", "--isolation", "process", "--act-timeout=VALUE"]),
        ("tasks validate --determinism-seeds", ["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--seeds", "0", "--null-seeds", "0", "--isolation", "process", "--determinism-seeds=VALUE"]),
        ("ci --workers", ["ci", "--baselines", "DIR/baselines", "--workers=VALUE"]),
        ("runs list --limit", ["runs", "list", "--limit=VALUE"]),
        ("runs list --offset", ["runs", "list", "--offset=VALUE"]),
        ("runs list --cursor", ["runs", "list", "--cursor=VALUE"]),
        ("runs show --log-lines", ["runs", "show", "latest", "--log-lines=VALUE"]),
        ("ledger list --limit", ["ledger", "list", "--limit=VALUE"]),
        ("diff --width", ["diff", "Baselines/toy_filesystem/seed-0.json", "Baselines/toy_filesystem/seed-1.json", "--width=VALUE"]),
    ]

    /// What values of a flag make sense. Below `range` (or NaN) is refused; above it, refused
    /// too unless `above` says what such a value means, which the command's `--help` must say
    /// (a limit past the number of runs shows them all). Integer flags refuse non-integers.
    struct Rule: Sendable {
        let integer: Bool
        let range: ClosedRange<Double>
        /// The words of `--help` that document what a value above `range` does.
        let above: String?
        /// The flag as the messages name it.
        let flag: String
    }

    static let rules: [String: Rule] = {
        var rules: [String: Rule] = [:]
        for (name, _) in flags {
            let flag = String(name.split(separator: " ").first { $0.hasPrefix("--") } ?? "")
            switch flag {
            case "--act-timeout": rules[name] = Rule(integer: false, range: 0.001...86_400, above: nil, flag: flag)
            case "--workers": rules[name] = Rule(integer: true, range: 1...1024, above: nil, flag: flag)
            case "--width": rules[name] = Rule(integer: true, range: 60...1000, above: nil, flag: flag)
            case "--shard-count": rules[name] = Rule(integer: true, range: 1...100_000, above: nil, flag: flag)
            case "--shard": rules[name] = Rule(integer: true, range: name.hasSuffix(" I") ? 1...4 : 1...100_000, above: nil, flag: flag)
            case "--limit": rules[name] = Rule(integer: true, range: 0...1_000_000, above: "more than there are: all", flag: flag)
            case "--offset", "--cursor": rules[name] = Rule(integer: true, range: 0...1_000_000, above: "an empty page", flag: flag)
            case "--log-lines": rules[name] = Rule(integer: true, range: 0...1_000_000, above: "more than were kept: all", flag: flag)
            case "--determinism-seeds": rules[name] = Rule(integer: true, range: 0...1_000_000, above: "more than --seeds has: all", flag: flag)
            default: break  // seeds: every integer is a seed; lists have their own checks
            }
        }
        return rules
    }()

    enum Expected: Equatable { case refused, documented(String), free }

    /// What `rule` expects of `value`.
    static func expected(_ rule: Rule, _ value: String) -> Expected {
        if rule.integer && Int(value) == nil { return .refused }
        guard let number = Double(value) else { return .refused }
        if number.isNaN || number < rule.range.lowerBound { return .refused }
        if number > rule.range.upperBound { return rule.above.map { .documented($0) } ?? .refused }
        return .free
    }

    static var cases: [(String, String)] {
        flags.flatMap { flag in (values + (flag.0.hasSuffix("seeds") ? seedLists : [])).map { (flag.0, $0) } }
    }

    @Test("every numeric flag: exit 0, 1, or 2 with a message naming it; never a crash; absurd values refused with the range, or documented",
          arguments: cases)
    func flag(name: String, value: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-numeric")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let template = try #require(Self.flags.first { $0.0 == name }).1
        // Commands that read a store or baselines get one: a run, and toy_filesystem's seed 0.
        let store = "\(dir)/state"
        if name.hasPrefix("runs") || name.hasPrefix("ledger") {
            _ = try CommandLineRun.rigor(["run", "--agent", "Agents/malformed/exit_immediately", "--task", "filesystem_hidden_config@1",
                                          "--isolation", "process", "--state-dir", store])
        }
        if name.hasPrefix("ci") {
            let baselines = "\(dir)/baselines/toy_filesystem"
            try FileManager.default.createDirectory(atPath: baselines, withIntermediateDirectories: true)
            for file in ["seed-0.json", "seed-0.artifact.json.zst"] {
                try FileManager.default.copyItem(atPath: "\(RepoPaths.root)/Baselines/toy_filesystem/\(file)", toPath: "\(baselines)/\(file)")
            }
        }
        let arguments = template.map { $0.replacingOccurrences(of: "VALUE", with: value).replacingOccurrences(of: "DIR", with: dir) }
            + ["--state-dir", store]
        var environment = ProcessInfo.processInfo.environment
        environment["JOB_COMPLETION_INDEX"] = "0"  // --shard-from k8s
        environment["RIGOR_SHARD_COUNT"] = nil
        let r = try CommandLineRun.rigor(arguments, environment: environment)
        #expect(!r.signalled && r.status <= 2, "\(name) \(value): \(r.signalled ? "killed by signal" : "exit") \(r.status)\n\(r.stderr)")
        let flag = Self.rules[name]?.flag ?? String(name.split(separator: " ").first { $0.hasPrefix("--") } ?? "")
        if r.status == 2 {
            #expect(r.stderr.contains(flag) || r.stderr.contains("seed"), "\(name) \(value): the message does not name \(flag): \(r.stderr)")
        }
        guard let rule = Self.rules[name] else { return }
        switch Self.expected(rule, value) {
        case .refused:
            #expect(r.status == 2, "\(name) \(value) makes no sense but was taken (exit \(r.status)): \(r.stdout.prefix(200))")
            // A number of the right type out of range: the message says the range too.
            if Double(value) != nil, !rule.integer || Int(value) != nil {
                let saysRange = ["between", " to ", "or more", "numbered 1 to"].contains { r.stderr.contains($0) }
                #expect(saysRange, "\(name) \(value): the message does not give the allowed range: \(r.stderr)")
            }
        case .documented(let words):
            #expect(r.status != 2, "\(name) \(value): \(r.stderr)")
            let path = Array(template.prefix { !$0.hasPrefix("-") && $0 != "latest" && !$0.hasPrefix("Baselines/") })
            let help = try CommandLineRun.rigor(path + ["--help"])
            #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ").contains(words),
                    "\(name): `rigor \(path.joined(separator: " ")) --help` does not say what \(value) means (\"\(words)\")")
        case .free:
            break
        }
    }

    /// Every environment variable Rigor reads as a number, with the command line that reads it,
    /// the other variables it needs, and the values it takes. `COLUMNS` is a hint from the
    /// terminal, not a request: any value is taken, and the text report's width is clamped to
    /// `--width`'s range (60...1000); the shard variables are requests: out of range, exit 2
    /// naming the variable and the range.
    struct EnvironmentInput: Sendable {
        let variable: String
        let arguments: [String]
        let others: [String: String]
        /// Nil: every value is taken (a hint).
        let range: ClosedRange<Int>?
    }

    static let shardBatch = ["batch", "--pairings", "toy_filesystem", "--seeds", "0..3", "--isolation", "process", "--workers", "1"]
    static let environmentInputs: [EnvironmentInput] = [
        EnvironmentInput(variable: "COLUMNS", arguments: ["diff", "Baselines/toy_filesystem/seed-0.json", "Baselines/toy_filesystem/seed-1.json"],
                         others: [:], range: nil),
        EnvironmentInput(variable: "RIGOR_SHARD_INDEX", arguments: shardBatch + ["--shard-from", "env"], others: ["RIGOR_SHARD_COUNT": "4"], range: 1...4),
        EnvironmentInput(variable: "RIGOR_SHARD_COUNT", arguments: shardBatch + ["--shard-from", "env"], others: ["RIGOR_SHARD_INDEX": "1"], range: 1...100_000),
        EnvironmentInput(variable: "JOB_COMPLETION_INDEX", arguments: shardBatch + ["--shard-from", "k8s"], others: ["RIGOR_SHARD_COUNT": "4"], range: 0...3),
        EnvironmentInput(variable: "SLURM_ARRAY_TASK_ID", arguments: shardBatch + ["--shard-from", "slurm"],
                         others: ["SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"], range: 0...3),
        EnvironmentInput(variable: "SLURM_ARRAY_TASK_MIN", arguments: shardBatch + ["--shard-from", "slurm"],
                         others: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"], range: 0...3),
        EnvironmentInput(variable: "SLURM_ARRAY_TASK_COUNT", arguments: shardBatch + ["--shard-from", "slurm"],
                         others: ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0"], range: 1...100_000),
    ]

    static var environmentCases: [(String, String)] {
        environmentInputs.flatMap { input in values.map { (input.variable, $0) } }
    }

    @Test("every environment variable read as a number: never a crash; a request out of range refused naming it and the range; COLUMNS clamped",
          arguments: environmentCases)
    func environmentVariable(variable: String, value: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-numeric-env")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = try #require(Self.environmentInputs.first { $0.variable == variable })
        var environment = ProcessInfo.processInfo.environment
        for name in Self.environmentInputs.map(\.variable) where name != "COLUMNS" { environment[name] = nil }
        environment.merge(input.others) { _, given in given }
        environment[variable] = value
        environment["NO_COLOR"] = "1"
        let r = try CommandLineRun.rigor(input.arguments + ["--state-dir", "\(dir)/state"], environment: environment)
        #expect(!r.signalled && r.status <= 2, "\(variable)=\(value): \(r.signalled ? "killed by signal" : "exit") \(r.status)\n\(r.stderr.suffix(600))")
        guard let range = input.range else {
            // COLUMNS: the two baselines differ (exit 1), and the report is exactly the one
            // `--width` gives for the value clamped to 60...1000 (120 when it is not a positive
            // integer).
            #expect(r.status == 1, "\(variable)=\(value): exit \(r.status): \(r.stderr.suffix(300))")
            let asked = Int(value).flatMap { $0 > 0 ? $0 : nil }
            let width = asked.map { min(max($0, 60), 1000) } ?? 120
            environment["COLUMNS"] = nil
            let given = try CommandLineRun.rigor(input.arguments + ["--width", String(width), "--state-dir", "\(dir)/state"], environment: environment)
            #expect(given.status == 1 && !given.stdout.isEmpty)
            #expect(r.stdout == given.stdout, "\(variable)=\(value) did not lay the report out at \(width) columns")
            return
        }
        if let n = Int(value), range.contains(n) {
            #expect(r.status != 2, "\(variable)=\(value) is in \(range) but was refused: \(r.stderr.suffix(300))")
        } else {
            #expect(r.status == 2, "\(variable)=\(value) is not in \(range) but was taken (exit \(r.status))")
            #expect(r.stderr.contains(variable), "\(variable)=\(value): the message does not name \(variable): \(r.stderr)")
            if Int(value) != nil {
                #expect(r.stderr.contains("between"), "\(variable)=\(value): the message does not give the range: \(r.stderr)")
            }
        }
    }

    /// Every numeric field of a manifest, and a few that must have a type (a key in its table).
    static let fields: [(table: String?, key: String)] = [
        (nil, "version"), ("budgets", "steps"), ("budgets", "tool_calls"), ("budgets", "wall_clock_seconds"),
        ("limits", "act_timeout_seconds"), ("limits", "cpu_seconds"), ("limits", "address_space_mb"), ("limits", "file_size_mb"),
        ("limits", "open_files"), ("limits", "processes"), ("validator", "max_submissions"), ("actions.list_dir", "tool_call"),
        ("actions.list_dir", "args"),
    ]
    /// TOML spellings of hostile values.
    static let tomlValues = ["-1", "0", "1", "1.5", "1e30", "-1e30", "inf", "-inf", "nan", "9223372036854775807",
                             "9223372036854775808", "-9223372036854775808", "\"abc\"", "true", "[1]", "{ a = 1 }"]

    static var fieldCases: [(String, String)] {
        fields.flatMap { f in tomlValues.map { ((f.table.map { "\($0)." } ?? "") + f.key, $0) } }
    }

    @Test("every manifest field: the run goes ahead, or exit 2 naming the field; never a crash", arguments: fieldCases)
    func manifestField(field: String, value: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-manifest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let taskDir = "\(dir)/tasks/filesystem_hidden_config"
        try FileManager.default.createDirectory(atPath: taskDir, withIntermediateDirectories: true)
        try Self.manifest(setting: field, to: value).write(toFile: "\(taskDir)/task.toml", atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/malformed/exit_immediately", "--task", "filesystem_hidden_config@\(field == "version" ? value : "1")",
             "--isolation", "process", "--tasks-dir", "\(dir)/tasks", "--state-dir", "\(dir)/state"])
        #expect(!r.signalled && r.status <= 2, "\(field) = \(value): \(r.signalled ? "killed by signal" : "exit") \(r.status)\n\(r.stderr)")
        if r.status == 2 && field != "version" {
            #expect(r.stderr.contains(field) || r.stderr.contains("TOML"), "\(field) = \(value): \(r.stderr)")
        }
    }

    /// filesystem_hidden_config's manifest with `field` set to `value`.
    static func manifest(setting field: String, to value: String) -> String {
        var tables: [(String?, [String: String])] = [
            (nil, ["id": "\"filesystem_hidden_config\"", "version": "1", "suite": "\"filesystem\"",
                   "description": "\"Find API_KEY.\"", "world": "\"hidden_config\""]),
            ("budgets", ["steps": "20", "tool_calls": "10", "wall_clock_seconds": "60"]),
            ("sandbox", ["filesystem_roots": "[\"/app\"]"]),
            ("actions.list_dir", ["args": "{ path = \"path\" }"]),
            ("actions.read_file", ["args": "{ path = \"path\" }"]),
            ("actions.set_output", ["args": "{ key = \"string\", value = \"string\" }"]),
            ("validator", ["output_key": "\"API_KEY\""]),
            ("limits", [:]),
        ]
        let parts = field.split(separator: ".").map(String.init)
        let table = parts.count > 1 ? parts.dropLast().joined(separator: ".") : nil
        if let i = tables.firstIndex(where: { $0.0 == table }) { tables[i].1[parts.last ?? field] = value }
        return tables.map { name, keys in
            (name.map { "[\($0)]\n" } ?? "") + keys.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)\n" }.joined()
        }.joined(separator: "\n")
    }
}
