import RigorSpec
import TOMLKit

/// Guard settings a task may set for its agent process; the runner has defaults for each.
public struct ManifestLimits: Sendable, Equatable {
    public var actTimeoutSeconds: Double?
    public var cpuSeconds: Int?
    public var addressSpaceMB: Int?
    public var fileSizeMB: Int?
    public var openFiles: Int?
    public var processes: Int?

    public init() {}
}

/// A task's `task.toml`, validated. `spec/task-manifest.md` is its normative description.
public struct TaskManifest: Sendable {
    public var id: String
    public var version: Int
    public var suite: String
    public var description: String
    /// The world kind that builds this task's state from a seed (`program` or `tracecore` for
    /// a world program).
    public var world: String
    /// The world program, when the task brings its world as one (spec/world-protocol.md).
    public var program: WorldProgram?
    public var budgets: Budgets
    public var sandbox: Sandbox
    public var surface: ActionSurface
    /// The `[validator]` table, read by the world.
    public var validator: [String: JSON]
    /// The `[world_config]` table, read by the world.
    public var worldConfig: [String: JSON]
    public var limits: ManifestLimits
    /// The `[world]` table when it names a kind (`kind = "declarative"` and its data); empty
    /// otherwise. Read by the world kind.
    public var worldTable: [String: JSON] = [:]
    /// `[models]`: the model budgets and the request fields replay ignores
    /// (spec/model-gateway.md §3, §5); nil when the task does not declare them.
    public var models: TaskModels? = nil
    /// The manifest's path, for messages (a world kind's checks name it).
    public var sourcePath: String = "task.toml"

    public var ref: String { "\(id)@\(version)" }

    /// `[validator] require_evidence`: evidence checks whose latest result must pass before the
    /// world's success counts (spec/task-manifest.md, spec/policy.md §5). Checked at parse time.
    public var requiredEvidence: [String] { validator["require_evidence"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// Parses and validates manifest text; `path` is used in messages only.
    public static func parse(_ text: String, path: String) throws(TaskError) -> TaskManifest {
        let root: [String: JSON]
        do { root = try TOMLDocument.parse(text) } catch { throw .manifestUnreadable(path: path, reason: error.description) }
        return try ManifestReader(root: .object(root), path: path).manifest()
    }
}

/// A task's `[models]` table: budgets on the model gateway (nil: unlimited) and the request
/// fields replay ignores.
public struct TaskModels: Sendable, Equatable {
    public var calls: Int?
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var ignore: [String] = []

    public init() {}
}

/// Reads typed fields out of the manifest's JSON form, naming the field in every error.
struct ManifestReader {
    let root: [String: JSON]
    let path: String

    init(root: JSON, path: String) {
        self.root = root.objectValue ?? [:]
        self.path = path
    }

    func fail(_ field: String, _ reason: String) -> TaskError {
        .manifestInvalid(path: path, field: field, reason: reason)
    }

    func string(_ table: [String: JSON], _ key: String, field: String) throws(TaskError) -> String {
        guard let v = table[key] else { throw fail(field, "is required") }
        guard let s = v.stringValue, !s.isEmpty else { throw fail(field, "must be a non-empty string") }
        return s
    }

    func int(_ table: [String: JSON], _ key: String, field: String, required: Bool = true,
             range: InputRange<Int>) throws(TaskError) -> Int? {
        guard let v = table[key] else {
            if required { throw fail(field, "is required") }
            return nil
        }
        guard case .int(let i) = v else { throw fail(field, "must be an integer \(range.allowed), got \(describe(v))") }
        if let problem = range.problem(i) { throw fail(field, problem) }
        return i
    }

    /// A value as a message shows it: its type, and its text when short.
    func describe(_ v: JSON) -> String {
        switch v {
        case .double(let d): return "\(d)"
        case .string(let s): return "the string \"\(s.prefix(40))\""
        case .bool(let b): return "\(b)"
        default: return "a \(v.typeName)"
        }
    }

    func table(_ key: String) throws(TaskError) -> [String: JSON]? {
        guard let v = root[key] else { return nil }
        guard let t = v.objectValue else { throw fail(key, "must be a table") }
        return t
    }

    func stringList(_ table: [String: JSON], _ key: String, field: String) throws(TaskError) -> [String] {
        guard let v = table[key] else { return [] }
        guard let items = v.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw fail(field, "must be a list of strings")
        }
        return items.compactMap(\.stringValue)
    }

    func manifest() throws(TaskError) -> TaskManifest {
        let id = try string(root, "id", field: "id")
        guard id.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 }) else {
            throw fail("id", "must use only a-z, 0-9, '_' and '-' (it becomes part of task_ref)")
        }
        let version = try int(root, "version", field: "version", range: InputRanges.taskVersion) ?? 0
        let suite = try string(root, "suite", field: "suite")
        let description = try string(root, "description", field: "description")
        let (world, program) = try worldSource()

        guard let b = try table("budgets") else { throw fail("budgets", "is required ([budgets] with steps and tool_calls)") }
        let budgets = Budgets(
            steps: try int(b, "steps", field: "budgets.steps", range: InputRanges.budgetCount) ?? 0,
            toolCalls: try int(b, "tool_calls", field: "budgets.tool_calls", range: InputRanges.budgetCount) ?? 0,
            wallClockSeconds: try int(b, "wall_clock_seconds", field: "budgets.wall_clock_seconds", required: false,
                                      range: InputRanges.wallClockSeconds))

        let s = try table("sandbox") ?? [:]
        let roots = try stringList(s, "filesystem_roots", field: "sandbox.filesystem_roots")
        for r in roots where !r.hasPrefix("/") {
            throw fail("sandbox.filesystem_roots", "holds '\(r)', which is not an absolute path")
        }
        let sandbox = Sandbox(filesystemRoots: roots, networkHosts: try stringList(s, "network_hosts", field: "sandbox.network_hosts"))

        let actionTable = try table("actions") ?? [:]
        // A TraceCore task's surface is introspected from its actions module by the world.
        if actionTable.isEmpty && program?.surfaceFromWorld != true {
            throw fail("actions", "is required: declare at least one [actions.<name>] table")
        }
        var specs: [ActionSpec] = []
        for (name, value) in actionTable.sorted(by: { $0.key < $1.key }) {
            guard let a = value.objectValue else { throw fail("actions.\(name)", "must be a table") }
            var args: [String: ArgType] = [:]
            if let declared = a["args"], declared.objectValue == nil {
                throw fail("actions.\(name).args", "must be an inline table { <arg> = \"<type>\" }, got \(describe(declared))")
            }
            for (arg, t) in a["args"]?.objectValue ?? [:] {
                guard let ts = t.stringValue, let type = ArgType(rawValue: ts) else {
                    let allowed = ArgType.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fail("actions.\(name).args.\(arg)", "must be one of: \(allowed)")
                }
                args[arg] = type
            }
            if let t = a["tool_call"], t.boolValue == nil {
                throw fail("actions.\(name).tool_call", "must be true or false, got \(describe(t))")
            }
            let toolCall = a["tool_call"]?.boolValue ?? true
            specs.append(ActionSpec(name: name, args: args, costsToolCall: toolCall))
        }

        var limits = ManifestLimits()
        if let l = try table("limits") {
            if let v = l["act_timeout_seconds"] {
                let range = InputRanges.actTimeoutSeconds
                let seconds: Double
                switch v {
                case .int(let i): seconds = Double(i)
                case .double(let d): seconds = d
                default: throw fail("limits.act_timeout_seconds", "must be a number \(range.allowed), got \(describe(v))")
                }
                if let problem = range.problem(seconds) { throw fail("limits.act_timeout_seconds", problem) }
                limits.actTimeoutSeconds = seconds
            }
            limits.cpuSeconds = try int(l, "cpu_seconds", field: "limits.cpu_seconds", required: false, range: InputRanges.cpuSeconds)
            limits.addressSpaceMB = try int(l, "address_space_mb", field: "limits.address_space_mb", required: false,
                                            range: InputRanges.megabytes)
            limits.fileSizeMB = try int(l, "file_size_mb", field: "limits.file_size_mb", required: false, range: InputRanges.megabytes)
            limits.openFiles = try int(l, "open_files", field: "limits.open_files", required: false, range: InputRanges.processCount)
            limits.processes = try int(l, "processes", field: "limits.processes", required: false, range: InputRanges.processCount)
        }
        let validator = try table("validator") ?? [:]
        if let required = validator["require_evidence"] {
            guard let names = required.arrayValue, names.allSatisfy({ !($0.stringValue ?? "").isEmpty }) else {
                throw fail("validator.require_evidence", "must be a list of evidence names (non-empty strings)")
            }
        }
        if validator["max_submissions"] != nil {
            _ = try int(validator, "max_submissions", field: "validator.max_submissions", range: InputRanges.maxSubmissions)
        }

        var manifest = TaskManifest(
            id: id, version: version, suite: suite, description: description, world: world, program: program, budgets: budgets,
            sandbox: sandbox, surface: ActionSurface(specs), validator: validator,
            worldConfig: try table("world_config") ?? [:], limits: limits,
            worldTable: program == nil ? (root["world"]?.objectValue ?? [:]) : [:], sourcePath: path)
        if let m = try table("models") {
            var models = TaskModels()
            models.calls = try int(m, "calls", field: "models.calls", required: false, range: InputRanges.budgetCount)
            models.inputTokens = try int(m, "input_tokens", field: "models.input_tokens", required: false, range: InputRanges.tokenCount)
            models.outputTokens = try int(m, "output_tokens", field: "models.output_tokens", required: false, range: InputRanges.tokenCount)
            models.ignore = try stringList(m, "ignore", field: "models.ignore")
            for p in models.ignore where p.isEmpty || p.utf8.count > 512 || p.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw fail("models.ignore", "holds '\(p)', which is not a dotted path such as metadata.sent_at or messages.*.id")
            }
            manifest.models = models
        }
        return manifest
    }
}

/// A TOML document read into Rigor's JSON value, for every TOML file Rigor reads (task
/// manifests, the project file `rigor.toml`): one parser, one set of syntax messages.
public enum TOMLDocument {
    /// A TOML syntax error, with its line and column.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The document's top-level table; dates become their TOML text.
    public static func parse(_ text: String) throws(SyntaxError) -> [String: JSON] {
        // The bundled parser aborts the process on a few malformed forms: refuse them first.
        if let problem = TOMLHeaderCheck.firstProblem(in: text) {
            throw SyntaxError(description: "TOML error at line \(problem.line): \(problem.reason)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw SyntaxError(description: "TOML error at line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        } catch {
            throw SyntaxError(description: "\(error)")
        }
        return TOMLConversion.json(table).objectValue ?? [:]
    }
}

extension ManifestReader {
    /// `world = "<kind>"` (built-in), `[world] command = [...]` (a program), or TraceCore's
    /// `[setup]`/`[validator]`/`[action_surface]` tables (its SDK-run host).
    func worldSource() throws(TaskError) -> (String, WorldProgram?) {
        switch root["world"] {
        case .string(let kind) where !kind.isEmpty:
            return (kind, nil)
        case .object(let w) where w["kind"] != nil:
            // `[world] kind = "<kind>"`: a world kind configured by the rest of the table (a
            // declarative world's data); a command and a kind together are ambiguous.
            guard let kind = w["kind"]?.stringValue, !kind.isEmpty else { throw fail("world.kind", "must be a non-empty string (a world kind, e.g. \"declarative\")") }
            if w["command"] != nil { throw fail("world", "has both kind and command; a world is either a kind or a program") }
            return (kind, nil)
        case .object(let w):
            guard let items = w["command"]?.arrayValue, !items.isEmpty,
                  items.allSatisfy({ ($0.stringValue ?? "").isEmpty == false }) else {
                throw fail("world.command", "must be a non-empty list of non-empty strings (the program and its arguments)")
            }
            let command = items.compactMap(\.stringValue)
            if command[0].split(separator: "/").contains("..") {
                throw fail("world.command", "names '\(command[0])', which climbs out of the task folder")
            }
            if command[0].hasSuffix(".py") && command[0].hasPrefix("/") {
                // The task SDK runs a Python world from the task folder, which the task hash covers.
                throw fail("world.command", "names '\(command[0])', an absolute path: a Python world is a file of the task folder, named relative to it")
            }
            var network = false
            if let n = w["network"] {
                guard let b = n.boolValue else { throw fail("world.network", "must be true or false") }
                network = b
            }
            return ("program", WorldProgram(format: .rigor, command: command, network: network, entrypoints: [:]))
        case .none:
            let setup = root["setup"]?.objectValue?["entrypoint"]?.stringValue
            let validator = root["validator"]?.objectValue?["entrypoint"]?.stringValue
            let surface = root["action_surface"]?.objectValue?["source"]?.stringValue
            guard let setup, let validator, let surface else {
                throw fail("world", "is required: a built-in kind (world = \"hidden_config\"), a program ([world] command = [...]), or TraceCore's [setup] entrypoint, [validator] entrypoint and [action_surface] source")
            }
            for (field, value) in [("setup.entrypoint", setup), ("validator.entrypoint", validator), ("action_surface.source", surface)]
            where value.hasPrefix("/") || value.split(separator: "/").contains("..") {
                throw fail(field, "names '\(value)', which is outside the task folder")
            }
            return ("tracecore", WorldProgram(format: .tracecore, command: [], network: false,
                                              entrypoints: ["setup": setup, "validator": validator, "actions": surface]))
        default:
            throw fail("world", "must be a world kind (a string) or a [world] table with a command")
        }
    }
}

/// TOML → Rigor's JSON value (dates become their TOML text).
enum TOMLConversion {
    static func json(_ value: any TOMLValueConvertible) -> JSON {
        switch value.type {
        case .table:
            guard let t = value.table else { return .null }
            var o: [String: JSON] = [:]
            for key in t.keys { if let v = t[key] { o[key] = json(v) } }
            return .object(o)
        case .array:
            guard let a = value.array else { return .null }
            return .array(a.map { json($0) })
        case .string: return value.string.map(JSON.string) ?? .null
        case .int: return value.int.map(JSON.int) ?? .null
        case .double: return value.double.map(JSON.double) ?? .null
        case .bool: return value.bool.map(JSON.bool) ?? .null
        default: return .string(value.debugDescription)
        }
    }
}

/// Checks toml++ (under TOMLKit) leaves to assertions: on these inputs it aborts the process in
/// a debug build (and has undefined behaviour in a release build) instead of reporting a syntax
/// error. Found by the manifest fuzz test (Tests/RigorRunnerTests/FuzzTests.swift). Rigor refuses
/// them itself, before toml++ sees the text:
///
/// - a table header whose first key does not start with a key character (`[[[a]]]`, `[.a]`,
///   `[é]`, `[` at the end of a line);
/// - a `}` where an array expects a value (`x = [}`, `x = [1, }`): never valid TOML.
enum TOMLHeaderCheck {
    /// The 1-based line of the first such problem, and what it is; nil when there is none.
    static func firstProblem(in text: String) -> (line: Int, reason: String)? {
        let b = Array(text.utf8)
        var i = 0
        var line = 1
        var depth = 0  // open arrays and inline tables (and headers), outside strings and comments
        var previous: UInt8 = 0  // the last significant byte outside strings and comments
        var lineStart = true
        func at(_ k: Int) -> UInt8 { k < b.count ? b[k] : 0 }
        while i < b.count {
            let c = b[i]
            if lineStart && c != 0x20 && c != 0x09 {
                lineStart = false
                if depth == 0 && c == UInt8(ascii: "[") && !headerStartsWithKey(b, at: i) {
                    return (line, "a table header must start with a key (a bare key or a quoted one) after its '[' or '[['")
                }
            }
            switch c {
            case UInt8(ascii: "\n"):
                line += 1
                lineStart = true
                i += 1
            case UInt8(ascii: "#"):
                while i < b.count && b[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let multi = at(i + 1) == c && at(i + 2) == c
                i += multi ? 3 : 1
                while i < b.count {
                    if b[i] == UInt8(ascii: "\n") {
                        if !multi { break }  // toml++ reports the unterminated string
                        line += 1
                    }
                    if c == UInt8(ascii: "\"") && b[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if b[i] == c && (!multi || (at(i + 1) == c && at(i + 2) == c)) {
                        i += multi ? 3 : 1
                        while multi && at(i) == c { i += 1 }  // a multi-line string may end in more quotes
                        break
                    }
                    i += 1
                }
                previous = c
            case 0x20, 0x09, 0x0D:
                i += 1
            default:
                if c == UInt8(ascii: "}") && (previous == UInt8(ascii: "[") || previous == UInt8(ascii: ",")) {
                    return (line, "'}' where an array expects a value or ']'")
                }
                if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") { depth += 1 }
                if (c == UInt8(ascii: "]") || c == UInt8(ascii: "}")) && depth > 0 { depth -= 1 }
                previous = c
                i += 1
            }
        }
        return nil
    }

    /// Whether the header opening at `start` (`[` or `[[`, then blanks) begins with a key, or is
    /// one toml++ reports by itself (`[]`, end of input).
    static func headerStartsWithKey(_ b: [UInt8], at start: Int) -> Bool {
        var i = start + 1
        var blank = 0
        while i < b.count && (b[i] == 0x20 || b[i] == 0x09) { i += 1; blank += 1 }
        if blank == 0 && i < b.count && b[i] == UInt8(ascii: "[") {
            i += 1
            while i < b.count && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
        }
        guard i < b.count else { return true }
        return b[i] == UInt8(ascii: "]") || isKeyStart(b[i])
    }

    /// A bare-key character (A–Z a–z 0–9 _ -; ASCII only in TOML 1.0) or a string delimiter.
    static func isKeyStart(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"):
            return true
        default:
            return false
        }
    }
}
