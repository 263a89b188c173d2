/// The versioned action-trace export (`rigor export actions`, spec/action-export.md):
/// per run, each action the agent sent, the policy's decision and rule, whether it reached the
/// world, the result's `ok`/`error`, and the evidence attached — nothing else of the trace.
///
/// It is built from stored artifacts, which were redacted before they were sealed, and every
/// string goes through the redactor once more (a run imported from elsewhere was sealed by
/// someone else's redactor). `export_version` is 1; consumers must ignore keys they do not know,
/// so later versions may add keys without bumping it.
public enum ActionExport {
    public static let version = 1
    public static let kind = "rigor-action-export"

    /// Why an artifact cannot be exported.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The export document for these artifacts, in the order given.
    public static func document(_ artifacts: [JSON], redactor: Redactor) throws(Problem) -> JSON {
        let compiled = redactor.compiled()
        var runs: [JSON] = []
        runs.reserveCapacity(artifacts.count)
        for artifact in artifacts { runs.append(try run(artifact, redactor: compiled)) }
        return [
            "export_version": .int(version), "kind": .string(kind),
            "generator": ["name": .string(RigorIdentity.name), "version": .string(RigorIdentity.version)],
            "runs": .array(runs),
        ]
    }

    static func run(_ a: JSON, redactor r: Redactor.Compiled) throws(Problem) -> JSON {
        guard let o = a.objectValue, let runID = o["run_id"]?.stringValue, let trace = o["action_trace"]?.arrayValue else {
            throw Problem(description: "not an artifact (no run_id or action_trace)")
        }
        func string(_ key: String) -> JSON { o[key]?.stringValue.map { .string(r.redact($0)) } ?? .null }
        func required(_ key: String) -> JSON { .string(r.redact(o[key]?.stringValue ?? "")) }
        var actions: [JSON] = []
        actions.reserveCapacity(trace.count)
        for entry in trace {
            guard let step = entry["step"]?.intValue, step >= 1 else { throw Problem(description: "run \(runID): a step without a positive 'step'") }
            let action = entry["action"]?.objectValue ?? [:]
            let result = entry["result"]?.objectValue ?? [:]
            let policy = entry["policy"]?.objectValue
            let error = result["error"]?.stringValue
            let outcome: String
            if let p = policy?["outcome"]?.stringValue, p == "denied" { outcome = "denied" }
            else if error != nil && ["unknown_action", "invalid_arguments", "sandbox_violation"].contains(error!) { outcome = "refused" }
            else { outcome = "executed" }
            var item: [String: JSON] = [
                "step": .int(step),
                "type": .string(r.redact(action["type"]?.stringValue ?? "")),
                "args": r.redact(.object(action["args"]?.objectValue ?? [:])),
                "intent": entry["intent"]?.stringValue.map { .string(r.redact($0)) } ?? .null,
                "decision": policy?["decision"]?.stringValue.map(JSON.string) ?? .null,
                "rule_id": policy?["rule_id"]?.stringValue.map(JSON.string) ?? .null,
                "outcome": .string(outcome),
                "result_ok": result["ok"]?.boolValue.map(JSON.bool) ?? .null,
                "error": error.map { .string(r.redact($0)) } ?? .null,
                "evidence": r.redact(.array(entry["evidence"]?.arrayValue ?? [])),
            ]
            if let approval = policy?["approval"], approval.objectValue != nil { item["approval"] = r.redact(approval) }
            actions.append(.object(item))
        }
        var policy: JSON = .null
        if let p = o["policy"]?.objectValue, let hash = p["hash"]?.stringValue {
            policy = ["hash": .string(hash), "layers": p["layers"] ?? []]
        }
        var out: [String: JSON] = [
            "run_id": .string(runID), "task_ref": required("task_ref"), "task_hash": string("task_hash"),
            "agent_ref": required("agent_ref"), "agent_hash": string("agent_hash"),
            "seed": o["seed"]?.intValue.map(JSON.int) ?? 0, "artifact_hash": required("artifact_hash"),
            "success": .bool(o["success"]?.boolValue ?? false),
            "termination_reason": required("termination_reason"),
            "failure_type": o["failure_type"]?.stringValue.map(JSON.string) ?? .null,
            "policy": policy, "actions": .array(actions),
        ]
        // The TRACE endpoint's proposals (spec/trace-endpoint.md), when the agent made any.
        if let proposals = o["trace_actions"]?.arrayValue, !proposals.isEmpty {
            out["proposals"] = .array(proposals.map { p in
                var item: [String: JSON] = [
                    "n": p["n"] ?? .null, "step": p["step"] ?? .null,
                    "type": .string(r.redact(p["type"]?.stringValue ?? "")),
                    "actor": p["actor"]?.stringValue.map { .string(r.redact($0)) } ?? .null,
                    "target": p["target"]?.stringValue.map { .string(r.redact($0)) } ?? .null,
                    "decision": p["decision"] ?? .null, "rule_id": p["rule_id"] ?? .null,
                    "evidence": r.redact(.array(p["evidence"]?.arrayValue ?? [])),
                ]
                if let params = p["params"], params.objectValue != nil { item["params"] = r.redact(params) }
                return .object(item)
            })
        }
        return .object(out)
    }

    /// What is wrong with an export document (nil: it validates against the schema).
    public static func problems(_ document: JSON) -> [String] {
        guard let schema = ActionExportSchema.compiled else { return ["the embedded action-export schema does not load"] }
        return schema.validate(document).map(\.description)
    }
}
