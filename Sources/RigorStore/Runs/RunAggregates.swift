import RigorSpec

/// Aggregates over the runs index that match a filter, computed by SQLite (never by reading
/// artifacts): counts per pairing, nearest-rank percentiles, failure taxonomy, reproducibility
/// and per-day counts. `RunMetrics` (RigorRunner) turns them into the metrics view.
///
/// A *pairing* here is what the index knows: (`agent_ref`, `task_ref`). Every number is taken
/// from one read transaction, so the parts agree with each other even while runs are recorded.
public struct RunAggregates: Sendable, Equatable {
    /// Nearest-rank percentiles of one measure (nil when no run has it).
    public struct Percentiles: Sendable, Equatable {
        /// How many runs had the measure.
        public var count: Int
        public var p50: Int?
        public var p95: Int?
        public var max: Int?

        public init(count: Int = 0, p50: Int? = nil, p95: Int? = nil, max: Int? = nil) {
            self.count = count
            self.p50 = p50
            self.p95 = p95
            self.max = max
        }
    }

    /// The runs of one pairing.
    public struct Pairing: Sendable, Equatable {
        public var agentRef: String?
        public var taskRef: String?
        public var runs: Int
        /// Runs whose `success` is true.
        public var passed: Int
        public var steps = Percentiles()
        public var toolCalls = Percentiles()
        /// Wall time in microseconds (`completed_at - started_at`).
        public var wallMicroseconds = Percentiles()
    }

    /// Failed runs by `failure_type` and `termination_reason`.
    public struct Failure: Sendable, Equatable {
        /// nil: a failed run without a failure_type (an imported artifact).
        public var failureType: String?
        public var terminationReason: String?
        public var count: Int
    }

    /// One calendar day (UTC) of run times.
    public struct Day: Sendable, Equatable {
        /// `YYYY-MM-DD`.
        public var day: String
        public var runs: Int
        public var passed: Int
    }

    public var runs = 0
    public var passed = 0
    /// Runs with no `success` at all (imported artifacts that lack it): neither passed nor failed.
    public var unknownOutcome = 0
    public var steps = Percentiles()
    public var toolCalls = Percentiles()
    public var wallMicroseconds = Percentiles()
    /// Sorted by agent, then task.
    public var pairings: [Pairing] = []
    /// Most frequent first.
    public var failures: [Failure] = []
    /// Groups of runs with the same agent (ref and hash), task (ref and hash) and seed that ran
    /// more than once; `reproducibleGroups` of them have one artifact_hash throughout.
    public var repeatedGroups = 0
    public var reproducibleGroups = 0
    /// Oldest first; days without runs are absent.
    public var days: [Day] = []
    /// Runs with no time (`RunFilter.timeSQL` is NULL): not in `days`.
    public var runsWithoutTime = 0

    public init() {}
}

extension RunStore {
    /// Every aggregate over the runs `filter` matches, in one read transaction.
    ///
    /// SQLite selects the runs (the filter's WHERE clause, on its indexes) and hands over the
    /// integer columns the aggregates need, in one scan; they are grouped here in hash maps.
    /// Measured on 100,000 runs (make bench), a GROUP BY per aggregate sorted the runs once
    /// each (pairings, reproducibility, days, percentiles) and took six times as long: SQLite
    /// has no index that orders the runs by those keys, and no percentile aggregate.
    public func aggregates(filter: RunFilter = RunFilter()) throws(StoreError) -> RunAggregates {
        let (clause, arguments) = filter.sql()
        return try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                var scan = AggregateScan()
                _ = try c.query("""
                    SELECT r.agent_ref, r.task_ref, r.success, r.failure_type, r.termination_reason, r.steps_used, \
                    r.tool_calls_used, CASE WHEN typeof(r.started_at) = 'integer' AND typeof(r.completed_at) = 'integer' \
                    THEN r.completed_at - r.started_at END, \(RunFilter.timeSQL), r.agent_hash, r.task_hash, r.seed, r.artifact_hash \
                    FROM runs r\(clause)
                    """, arguments) { row in scan.add(row) }
                return try scan.result { (id) throws(StoreError) in
                    try c.first("SELECT value FROM names WHERE id = ?", [.integer(Int64(id))]) { $0.text(0) } ?? nil
                }
            }
        }
    }

    /// `clause` (empty or " WHERE ...") with one more condition.
    static func and(_ clause: String, _ condition: String) -> String {
        clause.isEmpty ? " WHERE \(condition)" : clause + " AND \(condition)"
    }
}

/// The running sums of `RunStore.aggregates`, fed one row at a time. Texts are kept as their
/// interned ids (`names`) and named once at the end.
struct AggregateScan {
    struct PairingKey: Hashable {
        let agent: Int?
        let task: Int?
    }

    struct GroupKey: Hashable {
        let pairing: PairingKey
        let agentHash: Int?
        let taskHash: Int?
        let seed: Int
    }

    /// One (agent, task, seed) group: how many runs, and whether they all had one hash.
    struct Group {
        var runs = 0
        var hash: [UInt8]?
        var agrees = true
    }

    struct Measures {
        var runs = 0
        var passed = 0
        var steps: [Int] = []
        var tools: [Int] = []
        var wall: [Int] = []
    }

    struct FailureKey: Hashable {
        let type: Int?
        let reason: Int?
    }

    static let microsPerDay = 86_400_000_000

    var totals = Measures()
    var unknownOutcome = 0
    var withoutTime = 0
    var pairings: [PairingKey: Measures] = [:]
    var failures: [FailureKey: Int] = [:]
    var groups: [GroupKey: Group] = [:]
    var days: [Int: (runs: Int, passed: Int)] = [:]

    mutating func add(_ row: Row) {
        let key = PairingKey(agent: row.int(0), task: row.int(1))
        let success = row.bool(2)
        totals.runs += 1
        if success == true { totals.passed += 1 }
        if success == nil { unknownOutcome += 1 }
        if success == false { failures[FailureKey(type: row.int(3), reason: row.int(4)), default: 0] += 1 }
        // Mutated in place: a copy taken out of the dictionary would copy its arrays on append.
        let steps = row.int(5), tools = row.int(6), wall = row.int(7)
        modify(&pairings[key, default: Measures()]) { m in
            m.runs += 1
            if success == true { m.passed += 1 }
            if let steps { m.steps.append(steps) }
            if let tools { m.tools.append(tools) }
            if let wall { m.wall.append(wall) }
        }
        if let t = row.int(8) {
            // Floor division: a time before 1970 belongs to the day it falls in.
            let day = t >= 0 ? t / Self.microsPerDay : (t - (Self.microsPerDay - 1)) / Self.microsPerDay
            let d = days[day] ?? (0, 0)
            days[day] = (d.runs + 1, d.passed + (success == true ? 1 : 0))
        } else {
            withoutTime += 1
        }
        if let seed = row.int(11) {
            let groupKey = GroupKey(pairing: key, agentHash: row.int(9), taskHash: row.int(10), seed: seed)
            let hash: [UInt8]? = row.isNull(12) ? nil : row.bytes(12)
            modify(&groups[groupKey, default: Group()]) { g in
                if g.runs == 0 { g.hash = hash } else if hash != g.hash { g.agrees = false }
                if hash == nil { g.agrees = false }
                g.runs += 1
            }
        }
    }

    private func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    static func percentiles(_ values: [Int]) -> RunAggregates.Percentiles {
        guard !values.isEmpty else { return RunAggregates.Percentiles() }
        let sorted = values.sorted()
        let n = sorted.count
        return RunAggregates.Percentiles(count: n, p50: sorted[(n * 50 + 99) / 100 - 1], p95: sorted[(n * 95 + 99) / 100 - 1], max: sorted[n - 1])
    }

    /// The aggregates, with interned ids named by `name`.
    func result(name: (Int) throws(StoreError) -> String?) throws(StoreError) -> RunAggregates {
        var a = RunAggregates()
        a.runs = totals.runs
        a.passed = totals.passed
        a.unknownOutcome = unknownOutcome
        a.runsWithoutTime = withoutTime
        guard a.runs > 0 else { return a }
        var names: [Int: String] = [:]
        func named(_ id: Int?) throws(StoreError) -> String? {
            guard let id else { return nil }
            if let known = names[id] { return known }
            let value = try name(id)
            names[id] = value
            return value
        }
        var all = (steps: [Int](), tools: [Int](), wall: [Int]())
        for (key, m) in pairings {
            all.steps += m.steps
            all.tools += m.tools
            all.wall += m.wall
            a.pairings.append(RunAggregates.Pairing(
                agentRef: try named(key.agent), taskRef: try named(key.task), runs: m.runs, passed: m.passed,
                steps: Self.percentiles(m.steps), toolCalls: Self.percentiles(m.tools), wallMicroseconds: Self.percentiles(m.wall)))
        }
        a.pairings.sort { ($0.agentRef ?? "", $0.taskRef ?? "") < ($1.agentRef ?? "", $1.taskRef ?? "") }
        a.steps = Self.percentiles(all.steps)
        a.toolCalls = Self.percentiles(all.tools)
        a.wallMicroseconds = Self.percentiles(all.wall)
        for (key, count) in failures {
            a.failures.append(RunAggregates.Failure(failureType: try named(key.type), terminationReason: try named(key.reason), count: count))
        }
        a.failures.sort { ($1.count, $0.failureType ?? "", $0.terminationReason ?? "") < ($0.count, $1.failureType ?? "", $1.terminationReason ?? "") }
        for g in groups.values where g.runs > 1 {
            a.repeatedGroups += 1
            if g.agrees { a.reproducibleGroups += 1 }
        }
        a.days = days.keys.sorted().map { day in
            let d = days[day] ?? (0, 0)
            return RunAggregates.Day(day: String(ColumnEncoding.rfc3339(microseconds: Int64(day) * Int64(Self.microsPerDay)).prefix(10)),
                                     runs: d.runs, passed: d.passed)
        }
        return a
    }
}
