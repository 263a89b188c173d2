import Foundation
import RigorSpec

/// A `policy.toml` read from disk: its document (what the policy hash covers) and the policy.
/// The format is spec/policy.md; a task's own file sits beside its `task.toml` (and is therefore
/// covered by `task_hash` like every file of the folder).
public struct PolicyLayer: Sendable, Equatable {
    /// `task`, `project` or `flag`: where the layer came from.
    public let source: String
    public let path: String
    public let document: [String: JSON]
    public let policy: Policy

    /// The largest policy file read (a policy is rules, not data).
    public static let maxBytes = 1 << 20

    public init(source: String, path: String, document: [String: JSON], policy: Policy) {
        self.source = source
        self.path = path
        self.document = document
        self.policy = policy
    }

    /// Reads and checks the file; every problem names the file, and the field and line when
    /// there is one.
    public static func load(path: String, source: String) throws(PolicyError) -> PolicyLayer {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .unreadable(path: path, reason: "no such file")
        }
        guard !isDir.boolValue else { throw .unreadable(path: path, reason: "is a directory; name the policy.toml file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path: path, reason: "permission denied or unreadable") }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxBytes + 1) ?? Data() } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard data.count <= maxBytes else { throw .unreadable(path: path, reason: "is larger than \(maxBytes) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path: path, reason: "is not valid UTF-8") }
        return try parse(text, path: path, source: source)
    }

    public static func parse(_ text: String, path: String, source: String) throws(PolicyError) -> PolicyLayer {
        let doc: [String: JSON]
        do { doc = try TOMLDocument.parse(text) } catch {
            throw .invalid(path: path, field: "", reason: error.description, line: nil)
        }
        let reader = PolicyReader(path: path, ruleLines: ruleHeaderLines(text))
        let policy = try reader.policy(doc)
        return PolicyLayer(source: source, path: path, document: doc, policy: policy)
    }

    /// The 1-based lines of the `[[rules]]` headers, in order, for messages about rule N.
    static func ruleHeaderLines(_ text: String) -> [Int] {
        var out: [Int] = []
        var line = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            line += 1
            let t = raw.drop(while: { $0 == " " || $0 == "\t" })
            if t.hasPrefix("[[") {
                let name = t.dropFirst(2).prefix(while: { $0 != "]" }).trimmingCharacters(in: .whitespaces)
                if name == "rules" { out.append(line) }
            }
        }
        return out
    }

    /// The policy an episode runs under: the task's layer, then the project's or the flag's
    /// (the flag replaces the project's). Nil when there is none.
    public static func effective(_ layers: [PolicyLayer]) throws(PolicyError) -> Policy? {
        try Policy.combine(layers.map { (source: $0.source, document: $0.document, policy: $0.policy) })
    }
}
