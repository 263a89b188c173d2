/// Episodes as IntentProof execution events (spec/intentproof.md).
///
/// Each step of each run becomes one event; each run ends with one `rigor.episode` event that
/// carries the outcome. The events of all runs form one chain, in the order given, each signed
/// by the signer. The mapping, field by field:
///
/// - `event_id`: a ULID from the step's time and a digest of (run id, step), so the same runs
///   export to the same bytes; `correlation_id`: the run id (one flow per run).
/// - `action`: the action's `type`; `intent`: the agent's `intent` for the step, else
///   `"<type> (step N of <task_ref>)"`; `inputs`: the action's `args`; `output`: the step's
///   `result`; `status`: `error` when the result says `ok: false` (or the policy denied the
///   action), with `error: {"code": <result.error>}`, else `ok`.
/// - `started_at` = `completed_at`: the step's `action_ts` in UTC milliseconds, `duration_ms` 0
///   (Rigor keeps no per-step duration in the hashed part).
/// - `attributes`: `rigor.run_id`, `rigor.task_ref`, `rigor.agent_ref`, `rigor.seed`,
///   `rigor.step`, `rigor.artifact_hash`, and when the step has them `rigor.policy.decision`,
///   `rigor.policy.rule_id`, `rigor.policy.outcome` and one `rigor.evidence.<name>` (true/false)
///   per evidence check.
///
/// The artifacts are taken as stored, that is after the runner's redaction; the exporter adds
/// nothing the artifact does not hold.
public struct IntentProofExport: Sendable {
    public var signer: IntentProofSigner
    public var tenantID: String
    public var instanceID: String
    public var sdkVersion: String

    public init(signer: IntentProofSigner, tenantID: String = "rigor", instanceID: String = "rigor-runner",
                sdkVersion: String = "rigor@\(RigorIdentity.version)") {
        self.signer = signer
        self.tenantID = tenantID
        self.instanceID = instanceID
        self.sdkVersion = sdkVersion
    }

    /// The unsigned events of one run (no chain fields yet), in order.
    public func events(of artifact: JSON) throws(IntentProofError) -> [JSON] {
        guard artifact.objectValue != nil, let trace = artifact["action_trace"]?.arrayValue else {
            throw IntentProofError("not an artifact: it has no action_trace list")
        }
        let runID = artifact["run_id"]?.stringValue ?? ""
        let taskRef = artifact["task_ref"]?.stringValue ?? ""
        let runStart = artifact["started_at"]?.stringValue.flatMap(MillisecondTime.milliseconds) ?? 0
        var common: [String: JSON] = ["rigor.run_id": .string(runID), "rigor.task_ref": .string(taskRef)]
        if let agent = artifact["agent_ref"]?.stringValue { common["rigor.agent_ref"] = .string(agent) }
        if let seed = artifact["seed"]?.intValue { common["rigor.seed"] = .int(seed) }
        if let hash = artifact["artifact_hash"]?.stringValue { common["rigor.artifact_hash"] = .string(hash) }

        var out: [JSON] = []
        out.reserveCapacity(trace.count + 1)
        var lastMillis = runStart
        for (index, step) in trace.enumerated() {
            let number = step["step"]?.intValue ?? index + 1
            let type = step["action"]?["type"]?.stringValue ?? "invalid_action"
            let millis = step["action_ts"]?.stringValue.flatMap(MillisecondTime.milliseconds) ?? lastMillis
            lastMillis = millis
            let result = step["result"] ?? .null
            let denied = step["policy"]?["outcome"]?.stringValue == "denied"
            let failed = result["ok"]?.boolValue == false || denied
            var attributes = common
            attributes["rigor.step"] = .int(number)
            if let policy = step["policy"] {
                for key in ["decision", "rule_id", "outcome"] {
                    if let v = policy[key]?.stringValue { attributes["rigor.policy.\(key)"] = .string(v) }
                }
            }
            for check in step["evidence"]?.arrayValue ?? [] {
                if let name = check["name"]?.stringValue, let pass = check["pass"]?.boolValue { attributes["rigor.evidence.\(name)"] = .bool(pass) }
            }
            let args = step["action"]?["args"]
            let inputs: JSON = (args?.objectValue != nil || args?.arrayValue != nil) ? args ?? .null : .null
            let output: JSON = result.arrayValue != nil ? .object(["items": result]) : result
            out.append(event(runID: runID, step: number, millis: millis, action: type,
                             intent: step["intent"]?.stringValue ?? "\(type) (step \(number) of \(taskRef))",
                             failed: failed, error: failed ? .object(["code": result["error"] ?? (denied ? "policy_denied" : "failed")]) : .null,
                             inputs: inputs, output: output, attributes: attributes))
        }
        let endMillis = artifact["completed_at"]?.stringValue.flatMap(MillisecondTime.milliseconds) ?? lastMillis
        let success = artifact["success"]?.boolValue ?? false
        var attributes = common
        attributes["rigor.step"] = .int(trace.count + 1)
        let outcome: JSON = [
            "success": .bool(success), "termination_reason": artifact["termination_reason"] ?? .null,
            "failure_type": artifact["failure_type"] ?? .null, "steps_used": artifact["steps_used"] ?? .null,
        ]
        out.append(event(runID: runID, step: trace.count + 1, millis: endMillis, action: "rigor.episode",
                         intent: "Run \(taskRef) to its verdict", failed: !success,
                         error: success ? .null : .object(["code": artifact["failure_type"] ?? "failed"]),
                         inputs: .null, output: outcome, attributes: attributes))
        return out
    }

    private func event(runID: String, step: Int, millis: Int, action: String, intent: String, failed: Bool,
                       error: JSON, inputs: JSON, output: JSON, attributes: [String: JSON]) -> JSON {
        let time = JSON.string(MillisecondTime.format(millis))
        return .object([
            "schema": .string(IntentProof.eventSchema),
            "event_id": .string(ULID.make(milliseconds: millis, entropy: Digest.sha256Bytes(Array("\(runID)/\(step)".utf8)))),
            "tenant_id": .string(tenantID), "instance_id": .string(instanceID), "correlation_id": .string(runID),
            "provenance_class": .string(IntentProof.provenanceClass),
            "intent": .string(intent), "action": .string(action), "status": failed ? "error" : "ok",
            "started_at": time, "completed_at": time, "duration_ms": 0,
            "inputs": inputs, "output": output, "error": error, "untrusted_payload": true,
            "attributes": .object(attributes),
            "spec_version": .string(IntentProof.specVersion), "sdk_version": .string(sdkVersion),
        ])
    }

    /// The signed, chained events of `artifacts` (one chain over all of them), as JSON Lines:
    /// one canonical JSON object per line, each line ending in a newline.
    public func jsonLines(_ artifacts: [JSON]) throws(IntentProofError) -> [UInt8] {
        var out: [UInt8] = []
        var previous = IntentProof.genesisHash
        var position = 0
        for artifact in artifacts {
            for var event in try events(of: artifact) {
                position += 1
                guard case .object(var members) = event else { continue }
                members["chain_position"] = .int(position)
                members["prev_event_hash"] = .string(previous)
                event = .object(members)
                let digest = try IntentProof.digest(event)
                previous = "sha256:" + Digest.hex(digest)
                let signed = try signer.sign(event, digest: digest)
                do { try signed.write(into: &out) } catch { throw IntentProofError("cannot write event \(position): \(error.description)") }
                out.append(0x0A)
            }
        }
        return out
    }
}
