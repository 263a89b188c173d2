import RigorSpec

/// The files of a task world, in memory. Agents reach them only through actions.
///
/// The directory index is built once, so `list_dir` costs a dictionary lookup whatever the
/// size of the world.
public struct VirtualFileSystem: Sendable {
    public private(set) var files: [String: String]
    private var children: [String: [String]] = [:]

    public init(files: [String: String], roots: [String]) {
        self.files = files
        var index: [String: Set<String>] = [:]
        for root in roots where index[root] == nil { index[root] = [] }
        for path in files.keys {
            var child = path
            while child != "/" {
                let parent = VirtualFileSystem.parent(of: child)
                index[parent, default: []].insert(child)
                child = parent
            }
        }
        children = index.mapValues { $0.sorted(by: VirtualFileSystem.byteOrder) }
    }

    /// Paths sort by UTF-8 bytes (Swift's `<` on String compares normalised text, which is not
    /// what other runtimes do).
    public static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    public enum Failure: String, Error, Sendable {
        case fileNotFound = "file_not_found"
        case directoryNotFound = "directory_not_found"
        case notADirectory = "not_a_directory"
        case isADirectory = "is_a_directory"
    }

    /// Sorted absolute paths of the entries directly under `path`.
    public func list(_ path: String) -> Result<[String], Failure> {
        if let entries = children[path] { return .success(entries) }
        if files[path] != nil { return .failure(.notADirectory) }
        return .failure(.directoryNotFound)
    }

    public func read(_ path: String) -> Result<String, Failure> {
        if let content = files[path] { return .success(content) }
        if children[path] != nil { return .failure(.isADirectory) }
        return .failure(.fileNotFound)
    }
}
