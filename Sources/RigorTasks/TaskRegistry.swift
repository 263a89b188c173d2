import Foundation
import RigorSpec

/// A task folder, its manifest validated and its content hashed.
public struct LoadedTask: Sendable {
    public let manifest: TaskManifest
    public let directory: String
    public let worldKind: any WorldKind.Type
    /// `sha256:` over every file in the folder plus the world code's identity.
    public let taskHash: String

    /// Builds the world for `seed` under the evaluator's world key.
    public func makeWorld(seed: Int, key: WorldKey) throws(TaskError) -> any TaskWorld {
        try worldKind.make(manifest: manifest, seed: seed, key: key)
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

    public init(directory: String) throws(TaskError) {
        try self.init(directories: [directory])
    }

    public init(directories: [String]) throws(TaskError) {
        guard !directories.isEmpty else { throw .tasksDirectoryMissing(path: "(none given)") }
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
            Result { () throws(TaskError) -> LoadedTask in try TaskRegistry.load(folder: folder) }
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
                let task = try TaskRegistry.load(folder: folder)
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

    public static func load(folder: String) throws(TaskError) -> LoadedTask {
        let manifestPath = "\(folder)/task.toml"
        guard let data = FileManager.default.contents(atPath: manifestPath) else { throw .manifestMissing(path: folder) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .manifestUnreadable(path: manifestPath, reason: "not valid UTF-8")
        }
        let manifest = try TaskManifest.parse(text, path: manifestPath)
        guard let kind = WorldCatalog.kind(named: manifest.world) else {
            throw .unknownWorld(path: manifestPath, kind: manifest.world, known: WorldCatalog.names)
        }
        let hash = try TaskHash.compute(folder: folder, worldKind: kind)
        return LoadedTask(manifest: manifest, directory: folder, worldKind: kind, taskHash: hash)
    }
}

/// The `task_hash` recipe (spec/hashing.md): every regular file of the task folder by relative
/// path and content hash, plus the world kind and its code version, canonicalised and hashed.
public enum TaskHash {
    public static func compute(folder: String, worldKind: any WorldKind.Type) throws(TaskError) -> String {
        let files = try fileDigests(folder: folder)
        let doc: JSON = [
            "files": .object(files.mapValues(JSON.string)),
            "world": ["kind": .string(worldKind.kind), "code_version": .string(worldKind.codeVersion)],
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
