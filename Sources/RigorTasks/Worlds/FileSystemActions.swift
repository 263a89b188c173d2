import RigorSpec

/// The filesystem actions many tasks share: `list_dir`, `read_file`, `extract_value`.
///
/// It also keeps `files_seen`: every path a successful `list_dir` has returned, sorted.
public struct FileSystemActions: Sendable {
    public let fs: VirtualFileSystem
    public private(set) var filesSeen: Set<String> = []
    private var filesSeenJSON: JSON = .array([])

    public init(fs: VirtualFileSystem) { self.fs = fs }

    /// The actions this type answers.
    public static let names = ["list_dir", "read_file", "extract_value"]

    public var visibleState: JSON { ["files_seen": filesSeenJSON] }

    /// Handles the action if it is one of the three; nil otherwise.
    public mutating func execute(_ action: CheckedAction) -> ActionOutcome? {
        switch action.name {
        case "list_dir":
            let path = action.args["path"]?.stringValue ?? ""
            let audit: [JSON] = [["type": "fs", "op": "list_dir", "path": .string(path), "verdict": "allowed"]]
            switch fs.list(path) {
            case .success(let entries):
                let before = filesSeen.count
                filesSeen.formUnion(entries)
                if filesSeen.count != before { filesSeenJSON = .array(filesSeen.sorted(by: VirtualFileSystem.byteOrder).map(JSON.string)) }
                return ActionOutcome(result: ["ok": true, "files": .array(entries.map(JSON.string))], ioAudit: audit)
            case .failure(let f):
                return .failure(f.rawValue, audit)
            }
        case "read_file":
            let path = action.args["path"]?.stringValue ?? ""
            let audit: [JSON] = [["type": "fs", "op": "read_file", "path": .string(path), "verdict": "allowed"]]
            switch fs.read(path) {
            case .success(let content): return ActionOutcome(result: ["ok": true, "content": .string(content)], ioAudit: audit)
            case .failure(let f): return .failure(f.rawValue, audit)
            }
        case "extract_value":
            let content = action.args["content"]?.stringValue ?? ""
            let key = action.args["key"]?.stringValue ?? ""
            if let value = FileSystemActions.extract(key: key, from: content) {
                return ActionOutcome(result: ["ok": true, "value": .string(value)])
            }
            return .failure("key_not_found")
        default:
            return nil
        }
    }

    /// The value of the first line that starts with `KEY=`.
    public static func extract(key: String, from content: String) -> String? {
        guard !key.isEmpty else { return nil }
        let prefix = key + "="
        for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.hasPrefix(prefix) { return String(trimmed.dropFirst(prefix.count)) }
        }
        return nil
    }
}
