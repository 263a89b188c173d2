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
    public func aggregates(filter: RunFilter = RunFilter()) throws(StoreError) -> RunAggregates {
        let (clause, arguments) = filter.sql()
        return try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                var a = RunAggregates()
                try Self.totals(c, clause, arguments, into: &a)
                if a.runs == 0 { return a }
                let pairings = try Self.pairings(c, clause, arguments)
                a.pairings = pairings.map(\.pairing)
                try Self.percentiles(c, clause, arguments, keys: pairings.map(\.ids), into: &a)
                a.failures = try c.query("""
                    SELECT (SELECT value FROM names WHERE id = r.failure_type), \
                    (SELECT value FROM names WHERE id = r.termination_reason), COUNT(*) AS n \
                    FROM runs r\(Self.and(clause, "r.success = 0")) \
                    GROUP BY r.failure_type, r.termination_reason ORDER BY n DESC, 1, 2
                    """, arguments) { RunAggregates.Failure(failureType: $0.text(0), terminationReason: $0.text(1), count: $0.int(2) ?? 0) }
                try Self.reproducibility(c, clause, arguments, into: &a)
                try Self.days(c, clause, arguments, into: &a)
                return a
            }
        }
    }

    /// `clause` (empty or " WHERE ...") with one more condition.
    static func and(_ clause: String, _ condition: String) -> String {
        clause.isEmpty ? " WHERE \(condition)" : clause + " AND \(condition)"
    }

    private static func totals(_ c: Connection, _ clause: String, _ arguments: [SQLValue], into a: inout RunAggregates) throws(StoreError) {
        let row = try c.first("""
            SELECT COUNT(*), COALESCE(SUM(r.success = 1), 0), COALESCE(SUM(r.success IS NULL), 0), \
            COALESCE(SUM((\(RunFilter.timeSQL)) IS NULL), 0) FROM runs r\(clause)
            """, arguments) { ($0.int(0) ?? 0, $0.int(1) ?? 0, $0.int(2) ?? 0, $0.int(3) ?? 0) }
        (a.runs, a.passed, a.unknownOutcome, a.runsWithoutTime) = row ?? (0, 0, 0, 0)
    }

    /// The pairings, with the interned ids of their refs (the key `percentiles` groups by).
    private static func pairings(_ c: Connection, _ clause: String, _ arguments: [SQLValue]) throws(StoreError) -> [(ids: PairingKey, pairing: RunAggregates.Pairing)] {
        // Grouped by the interned ids, named afterwards.
        try c.query("""
            SELECT g.agent_ref, g.task_ref, (SELECT value FROM names WHERE id = g.agent_ref) AS agent, \
            (SELECT value FROM names WHERE id = g.task_ref) AS task, g.n, g.passed \
            FROM (SELECT r.agent_ref, r.task_ref, COUNT(*) AS n, COALESCE(SUM(r.success = 1), 0) AS passed \
            FROM runs r\(clause) GROUP BY r.agent_ref, r.task_ref) g ORDER BY agent, task
            """, arguments) { row in
            (PairingKey(agent: row.int(0), task: row.int(1)),
             RunAggregates.Pairing(agentRef: row.text(2), taskRef: row.text(3), runs: row.int(4) ?? 0, passed: row.int(5) ?? 0))
        }
    }

    struct PairingKey: Hashable {
        let agent: Int?
        let task: Int?
    }

    /// Nearest-rank P50 and P95 (the value at rank ceil(p·n)) of steps, tool calls and wall
    /// time, per pairing and overall. SQLite has no percentile aggregate, and window functions
    /// (one sort per measure and grouping) measured ten times slower than this: one scan of
    /// five integer columns, grouped and sorted here.
    private static func percentiles(_ c: Connection, _ clause: String, _ arguments: [SQLValue],
                                    keys: [PairingKey], into a: inout RunAggregates) throws(StoreError) {
        var index: [PairingKey: Int] = [:]
        for (i, key) in keys.enumerated() { index[key] = i }
        var steps = Array(repeating: [Int](), count: keys.count)
        var tools = steps
        var wall = steps
        _ = try c.query("""
            SELECT r.agent_ref, r.task_ref, r.steps_used, r.tool_calls_used, \
            CASE WHEN typeof(r.started_at) = 'integer' AND typeof(r.completed_at) = 'integer' THEN r.completed_at - r.started_at END \
            FROM runs r\(clause)
            """, arguments) { row in
            guard let i = index[PairingKey(agent: row.int(0), task: row.int(1))] else { return }
            if let v = row.int(2) { steps[i].append(v) }
            if let v = row.int(3) { tools[i].append(v) }
            if let v = row.int(4) { wall[i].append(v) }
        }
        func percentiles(_ values: inout [Int]) -> RunAggregates.Percentiles {
            guard !values.isEmpty else { return RunAggregates.Percentiles() }
            values.sort()
            let n = values.count
            return RunAggregates.Percentiles(count: n, p50: values[(n * 50 + 99) / 100 - 1], p95: values[(n * 95 + 99) / 100 - 1], max: values[n - 1])
        }
        var allSteps: [Int] = [], allTools: [Int] = [], allWall: [Int] = []
        for i in keys.indices {
            allSteps += steps[i]
            allTools += tools[i]
            allWall += wall[i]
            a.pairings[i].steps = percentiles(&steps[i])
            a.pairings[i].toolCalls = percentiles(&tools[i])
            a.pairings[i].wallMicroseconds = percentiles(&wall[i])
        }
        a.steps = percentiles(&allSteps)
        a.toolCalls = percentiles(&allTools)
        a.wallMicroseconds = percentiles(&allWall)
    }

    private static func reproducibility(_ c: Connection, _ clause: String, _ arguments: [SQLValue], into a: inout RunAggregates) throws(StoreError) {
        // A group is one agent (ref and hash: a changed agent is a new agent), one task (ref and
        // hash) and one seed; it counts when it ran more than once.
        let row = try c.first("""
            SELECT COUNT(*), COALESCE(SUM(g.hashes = 1 AND g.unhashed = 0), 0) FROM (\
            SELECT COUNT(DISTINCT r.artifact_hash) AS hashes, SUM(r.artifact_hash IS NULL) AS unhashed \
            FROM runs r\(and(clause, "r.seed IS NOT NULL")) \
            GROUP BY r.agent_ref, r.agent_hash, r.task_ref, r.task_hash, r.seed HAVING COUNT(*) > 1) g
            """, arguments) { ($0.int(0) ?? 0, $0.int(1) ?? 0) }
        (a.repeatedGroups, a.reproducibleGroups) = row ?? (0, 0)
    }

    private static func days(_ c: Connection, _ clause: String, _ arguments: [SQLValue], into a: inout RunAggregates) throws(StoreError) {
        let microsPerDay: Int64 = 86_400_000_000
        // Integer division floors toward zero; times before 1970 get their own (correct) floor.
        a.days = try c.query("""
            SELECT d.day, COUNT(*), COALESCE(SUM(d.success = 1), 0) FROM (\
            SELECT CASE WHEN t >= 0 THEN t / \(microsPerDay) ELSE (t - \(microsPerDay - 1)) / \(microsPerDay) END AS day, success \
            FROM (SELECT (\(RunFilter.timeSQL)) AS t, r.success FROM runs r\(clause)) WHERE t IS NOT NULL) d \
            GROUP BY d.day ORDER BY d.day
            """, arguments) { row in
            let day = Int64(row.int(0) ?? 0)
            return RunAggregates.Day(day: String(ColumnEncoding.rfc3339(microseconds: day * microsPerDay).prefix(10)),
                                     runs: row.int(1) ?? 0, passed: row.int(2) ?? 0)
        }
    }
}
