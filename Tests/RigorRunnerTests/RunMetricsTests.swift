import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// `RunQuery` (the filters both shells parse) and `RunMetrics` (the view they print and serve).
@Suite("run metrics")
struct RunMetricsTests {
    static func store(_ label: String) throws -> RunStore {
        try RunStore.open(directory: RepoPaths.temporaryDirectory("rigor-metrics-\(label)") + "/.rigor", create: true)
    }

    @Test("query parameters parse into the store's filter", arguments: [
        (["task": "t@1", "agent": "toy", "outcome": "failure", "failure_type": "timeout", "seed": "-3"],
         RunFilter(agent: .contains("toy"), taskRef: "t@1", outcome: .failure, failureType: "timeout", seed: -3)),
        (["since": "2026-12-01", "until": "2026-12-02T10:30:00.5Z"],
         RunFilter(since: 1_796_083_200_000_000, until: 1_796_083_200_000_000 + 86_400_000_000 + 37_800_500_000)),
        (["until": "1970-01-01T00:00:00+00:00", "outcome": ""], RunFilter(until: 0)),
        ([:], RunFilter()),
    ])
    func parses(parameters: [String: String], filter: RunFilter) throws {
        #expect(try RunQuery(parameters: parameters).filter == filter)
    }

    @Test("bad parameters are refused, naming the parameter and what it must be", arguments: [
        ("outcome", "maybe", "success or failure"), ("failure_type", "oops", "one of budget_exhausted"),
        ("seed", "1e9", "an integer"), ("seed", "99999999999999999999999", "an integer"),
        ("since", "yesterday", "a UTC date"), ("since", "2026-02-30", "a UTC date"), ("until", "2026-12-01T25:00:00Z", "a UTC date"),
        ("until", "2026-12-01T10:00:00+02:00", "a UTC date"), ("since", "0000-01-01", "a UTC date"), ("since", "2026-12-01T10:00:00.Z", "a UTC date"),
        ("task", String(repeating: "x", count: 300), "a task ref"), ("task", "a\nb", "a task ref"),
        ("agent", String(repeating: "a", count: 5000), "at most 1000 bytes"),
    ])
    func refuses(parameter: String, value: String, expected: String) {
        do {
            _ = try RunQuery(parameters: [parameter: value])
            Issue.record("\(parameter)=\(value) was accepted")
        } catch {
            #expect(error.parameter == parameter)
            #expect(error.expected.hasPrefix(expected))
            #expect(error.description.hasPrefix("\(parameter) must be "))
            #expect(error.description.count < 400)
        }
    }

    @Test("the metrics view holds the numbers of the stored runs, rounded, with Wilson intervals")
    func view() throws {
        let store = try Self.store("view")
        var specs: [SyntheticRuns.Spec] = []
        for i in 0..<10 {
            var s = SyntheticRuns.Spec()
            s.seed = i % 5
            s.success = i < 7
            if !s.success { s.failureType = "logic_failure"; s.terminationReason = "validator_failed" }
            s.steps = i + 1
            s.wallMicroseconds = Int64(i + 1) * 100_000
            specs.append(s)
        }
        try SyntheticRuns.fill(store, count: specs.count) { specs[$0] }
        let metrics = try RunMetrics.compute(store)
        let json = metrics.json
        #expect(json["view"] == "rigor.run_metrics/1")
        #expect(json["runs"] == 10 && json["passed"] == 7 && json["failed"] == 3)
        #expect(json["pass_rate"] == .double(0.7))
        let ci = Statistics.wilson(successes: 7, trials: 10)
        #expect(json["wilson_95"] == [.double((ci.low * 1e4).rounded() / 1e4), .double((ci.high * 1e4).rounded() / 1e4)])
        #expect(json["steps"] == ["count": 10, "p50": 5, "p95": 10, "max": 10])
        #expect(json["wall_s"]?["p50"] == .double(0.5))
        #expect(json["failures"]?["by_type"] == ["logic_failure": 3])
        // Seeds 0..4 ran twice each (runs i and i + 5), with other steps each time: no repeat
        // reproduced.
        #expect(json["reproducibility"]?["repeated"] == 5)
        #expect(json["reproducibility"]?["reproducible"] == 0)
        #expect(json["reproducibility"]?["rate"] == .double(0))
        #expect(json["trend"]?.arrayValue?.count == 1)
        #expect(json["pairings"]?.arrayValue?.count == 1)
        // The same store gives the same bytes (what the server serves and a client may cache).
        #expect(try json.canonicalBytes(style: .jcs) == (try RunMetrics.compute(store).json.canonicalBytes(style: .jcs)))
    }

    @Test("agent-controlled refs come back as data, and an empty selection is a view with nulls, not an error")
    func hostileAndEmpty() throws {
        let store = try Self.store("hostile")
        var s = SyntheticRuns.Spec()
        s.agent = "</script><img src=x onerror=alert(1)>\u{1b}[31m\"\\"
        s.task = "task_a@1"
        try SyntheticRuns.fill(store, count: 3) { _ in s }
        let json = try RunMetrics.compute(store).json
        #expect(json["pairings"]?.arrayValue?.first?["agent_ref"] == .string(s.agent))
        let none = try RunMetrics.compute(store, query: try RunQuery(parameters: ["task": "none@1"])).json
        #expect(none["runs"] == 0 && none["pass_rate"] == .null && none["wilson_95"] == .null)
        #expect(none["reproducibility"]?["rate"] == .null)
        #expect(none["filter"] == ["task": "none@1"])
    }
}

@Suite("runs page request")
struct RunPageRequestTests {
    @Test("limit, cursor and offset parse; out of range or together they are refused", arguments: [
        (["limit": "0"], "limit"), (["limit": "1001"], "limit"), (["limit": "ten"], "limit"), (["cursor": "-1"], "cursor"),
        (["offset": "99999999999"], "offset"), (["cursor": "5", "offset": "10"], "offset"), (["cursor": "1e3"], "cursor"),
    ])
    func refused(parameters: [String: String], parameter: String) {
        #expect(throws: RunQuery.Problem.self) { try RunPageRequest(parameters: parameters) }
        do { _ = try RunPageRequest(parameters: parameters) } catch { #expect(error.parameter == parameter) }
    }

    @Test("the view pages through every run once")
    func pages() throws {
        let store = try RunMetricsTests.store("page-request")
        try SyntheticRuns.fill(store, count: 7) { _ in SyntheticRuns.Spec() }
        #expect(try RunPageRequest(parameters: [:]) == RunPageRequest())
        var cursor: String? = nil
        var seen = 0
        for _ in 0..<5 {
            var parameters = ["limit": "3"]
            parameters["cursor"] = cursor
            let view = try RunPageRequest(parameters: parameters).view(store, query: RunQuery())
            #expect(view["total"] == 7)
            seen += view["runs"]?.arrayValue?.count ?? 0
            guard let next = view["next_cursor"]?.intValue else { break }
            cursor = String(next)
        }
        #expect(seen == 7)
    }
}
