import CRigorSpawn
import Foundation
import RigorAgentHost
import RigorSpec
import RigorStore
import RigorTasks

/// Where Rigor finds tasks and the agent SDK and keeps its state, relative to one directory.
public struct Workspace: Sendable {
    public var tasksDirectory: String
    public var sdkDirectory: String
    /// `.rigor/` — runs, and later the store.
    public var stateDirectory: String
    /// The named pairings (`Agents/pairings.json`).
    public var pairingsFile: String

    public init(root: String = FileManager.default.currentDirectoryPath, tasksDirectory: String? = nil, sdkDirectory: String? = nil,
                stateDirectory: String? = nil, pairingsFile: String? = nil) {
        self.pairingsFile = pairingsFile ?? "\(root)/Agents/pairings.json"
        self.tasksDirectory = tasksDirectory ?? "\(root)/Tasks"
        self.sdkDirectory = sdkDirectory ?? "\(root)/Agents/sdk"
        self.stateDirectory = stateDirectory ?? "\(root)/.rigor"
    }

    public var runsDirectory: String { "\(stateDirectory)/runs" }

    /// The project's root: the directory that holds the tasks directory (`Tasks/` sits at the
    /// root of a project). Agent refs are recorded relative to it, so that the same agent has
    /// the same `agent_ref` — and the same `artifact_hash` — whichever directory Rigor runs from.
    public var projectRoot: String {
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

    /// The run store in the state directory; `create` makes it (and the directory) when missing.
    public func store(create: Bool) throws(RunnerError) -> RunStore {
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
    public func readingStore() throws(RunnerError) -> RunStore {
        do { return try RunStore.openForReading(directory: stateDirectory) } catch { throw .store(error) }
    }

    /// Writes the artifact file and indexes the run in the store; returns the file's path.
    ///
    /// With `durable` (the default) the file is flushed to disk before it is renamed into place;
    /// a batch passes false and flushes the whole runs directory once at its end
    /// (`ArtifactFile.flush`), which saves a disk round trip per episode.
    public func keep(_ result: EpisodeResult, store: RunStore, out: String? = nil, durable: Bool = true) throws(RunnerError) -> String {
        let path: String
        if let out { path = out } else { path = try artifactPath(runID: result.record.runID) }
        try ArtifactFile.write(result.artifact, to: path, durable: durable)
        do { try store.record(contentsOf: [result.artifact], hashedBytes: [result.hashedBytes]) } catch { throw .store(error) }
        return path
    }

    public func pairings() throws(RunnerError) -> PairingCatalog {
        guard FileManager.default.fileExists(atPath: pairingsFile) else {
            throw .usage("pairings file '\(pairingsFile)' does not exist; run from the repository root or pass --pairings-file")
        }
        return try PairingCatalog.load(pairingsFile)
    }

    public func registry() throws(RunnerError) -> TaskRegistry {
        do { return try TaskRegistry(directory: tasksDirectory, worldSDK: worldSDK) } catch { throw .task(error) }
    }

    /// The task SDK (worlds written in Python, TraceCore task folders): `tasks_sdk/` beside the
    /// agent SDK, so that `--sdk-dir` moves both.
    public var worldSDK: WorldSDK {
        let sdk = sdkDirectory.hasPrefix("/") ? sdkDirectory : FileManager.default.currentDirectoryPath + "/" + sdkDirectory
        return WorldSDK(directory: (((sdk as NSString).standardizingPath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("tasks_sdk"))
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
    public func prepare(_ options: RunOptions, collectTiming: Bool = false,
                        resolvedAgent: AgentCommand? = nil) throws(RunnerError) -> EpisodeRequest {
        let registry = try registry()
        let task: LoadedTask
        do { task = try registry.resolve(options.task) } catch { throw .task(error) }
        let agent: AgentCommand
        if let resolvedAgent {
            agent = resolvedAgent
        } else {
            do {
                let named = agentLocation(options.agent)
                let file = options.agentFile ?? named.file
                agent = try AgentCommand.resolve(agent: file, sdkDirectory: sdkDirectory).named(options.agentFile == nil ? named.ref : options.agent)
            } catch { throw .agent(error) }
        }
        var settings = GuardSettings(isolation: options.isolation ?? Bubblewrap.strongestAvailable)
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
            guard v > 0 else { throw .usage("--act-timeout must be a positive number of seconds") }
            settings.actTimeoutSeconds = v
        }
        let key: WorldKey
        if let chosen = options.worldKey { key = chosen } else { key = try worldKey() }
        return EpisodeRequest(task: task, agent: agent, seed: options.seed, worldKey: key, guardSettings: settings,
                              collectTiming: collectTiming)
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
    /// readable by others, not even for a moment).
    public static func writeAtomically(_ bytes: [UInt8], to path: String, durable: Bool = true, mode: mode_t = 0o644) throws(RunnerError) {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = temporaryName(for: path, in: dir)
        var fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 && errno == ENOENT && !dir.isEmpty {
            // The directory is missing: make it (and its parents), then try once more.
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw .io("cannot create directory '\(dir)': \(error.localizedDescription)")
            }
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        }
        guard fd >= 0 else { throw .io("cannot write '\(path)': \(String(cString: strerror(errno)))") }
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
            return try JSON.parse([UInt8](data))
        } catch {
            throw .usage("'\(path)' is not valid JSON: \(error)")
        }
    }
}
