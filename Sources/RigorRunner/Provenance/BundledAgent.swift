import Foundation
import RigorAgentHost
import RigorSpec

/// How a bundle carries an agent that is not one plain file — a directory with an entry point,
/// a command line with declared files, an agent with a declared Python (spec/bundles-and-
/// baselines.md §1, "declared agents") — and how a replay rebuilds it from the bundle alone.
///
/// The manifest's agent section then holds, besides `kind` and `files`:
/// - what `agent_hash` covers besides the files (`entry`, `command`, `working_directory`), so
///   that the verifier recomputes the hash with the same recipe;
/// - `places`: each hashed file's path relative to the project root (a directory agent's files
///   are hashed by their path inside it, declared files by their path from the root);
/// - `declaration`: the agent's `path` and declared `files` (relative to the project root) and,
///   when it declared one, the absolute `python` it ran under (the machine's, never bundled);
/// - `executable_files`: the hashed files that were executable (an entry point, a program).
///
/// A replay unpacks every file at its place under a fresh `project/` directory and resolves the
/// declaration there with the same code that resolved the original (`AgentCommand.resolve`),
/// so a file missing, moved or changed shows up as another `agent_hash`. Every name and path
/// comes from a possibly hostile file: each is checked (`namingProblems`) before anything is
/// written, and everything the resolved agent reads must lie in the replay directory.
enum BundledAgent {
    /// The directory of the replay directory that plays the project root.
    static let projectFolder = "project"

    /// The agent section and the agent's files (`agent/<name>` → bytes) for `agent`, or nil when
    /// it is one plain file (the original bundle layout, `agent/<file name>`, serves it).
    static func seal(_ agent: AgentCommand, projectRoot: String) throws(RunnerError) -> (section: JSON, files: [String: [UInt8]])? {
        let root = (projectRoot as NSString).standardizingPath
        let sdk = agent.sdkDirectory.map { ($0 as NSString).standardizingPath }
        let isSDKFile: (String, String) -> Bool = { name, path in
            name.hasPrefix("sdk/") && sdk.map { path == "\($0)/\(name.dropFirst(4))" } == true
        }
        let own = agent.hashedFiles.filter { !isSDKFile($0.key, $0.value) }
        let extra = agent.hashRecipeExtra
        let fileName = (agent.agentFile as NSString).lastPathComponent
        if agent.kind != .command && extra.isEmpty && agent.declaredPython == nil && own.count == 1 && own[fileName] == agent.agentFile {
            return nil
        }
        func relative(_ path: String) throws(RunnerError) -> String {
            let p = (path as NSString).standardizingPath
            if p == root { return "." }
            guard p.hasPrefix(root == "/" ? "/" : root + "/") else {
                throw .usage("cannot seal: agent '\(agent.ref)' uses '\(p)', outside the project root '\(root)'; a bundle carries the "
                    + "project's files only: move it into the project")
            }
            return String(p.dropFirst(root == "/" ? 1 : root.count + 1))
        }
        if let directory = extra["working_directory"]?.stringValue, directory.hasPrefix("/") {
            throw .usage("cannot seal: agent '\(agent.ref)' runs in '\(directory)', outside the project root '\(root)'; a bundle carries the "
                + "project's files only: give it a path inside the project")
        }
        var places: [String: JSON] = [:]
        var executables: [JSON] = []
        var files: [String: [UInt8]] = [:]
        var declared: [String] = []
        let directory: String? = extra["entry"]?.stringValue.map { entry in
            String(agent.agentFile.dropLast(entry.count + 1))
        }
        for (name, path) in agent.hashedFiles.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read \(path)") }
            files["agent/\(name)"] = [UInt8](data)
            if isSDKFile(name, path) { continue }
            let place = try relative(path)
            places[name] = .string(place)
            if FileManager.default.isExecutableFile(atPath: path) { executables.append(.string(name)) }
            let member: Bool = switch (agent.kind, directory) {
            case (.command, _): false
            case (_, let directory?): path == "\(directory)/\(name)"
            default: name == fileName && path == agent.agentFile
            }
            if !member { declared.append(place) }
        }
        var declaration: [String: JSON] = ["files": .array(declared.sorted().map(JSON.string))]
        switch (agent.kind, directory) {
        case (.command, _): declaration["path"] = extra["working_directory"] ?? "."
        case (_, let directory?): declaration["path"] = .string(try relative(directory))
        default: declaration["path"] = .string(try relative(agent.agentFile))
        }
        if agent.declaredPython != nil, (agent.executable as NSString).lastPathComponent.hasPrefix("python") {
            declaration["python"] = .string(agent.executable)
        }
        var section: [String: JSON] = extra
        section["ref"] = .string(agent.ref)
        section["hash"] = .string(agent.agentHash)
        section["kind"] = .string(agent.kind.rawValue)
        section["file"] = .string(fileName)
        section["files"] = .object(files.keys.reduce(into: [:]) { out, key in
            out[String(key.dropFirst(6))] = .string(Digest.sha256(files[key] ?? []))
        })
        section["places"] = .object(places)
        section["declaration"] = .object(declaration)
        section["executable_files"] = .array(executables)
        return (.object(section), files)
    }

    /// Whether the manifest's agent section is a declared agent's (has `places`).
    static func isDeclared(_ section: JSON?) -> Bool { section?["places"] != nil }

    /// What is wrong with a declared agent's names and declaration; none: every path it
    /// leads to stays inside the replay directory.
    static func namingProblems(_ section: JSON) -> [String] {
        var problems: [String] = []
        func check(_ path: String?, as what: String, dotAllowed: Bool = false) {
            guard let path else { problems.append("the manifest's \(what) is not a string"); return }
            if dotAllowed && path == "." { return }
            do { try PathName.checkRelativePath(path, as: "the manifest's \(what)") } catch { problems.append(error.description) }
        }
        let listed = section["files"]?.objectValue ?? [:]
        guard let places = section["places"]?.objectValue else { return ["the manifest's agent places are not an object"] }
        for (name, place) in places.sorted(by: { $0.key < $1.key }) {
            if listed[name] == nil { problems.append("the manifest places agent file '\(PathName.shown(name))', which it does not list") }
            check(place.stringValue, as: "place of agent file '\(PathName.shown(name))'")
        }
        for name in listed.keys.sorted() where places[name] == nil {
            guard name.hasPrefix("sdk/") else { problems.append("agent file '\(PathName.shown(name))' has no place in the manifest"); continue }
            do { try PathName.checkFileName(String(name.dropFirst(4)), as: "bundle file") } catch { problems.append(error.description) }
        }
        let declaration = section["declaration"]
        check(declaration?["path"]?.stringValue, as: "agent path", dotAllowed: true)
        for file in declaration?["files"]?.arrayValue ?? [] { check(file.stringValue, as: "agent's declared file") }
        if declaration?["files"]?.arrayValue == nil { problems.append("the manifest's agent declaration lists no files") }
        if let entry = section["entry"] { check(entry.stringValue, as: "agent entry point") }
        if let directory = section["working_directory"] { check(directory.stringValue, as: "agent working directory", dotAllowed: true) }
        if let command = section["command"] {
            let words = command.arrayValue?.compactMap(\.stringValue) ?? []
            if words.isEmpty || words.count != command.arrayValue?.count || words.contains(where: { $0.utf8.contains(0) }) {
                problems.append("the manifest's agent command is not a list of strings")
            } else if words[0].contains("/") && !words[0].hasPrefix("/") {
                check(words[0], as: "agent command's program")
            }
        }
        if let python = declaration?["python"] {
            guard let p = python.stringValue, p.hasPrefix("/"), !p.utf8.contains(0), (p as NSString).lastPathComponent.hasPrefix("python") else {
                problems.append("the manifest's agent python is not the absolute path of a python interpreter")
                return problems
            }
        }
        for name in section["executable_files"]?.arrayValue ?? [] where places[name.stringValue ?? ""] == nil {
            problems.append("the manifest's executable agent file '\(PathName.shown(name.stringValue ?? "?"))' has no place")
        }
        return problems
    }

    /// Where `agent/<name>` is unpacked under `directory` (the replay directory), and its mode.
    static func target(of name: String, section: JSON, in directory: String) throws -> (path: String, mode: mode_t) {
        if let place = section["places"]?[name]?.stringValue {
            let executable = section["executable_files"]?.arrayValue?.contains(.string(name)) == true
            return (try PathName.confined(place, in: "\(directory)/\(projectFolder)", as: "bundle file"), executable ? 0o755 : 0o644)
        }
        return (try PathName.confined(name, in: "\(directory)/Agents", as: "bundle file"), 0o644)
    }

    /// The agent, resolved from its declaration in the unpacked `directory`, run under `ref`.
    static func resolve(_ section: JSON, ref: String, in directory: String, sdkDirectory: String) throws(RunnerError) -> AgentCommand {
        let root = "\(directory)/\(projectFolder)"
        let declaration = section["declaration"]
        let path = declaration?["path"]?.stringValue
        var spec = AgentSpec(ref: ref, path: path == "." && section["command"] != nil ? nil : path,
                             entry: section["entry"]?.stringValue,
                             command: section["command"]?.arrayValue?.compactMap(\.stringValue),
                             files: (declaration?["files"]?.arrayValue ?? []).compactMap(\.stringValue))
        if let python = declaration?["python"]?.stringValue {
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw .usage("the bundle's agent ran under the python '\(python)', which this machine does not have: make that venv "
                    + "(or a link to an interpreter) at that path, with the packages the agent needs, and replay again")
            }
            spec.python = python
        }
        let agent: AgentCommand
        do {
            agent = try AgentCommand.resolve(spec: spec, projectRoot: root, sdkDirectory: sdkDirectory, environment: [:])
        } catch { throw .agent(error) }
        // What it reads from the bundle must come from the replay directory (the declaration's
        // paths were checked; this holds the resolution to it too).
        let inside = { (p: String) in p.hasPrefix(directory + "/") }
        let outside = agent.hashedFiles.values.filter { !inside($0) }.sorted()
        if !outside.isEmpty || !(agent.workingDirectory.map(inside) ?? true) {
            throw .usage("the bundle's agent declaration leads outside the replay directory (\(outside.map(PathName.shown).joined(separator: ", ")))")
        }
        return agent
    }
}
