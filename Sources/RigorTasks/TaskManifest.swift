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

    public var ref: String { "\(id)@\(version)" }

    /// Parses and validates manifest text; `path` is used in messages only.
    public static func parse(_ text: String, path: String) throws(TaskError) -> TaskManifest {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw .manifestUnreadable(path: path, reason: "TOML error at line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        } catch {
            throw .manifestUnreadable(path: path, reason: "\(error)")
        }
        return try ManifestReader(root: TOMLConversion.json(table), path: path).manifest()
    }
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

    func int(_ table: [String: JSON], _ key: String, field: String, required: Bool = true) throws(TaskError) -> Int? {
        guard let v = table[key] else {
            if required { throw fail(field, "is required") }
            return nil
        }
        guard case .int(let i) = v, i >= 0 else { throw fail(field, "must be a non-negative integer") }
        return i
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
        let version = try int(root, "version", field: "version") ?? 0
        let suite = try string(root, "suite", field: "suite")
        let description = try string(root, "description", field: "description")
        let (world, program) = try worldSource()

        guard let b = try table("budgets") else { throw fail("budgets", "is required ([budgets] with steps and tool_calls)") }
        let budgets = Budgets(
            steps: try int(b, "steps", field: "budgets.steps") ?? 0,
            toolCalls: try int(b, "tool_calls", field: "budgets.tool_calls") ?? 0,
            wallClockSeconds: try int(b, "wall_clock_seconds", field: "budgets.wall_clock_seconds", required: false))

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
            for (arg, t) in a["args"]?.objectValue ?? [:] {
                guard let ts = t.stringValue, let type = ArgType(rawValue: ts) else {
                    let allowed = ArgType.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fail("actions.\(name).args.\(arg)", "must be one of: \(allowed)")
                }
                args[arg] = type
            }
            let toolCall = a["tool_call"]?.boolValue ?? true
            specs.append(ActionSpec(name: name, args: args, costsToolCall: toolCall))
        }

        var limits = ManifestLimits()
        if let l = try table("limits") {
            if let v = l["act_timeout_seconds"] {
                switch v {
                case .int(let i) where i > 0: limits.actTimeoutSeconds = Double(i)
                case .double(let d) where d > 0: limits.actTimeoutSeconds = d
                default: throw fail("limits.act_timeout_seconds", "must be a positive number")
                }
            }
            limits.cpuSeconds = try int(l, "cpu_seconds", field: "limits.cpu_seconds", required: false)
            limits.addressSpaceMB = try int(l, "address_space_mb", field: "limits.address_space_mb", required: false)
            limits.fileSizeMB = try int(l, "file_size_mb", field: "limits.file_size_mb", required: false)
            limits.openFiles = try int(l, "open_files", field: "limits.open_files", required: false)
            limits.processes = try int(l, "processes", field: "limits.processes", required: false)
        }

        return TaskManifest(
            id: id, version: version, suite: suite, description: description, world: world, program: program, budgets: budgets,
            sandbox: sandbox, surface: ActionSurface(specs), validator: try table("validator") ?? [:],
            worldConfig: try table("world_config") ?? [:], limits: limits)
    }
}

extension ManifestReader {
    /// `world = "<kind>"` (built-in), `[world] command = [...]` (a program), or TraceCore's
    /// `[setup]`/`[validator]`/`[action_surface]` tables (its SDK-run host).
    func worldSource() throws(TaskError) -> (String, WorldProgram?) {
        switch root["world"] {
        case .string(let kind) where !kind.isEmpty:
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
