/// The `artifact_hash` recipes: which parts of an artifact are hashed and how they are written.
///
/// Rigor hashes everything that describes *what happened* and nothing that describes *when* or
/// *how fast*, so two runs with the same inputs hash the same. TraceCore's recipe excludes the
/// same top-level fields but keeps any float timings inside steps, serialised the way Python
/// writes them; `rigor verify` uses it for artifacts whose runtime is `tracecore`.
public enum HashRecipe: String, Sendable {
    case rigor
    case tracecore

    /// Top-level keys left out of the hashed part.
    public var excludedTopLevelKeys: Set<String> {
        let common: Set<String> = [
            "run_id", "trace_id", "started_at", "completed_at", "wall_clock_elapsed_s", "artifact_hash",
        ]
        switch self {
        case .rigor: return common.union(["diagnostics"])
        case .tracecore: return common
        }
    }

    /// Keys left out of each `action_trace` entry.
    public var excludedStepKeys: Set<String> { ["action_ts"] }

    public var style: JSONStyle {
        switch self {
        case .rigor: return .jcs
        case .tracecore: return .python
        }
    }

    /// The recipe that applies to an artifact, from its `runtime_identity.name`.
    public static func forArtifact(_ artifact: JSON) -> HashRecipe {
        artifact["runtime_identity"]?["name"]?.stringValue == "tracecore" ? .tracecore : .rigor
    }

    /// The part of `artifact` that is hashed.
    public func hashedPart(of artifact: JSON) -> JSON {
        guard case .object(var members) = artifact else { return artifact }
        for key in excludedTopLevelKeys { members.removeValue(forKey: key) }
        if case .array(let steps)? = members["action_trace"] {
            let stepKeys = excludedStepKeys
            members["action_trace"] = .array(steps.map { step in
                guard case .object(var s) = step else { return step }
                for key in stepKeys { s.removeValue(forKey: key) }
                return .object(s)
            })
        }
        return .object(members)
    }

    /// `sha256:<hex>` over the hashed part.
    public func hash(_ artifact: JSON) throws(CanonicalJSONError) -> String {
        Digest.sha256(try hashedBytes(of: artifact))
    }

    /// The bytes `hash` hashes: the hashed part, serialised in the recipe's style.
    public func hashedBytes(of artifact: JSON) throws(CanonicalJSONError) -> [UInt8] {
        try hashedPart(of: artifact).canonicalBytes(style: style)
    }
}
