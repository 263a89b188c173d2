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
                a.pairings = try Self.pairings(c, clause, arguments)
                try Self.percentiles(c, clause, arguments, into: &a)
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

    private static func pairings(_ c: Connection, _ clause: String, _ arguments: [SQLValue]) throws(StoreError) -> [RunAggregates.Pairing] {
        // Grouped by the interned ids (an index walk), named afterwards.
        try c.query("""
            SELECT (SELECT value FROM names WHERE id = g.agent_ref) AS agent, (SELECT value FROM names WHERE id = g.task_ref) AS task, \
            g.n, g.passed FROM (SELECT r.agent_ref, r.task_ref, COUNT(*) AS n, COALESCE(SUM(r.success = 1), 0) AS passed \
            FROM runs r\(clause) GROUP BY r.agent_ref, r.task_ref) g ORDER BY agent, task
            """, arguments) { RunAggregates.Pairing(agentRef: $0.text(0), taskRef: $0.text(1), runs: $0.int(2) ?? 0, passed: $0.int(3) ?? 0) }
    }

    /// The measures whose percentiles are taken, as SQL over `runs r`.
    private static let measures = [
        "r.steps_used", "r.tool_calls_used",
        "CASE WHEN typeof(r.started_at) = 'integer' AND typeof(r.completed_at) = 'integer' THEN r.completed_at - r.started_at END",
    ]

    /// Nearest-rank P50 and P95 (the value at rank ceil(p·n)) of each measure, per pairing and
    /// overall, by window functions: one sort per measure and grouping, no rows leave SQLite.
    private static func percentiles(_ c: Connection, _ clause: String, _ arguments: [SQLValue], into a: inout RunAggregates) throws(StoreError) {
        var index: [String: Int] = [:]
        for (i, p) in a.pairings.enumerated() { index["\(p.agentRef ?? "\u{0}")\u{1}\(p.taskRef ?? "\u{0}")"] = i }
        for (m, measure) in measures.enumerated() {
            for perPairing in [false, true] {
                let partition = perPairing ? "PARTITION BY r.agent_ref, r.task_ref" : ""
                let rows = try c.query("""
                    SELECT \(perPairing ? "(SELECT value FROM names WHERE id = o.agent_ref), (SELECT value FROM names WHERE id = o.task_ref)" : "NULL, NULL"), \
                    o.n, MIN(CASE WHEN o.rank = (o.n * 50 + 99) / 100 THEN o.v END), \
                    MIN(CASE WHEN o.rank = (o.n * 95 + 99) / 100 THEN o.v END), MAX(o.v) \
                    FROM (SELECT r.agent_ref, r.task_ref, (\(measure)) AS v, \
                          ROW_NUMBER() OVER (\(partition) ORDER BY (\(measure))) AS rank, COUNT(*) OVER (\(partition)) AS n \
                          FROM runs r\(and(clause, "(\(measure)) IS NOT NULL"))) o \
                    \(perPairing ? "GROUP BY o.agent_ref, o.task_ref" : "")
                    """, arguments) { row in
                    (agent: row.text(0), task: row.text(1),
                     value: RunAggregates.Percentiles(count: row.int(2) ?? 0, p50: row.int(3), p95: row.int(4), max: row.int(5)))
                }
                for row in rows {
                    guard row.value.count > 0 else { continue }
                    if !perPairing {
                        switch m {
                        case 0: a.steps = row.value
                        case 1: a.toolCalls = row.value
                        default: a.wallMicroseconds = row.value
                        }
                        continue
                    }
                    guard let i = index["\(row.agent ?? "\u{0}")\u{1}\(row.task ?? "\u{0}")"] else { continue }
                    switch m {
                    case 0: a.pairings[i].steps = row.value
                    case 1: a.pairings[i].toolCalls = row.value
                    default: a.pairings[i].wallMicroseconds = row.value
                    }
                }
            }
        }
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
