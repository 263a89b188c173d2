import RigorSpec

/// Runs as OpenTelemetry traces in the OTLP/JSON encoding (an `ExportTraceServiceRequest`, as an
/// OTLP/HTTP collector accepts it and as `rigor export otlp` writes it; spec/otlp.md).
///
/// Each run is one trace: an episode span, and one child span per step of its `action_trace`.
/// Ids are derived from the run alone, so exporting a run twice gives the same bytes and a
/// collector sees the same trace: the trace id is the artifact's `trace_id` when that is 32 hex
/// digits (dashes removed), else the first 16 bytes of SHA-256 of the run id; a span id is the
/// first 8 bytes of SHA-256 of `rigor-otlp/1|<run_id>|<step>` (step 0: the episode).
///
/// Everything an agent wrote (action type and args, intent, result error) goes into attribute
/// values only, cut to `maximumValueBytes`; span names are Rigor's own words plus the action
/// type, cut to `maximumNameBytes`.
public enum OTLPTraces {
    /// The instrumentation scope name.
    public static let scope = "rigor"
    public static let maximumValueBytes = 4096
    public static let maximumNameBytes = 128

    /// The request for `artifacts`, in the order given.
    /// `redactor` scrubs every artifact first (`Workspace.redactor`: the project's secrets and
    /// patterns), as the other exports do.
    public static func request(_ artifacts: [JSON], redactor: Redactor = Redactor()) -> JSON {
        let compiled = redactor.compiled()
        let spans = artifacts.map { compiled.redact($0) }.flatMap(spans(of:))
        return ["resourceSpans": [[
            "resource": ["attributes": .array([
                attribute("service.name", .string("rigor")),
                attribute("service.version", .string(RigorIdentity.version)),
                attribute("rigor.spec_version", .string(RigorIdentity.specVersion)),
            ])],
            "scopeSpans": [["scope": ["name": .string(scope), "version": .string(RigorIdentity.version)], "spans": .array(spans)]],
        ]]]
    }

    // MARK: Ids

    /// 32 lowercase hex digits: the run's trace.
    public static func traceID(_ artifact: JSON) -> String {
        if let given = artifact["trace_id"]?.stringValue {
            let hex = given.lowercased().filter { $0 != "-" }
            if hex.count == 32, hex.allSatisfy(\.isHexDigit), hex.contains(where: { $0 != "0" }) { return hex }
        }
        return nonZero(String(Digest.sha256Hex(Array("rigor-otlp/1|trace|\(runID(artifact))".utf8)).prefix(32)))
    }

    /// 16 lowercase hex digits: the span of `step` (0: the episode) of the run.
    public static func spanID(_ artifact: JSON, step: Int) -> String {
        nonZero(String(Digest.sha256Hex(Array("rigor-otlp/1|\(runID(artifact))|\(step)".utf8)).prefix(16)))
    }

    static func runID(_ artifact: JSON) -> String { artifact["run_id"]?.stringValue ?? artifact["artifact_hash"]?.stringValue ?? "run" }

    /// An all-zero id is invalid in OTLP.
    static func nonZero(_ hex: String) -> String { hex.contains(where: { $0 != "0" }) ? hex : String(hex.dropLast()) + "1" }

    // MARK: Spans

    /// Unix nanoseconds of an RFC 3339 UTC time, as OTLP/JSON writes a fixed64: a decimal string.
    static func nanos(_ text: String?) -> Int64? {
        guard let text, let micros = try? RunQuery.instant(text) else { return nil }
        return micros.multipliedReportingOverflow(by: 1000).overflow ? nil : micros * 1000
    }

    static func spans(of artifact: JSON) -> [JSON] {
        let trace = traceID(artifact)
        let root = spanID(artifact, step: 0)
        let start = nanos(artifact["started_at"]?.stringValue) ?? 0
        let end = max(start, nanos(artifact["completed_at"]?.stringValue) ?? start)
        let success = artifact["success"]?.boolValue
        var attributes: [JSON] = []
        func add(_ key: String, _ value: JSON?) {
            guard let value, value != .null else { return }
            attributes.append(attribute(key, value))
        }
        add("rigor.run_id", artifact["run_id"])
        add("rigor.agent_ref", artifact["agent_ref"])
        add("rigor.task_ref", artifact["task_ref"])
        add("rigor.seed", artifact["seed"])
        add("rigor.success", artifact["success"])
        add("rigor.termination_reason", artifact["termination_reason"])
        add("rigor.failure_type", artifact["failure_type"])
        add("rigor.failure_reason", artifact["failure_reason"])
        add("rigor.artifact_hash", artifact["artifact_hash"])
        add("rigor.steps_used", artifact["steps_used"])
        add("rigor.tool_calls_used", artifact["tool_calls_used"])
        add("rigor.budget.steps", artifact["budgets"]?["steps"])
        add("rigor.budget.tool_calls", artifact["budgets"]?["tool_calls"])
        add("rigor.budget.wall_clock_seconds", artifact["budgets"]?["wall_clock_seconds"])
        let reason = artifact["failure_reason"]?.stringValue ?? artifact["termination_reason"]?.stringValue ?? "failed"
        let taskRef = artifact["task_ref"]?.stringValue ?? "task"
        var out: [JSON] = [span(trace: trace, id: root, parent: nil, name: "episode \(taskRef)", start: start, end: end,
                                attributes: attributes, status: success == true ? .ok : success == false ? .error(reason) : .unset)]
        let steps = artifact["action_trace"]?.arrayValue ?? []
        out.reserveCapacity(steps.count + 1)
        for (i, step) in steps.enumerated() {
            let number = step["step"]?.intValue ?? i + 1
            let stepStart = min(max(start, nanos(step["action_ts"]?.stringValue) ?? start), end)
            let next = i + 1 < steps.count ? nanos(steps[i + 1]["action_ts"]?.stringValue) : nil
            let stepEnd = min(max(stepStart, next ?? end), end)
            out.append(stepSpan(artifact, step, number: number, trace: trace, parent: root, start: stepStart, end: stepEnd))
        }
        return out
    }

    static func stepSpan(_ artifact: JSON, _ step: JSON, number: Int, trace: String, parent: String, start: Int64, end: Int64) -> JSON {
        var attributes: [JSON] = [attribute("rigor.step", .int(number))]
        func add(_ key: String, _ value: JSON?) {
            guard let value, value != .null else { return }
            attributes.append(attribute(key, value))
        }
        let action = step["action"]
        let type = action?["type"]?.stringValue ?? "?"
        add("rigor.action.type", action?["type"])
        if let args = action?["args"] { add("rigor.action.args", .string((try? args.canonicalString()) ?? "")) }
        add("rigor.action.intent", step["intent"] ?? action?["intent"])
        let result = step["result"]
        let ok = result?["ok"]?.boolValue
        add("rigor.result.ok", result?["ok"])
        add("rigor.result.error", result?["error"])
        add("rigor.budget_after.steps", step["budget_after_step"]?["steps"])
        add("rigor.budget_after.tool_calls", step["budget_after_step"]?["tool_calls"])
        add("rigor.budget_delta.steps", step["budget_delta"]?["steps"])
        add("rigor.budget_delta.tool_calls", step["budget_delta"]?["tool_calls"])
        if let audit = step["io_audit"]?.arrayValue { add("rigor.io_audit.count", .int(audit.count)) }
        let status: Status = ok == true ? .ok : ok == false ? .error(result?["error"]?.stringValue ?? "action failed") : .unset
        return span(trace: trace, id: spanID(artifact, step: number), parent: parent, name: "step \(number) \(type)",
                    start: start, end: end, attributes: attributes, status: status)
    }

    enum Status {
        case unset, ok, error(String)
    }

    static func span(trace: String, id: String, parent: String?, name: String, start: Int64, end: Int64,
                     attributes: [JSON], status: Status) -> JSON {
        var members: [String: JSON] = [
            "traceId": .string(trace), "spanId": .string(id), "name": .string(cut(name, maximumNameBytes)),
            "kind": 1,  // SPAN_KIND_INTERNAL
            "startTimeUnixNano": .string(String(start)), "endTimeUnixNano": .string(String(end)),
            "attributes": .array(attributes),
        ]
        if let parent { members["parentSpanId"] = .string(parent) }
        switch status {
        case .unset: break
        case .ok: members["status"] = ["code": 1]
        case .error(let message): members["status"] = ["code": 2, "message": .string(cut(message, maximumValueBytes))]
        }
        return .object(members)
    }

    /// An OTLP `KeyValue`: strings, booleans, integers (int64 as a decimal string) and doubles;
    /// anything else as its canonical JSON text.
    static func attribute(_ key: String, _ value: JSON) -> JSON {
        let any: JSON
        switch value {
        case .string(let s): any = ["stringValue": .string(cut(s, maximumValueBytes))]
        case .bool(let b): any = ["boolValue": .bool(b)]
        case .int(let i): any = ["intValue": .string(String(i))]
        case .double(let d) where d.isFinite: any = ["doubleValue": .double(d)]
        default: any = ["stringValue": .string(cut((try? value.canonicalString()) ?? "", maximumValueBytes))]
        }
        return ["key": .string(key), "value": any]
    }

    /// `text` cut to at most `limit` UTF-8 bytes on a character boundary, with "…" when cut.
    static func cut(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var out = ""
        var used = 0
        for c in text {
            let n = c.utf8.count
            if used + n > limit - 3 { break }
            out.append(c)
            used += n
        }
        return out + "…"
    }
}
