import RigorSpec
import RigorStore

/// Metrics over the stored runs a query selects: pass rate per pairing with 95% Wilson
/// intervals, P50/P95 of steps, tool calls and wall time, the failure taxonomy, the
/// reproducibility rate and the trend per day. `rigor runs metrics` prints it, the web UI's
/// `/api/metrics` serves `json` as it is (spec/views.md), so both show the same numbers.
///
/// Everything is aggregated by SQLite over the runs index (`RunStore.aggregates`): no artifact
/// is read, so the cost grows with the number of matching index rows only.
public struct RunMetrics: Sendable, Equatable {
    /// The view's name and version in `json`; a change of meaning is a new version.
    public static let view = "rigor.run_metrics/1"

    public let query: RunQuery
    public let aggregates: RunAggregates

    public init(query: RunQuery, aggregates: RunAggregates) {
        self.query = query
        self.aggregates = aggregates
    }

    /// The metrics of the runs `query` selects in `store`.
    public static func compute(_ store: RunStore, query: RunQuery = RunQuery()) throws(RunnerError) -> RunMetrics {
        do { return RunMetrics(query: query, aggregates: try store.aggregates(filter: query.filter)) } catch { throw .store(error) }
    }

    /// Runs that failed (success false), as opposed to runs whose outcome is unknown.
    public var failed: Int { aggregates.runs - aggregates.passed - aggregates.unknownOutcome }

    /// passed / runs with a known outcome; nil when there is none.
    public static func rate(passed: Int, of total: Int) -> Double? { total > 0 ? Double(passed) / Double(total) : nil }

    /// The reproducibility rate: groups (agent, task, seed) run more than once whose artifact
    /// hash always agreed, over all such groups; nil when no group ran twice.
    public var reproducibilityRate: Double? {
        Self.rate(passed: aggregates.reproducibleGroups, of: aggregates.repeatedGroups)
    }

    /// Failed runs per failure_type ("none" for failed runs without one).
    public var failuresByType: JSON {
        var counts: [String: Int] = [:]
        for f in aggregates.failures { counts[f.failureType ?? "none", default: 0] += f.count }
        return .object(counts.mapValues(JSON.int))
    }

    // MARK: JSON

    static func rounded(_ x: Double, _ places: Double = 1e4) -> JSON { .double((x * places).rounded() / places) }

    static func rateJSON(passed: Int, of total: Int) -> (rate: JSON, wilson: JSON) {
        guard let rate = rate(passed: passed, of: total) else { return (.null, .null) }
        let ci = Statistics.wilson(successes: passed, trials: total)
        return (rounded(rate), [rounded(ci.low), rounded(ci.high)])
    }

    static func json(_ p: RunAggregates.Percentiles, scale: Double? = nil) -> JSON {
        func value(_ v: Int?) -> JSON {
            guard let v else { return .null }
            guard let scale else { return .int(v) }
            return rounded(Double(v) / scale, 1e3)
        }
        return ["count": .int(p.count), "p50": value(p.p50), "p95": value(p.p95), "max": value(p.max)]
    }

    /// The view `runs metrics --json` prints and `/api/metrics` serves (spec/views.md).
    public var json: JSON {
        let a = aggregates
        let overall = Self.rateJSON(passed: a.passed, of: a.runs - a.unknownOutcome)
        return [
            "view": .string(Self.view),
            "filter": query.json,
            "runs": .int(a.runs), "passed": .int(a.passed), "failed": .int(failed), "unknown_outcome": .int(a.unknownOutcome),
            "pass_rate": overall.rate, "wilson_95": overall.wilson,
            "steps": Self.json(a.steps), "tool_calls": Self.json(a.toolCalls), "wall_s": Self.json(a.wallMicroseconds, scale: 1e6),
            "pairings": .array(a.pairings.map { p in
                let r = Self.rateJSON(passed: p.passed, of: p.runs)
                return ["agent_ref": p.agentRef.map(JSON.string) ?? .null, "task_ref": p.taskRef.map(JSON.string) ?? .null,
                        "runs": .int(p.runs), "passed": .int(p.passed), "pass_rate": r.rate, "wilson_95": r.wilson,
                        "steps": Self.json(p.steps), "tool_calls": Self.json(p.toolCalls), "wall_s": Self.json(p.wallMicroseconds, scale: 1e6)]
            }),
            "failures": [
                "by_type": failuresByType,
                "by_reason": .array(a.failures.map { f in
                    ["failure_type": f.failureType.map(JSON.string) ?? .null,
                     "termination_reason": f.terminationReason.map(JSON.string) ?? .null, "count": .int(f.count)]
                }),
            ],
            "reproducibility": ["repeated": .int(a.repeatedGroups), "reproducible": .int(a.reproducibleGroups),
                                "rate": reproducibilityRate.map { Self.rounded($0) } ?? .null],
            "trend": .array(a.days.map { d in
                ["day": .string(d.day), "runs": .int(d.runs), "passed": .int(d.passed),
                 "pass_rate": Self.rate(passed: d.passed, of: d.runs).map { Self.rounded($0) } ?? .null]
            }),
            "runs_without_time": .int(a.runsWithoutTime),
        ]
    }

    /// The headline of the metrics plus the store's own counts: the view `runs summary --json`
    /// prints and `/api/summary` serves.
    public func summaryJSON(statistics: StoreStatistics) -> JSON {
        let a = aggregates
        let overall = Self.rateJSON(passed: a.passed, of: a.runs - a.unknownOutcome)
        return [
            "view": .string("rigor.run_summary/1"),
            "filter": query.json,
            "runs": .int(a.runs), "passed": .int(a.passed), "failed": .int(failed), "unknown_outcome": .int(a.unknownOutcome),
            "pass_rate": overall.rate, "wilson_95": overall.wilson,
            "pairings": .int(a.pairings.count),
            "agents": .int(Set(a.pairings.map { $0.agentRef ?? "" }).count),
            "tasks": .int(Set(a.pairings.map { $0.taskRef ?? "" }).count),
            "failures_by_type": failuresByType,
            "reproducibility_rate": reproducibilityRate.map { Self.rounded($0) } ?? .null,
            "first_day": a.days.first.map { .string($0.day) } ?? .null,
            "last_day": a.days.last.map { .string($0.day) } ?? .null,
            "store": ["runs": .int(statistics.runs), "blobs": .int(statistics.blobs), "ledger_entries": .int(statistics.ledgerEntries),
                      "database_bytes": .int(statistics.databaseBytes)],
        ]
    }
}

/// The JSON view of one page of the runs list: what `rigor runs list --json --page` prints
/// and `/api/runs` serves.
public enum RunPageView {
    public static let view = "rigor.runs_page/1"

    public static func json(_ page: RunPage, query: RunQuery, limit: Int, offset: Int, cursor: Int?) -> JSON {
        ["view": .string(view), "filter": query.json, "total": .int(page.total), "limit": .int(limit),
         "offset": .int(cursor == nil ? offset : 0), "cursor": cursor.map(JSON.int) ?? .null,
         "next_cursor": page.nextCursor.map(JSON.int) ?? .null,
         "runs": .array(page.runs.map { r in
             guard case .object(var row) = r.json else { return r.json }
             row["ledger_seq"] = .int(r.ledgerSeq)
             return .object(row)
         })]
    }
}
