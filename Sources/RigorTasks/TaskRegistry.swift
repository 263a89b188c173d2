import Foundation
import RigorSpec

/// A task folder, its manifest validated and its content hashed.
public struct LoadedTask: Sendable {
    public let manifest: TaskManifest
    public let directory: String
    /// A built-in world kind, or a program speaking rigor-world/1.
    public let world: WorldSource
    /// The world's identity as `task_hash` covers it (kind and code version, or the program,
    /// its protocol and the task SDK's files).
    public let worldIdentity: JSON
    /// `sha256:` over every file in the folder plus the world code's identity.
    public let taskHash: String
    /// The task SDK a program world written in Python runs through.
    public let worldSDK: WorldSDK?
    /// The task's own `policy.toml` (spec/policy.md), when its folder has one.
    public var policy: PolicyLayer? = nil

    /// Builds a built-in world for `seed` under the evaluator's world key. A world program is
    /// started by the runner instead (it is a process, guarded like an agent).
    public func makeWorld(seed: Int, key: WorldKey) throws(TaskError) -> any TaskWorld {
        guard case .builtIn(let kind) = world else {
            throw .manifestInvalid(path: "\(directory)/task.toml", field: "world", reason: "is a program: the runner starts it")
        }
        return try kind.make(manifest: manifest, seed: seed, key: key)
    }
}

/// The tasks under one or more tasks directories (`Tasks/`, one folder per task), searched in
/// order: a project may keep its own tasks beside vendored ones (`rigor.toml`'s `tasks`), and
/// the first directory that holds a task wins.
public struct TaskRegistry: Sendable {
    /// The directories, in search order (never empty).
    public let directories: [String]
    /// The first directory: the one messages name when there is only one.
    public var directory: String { directories[0] }
    /// The task SDK (Agents/tasks_sdk) for worlds written in Python and TraceCore task folders.
    public var worldSDK: WorldSDK?

    public init(directory: String, worldSDK: WorldSDK? = nil) throws(TaskError) {
        try self.init(directories: [directory], worldSDK: worldSDK)
    }

    /// `worldSDK` defaults to `Agents/tasks_sdk` beside the first tasks directory (a project's
    /// layout).
    public init(directories: [String], worldSDK: WorldSDK? = nil) throws(TaskError) {
        guard !directories.isEmpty else { throw .tasksDirectoryMissing(path: "(none given)") }
        let agents = ((directories[0] as NSString).deletingLastPathComponent as NSString).appendingPathComponent("Agents")
        let beside = WorldSDK(directory: "\(agents)/tasks_sdk", forkServerDirectory: "\(agents)/sdk")
        self.worldSDK = worldSDK ?? (FileManager.default.fileExists(atPath: beside.launcher) ? beside : nil)
        for directory in directories {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
                throw .tasksDirectoryMissing(path: directory)
            }
        }
        self.directories = directories
    }

    /// Folders that hold a task.toml, as full paths: each directory's sorted, in search order.
    public func taskFolders() -> [String] {
        directories.flatMap { directory in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return names.sorted().filter { FileManager.default.fileExists(atPath: "\(directory)/\($0)/task.toml") }
                .map { "\(directory)/\($0)" }
        }
    }

    /// Every task, or the error each broken one has, in folder order.
    public func loadAll() -> [Result<LoadedTask, TaskError>] {
        taskFolders().map { folder in
            Result { () throws(TaskError) -> LoadedTask in try TaskRegistry.load(folder: folder, worldSDK: worldSDK) }
        }
    }

    /// Resolves `id@version` (or a bare `id`, meaning the version found), directory by directory.
    public func resolve(_ ref: String) throws(TaskError) -> LoadedTask {
        let parts = ref.split(separator: "@", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
              parts.count == 1 || Int(parts[1]) != nil else { throw .malformedReference(ref) }
        let id = String(parts[0])
        // The id names the task's folder: it must not climb out of the tasks directory.
        guard (try? PathName.checkIdentifier(id, as: "task id")) != nil else { throw .malformedReference(ref) }
        let wanted = parts.count == 2 ? Int(parts[1]) : nil
        for directory in directories {
            let folder = "\(directory)/\(id)"
            if FileManager.default.fileExists(atPath: "\(folder)/task.toml") {
                let task = try TaskRegistry.load(folder: folder, worldSDK: worldSDK)
                if task.manifest.id == id && (wanted == nil || wanted == task.manifest.version) { return task }
            }
        }
        // Folder names normally equal ids, but search every manifest before giving up.
        var known: [String] = []
        for case .success(let task) in loadAll() {
            known.append(task.manifest.ref)
            if task.manifest.id == id && (wanted == nil || wanted == task.manifest.version) { return task }
        }
        throw .notFound(ref: ref, known: known)
    }

    /// Why `relative` (a path in `folder`) is not a file task_hash covers, or nil when it is: a
    /// regular file reached without a symbolic link on the way (the hash never follows one).
    static func notAHashedFile(_ relative: String, in folder: String) -> String? {
        var path = folder
        var st = stat()
        for component in relative.split(separator: "/") where component != "." {
            path += "/" + component
            guard lstat(path, &st) == 0 else { return "does not exist" }
            if st.st_mode & S_IFMT == S_IFLNK { return "is reached through a symbolic link ('\(component)'), which task_hash does not follow" }
        }
        return st.st_mode & S_IFMT == S_IFREG ? nil : "is not a regular file"
    }

    public static func load(folder: String, worldSDK: WorldSDK? = nil) throws(TaskError) -> LoadedTask {
        let manifestPath = "\(folder)/task.toml"
        guard let data = FileManager.default.contents(atPath: manifestPath) else { throw .manifestMissing(path: folder) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .manifestUnreadable(path: manifestPath, reason: "not valid UTF-8")
        }
        let manifest = try TaskManifest.parse(text, path: manifestPath)
        let source: WorldSource
        var sdkDigests: [String: String] = [:]
        if let program = manifest.program {
            source = .program(program)
            if program.usesSDK {
                guard let worldSDK, FileManager.default.fileExists(atPath: worldSDK.launcher) else {
                    throw .manifestInvalid(path: manifestPath, field: "world",
                                           reason: "runs through the task SDK, which is not at \(worldSDK?.directory ?? "Agents/tasks_sdk") (run from the repository root)")
                }
                sdkDigests = worldSDK.digests()
                // The code the world runs is the code task_hash covers: a regular file of the folder
                // (the hash leaves symbolic links out, never following them).
                for file in program.pythonEntryFiles {
                    if let what = Self.notAHashedFile(file, in: folder) {
                        let field = program.format == .tracecore ? "world (TraceCore entry points)" : "world.command"
                        throw .manifestInvalid(path: manifestPath, field: field, reason: "names '\(file)', which \(what) in the task folder")
                    }
                }
            } else if let first = program.command.first {
                // A file of the task folder (or an absolute path) must be executable; a bare
                // name is a program on the pinned PATH (`bash`).
                let fm = FileManager.default
                let inFolder = "\(folder)/\(first)"
                let candidates = first.hasPrefix("/") ? [first]
                    : (first.contains("/") || fm.fileExists(atPath: inFolder)) ? [inFolder]
                    : ["/usr/local/bin", "/usr/bin", "/bin"].map { "\($0)/\(first)" }
                guard candidates.contains(where: { fm.isExecutableFile(atPath: $0) }) else {
                    throw .manifestInvalid(path: manifestPath, field: "world.command",
                                           reason: "names '\(first)', which is neither an executable file of the task folder nor a program on /usr/local/bin:/usr/bin:/bin")
                }
            }
        } else {
            guard let kind = WorldCatalog.kind(named: manifest.world) else {
                throw .unknownWorld(path: manifestPath, kind: manifest.world, known: WorldCatalog.names)
            }
            try kind.check(manifest: manifest)
            let lacking = manifest.surface.actions.keys.sorted().filter { !kind.actions.contains($0) }
            if let first = lacking.first {
                throw .manifestInvalid(path: manifestPath, field: "actions.\(first)",
                                       reason: "names an action the world '\(kind.kind)' does not implement; it implements: \(kind.actions.sorted().joined(separator: ", "))")
            }
            source = .builtIn(kind)
        }
        let identity = source.identity(sdkDigests: sdkDigests)
        let hash = try TaskHash.compute(folder: folder, world: identity)
        var policy: PolicyLayer? = nil
        let policyPath = "\(folder)/policy.toml"
        if FileManager.default.fileExists(atPath: policyPath) {
            do { policy = try PolicyLayer.load(path: policyPath, source: "task") } catch { throw .policy(error) }
        }
        return LoadedTask(manifest: manifest, directory: folder, world: source, worldIdentity: identity, taskHash: hash,
                          worldSDK: manifest.program?.usesSDK == true ? worldSDK : nil, policy: policy)
    }
}

/// The `task_hash` recipe (spec/hashing.md): every regular file of the task folder by relative
/// path and content hash, plus the world kind and its code version, canonicalised and hashed.
public enum TaskHash {
    public static func compute(folder: String, worldKind: any WorldKind.Type) throws(TaskError) -> String {
        try compute(folder: folder, world: WorldSource.builtIn(worldKind).identity(sdkDigests: [:]))
    }

    /// `world`: the world's identity (`WorldSource.identity`).
    public static func compute(folder: String, world: JSON) throws(TaskError) -> String {
        let files = try fileDigests(folder: folder)
        let doc: JSON = [
            "files": .object(files.mapValues(JSON.string)),
            "world": world,
        ]
        do {
            return try Digest.sha256(canonical: doc)
        } catch {
            throw .manifestUnreadable(path: folder, reason: "cannot hash: \(error)")
        }
    }

    /// Relative path → `sha256:` of its bytes, for every regular file under `folder`.
    ///
    /// Symbolic links are left out (spec/hashing.md §3), never followed: followed, a link would
    /// pull a file from anywhere on the machine into the task hash, and `bundle seal` would copy
    /// its content into a portable bundle (as root, any file).
    public static func fileDigests(folder: String) throws(TaskError) -> [String: String] {
        var out: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw .manifestUnreadable(path: folder, reason: "cannot list the folder")
        }
        while let rel = walker.nextObject() as? String {
            if rel.split(separator: "/").contains("__pycache__") || rel.hasSuffix(".pyc") { continue }
            let full = "\(folder)/\(rel)"
            var status = stat()
            if lstat(full, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK { continue }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            guard let data = FileManager.default.contents(atPath: full) else {
                throw .manifestUnreadable(path: full, reason: "cannot read the file")
            }
            out[rel] = Digest.sha256(data)
        }
        return out
    }
}
