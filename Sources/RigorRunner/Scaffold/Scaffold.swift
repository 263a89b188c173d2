import Foundation
import RigorSpec

/// `rigor new task` and `rigor new agent`: write a working skeleton into the project.
///
/// A new task goes into the workspace's first tasks directory, its reference agent into the
/// project's agents directory (`agents/` beside `rigor.toml`, else `Agents/` beside the tasks
/// directory, as in Rigor's checkout), and a pairing of the two into the pairings (the
/// pairings file, else `[[pairings]]` appended to `rigor.toml`), so that `rigor tasks
/// validate` passes on it at once. Nothing is overwritten: when a file exists, or the pairing
/// name is taken, nothing is written and every clash is named.
public enum Scaffold {
    /// How a new task's world is written.
    public enum TaskKind: String, Sendable, CaseIterable {
        /// A declarative world: data in task.toml.
        case data
        /// A Python world on the task SDK.
        case python
        /// An executable world (bash) speaking rigor-world/1 itself.
        case exec
    }

    /// How a new agent is written.
    public enum AgentKind: String, Sendable, CaseIterable {
        /// A class on the Python SDK.
        case python
        /// A SwiftPM package speaking the protocol.
        case swift
        /// An executable speaking the protocol directly.
        case exec
    }

    /// What was written (paths relative to the project root) and the commands to run next.
    public struct Report: Sendable {
        public var written: [String]
        /// Set when a pairing was added: where (the pairings file or rigor.toml, relative).
        public var pairing: String?
        public var next: [String]
    }

    struct Planned {
        let path: String
        let contents: String
        var executable = false
    }

    /// The agents directory of `workspace`'s project.
    public static func agentsDirectory(_ workspace: Workspace) -> String {
        "\(workspace.projectRoot)/\(workspace.project == nil ? "Agents" : "agents")"
    }

    public static func newTask(_ id: String, kind: TaskKind, in workspace: Workspace) throws(RunnerError) -> Report {
        try checkName(id, what: "task id", pattern: "a-z, 0-9, '_' and '-'") { c in
            (97...122).contains(c) || (48...57).contains(c) || c == 95 || c == 45
        }
        let root = workspace.projectRoot
        let folder = "\(absolute(workspace.tasksDirectory))/\(id)"
        let agentFile = "\(agentsDirectory(workspace))/\(id)_agent.py"
        var files: [Planned]
        switch kind {
        case .data: files = [Planned(path: "\(folder)/task.toml", contents: ScaffoldTemplates.dataTask(id))]
        case .python: files = [Planned(path: "\(folder)/task.toml", contents: ScaffoldTemplates.pythonTask(id)),
                               Planned(path: "\(folder)/world.py", contents: ScaffoldTemplates.pythonWorld(id))]
        case .exec: files = [Planned(path: "\(folder)/task.toml", contents: ScaffoldTemplates.execTask(id)),
                             Planned(path: "\(folder)/world.sh", contents: ScaffoldTemplates.execWorld(id), executable: true)]
        }
        files.append(Planned(path: "\(folder)/README.md",
                             contents: ScaffoldTemplates.taskReadme(id, kind: kind, agent: relative(agentFile, to: root))))
        files.append(Planned(path: agentFile, contents: ScaffoldTemplates.taskAgent(id)))

        var clashes = files.map(\.path).filter { FileManager.default.fileExists(atPath: $0) }.map { relative($0, to: root) }
        if FileManager.default.fileExists(atPath: folder) && clashes.isEmpty { clashes.append(relative(folder, to: root) + "/") }
        let pairingsTarget: String
        if let pairingsFile = workspace.pairingsFile {
            pairingsTarget = pairingsFile
            if FileManager.default.fileExists(atPath: pairingsFile),
               try PairingCatalog.load(pairingsFile).pairings.contains(where: { $0.name == id }) {
                clashes.append("pairing '\(id)' in \(relative(pairingsFile, to: root))")
            }
        } else if let project = workspace.project {
            pairingsTarget = project.path
            if project.pairings.contains(where: { $0.name == id }) { clashes.append("pairing '\(id)' in \(ProjectFile.fileName)") }
        } else {
            throw .usage("no pairings file to add the new task's pairing to; pass --pairings-file or run inside a project (`rigor init`)")
        }
        try refuse(clashes, hint: "choose another name or remove them")

        for f in files { try ArtifactFile.writeAtomically(Array(f.contents.utf8), to: f.path, mode: f.executable ? 0o755 : 0o644) }
        let agentRef = relative(agentFile, to: root)
        if workspace.pairingsFile != nil {
            try appendPairing(name: id, agent: agentRef, task: "\(id)@1", toJSON: pairingsTarget)
        } else {
            try appendPairing(name: id, agent: agentRef, task: "\(id)@1", toProject: pairingsTarget)
        }
        return Report(written: files.map { relative($0.path, to: root) }, pairing: relative(pairingsTarget, to: root),
                      next: ["rigor tasks validate --tasks \(id)@1 --seeds 0..9",
                             "rigor run pairing \(id) --seed 0",
                             "rigor baseline record --pairings \(id) --seeds 0..4"])
    }

    public static func newAgent(_ name: String, kind: AgentKind, in workspace: Workspace) throws(RunnerError) -> Report {
        try checkName(name, what: "agent name", pattern: "ASCII letters, digits, '_' and '-'") { c in
            (97...122).contains(c) || (65...90).contains(c) || (48...57).contains(c) || c == 95 || c == 45
        }
        let root = workspace.projectRoot
        let dir = agentsDirectory(workspace)
        let files: [Planned]
        let runnable: String
        switch kind {
        case .python:
            files = [Planned(path: "\(dir)/\(name).py", contents: ScaffoldTemplates.pythonAgent(name))]
            runnable = relative(files[0].path, to: root)
        case .exec:
            files = [Planned(path: "\(dir)/\(name)", contents: ScaffoldTemplates.execAgent(name), executable: true)]
            runnable = relative(files[0].path, to: root)
        case .swift:
            files = [Planned(path: "\(dir)/\(name)/Package.swift", contents: ScaffoldTemplates.swiftPackage(name)),
                     Planned(path: "\(dir)/\(name)/Sources/main.swift", contents: ScaffoldTemplates.swiftMain(name))]
            runnable = relative("\(dir)/\(name)/.build/release/\(name)", to: root)
        }
        var clashes = files.map(\.path).filter { FileManager.default.fileExists(atPath: $0) }.map { relative($0, to: root) }
        if kind == .swift && FileManager.default.fileExists(atPath: "\(dir)/\(name)") && clashes.isEmpty {
            clashes.append(relative("\(dir)/\(name)", to: root) + "/")
        }
        try refuse(clashes, hint: "choose another name or remove them")
        for f in files {
            try ArtifactFile.writeAtomically(Array(f.contents.utf8), to: f.path, mode: f.executable ? 0o755 : 0o644)
        }
        var next: [String] = []
        if kind == .swift { next.append("(cd \(relative("\(dir)/\(name)", to: root)) && swift build -c release)") }
        next.append("rigor run --agent \(runnable) --task filesystem_hidden_config@1 --seed 0")
        return Report(written: files.map { relative($0.path, to: root) }, pairing: nil, next: next)
    }

    static func checkName(_ name: String, what: String, pattern: String, allowed: (UInt8) -> Bool) throws(RunnerError) {
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(allowed), name.first != "-" else {
            throw .usage("\(what) '\(name)' must be 1 to 64 characters of \(pattern), not starting with '-'")
        }
    }

    static func refuse(_ clashes: [String], hint: String) throws(RunnerError) {
        guard clashes.isEmpty else {
            throw .usage("refusing to overwrite: \(clashes.joined(separator: ", ")) already exist\(clashes.count == 1 ? "s" : ""); \(hint)")
        }
    }

    static func absolute(_ path: String) -> String {
        ((path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
    }

    /// `path` relative to `root` when inside it, else absolute.
    static func relative(_ path: String, to root: String) -> String {
        let p = absolute(path)
        let r = absolute(root)
        return p.hasPrefix(r + "/") ? String(p.dropFirst(r.count + 1)) : p
    }

    /// Adds one entry to a pairings JSON file (an array), keeping the file's one-line-per-
    /// pairing layout: the entry goes before the closing bracket.
    static func appendPairing(name: String, agent: String, task: String, toJSON path: String) throws(RunnerError) {
        func quoted(_ s: String) -> String { (try? JSON.string(s).canonicalString()) ?? "\"\"" }
        let line = "  {\"name\": \(quoted(name)), \"agent\": \(quoted(agent)), \"task\": \(quoted(task))}"
        var text = "[\n" + line + "\n]\n"
        if let data = FileManager.default.contents(atPath: path) {
            let old = String(decoding: data, as: UTF8.self)
            guard let close = old.range(of: "]", options: .backwards) else { throw .usage("'\(path)' is not a JSON array of pairings") }
            let head = old[..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            text = head == "[" ? "[\n" + line + "\n]\n" : head + ",\n" + line + "\n]\n"
        }
        try ArtifactFile.writeAtomically(Array(text.utf8), to: path)
        _ = try PairingCatalog.load(path)  // what was written must read back
    }

    static func appendPairing(name: String, agent: String, task: String, toProject path: String) throws(RunnerError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read '\(path)'") }
        var text = String(decoding: data, as: UTF8.self)
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += "\n[[pairings]]\nname = \"\(name)\"\nagent = \"\(agent)\"\ntask = \"\(task)\"\n"
        try ArtifactFile.writeAtomically(Array(text.utf8), to: path)
    }
}
