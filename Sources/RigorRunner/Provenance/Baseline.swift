import Foundation
import RigorSpec
import RigorStore
import RigorTasks

/// A committed, reviewable record of one episode that CI must reproduce (`spec/baselines.md`).
///
/// The JSON file holds what a reviewer reads (refs, hashes, outcome, budgets used) and a
/// per-step digest chain, so a later run can name its first divergent step without the old
/// artifact; the full artifact is kept next to it, zstd-compressed, so a diff can show that
/// step's old content.
public struct Baseline: Sendable {
    public static let format = "rigor-baseline/1"
    public static let genesis = String(repeating: "0", count: 64)

    /// The baseline document (what the .json file holds).
    public var document: JSON
    /// Where it was read from (nil before it is written).
    public var path: String?

    public var pairing: String { document["pairing"]?.stringValue ?? "?" }
    public var seed: Int { document["seed"]?.intValue ?? 0 }
    public var agentRef: String { document["agent_ref"]?.stringValue ?? "" }
    public var taskRef: String { document["task_ref"]?.stringValue ?? "" }
    public var artifactHash: String? { document["artifact_hash"]?.stringValue }
    public var stepDigests: [String] { document["step_digests"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    /// The world key the episode was recorded under: CI rebuilds the same world with it.
    public var worldKey: WorldKey? { document["world_key"]?.stringValue.flatMap(WorldKey.init(hex:)) }

    /// The baseline's key, else (a baseline from before keyed worlds) the workspace's.
    public func worldKey(or workspace: Workspace) throws(RunnerError) -> WorldKey {
        if let worldKey { return worldKey }
        return try workspace.worldKey()
    }

    /// The digest of each step, chained: d₀ = 64 zeros, dᵢ = SHA-256(dᵢ₋₁ ‖ JCS(step i's
    /// observation, action, intent, result, io_audit)).
    public static func stepDigests(_ artifact: JSON) -> [String] {
        var previous = genesis
        var out: [String] = []
        for step in artifact["action_trace"]?.arrayValue ?? [] {
            var parts: [String: JSON] = [:]
            for key in Divergence.stepParts { if let v = step[key] { parts[key] = v } }
            let canonical = (try? JSON.object(parts).canonicalBytes()) ?? []
            previous = Digest.sha256Hex(Array(previous.utf8) + canonical)
            out.append(previous)
        }
        return out
    }

    /// The baseline of an episode of `pairing`, whose world was built under `worldKey`.
    public init(pairing: String, artifact: JSON, worldKey: WorldKey) {
        let outcome: JSON = [
            "success": artifact["success"] ?? .null, "termination_reason": artifact["termination_reason"] ?? .null,
            "failure_type": artifact["failure_type"] ?? .null,
        ]
        document = [
            "format": .string(Baseline.format),
            "pairing": .string(pairing),
            "agent_ref": artifact["agent_ref"] ?? .null, "agent_hash": artifact["agent_hash"] ?? .null,
            "task_ref": artifact["task_ref"] ?? .null, "task_hash": artifact["task_hash"] ?? .null,
            "seed": artifact["seed"] ?? .null,
            "artifact_hash": artifact["artifact_hash"] ?? .null,
            "outcome": outcome,
            "budgets": artifact["budgets"] ?? .null,
            "used": ["steps": artifact["steps_used"] ?? .null, "tool_calls": artifact["tool_calls_used"] ?? .null],
            "world_key": .string(worldKey.hex),
            "act_timeout_seconds": artifact["sandbox"]?["limits"]?["act_timeout_seconds"] ?? .null,
            "runtime_identity": artifact["runtime_identity"] ?? .null,
            "step_digests": .array(Baseline.stepDigests(artifact).map(JSON.string)),
        ]
        // Only when the episode offered the TRACE endpoint, so other baselines do not change.
        if artifact["trace_actions"] != nil, case .object(var d) = document {
            d["trace_endpoint"] = true
            document = .object(d)
        }
        // A run with the model gateway: `rigor ci` replays it from the tape kept beside
        // (spec/model-gateway.md §6); `models` true even without calls, so the gate offers the
        // gateway (in replay) again.
        if artifact["models"] != nil, case .object(var d) = document {
            d["models"] = ["tape": ModelOptions.tapeHash(of: artifact).map(JSON.string) ?? .null]
            document = .object(d)
        }
    }

    /// Whether the baseline's run had the model gateway.
    public var hasModels: Bool { document["models"] != nil }

    public static func tapePath(for path: String) -> String {
        (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".tape"
    }

    /// The model tape kept beside the baseline, checked against the hash the baseline names;
    /// nil when the run made no model call.
    public func tape() throws(RunnerError) -> ModelTape? {
        guard let hash = document["models"]?["tape"]?.stringValue else { return nil }
        guard let path, let data = FileManager.default.contents(atPath: Baseline.tapePath(for: path)) else {
            throw .usage("baseline \(pairing) seed \(seed) names the model tape \(hash), but \(Baseline.tapePath(for: path ?? "?")) is missing: re-record it")
        }
        return try ModelTape.decode([UInt8](data), expectedHash: hash, what: Baseline.tapePath(for: path))
    }

    /// The episode was run with the TRACE endpoint (`--trace-endpoint`): a re-run offers it too.
    public var traceEndpoint: Bool { document["trace_endpoint"]?.boolValue == true }

    init(document: JSON, path: String) {
        self.document = document
        self.path = path
    }

    /// `<dir>/<pairing>/seed-<n>.json`; the artifact sits beside it as `.artifact.json.zst`.
    /// A pairing name that could leave `directory` is refused (`PathName`).
    public static func path(in directory: String, pairing: String, seed: Int) throws(RunnerError) -> String {
        do {
            return try PathName.confined("seed-\(seed).json", in: try PathName.confined(identifier: pairing, in: directory, as: "pairing name"),
                                         as: "baseline file")
        } catch { throw .usage(error.description) }
    }

    public static func artifactPath(for path: String) -> String {
        (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".artifact.json.zst"
    }

    /// Writes the baseline and its compressed artifact.
    public func write(to path: String, artifact: JSON, tapes: ModelTapeStore? = nil) throws(RunnerError) {
        if let hash = document["models"]?["tape"]?.stringValue, let tapes {
            try ArtifactFile.writeAtomically(try tapes.bytes(hash), to: Baseline.tapePath(for: path))
        }
        var doc = document.objectValue ?? [:]
        doc["artifact_file"] = .string((Baseline.artifactPath(for: path) as NSString).lastPathComponent)
        do {
            let compressed = try Compression.compress(try artifact.canonicalBytes())
            try ArtifactFile.writeAtomically(compressed, to: Baseline.artifactPath(for: path))
        } catch let e as RunnerError { throw e } catch { throw .internal("cannot write the baseline artifact: \(error)") }
        try ArtifactFile.write(.object(doc), to: path)
    }

    /// Every baseline under `directory`, sorted by path.
    public static func loadAll(_ directory: String) throws(RunnerError) -> [Baseline] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw .usage("baselines directory '\(directory)' does not exist; record some with `rigor baseline record`")
        }
        let walker = FileManager.default.enumerator(atPath: directory)
        var paths: [String] = []
        while let rel = walker?.nextObject() as? String {
            if rel.hasSuffix(".json") && !rel.hasSuffix(".artifact.json") { paths.append("\(directory)/\(rel)") }
        }
        var out: [Baseline] = []
        for path in paths.sorted() {
            let doc = try ArtifactFile.read(path)
            guard doc["format"]?.stringValue == format else {
                throw .usage("'\(path)' is not a \(format) baseline (its \"format\" field says otherwise)")
            }
            out.append(Baseline(document: doc, path: path))
        }
        return out
    }

    /// The full artifact kept beside the baseline, if it is there and intact.
    public func storedArtifact() -> JSON? {
        guard let path, let data = FileManager.default.contents(atPath: Baseline.artifactPath(for: path)),
              let bytes = try? Compression.decompress([UInt8](data), what: path) else { return nil }
        return try? JSON.parse(bytes, maxDepth: ArtifactLimits.artifactDepth)
    }
}
