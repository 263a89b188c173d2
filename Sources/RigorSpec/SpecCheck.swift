/// One way an artifact falls short of the spec.
public struct SpecProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The artifact schema rejects it.
        case schema
        /// A required field is present but its content is unusable (e.g. a malformed hash).
        case metadata
        /// Outcome fields contradict each other or the taxonomy.
        case taxonomy
        /// `artifact_hash` does not match the content.
        case hash
    }

    public let kind: Kind
    /// JSON Pointer to the offending value ("" is the whole artifact).
    public let path: String
    public let message: String

    public init(_ kind: Kind, _ path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "[\(kind.rawValue)] \(path.isEmpty ? "/" : path): \(message)" }
}

/// The strict spec check: schema, required metadata and taxonomy consistency.
///
/// It applies to any artifact, Rigor's or another runtime's; checks that only make sense for
/// Rigor's own termination reasons apply only when `runtime_identity.name` is `rigor`.
public enum SpecCheck {
    public static func check(_ artifact: JSON) -> [SpecProblem] {
        guard case .object(let a) = artifact else {
            return [SpecProblem(.schema, "", "an artifact must be a JSON object, got \(artifact.typeName)")]
        }
        var problems: [SpecProblem]
        if let schema = ArtifactSchema.compiled {
            problems = schema.validate(artifact, assertFormats: true).map {
                SpecProblem(.schema, $0.instancePath, $0.message)
            }
        } else {
            problems = [SpecProblem(.schema, "", "the embedded artifact schema failed to load: this build of rigor is broken")]
        }
        problems += metadataProblems(a)
        problems += taxonomyProblems(a)
        return problems
    }

    static func metadataProblems(_ a: [String: JSON]) -> [SpecProblem] {
        var out: [SpecProblem] = []
        if let h = a["artifact_hash"]?.stringValue, !isSHA256(h) {
            out.append(SpecProblem(.metadata, "/artifact_hash", "expected 'sha256:' followed by 64 lowercase hex digits, got \"\(h)\""))
        }
        if let h = a["task_hash"]?.stringValue, h.isEmpty {
            out.append(SpecProblem(.metadata, "/task_hash", "must not be empty"))
        }
        if let name = a["runtime_identity"]?["name"]?.stringValue, name.isEmpty {
            out.append(SpecProblem(.metadata, "/runtime_identity/name", "must not be empty"))
        }
        if let ref = a["task_ref"]?.stringValue, let id = a["task_id"]?.stringValue, !ref.hasPrefix(id + "@") {
            out.append(SpecProblem(.metadata, "/task_ref", "\"\(ref)\" does not name task_id \"\(id)\""))
        }
        return out
    }

    static func isSHA256(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 71, s.hasPrefix("sha256:") else { return false }
        return u[7...].allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func taxonomyProblems(_ a: [String: JSON]) -> [SpecProblem] {
        var out: [SpecProblem] = []
        let success = a["success"]?.boolValue
        let failureType = a["failure_type"]
        if success == true, let ft = failureType, !ft.isNull {
            out.append(SpecProblem(.taxonomy, "/failure_type", "a successful episode must have failure_type null, got \(ft.stringValue ?? ft.typeName)"))
        }
        if success == false, failureType?.isNull == true {
            out.append(SpecProblem(.taxonomy, "/failure_type", "a failed episode must name its failure_type"))
        }
        if let trace = a["action_trace"]?.arrayValue {
            if let used = a["steps_used"]?.intValue, used != trace.count {
                out.append(SpecProblem(.taxonomy, "/steps_used", "is \(used) but action_trace has \(trace.count) steps"))
            }
            for (i, entry) in trace.enumerated() {
                if let n = entry["step"]?.intValue, n != i + 1 {
                    out.append(SpecProblem(.taxonomy, "/action_trace/\(i)/step", "is \(n), expected \(i + 1) (steps are numbered from 1 without gaps)"))
                    break
                }
            }
            if let used = a["tool_calls_used"]?.intValue {
                let sum = trace.reduce(0) { $0 + ($1["budget_delta"]?["tool_calls"]?.intValue ?? 0) }
                if sum != used {
                    out.append(SpecProblem(.taxonomy, "/tool_calls_used", "is \(used) but the steps' budget_delta.tool_calls add up to \(sum)"))
                }
            }
        }
        if a["runtime_identity"]?["name"]?.stringValue == RigorIdentity.name, let reason = a["termination_reason"]?.stringValue {
            if let known = TerminationReason(rawValue: reason) {
                let expected = known.failureType?.rawValue
                if failureType?.stringValue != expected {
                    out.append(SpecProblem(.taxonomy, "/failure_type", "termination_reason '\(reason)' requires failure_type \(expected.map { "'\($0)'" } ?? "null")"))
                }
                if (known == .success) != (success == true) {
                    out.append(SpecProblem(.taxonomy, "/success", "contradicts termination_reason '\(reason)'"))
                }
            } else {
                out.append(SpecProblem(.taxonomy, "/termination_reason", "'\(reason)' is not a termination reason of spec/runtime.md"))
            }
        }
        return out
    }
}

/// The result of `rigor verify`: hash integrity plus the strict spec check.
public struct VerificationReport: Sendable {
    public let recipe: HashRecipe
    public let recordedHash: String?
    public let recomputedHash: String?
    /// Problems that make the artifact untrustworthy (hash mismatch, not JSON object, ...).
    public let integrityProblems: [SpecProblem]
    /// Problems against the spec (schema, metadata, taxonomy).
    public let specProblems: [SpecProblem]

    public var hashMatches: Bool { recordedHash != nil && recordedHash == recomputedHash }

    public init(verifying artifact: JSON) {
        recipe = HashRecipe.forArtifact(artifact)
        recordedHash = artifact["artifact_hash"]?.stringValue
        var integrity: [SpecProblem] = []
        var recomputed: String? = nil
        do {
            recomputed = try recipe.hash(artifact)
        } catch {
            integrity.append(SpecProblem(.hash, "", "cannot serialise canonically: \(error)"))
        }
        if recordedHash == nil {
            integrity.append(SpecProblem(.hash, "/artifact_hash", "missing: nothing to verify the content against"))
        } else if let recomputed, recomputed != recordedHash {
            integrity.append(SpecProblem(.hash, "/artifact_hash", "recorded \(recordedHash ?? "") but the content hashes to \(recomputed) (\(recipe.rawValue) recipe): the artifact was altered after it was written"))
        }
        recomputedHash = recomputed
        integrityProblems = integrity
        specProblems = SpecCheck.check(artifact)
    }
}
