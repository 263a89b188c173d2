import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// `rigor export otlp`: the file parses as an ExportTraceServiceRequest with the official
/// OpenTelemetry protobuf definitions (opentelemetry-proto from PyPI, `make tools-venv`), one
/// trace per run with an episode span and a child per step; and hostile input never crashes it.
@Suite("OTLP export")
struct OTLPExportTests {
    static let python = ToolsVenv.python(importing: "opentelemetry.proto.collector.trace.v1.trace_service_pb2", for: "OTLP protobuf check")

    func rigor(_ args: [String], state: String) throws -> CommandResult {
        try CommandLineRun.rigor(args + ["--state-dir", state])
    }

    /// The checker's verdict on `file` (scripts/otlp_check.py), or nil when the venv is missing.
    func check(_ file: String) throws -> JSON? {
        guard let python = Self.python else { return nil }
        let r = try CommandLineRun.run(python, ["\(RepoPaths.root)/scripts/otlp_check.py", file])
        #expect(r.status == 0, "otlp_check refused \(file): \(r.stderr)")
        return try JSON.parse(r.stdout)
    }

    static func spans(_ file: String) throws -> [JSON] {
        let request = try JSON.parse(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))))
        return request["resourceSpans"]?.arrayValue?.first?["scopeSpans"]?.arrayValue?.first?["spans"]?.arrayValue ?? []
    }

    @Test("real runs export as valid OTLP: one trace per run, a span per step, the same bytes every time")
    func realRuns() throws {
        let state = RepoPaths.temporaryDirectory("rigor-otlp-real")
        defer { try? FileManager.default.removeItem(atPath: state) }
        var ids: [String] = []
        var steps: [Int] = []
        for agent in ["Agents/toy_agent.py", "Agents/malformed/unknown_action.py"] {
            let r = try rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "3", "--json"], state: state)
            let json = try JSON.parse(r.stdout)
            ids.append(try #require(json["run_id"]?.stringValue))
            steps.append(json["steps_used"]?.intValue ?? -1)
        }
        let file = "\(state)/traces.json"
        let export = try rigor(["export", "otlp"] + ids + ["--out", file], state: state)
        #expect(export.status == 0, "\(export.stderr)")
        let first = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(try rigor(["export", "otlp"] + ids + ["--out", file], state: state).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == first)

        let spans = try Self.spans(file)
        let episodes = spans.filter { $0["parentSpanId"] == nil }
        #expect(episodes.count == 2)
        let failed = try #require(episodes.first { $0["status"]?["code"] == 2 })
        let attributes = Dictionary(uniqueKeysWithValues: (failed["attributes"]?.arrayValue ?? []).compactMap { a in
            a["key"]?.stringValue.map { ($0, a["value"] ?? .null) }
        })
        #expect(attributes["rigor.failure_type"] == ["stringValue": "invalid_action"])
        #expect(attributes["rigor.budget.steps"]?["intValue"] != nil)
        #expect(spans.allSatisfy { ($0["traceId"]?.stringValue?.count ?? 0) == 32 && ($0["spanId"]?.stringValue?.count ?? 0) == 16 })

        guard let verdict = try check(file) else { return }
        #expect(verdict["traces"] == 2)
        #expect(verdict["spans"]?.intValue == steps.reduce(0, +) + 2)
        #expect(verdict["root_attributes"]?.arrayValue?.contains("rigor.termination_reason") == true)
    }

    @Test("a run that is not in the store exits 2 and writes nothing", arguments: [
        ["ffffffffffffffff"], ["latest", "nothere"], ["ab"], ["../../etc/passwd"], ["latest", String(repeating: "a", count: 10_000)],
    ])
    func missingRuns(refs: [String]) throws {
        let state = RepoPaths.temporaryDirectory("rigor-otlp-missing")
        defer { try? FileManager.default.removeItem(atPath: state) }
        _ = try rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "1"], state: state)
        let file = "\(state)/out.json"
        let r = try rigor(["export", "otlp"] + refs + ["--out", file], state: state)
        #expect(r.status == 2)
        #expect(r.stderr.contains("rigor: error:"))
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test("no run named, or no store, is a usage error")
    func usage() throws {
        let state = RepoPaths.temporaryDirectory("rigor-otlp-usage")
        defer { try? FileManager.default.removeItem(atPath: state) }
        #expect(try rigor(["export", "otlp"], state: state).status == 2)
        #expect(try rigor(["export", "otlp", "latest"], state: state + "/none").status == 2)
        let help = try CommandLineRun.rigor(["export", "otlp", "--help"])
        #expect(help.status == 0 && help.stdout.contains("ExportTraceServiceRequest"))
    }

    @Test("a 5,000-step run and agent-controlled text: valid OTLP, values cut to 4 KiB, nothing interpreted")
    func hostile() throws {
        let state = RepoPaths.temporaryDirectory("rigor-otlp-hostile")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let store = try RunStore.open(directory: state, create: true)
        var huge = SyntheticRuns.Spec()
        huge.steps = 5_000
        huge.success = false
        huge.failureType = "budget_exhausted"
        huge.terminationReason = "steps_exhausted"
        var hostile = SyntheticRuns.Spec()
        hostile.agent = "</script><img src=x onerror=alert(1)>"
        hostile.agentText = "\u{1b}]0;pwned\u{7}\"},{\"key\":\"injected\"\u{0}\u{202e}" + String(repeating: "é", count: 20_000)
        hostile.task = "hostile@1"
        try SyntheticRuns.fill(store, count: 2, salt: "otlp") { $0 == 0 ? huge : hostile }
        let runs = try store.runs(limit: 0).map(\.runID)
        let file = "\(state)/traces.json"
        let r = try rigor(["export", "otlp"] + runs + ["--out", file], state: state)
        #expect(r.status == 0, "\(r.stderr)")
        let spans = try Self.spans(file)
        #expect(spans.count == 5_001 + 4)
        let values = spans.flatMap { $0["attributes"]?.arrayValue ?? [] }.compactMap { $0["value"]?["stringValue"]?.stringValue }
        #expect(values.allSatisfy { $0.utf8.count <= OTLPTraces.maximumValueBytes })
        #expect(values.contains { $0.hasPrefix("\u{1b}]0;pwned") && $0.hasSuffix("…") })
        #expect(values.contains("</script><img src=x onerror=alert(1)>"))
        // No attribute key came from the agent's text.
        let keys = Set(spans.flatMap { $0["attributes"]?.arrayValue ?? [] }.compactMap { $0["key"]?.stringValue })
        #expect(keys.allSatisfy { $0.hasPrefix("rigor.") })
        guard let verdict = try check(file) else { return }
        #expect(verdict["spans_per_trace"] == [4, 5_001])
    }

    @Test("ids are derived from the run: hex, never zero, stable, distinct per step")
    func ids() throws {
        let a: JSON = ["run_id": "r1", "trace_id": "0000-0000"]
        #expect(OTLPTraces.traceID(a).count == 32)
        #expect(OTLPTraces.traceID(a) == OTLPTraces.traceID(a))
        #expect(OTLPTraces.traceID(["trace_id": "ABCDEF0123456789-ABCDEF0123456789"]) == "abcdef0123456789abcdef0123456789")
        #expect(OTLPTraces.traceID(["trace_id": .string(String(repeating: "0", count: 32))]) != String(repeating: "0", count: 32))
        let stepIDs = Set((0..<1000).map { OTLPTraces.spanID(a, step: $0) })
        #expect(stepIDs.count == 1000)
        #expect(stepIDs.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
        // An artifact with nothing usable still gives a request, not a crash.
        let odd = OTLPTraces.request([.null, ["action_trace": [.null, ["step": "x"]], "started_at": 5]])
        #expect(odd["resourceSpans"] != nil)
    }
}
