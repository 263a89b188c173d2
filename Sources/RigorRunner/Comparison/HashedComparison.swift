import RigorSpec

/// The one answer to "is this the same episode?" that `rigor diff`, `rigor replay` and
/// `rigor ci` all give, so that they can never disagree on a pair (issue 17.1: ci called a pair
/// a regression that diff called SAME).
///
/// Two artifacts record the same episode exactly when their content hashes to the same
/// `artifact_hash`, each recomputed with its own runtime's recipe (a hash carried in the file
/// proves nothing). When they differ, `Divergence` says at which step the episodes part ways and
/// `hashedFields` names every hashed field that differs, so a difference outside the steps (the
/// `sandbox` policy block, `world_key_id`, `task_hash`, a version) is named as well, never
/// hidden behind identical steps.
public struct HashedComparison: Sendable {
    /// `artifact_hash` as each side's content recomputes it; nil when it cannot be computed.
    public let hashA: String?
    public let hashB: String?
    /// Where the two traces part ways, and which outcome fields moved.
    public let divergence: Divergence
    /// Hashed top-level fields whose values differ, sorted. `action_trace` is named (with the
    /// first step and the keys that differ there, e.g. `action_trace (step 2: llm_trace)`) only
    /// when the steps differ outside the parts `divergence` compares.
    public let hashedFields: [String]

    /// Both sides recompute to one `artifact_hash`.
    public var same: Bool { hashA != nil && hashA == hashB }

    public init(_ a: JSON, _ b: JSON) {
        hashA = Self.contentHash(a)
        hashB = Self.contentHash(b)
        divergence = Divergence(a, b)
        hashedFields = Self.differingFields(a, b, divergence: divergence)
    }

    static func contentHash(_ artifact: JSON) -> String? {
        guard artifact.objectValue != nil else { return nil }
        return try? HashRecipe.forArtifact(artifact).hash(artifact)
    }

    static func differingFields(_ a: JSON, _ b: JSON, divergence: Divergence) -> [String] {
        guard let x = HashRecipe.forArtifact(a).hashedPart(of: a).objectValue,
              let y = HashRecipe.forArtifact(b).hashedPart(of: b).objectValue else { return [] }
        var fields = Set(x.keys).union(y.keys).subtracting(["action_trace"]).sorted()
            .filter { !Divergence.sameValue(x[$0], y[$0]) }
        if divergence.firstStep == nil, let note = traceNote(x["action_trace"], y["action_trace"]) { fields.insert(note, at: 0) }
        return fields
    }

    /// `action_trace (step N: keys)` for the first step whose hashed entries differ in keys the
    /// divergence does not compare; nil when the traces' hashed parts are equal.
    static func traceNote(_ x: JSON?, _ y: JSON?) -> String? {
        guard !Divergence.sameValue(x, y) else { return nil }
        let ta = x?.arrayValue ?? [], tb = y?.arrayValue ?? []
        for i in 0..<min(ta.count, tb.count) where !Divergence.sameValue(ta[i], tb[i]) {
            let ka = ta[i].objectValue.map { Array($0.keys) } ?? [], kb = tb[i].objectValue.map { Array($0.keys) } ?? []
            let keys = Set(ka).union(kb).sorted()
                .filter { !Divergence.sameValue(ta[i][$0], tb[i][$0]) }
            return "action_trace (step \(i + 1): \(keys.isEmpty ? "content" : keys.joined(separator: ", ")))"
        }
        return "action_trace"
    }
}
