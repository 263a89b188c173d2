/// One named evidence check attached to a step, as the TRACE protocol attaches evidence to an
/// action: `{name, pass, note}`. The world attaches checks in its `result` answer
/// (spec/world-protocol.md, `evidence`), the agent in its action message (spec/agent-protocol.md,
/// `evidence`); a task's validator can require named checks to pass (`[validator]
/// require_evidence`, spec/task-manifest.md). Recorded in the step's `evidence` list
/// (spec/policy.md §5), inside the hashed part.
public struct EvidenceCheck: Sendable, Equatable, Hashable {
    public var name: String
    public var pass: Bool
    public var note: String?
    /// Who attached it: `world` or `agent` (or, for the TRACE endpoint, `trace`).
    public var source: String

    /// The longest name and note kept, in bytes (longer ones are refused, not cut: a name is an id).
    public static let maxNameBytes = 128
    public static let maxNoteBytes = 4096
    /// The most checks one step may carry.
    public static let maxPerStep = 64

    public init(name: String, pass: Bool, note: String? = nil, source: String) {
        self.name = name
        self.pass = pass
        self.note = note
        self.source = source
    }

    public var json: JSON {
        var o: [String: JSON] = ["name": .string(name), "pass": .bool(pass), "source": .string(source)]
        if let note { o["note"] = .string(note) }
        return .object(o)
    }

    /// Reads a list of checks (`[{"name": ..., "pass": ..., "note": ...}]`) from an agent or a
    /// world, or says what is wrong with it in words that name the offending entry.
    public static func list(_ value: JSON?, source: String) -> Result<[EvidenceCheck], EvidenceError> {
        guard let value, !value.isNull else { return .success([]) }
        guard let items = value.arrayValue else {
            return .failure(EvidenceError("\"evidence\" must be a list of {name, pass, note} objects, got a \(value.typeName)"))
        }
        guard items.count <= maxPerStep else {
            return .failure(EvidenceError("\"evidence\" holds \(items.count) checks; at most \(maxPerStep) per step"))
        }
        var out: [EvidenceCheck] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let o = item.objectValue else {
                return .failure(EvidenceError("evidence[\(i)] must be an object {name, pass, note}, got a \(item.typeName)"))
            }
            guard let name = o["name"]?.stringValue, !name.isEmpty, name.utf8.count <= maxNameBytes else {
                return .failure(EvidenceError("evidence[\(i)].name must be a non-empty string of at most \(maxNameBytes) bytes"))
            }
            guard let pass = o["pass"]?.boolValue else {
                return .failure(EvidenceError("evidence[\(i)] ('\(name)').pass must be true or false"))
            }
            var note: String? = nil
            switch o["note"] {
            case nil, .null?: break
            case .string(let s)? where s.utf8.count <= maxNoteBytes: note = s
            case .string?: return .failure(EvidenceError("evidence[\(i)] ('\(name)').note is longer than \(maxNoteBytes) bytes"))
            case let other?: return .failure(EvidenceError("evidence[\(i)] ('\(name)').note must be a string, got a \(other.typeName)"))
            }
            if let extra = o.keys.sorted().first(where: { !["name", "pass", "note"].contains($0) }) {
                return .failure(EvidenceError("evidence[\(i)] ('\(name)') has unknown key '\(extra)'; a check has name, pass and note"))
            }
            out.append(EvidenceCheck(name: name, pass: pass, note: note, source: source))
        }
        return .success(out)
    }
}

/// Why an evidence list was refused.
public struct EvidenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
