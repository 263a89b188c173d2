import RigorSpec

/// An artifact cut into the part that is the same on every replay and the part that is not.
///
/// The **stable part** is the artifact without `run_id`, `trace_id`, `started_at`,
/// `completed_at`, `wall_clock_elapsed_s`, `diagnostics`, `artifact_hash`, and without
/// `action_ts` in each `action_trace` entry: exactly `HashRecipe.rigor.hashedPart`. It is stored
/// once, as a blob addressed by the SHA-256 of its JCS bytes, so replaying an episode adds no
/// blob. For a Rigor artifact that address *is* its `artifact_hash` (minus `sha256:`), because
/// the Rigor recipe hashes the JCS bytes of exactly this part. (For TraceCore's artifacts it is
/// not: their recipe writes numbers the Python way.)
///
/// The **volatile part** is everything removed, kept per run:
///
///     {"fields":  {"run_id": ..., "started_at": ..., ...},   // removed top-level members
///      "steps":   {"0": {"action_ts": ...}, ...},            // removed members per step index
///      "doubles": {"/wall_clock_elapsed_s": "0.0", ...}}     // see below
///
/// Members absent from the artifact are absent here too, so reassembly restores the artifact
/// exactly, not a normalised version of it. `doubles` exists because JCS writes a double with an
/// integral value (`0.0`, `-0.0`, `3.0`) as an integer, and the JSON value distinguishes the two
/// (TraceCore's hash recipe writes them differently): it maps the JSON Pointer of each such
/// number to its Python spelling, and is omitted when empty, like `steps`.
///
/// What is **stored** of the volatile part leaves out the fields the run's index row holds
/// already and that are checked against something other than the row (`rowKeys`: `run_id`, which
/// the run's ledger entry records, and `artifact_hash`, which is recomputed from the content),
/// when the artifact has them as the very strings in the row, and names them instead:
/// `"row": ["artifact_hash", "run_id"]`. Reading puts them back from the row. `trace_id`,
/// `started_at` and `completed_at` are kept in the stored part: nothing else records them, so
/// taking them from the row would make `verifyBlobs` compare the row with itself (a row edited
/// with sqlite3 went unnoticed). Runs stored before that name them in `row` too
/// (`readableRowKeys`). A stored part without `row` (written by schema version 1) holds all its
/// fields itself.
extension JSON {
    /// Doubles, arrays and objects: what can be or hold a double.
    fileprivate var mayHoldDoubles: Bool {
        switch self {
        case .double, .array, .object: return true
        default: return false
        }
    }
}

struct ArtifactParts {
    let stableBytes: [UInt8]
    /// Lowercase hex SHA-256 of `stableBytes`: the blob's address.
    let contentSHA256: String
    /// JCS of the whole volatile part.
    let volatileBytes: [UInt8]
    /// The volatile part as a value, for `storedVolatile(row:)`.
    let volatile: JSON
}

enum ArtifactSplit {
    static let volatileTopLevelKeys = HashRecipe.rigor.excludedTopLevelKeys
    static let volatileStepKeys = HashRecipe.rigor.excludedStepKeys

    /// `knownStableBytes`: the JCS of the stable part if the caller has it already (for a Rigor
    /// artifact, the bytes its `artifact_hash` covers). Used only for a Rigor artifact (whose
    /// recipe hashes exactly the JCS of the stable part) and when they hash to its own
    /// `artifact_hash`; otherwise the stable part is serialised here.
    static func split(_ artifact: JSON, knownStableBytes: [UInt8]? = nil) throws(StoreError) -> ArtifactParts {
        guard case .object(var members) = artifact else {
            throw .invalidArtifact("an artifact is a JSON object, this is \(artifact.typeName == "array" ? "an" : "a") \(artifact.typeName)")
        }
        var fields: [String: JSON] = [:]
        for key in volatileTopLevelKeys {
            if let value = members.removeValue(forKey: key) { fields[key] = value }
        }
        var steps: [String: JSON] = [:]
        if case .array(var trace)? = members["action_trace"] {
            for index in trace.indices {
                guard case .object(var step) = trace[index] else { continue }
                var removed: [String: JSON] = [:]
                for key in volatileStepKeys {
                    if let value = step.removeValue(forKey: key) { removed[key] = value }
                }
                if !removed.isEmpty {
                    steps[String(index)] = .object(removed)
                    trace[index] = .object(step)
                }
            }
            members["action_trace"] = .array(trace)
        }
        var doubles: [String: JSON] = [:]
        var path: [String] = []
        collectIntegralDoubles(artifact, path: &path, into: &doubles)

        var volatile: [String: JSON] = ["fields": .object(fields)]
        if !steps.isEmpty { volatile["steps"] = .object(steps) }
        if !doubles.isEmpty { volatile["doubles"] = .object(doubles) }
        do throws(CanonicalJSONError) {
            var stableBytes: [UInt8]
            var address: String
            if let known = knownStableBytes, !known.isEmpty, HashRecipe.forArtifact(artifact) == .rigor,
               case .string(let declared)? = fields["artifact_hash"], declared == "sha256:" + Digest.sha256Hex(known) {
                stableBytes = known
                address = String(declared.dropFirst(7))
            } else {
                stableBytes = try JSON.object(members).canonicalBytes(style: .jcs)
                address = Digest.sha256Hex(stableBytes)
            }
            return ArtifactParts(
                stableBytes: stableBytes, contentSHA256: address,
                volatileBytes: try JSON.object(volatile).canonicalBytes(style: .jcs), volatile: .object(volatile))
        } catch {
            throw .invalidArtifact(error.description)
        }
    }

    /// Volatile fields that the run's index row holds instead of its stored volatile part, in JCS
    /// order: only those checked against something besides the row itself.
    static let rowKeys = ["artifact_hash", "run_id"]
    /// What a stored volatile part may name in `row`: `rowKeys`, and the fields runs recorded
    /// before `trace_id` and the timestamps were kept in the part left to the row.
    static let readableRowKeys: Set<String> = ["artifact_hash", "completed_at", "run_id", "started_at", "trace_id"]

    /// JCS of the volatile part as stored for a run whose row holds `row` (`RunSummary.rowFields`):
    /// without the fields the row holds as the very same strings, which `row` names instead.
    static func storedVolatile(_ parts: ArtifactParts, row: [String: String]) throws(StoreError) -> [UInt8] {
        guard case .object(var volatile) = parts.volatile, case .object(var fields)? = volatile["fields"] else {
            return parts.volatileBytes
        }
        var fromRow: [JSON] = []
        for key in rowKeys {
            if let value = row[key], fields[key] == .string(value) {
                fields.removeValue(forKey: key)
                fromRow.append(.string(key))
            }
        }
        if fromRow.isEmpty { return parts.volatileBytes }
        volatile["fields"] = .object(fields)
        volatile["row"] = .array(fromRow)
        do throws(CanonicalJSONError) {
            return try JSON.object(volatile).canonicalBytes(style: .jcs)
        } catch {
            throw .invalidArtifact(error.description)
        }
    }

    /// The whole volatile part (as `split` made it) from its stored bytes and the run's row.
    static func volatile(stored: [UInt8], row: [String: String]) throws(CodecError) -> JSON {
        let parsed: JSON
        do { parsed = try JSON.parse(stored, maxDepth: ArtifactLimits.artifactDepth) } catch { throw CodecError(reason: "stored JSON does not parse: \(error)") }
        guard case .object(var volatile) = parsed else { return parsed }
        guard let fromRow = volatile.removeValue(forKey: "row") else { return parsed }
        guard case .object(var fields)? = volatile["fields"], case .array(let keys) = fromRow else {
            throw CodecError(reason: "stored volatile part is not an object with fields")
        }
        for key in keys {
            guard let key = key.stringValue, readableRowKeys.contains(key), let value = row[key], fields[key] == nil else {
                throw CodecError(reason: "volatile field \(key) is not in the run's row")
            }
            fields[key] = .string(value)
        }
        volatile["fields"] = .object(fields)
        return .object(volatile)
    }

    /// JCS of the whole volatile part, to compare with `ArtifactParts.volatileBytes`.
    static func volatileBytes(stored: [UInt8], row: [String: String]) throws(CodecError) -> [UInt8] {
        let value = try volatile(stored: stored, row: row)
        do throws(CanonicalJSONError) {
            return try value.canonicalBytes(style: .jcs)
        } catch {
            throw CodecError(reason: error.description)
        }
    }

    /// The artifact again, from the stable part and the volatile part as stored for a run whose
    /// row holds `row`. Throws a reason when they do not fit.
    static func reassemble(stableBytes: [UInt8], storedVolatile: [UInt8], row: [String: String]) throws(CodecError) -> JSON {
        let stable: JSON
        do {
            stable = try JSON.parse(stableBytes, maxDepth: ArtifactLimits.artifactDepth)
        } catch {
            throw CodecError(reason: "stored JSON does not parse: \(error)")
        }
        let volatile = try Self.volatile(stored: storedVolatile, row: row)
        guard case .object(var members) = stable, let fields = volatile["fields"]?.objectValue else {
            throw CodecError(reason: "stored parts are not objects")
        }
        members.merge(fields) { old, _ in old }
        if let steps = volatile["steps"]?.objectValue {
            guard case .array(var trace)? = members["action_trace"] else {
                throw CodecError(reason: "volatile part has step fields but the artifact has no action_trace")
            }
            for (key, removed) in steps {
                guard let index = Int(key), trace.indices.contains(index),
                      case .object(var step) = trace[index], let removed = removed.objectValue
                else { throw CodecError(reason: "volatile step '\(key)' does not match the action_trace") }
                step.merge(removed) { old, _ in old }
                trace[index] = .object(step)
            }
            members["action_trace"] = .array(trace)
        }
        var artifact = JSON.object(members)
        for (pointer, spelling) in volatile["doubles"]?.objectValue ?? [:] {
            guard let text = spelling.stringValue, let value = Double(text) else {
                throw CodecError(reason: "volatile number at \(pointer) is not a number")
            }
            let tokens = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                String($0).replacing("~1", with: "/").replacing("~0", with: "~")
            }
            guard pointer.hasPrefix("/"), let updated = replacing(in: artifact, at: tokens[...], with: .double(value)) else {
                throw CodecError(reason: "volatile number at \(pointer) points nowhere")
            }
            artifact = updated
        }
        return artifact
    }

    /// Doubles that JCS would write without a fraction or exponent, so they would read back as
    /// integers: every finite integral double below 1e21 in magnitude (ECMAScript's cut-over to
    /// exponent notation), including -0.
    /// Finds every double with an integral value; `path` is the stack of reference tokens down
    /// to `value`, joined into a JSON Pointer only for the (few) numbers found.
    private static func collectIntegralDoubles(_ value: JSON, path: inout [String], into found: inout [String: JSON]) {
        switch value {
        case .double(let d) where d.isFinite && d == d.rounded(.towardZero) && d.magnitude < 1e21:
            // The Python spelling (`3.0`, `-0.0`, `1e+16`) keeps the sign of zero and reads back exactly.
            let pointer = path.map { "/" + $0.replacingTildeAndSlash() }.joined()
            found[pointer] = (try? JSON.double(d).canonicalString(style: .python)).map(JSON.string) ?? .null
        case .array(let elements):
            for (index, element) in elements.enumerated() where element.mayHoldDoubles {
                path.append(String(index))
                collectIntegralDoubles(element, path: &path, into: &found)
                path.removeLast()
            }
        case .object(let members):
            for (key, member) in members where member.mayHoldDoubles {
                path.append(key)
                collectIntegralDoubles(member, path: &path, into: &found)
                path.removeLast()
            }
        default: break
        }
    }

    private static func replacing(in value: JSON, at tokens: ArraySlice<String>, with replacement: JSON) -> JSON? {
        guard let token = tokens.first else { return replacement }
        switch value {
        case .object(var members):
            guard let member = members[token],
                  let updated = replacing(in: member, at: tokens.dropFirst(), with: replacement) else { return nil }
            members[token] = updated
            return .object(members)
        case .array(var elements):
            guard let index = Int(token), elements.indices.contains(index),
                  let updated = replacing(in: elements[index], at: tokens.dropFirst(), with: replacement) else { return nil }
            elements[index] = updated
            return .array(elements)
        default:
            return nil
        }
    }
}
