/// Which runs a listing returns. Every criterion that is set must hold; an empty filter matches
/// every run. Each criterion is answered from an index on its column (whose entries end with the
/// rowid, `ledger_seq`), so a listing reads only the rows it returns (the agent substring match
/// scans newest-first until `limit`). Texts are matched in `names`, where each is stored once.
public struct RunFilter: Sendable, Equatable {
    /// How to match `agent_ref`.
    public enum AgentMatch: Sendable, Equatable {
        /// The whole reference, exactly.
        case exact(String)
        /// Any reference containing this text (case-sensitive).
        case contains(String)
    }

    public enum Outcome: String, Sendable, Equatable, CaseIterable {
        case success
        case failure
    }

    public var agent: AgentMatch?
    /// A task reference such as `filesystem_hidden_config@1`, matched exactly.
    public var taskRef: String?
    public var outcome: Outcome?
    /// A `failure_type` such as `budget_exhausted`, matched exactly.
    public var failureType: String?
    /// The episode's seed, exactly.
    public var seed: Int?
    /// Only runs whose time (`RunFilter.timeSQL`: when the episode started, else when this store
    /// recorded it) is at or after this instant, in microseconds since 1970-01-01 UTC.
    public var since: Int64?
    /// Only runs whose time is before this instant (exclusive), in microseconds since 1970.
    public var until: Int64?

    public init(agent: AgentMatch? = nil, taskRef: String? = nil, outcome: Outcome? = nil, failureType: String? = nil,
                seed: Int? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.agent = agent
        self.taskRef = taskRef
        self.outcome = outcome
        self.failureType = failureType
        self.seed = seed
        self.since = since
        self.until = until
    }

    /// A run's time, as metrics and time filters see it: `started_at` in microseconds since 1970
    /// when it has Rigor's (and TraceCore's) shape, else `recorded_at` (which the store always
    /// writes in that shape). NULL only for a run with neither, which no time range matches.
    static let timeSQL = """
        COALESCE(CASE WHEN typeof(r.started_at) = 'integer' THEN r.started_at END, \
        CASE WHEN typeof(r.recorded_at) = 'integer' THEN r.recorded_at END)
        """

    /// The WHERE clause (empty or starting with " WHERE ") and its arguments.
    func sql() -> (clause: String, arguments: [SQLValue]) {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        switch agent {
        case .exact(let ref)?:
            conditions.append("r.agent_ref = (SELECT id FROM names WHERE value = ?)")
            arguments.append(.text(ref))
        case .contains(let text)?:
            // instr, not LIKE: case-sensitive and no wildcard characters to escape. The unary +
            // keeps the planner off runs_by_agent: walking the runs newest first and stopping at
            // `limit` reads fewer rows than collecting every match of every matching agent.
            conditions.append("+r.agent_ref IN (SELECT id FROM names WHERE instr(value, ?) > 0)")
            arguments.append(.text(text))
        case nil: break
        }
        if let taskRef {
            conditions.append("r.task_ref = (SELECT id FROM names WHERE value = ?)")
            arguments.append(.text(taskRef))
        }
        if let outcome {
            conditions.append("r.success = ?")
            arguments.append(.integer(outcome == .success ? 1 : 0))
        }
        if let failureType {
            conditions.append("r.failure_type = (SELECT id FROM names WHERE value = ?)")
            arguments.append(.text(failureType))
        }
        if let seed {
            conditions.append("r.seed = ?")
            arguments.append(.integer(Int64(seed)))
        }
        if let since {
            conditions.append("\(Self.timeSQL) >= ?")
            arguments.append(.integer(since))
        }
        if let until {
            conditions.append("\(Self.timeSQL) < ?")
            arguments.append(.integer(until))
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), arguments)
    }
}
