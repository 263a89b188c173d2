import Foundation
import RigorAgentHost

/// What the command line says about where things are. Each field that is set overrides the
/// project file; relative paths are taken from the working directory, as a user typed them.
public struct WorkspaceOverrides: Sendable {
    public var tasksDirectory: String?
    public var sdkDirectory: String?
    public var stateDirectory: String?
    public var pairingsFile: String?
    public var baselinesDirectory: String?
    /// `--store`: a `postgres://` URL or a directory (`StoreLocation`).
    public var store: String?

    public init(tasksDirectory: String? = nil, sdkDirectory: String? = nil, stateDirectory: String? = nil,
                pairingsFile: String? = nil, baselinesDirectory: String? = nil, store: String? = nil) {
        self.store = store
        self.tasksDirectory = tasksDirectory
        self.sdkDirectory = sdkDirectory
        self.stateDirectory = stateDirectory
        self.pairingsFile = pairingsFile
        self.baselinesDirectory = baselinesDirectory
    }
}

extension Workspace {
    /// The workspace of the project `directory` lies in: the nearest `rigor.toml` at or above
    /// it (`ProjectFile.find`), with `overrides` on top; without a project file, today's
    /// defaults relative to `directory` (`Tasks/`, `Agents/pairings.json`, `.rigor/`,
    /// `Baselines/`). The store is `overrides.store`, else `RIGOR_STORE` from `environment`,
    /// else the project file's `store`, else the state directory's embedded store.
    public static func discover(from directory: String = FileManager.default.currentDirectoryPath,
                                overrides: WorkspaceOverrides = WorkspaceOverrides(),
                                environment: [String: String] = ProcessInfo.processInfo.environment) throws(RunnerError) -> Workspace {
        var workspace = try discoverPaths(from: directory, overrides: overrides)
        let chosen = overrides.store ?? environment[StoreLocation.environmentVariable].flatMap { $0.isEmpty ? nil : $0 } ?? workspace.project?.store
        if let chosen {
            do { workspace.storeOverride = try StoreLocation(parsing: chosen) } catch { throw .store(error) }
        }
        return workspace
    }

    private static func discoverPaths(from directory: String, overrides: WorkspaceOverrides) throws(RunnerError) -> Workspace {
        guard let file = ProjectFile.find(from: directory) else {
            var workspace = Workspace(root: directory, tasksDirectory: overrides.tasksDirectory, sdkDirectory: overrides.sdkDirectory,
                                      stateDirectory: overrides.stateDirectory, pairingsFile: overrides.pairingsFile)
            // Relative, as before: what `rigor baseline record` prints and the ledger records.
            workspace.baselinesDirectory = overrides.baselinesDirectory ?? "Baselines"
            return workspace
        }
        let project: ProjectFile
        do { project = try ProjectFile.load(file) } catch { throw .project(error) }
        return Workspace(project: project, overrides: overrides)
    }

    /// The workspace a project file describes, with `overrides` on top.
    public init(project: ProjectFile, overrides: WorkspaceOverrides = WorkspaceOverrides()) {
        self.init(root: project.root, tasksDirectory: overrides.tasksDirectory, sdkDirectory: overrides.sdkDirectory,
                  stateDirectory: overrides.stateDirectory ?? project.state, pairingsFile: overrides.pairingsFile)
        if overrides.tasksDirectory == nil { tasksDirectories = project.tasks }
        pairingsFile = overrides.pairingsFile
        baselinesDirectory = overrides.baselinesDirectory ?? project.baselines
        self.project = project
        agents = project.agents
        defaultIsolation = project.isolation
        writesRunFiles = project.runsJSON
    }

    /// The agent a user or a pairing names: a name from the project's `[agents]` (recorded
    /// under that name), else a path (`agentLocation`).
    ///
    /// A named agent that is a plain file runs as a path does; directory and command-line
    /// agents (`entry`, `command`, `files`, `python`, `env`, `secrets`) are resolved by
    /// `AgentSpec`'s own resolution.
    public func agentCommand(for given: String) throws(RunnerError) -> AgentCommand {
        if let spec = agents[given] {
            guard let path = spec.path, spec.isPlainFile else {
                // A directory, a command line, declared files, an interpreter, settings or
                // secrets: recorded under its name.
                var named = spec
                named.ref = given
                return try resolveAgent(named)
            }
            let file = ((path.hasPrefix("/") ? path : "\(projectRoot)/\(path)") as NSString).standardizingPath
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
                var named = spec
                named.ref = given
                return try resolveAgent(named)
            }
            do { return try AgentCommand.resolve(agent: file, sdkDirectory: sdkDirectory).named(given) } catch { throw .agent(error) }
        }
        let named = agentLocation(given)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: named.file, isDirectory: &isDirectory), isDirectory.boolValue {
            return try resolveAgent(AgentSpec.file(named.file, ref: named.ref))
        }
        do { return try AgentCommand.resolve(agent: named.file, sdkDirectory: sdkDirectory).named(named.ref) } catch { throw .agent(error) }
    }
}

extension AgentSpec {
    /// Whether the spec is one file and nothing else (no entry, command, declared files,
    /// interpreter, settings or secrets): what a plain `--agent PATH` is.
    var isPlainFile: Bool {
        path != nil && entry == nil && command == nil && files.isEmpty && python == nil && env.isEmpty && secrets.isEmpty && secretsFile == nil
    }
}
