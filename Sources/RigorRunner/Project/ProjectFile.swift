import Foundation
import RigorAgentHost
import RigorSpec
import RigorTasks

/// A project's `rigor.toml` (format `rigor-project/1`, spec/project.md): where its tasks,
/// baselines and state live, its default isolation level, its named agents and pairings.
///
/// Every command finds the file by walking up from the working directory, as git finds
/// `.git` (`find(from:)`), so Rigor works from any subdirectory of a project. The file is read
/// strictly: an unknown key is an error that names the key and the file, because a misspelt
/// setting that silently does nothing (`taks = [...]`) is worse than one that fails.
/// Paths are kept as absolute paths resolved against the project root, except the agents'
/// (`AgentSpec` keeps them relative to the root, as spec/project.md writes them).
public struct ProjectFile: Sendable, Equatable {
    public static let fileName = "rigor.toml"
    public static let format = "rigor-project/1"

    /// The absolute path of the file.
    public let path: String
    /// The project root: the directory that holds the file.
    public var root: String { (path as NSString).deletingLastPathComponent }
    /// Task directories, searched in order (absolute).
    public var tasks: [String]
    /// The baselines directory (absolute).
    public var baselines: String
    /// The state directory: store, world key, bundles (absolute).
    public var state: String
    /// The default isolation level; nil: the strongest available.
    public var isolation: IsolationLevel?
    /// Whether each run is also written as plain JSON to `<state>/runs/<run_id>.json`.
    public var runsJSON: Bool
    /// Agents by name.
    public var agents: [String: AgentSpec]
    /// The named pairings, in file order.
    public var pairings: [Pairing]
    /// `store`: where runs are stored instead of the state directory's embedded store (a
    /// `postgres://` URL, or a directory taken from the project root), as written.
    public var store: String? = nil
    /// `[project] policy`: the project's policy file (absolute), layered after each task's own
    /// (spec/policy.md §1); nil: none.
    public var policy: String? = nil
    /// `[redaction] secrets`: names of environment variables whose values are scrubbed from
    /// everything persisted (spec/policy.md §7).
    public var redactSecrets: [String] = []
    /// `[redaction.patterns]`: id → regular expression, scrubbed likewise.
    public var redactPatterns: [String: String] = [:]
    /// `[models]`: the model gateway's defaults (spec/model-gateway.md §8).
    public var models: ProjectModels? = nil

    /// The nearest `rigor.toml` at or above `directory`, or nil when there is none up to `/`.
    public static func find(from directory: String) -> String? {
        var current = (directory as NSString).standardizingPath
        while true {
            let candidate = current == "/" ? "/\(fileName)" : "\(current)/\(fileName)"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            if current == "/" || current.isEmpty { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// Reads and checks the file at `path`.
    public static func load(_ path: String) throws(ProjectFileError) -> ProjectFile {
        let absolute = ((path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw .unreadable(path: absolute, reason: FileManager.default.fileExists(atPath: absolute) ? "permission denied" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path: absolute, reason: "not valid UTF-8") }
        return try parse(text, path: absolute)
    }

    /// Parses the text of a project file; `path` (absolute) names it in errors and gives the root.
    public static func parse(_ text: String, path: String) throws(ProjectFileError) -> ProjectFile {
        let document: [String: JSON]
        do { document = try TOMLDocument.parse(text) } catch { throw .syntax(path: path, reason: error.description) }
        return try ProjectFileReader(path: path, root: (path as NSString).deletingLastPathComponent).read(document)
    }
}

/// What can be wrong with a project file; every message names the file and what to change.
public enum ProjectFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case syntax(path: String, reason: String)
    case unknownKey(path: String, key: String, known: [String])
    case invalid(path: String, key: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read the project file '\(path)': \(reason)"
        case .syntax(let path, let reason):
            return "\(path): \(reason)"
        case .unknownKey(let path, let key, let known):
            return "\(path): unknown key '\(key)'; known here: \(known.joined(separator: ", ")) (see spec/project.md)"
        case .invalid(let path, let key, let reason):
            return "\(path): '\(key)' \(reason) (see spec/project.md)"
        }
    }
}

/// Reads typed values out of the file's tables, naming the full key (`agents.toy.path`) in
/// every error.
struct ProjectFileReader {
    let path: String
    let root: String

    static let topKeys = ["project", "agents", "pairings", "redaction", "models"]
    static let projectKeys = ["format", "tasks", "baselines", "state", "isolation", "runs_json", "store", "policy"]
    static let agentKeys = ["path", "entry", "command", "files", "python", "env", "secrets", "secrets_file"]
    static let pairingKeys = ["name", "agent", "task"]

    func fail(_ key: String, _ reason: String) -> ProjectFileError { .invalid(path: path, key: key, reason: reason) }

    func checkKeys(_ table: [String: JSON], known: [String], prefix: String) throws(ProjectFileError) {
        for key in table.keys.sorted() where !known.contains(key) {
            throw .unknownKey(path: path, key: prefix.isEmpty ? key : "\(prefix).\(key)", known: known)
        }
    }

    func table(_ value: JSON?, _ key: String) throws(ProjectFileError) -> [String: JSON] {
        guard let value else { return [:] }
        guard let table = value.objectValue else { throw fail(key, "must be a table ([\(key)])") }
        return table
    }

    func string(_ value: JSON?, _ key: String) throws(ProjectFileError) -> String? {
        guard let value else { return nil }
        guard let s = value.stringValue, !s.isEmpty else { throw fail(key, "must be a non-empty string") }
        return s
    }

    func strings(_ value: JSON?, _ key: String) throws(ProjectFileError) -> [String]? {
        guard let value else { return nil }
        guard let items = value.arrayValue else { throw fail(key, "must be an array of strings") }
        var out: [String] = []
        for item in items {
            guard let s = item.stringValue, !s.isEmpty else { throw fail(key, "must be an array of non-empty strings") }
            out.append(s)
        }
        return out
    }

    /// A path of the file, absolute: relative ones are taken from the project root.
    func absolute(_ given: String) -> String {
        ((given.hasPrefix("/") ? given : "\(root)/\(given)") as NSString).standardizingPath
    }

    func read(_ document: [String: JSON]) throws(ProjectFileError) -> ProjectFile {
        try checkKeys(document, known: Self.topKeys, prefix: "")
        let project = try table(document["project"], "project")
        try checkKeys(project, known: Self.projectKeys, prefix: "project")
        if let format = try string(project["format"], "project.format"), format != ProjectFile.format {
            throw fail("project.format", "is '\(format)', which this Rigor does not read; it reads '\(ProjectFile.format)'")
        }
        var tasks = ["Tasks"]
        if let value = project["tasks"] {
            if let one = value.stringValue { tasks = [one] } else if let many = try strings(value, "project.tasks") { tasks = many }
            if tasks.isEmpty || tasks.contains(where: \.isEmpty) { throw fail("project.tasks", "must name at least one directory") }
        }
        var isolation: IsolationLevel?
        if let level = try string(project["isolation"], "project.isolation") {
            guard let parsed = IsolationLevel(rawValue: level) else {
                throw fail("project.isolation", "must be one of: none, process, namespace (got '\(level)')")
            }
            isolation = parsed
        }
        var runsJSON = false
        if let value = project["runs_json"] {
            guard let flag = value.boolValue else { throw fail("project.runs_json", "must be true or false") }
            runsJSON = flag
        }
        let agents = try readAgents(try table(document["agents"], "agents"))
        var store = try string(project["store"], "project.store")
        if let given = store, !given.contains("://") { store = absolute(given) }
        var file = ProjectFile(
            path: path, tasks: tasks.map(absolute), baselines: absolute(try string(project["baselines"], "project.baselines") ?? "Baselines"),
            state: absolute(try string(project["state"], "project.state") ?? ".rigor"), isolation: isolation, runsJSON: runsJSON,
            agents: agents, pairings: try readPairings(document["pairings"]), store: store)
        file.policy = try string(project["policy"], "project.policy").map(absolute)
        let redaction = try table(document["redaction"], "redaction")
        try checkKeys(redaction, known: ["secrets", "patterns"], prefix: "redaction")
        file.redactSecrets = try strings(redaction["secrets"], "redaction.secrets") ?? []
        for (id, value) in try table(redaction["patterns"], "redaction.patterns") {
            guard let regex = value.stringValue, !regex.isEmpty else { throw fail("redaction.patterns.\(id)", "must be a non-empty regular expression") }
            if let problem = Redactor.problem(compiling: regex) { throw fail("redaction.patterns.\(id)", "is not a valid regular expression: \(problem)") }
            file.redactPatterns[id] = regex
        }
        file.models = try readModels(try table(document["models"], "models"))
        return file
    }

    /// `[models]`: the gateway's defaults for this project (spec/model-gateway.md §8).
    func readModels(_ t: [String: JSON]) throws(ProjectFileError) -> ProjectModels? {
        guard !t.isEmpty else { return nil }
        try checkKeys(t, known: ["mode", "upstreams", "ignore", "prices", "keys"], prefix: "models")
        var models = ProjectModels()
        if let mode = try string(t["mode"], "models.mode") {
            guard let parsed = ModelMode(rawValue: mode) else { throw fail("models.mode", "must be one of: live, record, replay (got '\(mode)')") }
            models.mode = parsed
        }
        for (provider, value) in try table(t["upstreams"], "models.upstreams") {
            guard ModelOptions.providers.contains(provider) else {
                throw fail("models.upstreams.\(provider)", "names no provider Rigor knows: use \(ModelOptions.providers.joined(separator: " or "))")
            }
            guard let url = value.stringValue else { throw fail("models.upstreams.\(provider)", "must be a URL string") }
            if let problem = ModelOptions.upstreamProblem(url) { throw fail("models.upstreams.\(provider)", problem) }
            models.upstreams[provider] = url
        }
        for (provider, value) in try table(t["keys"], "models.keys") {
            guard ModelOptions.providers.contains(provider) else {
                throw fail("models.keys.\(provider)", "names no provider Rigor knows: use \(ModelOptions.providers.joined(separator: " or "))")
            }
            guard let variable = value.stringValue, !variable.isEmpty else {
                throw fail("models.keys.\(provider)", "must name the environment variable that holds the key (e.g. \"MY_OPENAI_KEY\"), never the key itself")
            }
            models.keyVariables[provider] = variable
        }
        models.ignore = try strings(t["ignore"], "models.ignore") ?? []
        for path in models.ignore {
            if let problem = ModelMatching.problem(path) { throw fail("models.ignore", problem) }
        }
        for (model, value) in try table(t["prices"], "models.prices") {
            let entry = try table(value, "models.prices.\(model)")
            try checkKeys(entry, known: ["input", "output"], prefix: "models.prices.\(model)")
            func price(_ key: String) throws(ProjectFileError) -> Double {
                let v: Double? = switch entry[key] { case .int(let i)?: Double(i); case .double(let d)?: d; default: nil }
                guard let v, v >= 0, v <= 1_000_000, v.isFinite else {
                    throw fail("models.prices.\(model).\(key)", "must be US dollars per million tokens, a number from 0 to 1000000")
                }
                return v
            }
            models.prices[model] = ModelPrices.Price(input: try price("input"), output: try price("output"))
        }
        return models
    }

    func readAgents(_ tables: [String: JSON]) throws(ProjectFileError) -> [String: AgentSpec] {
        var agents: [String: AgentSpec] = [:]
        for name in tables.keys.sorted() {
            let key = "agents.\(name)"
            // The name is the agent's agent_ref, and may name files (bundles, reports).
            do { try PathName.checkIdentifier(name, as: "agent name") } catch { throw fail(key, "is not a usable name: \(error)") }
            let t = try table(tables[name], key)
            try checkKeys(t, known: Self.agentKeys, prefix: key)
            var env: [String: String] = [:]
            for (variable, value) in try table(t["env"], "\(key).env") {
                guard let s = value.stringValue else { throw fail("\(key).env.\(variable)", "must be a string") }
                env[variable] = s
            }
            let spec = AgentSpec(
                ref: name, path: try string(t["path"], "\(key).path"), entry: try string(t["entry"], "\(key).entry"),
                command: try strings(t["command"], "\(key).command"), files: try strings(t["files"], "\(key).files") ?? [],
                python: try string(t["python"], "\(key).python"), env: env, secrets: try strings(t["secrets"], "\(key).secrets") ?? [],
                secretsFile: try string(t["secrets_file"], "\(key).secrets_file"))
            if spec.path == nil && spec.command == nil { throw fail(key, "needs a `path` (a file or a directory) or a `command`") }
            if spec.command?.isEmpty == true { throw fail("\(key).command", "must not be empty") }
            if spec.entry != nil && spec.path == nil { throw fail("\(key).entry", "needs `path`, the directory it is in") }
            agents[name] = spec
        }
        return agents
    }

    func readPairings(_ value: JSON?) throws(ProjectFileError) -> [Pairing] {
        guard let value else { return [] }
        guard let items = value.arrayValue else { throw fail("pairings", "must be an array of tables ([[pairings]])") }
        var pairings: [Pairing] = []
        for (i, item) in items.enumerated() {
            let key = "pairings[\(i)]"
            let t = try table(item, key)
            try checkKeys(t, known: Self.pairingKeys, prefix: key)
            guard let name = try string(t["name"], "\(key).name"), let agent = try string(t["agent"], "\(key).agent"),
                  let task = try string(t["task"], "\(key).task") else {
                throw fail(key, "needs name, agent and task")
            }
            // A pairing's name names its baselines' folder (Baselines/<pairing>/).
            do { try PathName.checkIdentifier(name, as: "pairing name") } catch { throw fail("\(key).name", "is not usable: \(error)") }
            if pairings.contains(where: { $0.name == name }) { throw fail("\(key).name", "'\(name)' names a pairing twice") }
            pairings.append(Pairing(name: name, agent: agent, task: task))
        }
        return pairings
    }
}
