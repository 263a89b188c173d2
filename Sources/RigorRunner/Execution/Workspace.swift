import CRigorSpawn
import Foundation
import RigorAgentHost
import RigorSpec
import RigorStore
import RigorTasks

/// Where Rigor finds tasks, agents and the agent SDK and keeps its state: one project.
///
/// Built from the project file when there is one (`Workspace.discover`, `ProjectFile`), else
/// from defaults relative to one directory (`root`, the working directory): `Tasks/`,
/// `Agents/pairings.json`, `.rigor/`, `Baselines/` — Rigor's own checkout is such a project.
public struct Workspace: Sendable {
    /// Task directories, searched in order (never empty).
    public var tasksDirectories: [String]
    public var sdkDirectory: String
    /// `.rigor/`: the store, the world key, bundles, and (when asked) plain JSON runs.
    public var stateDirectory: String
    /// The named pairings as a JSON file (`Agents/pairings.json`); nil: the project file's
    /// `[[pairings]]`.
    public var pairingsFile: String?
    /// Where `rigor baseline record` writes and `rigor ci` reads baselines.
    public var baselinesDirectory: String
    /// The project file this workspace was built from, if any.
    public var project: ProjectFile?
    /// Agents by name (`[agents.NAME]`): a pairing's or `--agent`'s name is looked up here first.
    public var agents: [String: AgentSpec]
    /// The isolation level when none is asked for; nil: the strongest available.
    public var defaultIsolation: IsolationLevel?
    /// Whether every kept run is also written as plain JSON to `runs/<run_id>.json` (the store
    /// always holds it; `--out` and `rigor runs export` write one when asked).
    public var writesRunFiles: Bool
    /// Where runs are stored when not in the state directory's embedded store (`--store`,
    /// `RIGOR_STORE`, the project's `store`): a `postgres://` URL or another directory.
    public var storeOverride: StoreLocation?

    /// Where this workspace's runs are stored.
    public var storeLocation: StoreLocation { storeOverride ?? .embedded(directory: stateDirectory) }

    public init(root: String = FileManager.default.currentDirectoryPath, tasksDirectory: String? = nil, sdkDirectory: String? = nil,
                stateDirectory: String? = nil, pairingsFile: String? = nil) {
        self.pairingsFile = pairingsFile ?? "\(root)/Agents/pairings.json"
        self.tasksDirectories = [tasksDirectory ?? "\(root)/Tasks"]
        self.sdkDirectory = sdkDirectory ?? Installation.defaultSDKDirectory(root: root)
        self.stateDirectory = stateDirectory ?? "\(root)/.rigor"
        self.baselinesDirectory = "\(root)/Baselines"
        self.project = nil
        self.agents = [:]
        self.defaultIsolation = nil
        self.writesRunFiles = false
        self.storeOverride = nil
    }

    /// The first tasks directory.
    public var tasksDirectory: String { tasksDirectories[0] }

    public var runsDirectory: String { "\(stateDirectory)/runs" }

    /// The project's root: the directory of the project file, else the directory that holds
    /// the (first) tasks directory (`Tasks/` sits at the root of a project). Agent refs are
    /// recorded relative to it, so that the same agent has the same `agent_ref` — and the same
    /// `artifact_hash` — whichever directory Rigor runs from.
    public var projectRoot: String {
        if let project { return project.root }
        let tasks = tasksDirectory.hasPrefix("/") ? tasksDirectory : FileManager.default.currentDirectoryPath + "/" + tasksDirectory
        return ((tasks as NSString).standardizingPath as NSString).deletingLastPathComponent
    }

    /// Where an agent the user named lives, and the `agent_ref` it is recorded under: a path
    /// that exists from the working directory is taken from there, else from the project root
    /// (a recorded ref, replayed from a subdirectory); the ref is the file's path relative to the
    /// project root when it lies inside it (normalised: no `./`, no `..`), else absolute.
    public func agentLocation(_ given: String) -> (file: String, ref: String) {
        let fm = FileManager.default
        let root = projectRoot
        var file = (given.hasPrefix("/") ? given : fm.currentDirectoryPath + "/" + given)
        file = (file as NSString).standardizingPath
        if !given.hasPrefix("/") && !fm.fileExists(atPath: file) {
            let fromRoot = ((root + "/" + given) as NSString).standardizingPath
            if fm.fileExists(atPath: fromRoot) { file = fromRoot }
        }
        let prefix = root == "/" ? "/" : root + "/"
        let ref = file.hasPrefix(prefix) && file.count > prefix.count ? String(file.dropFirst(prefix.count)) : file
        return (file, ref)
    }

    /// Makes a declared agent runnable (`AgentSpec`, spec/project.md): its paths relative to the
    /// project root, its secrets from `environment` (the caller's) or its secrets file. What
    /// the project file's agents and `rigor run --agent` both go through.
    public func resolveAgent(_ spec: AgentSpec,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws(RunnerError) -> AgentCommand {
        do {
            return try AgentCommand.resolve(spec: spec, projectRoot: projectRoot, sdkDirectory: sdkDirectory, environment: environment)
        } catch { throw .agent(error) }
    }

    /// The world key new episodes of this workspace are built under (`WorldKeyFile`).
    public func worldKey() throws(RunnerError) -> WorldKey {
        try WorldKeyFile.resolve(stateDirectory: stateDirectory)
    }

    /// `runs/<run_id>.json`, for a run id that cannot leave the runs directory (`PathName`).
    public func artifactPath(runID: String) throws(RunnerError) -> String {
        do { return try PathName.confined(identifier: runID, suffix: ".json", in: runsDirectory, as: "run_id") } catch {
            throw .usage(error.description)
        }
    }

    /// `bundles/<run_id>.rigorbundle`: where `rigor bundle seal` writes unless told otherwise.
    public func bundlePath(runID: String) throws(RunnerError) -> String {
        do { return try PathName.confined(identifier: runID, suffix: ".rigorbundle", in: "\(stateDirectory)/bundles", as: "run_id") } catch {
            throw .usage(error.description)
        }
    }

    /// The run store (`storeLocation`: the state directory's, unless another is set); `create`
    /// makes it (and the directory, or the tables of a shared store) when missing.
    public func store(create: Bool) throws(RunnerError) -> any RunStorage {
        if let storeOverride {
            do { return try storeOverride.open(create: create) } catch { throw .store(error) }
        }
        if create {
            do {
                try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            } catch {
                throw .io("cannot create the state directory '\(stateDirectory)': \(error.localizedDescription)")
            }
        }
        do { return try RunStore.open(directory: stateDirectory, create: create) } catch { throw .store(error) }
    }

    /// The run store, opened for reading only: it works on a store this process cannot write
    /// (`RunStore.openForReading`), and never creates one.
    public func readingStore() throws(RunnerError) -> any RunStorage {
        do { return try storeLocation.openForReading() } catch { throw .store(error) }
    }

    /// Indexes the run in the store and, when asked (`out`, or `writesRunFiles`), writes it as
    /// a plain JSON file too; returns that file's path, or nil when the store alone holds it.
    ///
    /// With `durable` (the default) the file is flushed to disk before it is renamed into place;
    /// a batch passes false and flushes the whole runs directory once at its end
    /// (`ArtifactFile.flush`), which saves a disk round trip per episode.
    @discardableResult
    public func keep(_ result: EpisodeResult, store: any RunStorage, out: String? = nil, durable: Bool = true) throws(RunnerError) -> String? {
        var path: String?
        if let out { path = out } else if writesRunFiles { path = try artifactPath(runID: result.record.runID) }
        if let path { try ArtifactFile.write(result.artifact, to: path, durable: durable) }
        do { try store.record(contentsOf: [result.artifact], hashedBytes: [result.hashedBytes]) } catch { throw .store(error) }
        return path
    }

    /// The named pairings: the pairings file when one is set, else the project file's.
    public func pairings() throws(RunnerError) -> PairingCatalog {
        guard let pairingsFile else {
            guard let project, !project.pairings.isEmpty else {
                throw .usage("no pairings: \(project?.path ?? "the project file") declares no [[pairings]]; add one (see spec/project.md) or pass --pairings-file")
            }
            return PairingCatalog(pairings: project.pairings)
        }
        guard FileManager.default.fileExists(atPath: pairingsFile) else {
            throw .usage("pairings file '\(pairingsFile)' does not exist; run from inside a project (a directory with rigor.toml, see `rigor init`) or pass --pairings-file")
        }
        return try PairingCatalog.load(pairingsFile)
    }

    public func registry() throws(RunnerError) -> TaskRegistry {
        do { return try TaskRegistry(directories: tasksDirectories, worldSDK: worldSDK) } catch { throw .task(error) }
    }

    /// The task SDK (worlds written in Python, TraceCore task folders): `tasks_sdk/` beside the
    /// agent SDK, so that `--sdk-dir` moves both.
    public var worldSDK: WorldSDK {
        let sdk = sdkDirectory.hasPrefix("/") ? sdkDirectory : FileManager.default.currentDirectoryPath + "/" + sdkDirectory
        let standardized = (sdk as NSString).standardizingPath
        return WorldSDK(directory: ((standardized as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tasks_sdk"),
                        forkServerDirectory: standardized)
    }
}

/// What a user asks `rigor run` for, before resolution.
public struct RunOptions: Sendable {
    public var agent: String
    public var task: String
    public var seed: Int
    public var isolation: IsolationLevel?
    public var actTimeoutSeconds: Double?
    /// The file to run when it is not where `agent` (the recorded agent_ref) points, e.g. a
    /// replay from a bundle unpacked elsewhere. The artifact still records `agent`.
    public var agentFile: String?
    /// When the agent is forked from a warm server (a single run: never, unless asked).
    public var forkServer = ForkServerUse.never
    /// The world key to build the world under; nil: this workspace's (`WorldKeyFile`). A
    /// baseline's or bundle's own key when one is re-run.
    public var worldKey: WorldKey?
    /// Settings for the agent (`--env NAME=VALUE`), handed to its process only.
    public var env: [String: String] = [:]
    /// Names of secrets for the agent (`--secret NAME`), their values from the caller's environment.
    public var secrets: [String] = []
    /// A Python interpreter or venv for a Python agent (`--python`), relative to the working directory.
    public var python: String?
    /// `--policy FILE`: layered after the task's own policy, instead of the project's (spec/policy.md).
    public var policyFile: String?
    /// `--trace-endpoint`: serve the TRACE endpoint to the agent (spec/trace-endpoint.md).
    public var traceEndpoint = false
    /// The model gateway (`--models`, `--model-upstream`; a replay's tape): spec/model-gateway.md.
    public var models = ModelOptions()

    public init(agent: String, task: String, seed: Int, isolation: IsolationLevel? = nil, actTimeoutSeconds: Double? = nil,
                agentFile: String? = nil, forkServer: ForkServerUse = .never, worldKey: WorldKey? = nil) {
        self.worldKey = worldKey
        self.agentFile = agentFile
        self.forkServer = forkServer
        self.agent = agent
        self.task = task
        self.seed = seed
        self.isolation = isolation
        self.actTimeoutSeconds = actTimeoutSeconds
    }
}

extension Workspace {
    /// Resolves and freezes a pairing: task loaded and hashed, agent resolved and hashed,
    /// guard settings from the manifest, then the caller's overrides.
    /// `resolvedAgent`: the agent already resolved from `options.agent` (a batch resolves each
    /// once, before it prepares its pairings).
    /// `resolvedTask`: the task already resolved from `options.task` (a batch resolves each once).
    public func prepare(_ options: RunOptions, collectTiming: Bool = false,
                        resolvedAgent: AgentCommand? = nil, resolvedTask: LoadedTask? = nil) throws(RunnerError) -> EpisodeRequest {
        let task: LoadedTask
        if let resolvedTask {
            task = resolvedTask
        } else {
            let registry = try registry()
            do { task = try registry.resolve(options.task) } catch { throw .task(error) }
        }
        let agent: AgentCommand
        if let resolvedAgent {
            agent = resolvedAgent
        } else if let file = options.agentFile {
            do { agent = try AgentCommand.resolve(agent: file, sdkDirectory: sdkDirectory).named(options.agent) } catch { throw .agent(error) }
        } else {
            if let agentFile = options.agentFile {
                // A copy unpacked elsewhere (a bundle), run under the recorded ref.
                do { agent = try AgentCommand.resolve(agent: agentFile, sdkDirectory: sdkDirectory).named(options.agent) } catch { throw .agent(error) }
            } else if !options.env.isEmpty || !options.secrets.isEmpty || options.python != nil {
                // Settings, secrets or an interpreter given on the command line: the agent's
                // spec (from the project file, or its path) with them added.
                var spec: AgentSpec
                if let declared = agents[options.agent] {
                    spec = declared
                    spec.ref = options.agent
                } else {
                    let named = agentLocation(options.agent)
                    spec = AgentSpec.file(named.file, ref: named.ref)
                }
                spec.env.merge(options.env) { _, given in given }
                spec.secrets += options.secrets.filter { !spec.secrets.contains($0) }
                if let python = options.python { spec.python = AgentCommand.lexicallyNormalised(python.hasPrefix("/") ? python : FileManager.default.currentDirectoryPath + "/" + python) }
                agent = try resolveAgent(spec)
            } else {
                agent = try agentCommand(for: options.agent)
            }
        }
        var settings = GuardSettings(isolation: options.isolation ?? defaultIsolation ?? Bubblewrap.strongestAvailable)
        if settings.isolation == .namespace, let reason = Bubblewrap.unavailableReason {
            throw .agent(.isolationUnavailable(.namespace, reason: reason))
        }
        let l = task.manifest.limits
        // CPU seconds default to the wall-clock budget: an agent cannot use more CPU than time.
        if let wall = task.manifest.budgets.wallClockSeconds, wall > 0 { settings.limits.cpuSeconds = wall }
        if let v = l.actTimeoutSeconds { settings.actTimeoutSeconds = v }
        if let v = l.cpuSeconds { settings.limits.cpuSeconds = v }
        if let v = l.addressSpaceMB { settings.limits.addressSpaceBytes = v << 20 }
        if let v = l.fileSizeMB { settings.limits.fileSizeBytes = v << 20 }
        if let v = l.openFiles { settings.limits.openFiles = v }
        if let v = l.processes { settings.limits.processes = v }
        settings.forkServer = options.forkServer
        if let v = options.actTimeoutSeconds {
            if let problem = InputRanges.actTimeoutSeconds.problem(v) { throw .usage("the act timeout \(problem)") }
            settings.actTimeoutSeconds = v
        }
        let key: WorldKey
        if let chosen = options.worldKey { key = chosen } else { key = try worldKey() }
        var request = EpisodeRequest(task: task, agent: agent, seed: options.seed, worldKey: key, guardSettings: settings,
                                     collectTiming: collectTiming)
        request.policy = try policy(for: task, flag: options.policyFile)
        request.redactor = redactor(agent: agent)
        request.traceEndpoint = options.traceEndpoint
        request.models = try modelSettings(options.models, task: task)
        if let keys = request.models?.keys {
            // The runner's model keys are secrets of the episode: never persisted, whatever echoes them.
            for (provider, key) in keys.sorted(by: { $0.key < $1.key }) {
                request.redactor.add(Redactor.Secret(name: "\(provider.uppercased())_API_KEY", value: key))
            }
        }
        request.models?.redactor = request.redactor
        if request.models != nil { request.tapeStore = ModelTapeStore(stateDirectory: stateDirectory) }
        return request
    }
}

/// Writes artifact files atomically: a temporary file in the same directory, then rename, so
/// a reader never sees half an artifact, whatever happens to the writer.
public enum ArtifactFile {
    public static func write(_ artifact: JSON, to path: String, durable: Bool = true) throws(RunnerError) {
        let bytes: [UInt8]
        do { bytes = try artifact.prettyBytes() } catch { throw .internal("cannot serialise the artifact: \(error)") }
        try writeAtomically(bytes, to: path, durable: durable)
    }

    private static let counterLock = NSLock()
    nonisolated(unsafe) private static var counter = 0

    /// A temporary name no other writer (thread or process) uses at the same time.
    private static func temporaryName(for path: String, in dir: String) -> String {
        counterLock.lock()
        counter += 1
        let n = counter
        counterLock.unlock()
        return "\(dir.isEmpty ? "." : dir)/.\((path as NSString).lastPathComponent).\(getpid()).\(n).tmp"
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it into place. With
    /// `durable`, the bytes are on disk before the rename.
    /// `mode` is the file's permission bits from its creation on (a private key is never
    /// readable by others, not even for a moment), less the umask's; with `exactMode` they are
    /// set on the open descriptor (`fchmod`), so the umask cannot take the owner's bits away and
    /// nothing is ever chmod'ed by path (a path can be swapped for a link after the rename).
    /// The temporary file is created `O_EXCL|O_NOFOLLOW`: a link planted at its name is refused.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, durable: Bool = true, mode: mode_t = 0o644,
                                       exactMode: Bool = false) throws(RunnerError) {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = temporaryName(for: path, in: dir)
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = open(tmp, flags, mode)
        if fd < 0 && errno == ENOENT && !dir.isEmpty {
            // The directory is missing: make it (and its parents), then try once more.
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw .io("cannot create directory '\(dir)': \(error.localizedDescription)")
            }
            fd = open(tmp, flags, mode)
        }
        guard fd >= 0 else { throw .io("cannot write '\(path)': \(String(cString: strerror(errno)))") }
        if exactMode && fchmod(fd, mode) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(tmp)
            throw .io("cannot set the mode of '\(path)': \(reason)")
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(tmp)
                throw .io("cannot write '\(path)': \(reason)")
            }
            offset += n
        }
        if durable { fsync(fd) }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw .io("cannot move the artifact into place at '\(path)': \(reason)")
        }
    }

    /// Flushes everything written under `directory` (its whole file system) to disk: what a
    /// batch calls once, after writing its artifacts without `durable`.
    public static func flush(_ directory: String) {
        let failed = rigor_syncfs(directory)
        if failed != 0 && failed != ENOENT { sync() }  // no directory: nothing was written there
    }

    /// Reads and parses a JSON file, with errors that name the file. `expected` says what the
    /// file should be ("an artifact JSON file"), so that a wrong path comes with what to pass.
    public static func read(_ path: String, expected: String = "a JSON file") throws(RunnerError) -> JSON {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .usage("file '\(path)' does not exist; pass the path of \(expected)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read '\(path)'") }
        do {
            return try JSON.parse([UInt8](data), maxDepth: ArtifactLimits.artifactDepth)
        } catch {
            throw .usage("'\(path)' is not valid JSON: \(error)")
        }
    }
}
