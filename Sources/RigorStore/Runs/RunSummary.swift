import RigorSpec

/// One row of the runs index: what `rigor runs` lists without reading any artifact.
///
/// Fields the artifact did not carry are nil (TraceCore's artifacts have no `agent_hash`, an
/// imported artifact may lack anything but being an object). `recordedAt` is when this store
/// recorded the run; `ledgerSeq` is the sequence number of its "run" ledger entry, which orders
/// runs by recording (newest first in listings).
public struct RunSummary: Sendable, Equatable {
    public var runID: String
    public var ledgerSeq: Int
    public var traceID: String?
    public var agentRef: String?
    public var agentHash: String?
    public var taskRef: String?
    public var taskHash: String?
    public var seed: Int?
    public var success: Bool?
    public var failureType: String?
    public var terminationReason: String?
    public var stepsUsed: Int?
    public var toolCallsUsed: Int?
    public var budgetSteps: Int?
    public var budgetToolCalls: Int?
    public var budgetWallClockSeconds: Int?
    public var artifactHash: String?
    public var runtimeName: String?
    public var specVersion: String?
    public var startedAt: String?
    public var completedAt: String?
    public var recordedAt: String
    /// Hex SHA-256 of the stable part's JCS bytes: the address of its blob.
    public var contentSHA256: String
}

extension RunSummary {
    /// A row with only its identity: what a store reading its own columns fills in.
    package init(runID: String, ledgerSeq: Int, contentSHA256: String, recordedAt: String) {
        self.init(indexing: .object([:]), runID: runID, contentSHA256: contentSHA256, recordedAt: recordedAt)
        self.ledgerSeq = ledgerSeq
    }

    /// The index columns as they come from an artifact. `runID` is given separately because an
    /// imported artifact may have none of its own.
    init(indexing artifact: JSON, runID: String, contentSHA256: String, recordedAt: String) {
        func string(_ key: String) -> String? { artifact[key]?.stringValue }
        self.runID = runID
        self.ledgerSeq = 0
        traceID = string("trace_id")
        // TraceCore writes both `agent` and `agent_ref`; older artifacts only `agent`.
        agentRef = string("agent_ref") ?? string("agent")
        agentHash = string("agent_hash")
        taskRef = string("task_ref") ?? {
            guard let id = string("task_id"), let version = artifact["version"]?.intValue else { return nil }
            return "\(id)@\(version)"
        }()
        taskHash = string("task_hash")
        seed = artifact["seed"]?.intValue
        success = artifact["success"]?.boolValue
        failureType = string("failure_type")
        terminationReason = string("termination_reason")
        stepsUsed = artifact["steps_used"]?.intValue
        toolCallsUsed = artifact["tool_calls_used"]?.intValue
        budgetSteps = artifact["budgets"]?["steps"]?.intValue
        budgetToolCalls = artifact["budgets"]?["tool_calls"]?.intValue
        budgetWallClockSeconds = artifact["budgets"]?["wall_clock_seconds"]?.intValue
        artifactHash = string("artifact_hash")
        runtimeName = artifact["runtime_identity"]?["name"]?.stringValue
        specVersion = string("spec_version")
        startedAt = string("started_at")
        completedAt = string("completed_at")
        self.recordedAt = recordedAt
        self.contentSHA256 = contentSHA256
    }

    /// The summary's columns, in `init(row:)`'s order, for `SELECT \(selectColumns) FROM runs r`:
    /// interned texts are looked up in `names` and the content address in `blobs`.
    static let selectColumns = """
        r.run_id, r.ledger_seq, r.trace_id, \(name("agent_ref")), \(name("agent_hash")), \(name("task_ref")), \
        \(name("task_hash")), r.seed, r.success, \(name("failure_type")), \(name("termination_reason")), \
        r.steps_used, r.tool_calls_used, r.budget_steps, r.budget_tool_calls, r.budget_wall_clock, r.artifact_hash, \
        \(name("runtime_name")), \(name("spec_version")), r.started_at, r.completed_at, r.recorded_at, \
        (SELECT sha256 FROM blobs WHERE id = r.blob)
        """

    /// Columns after `selectColumns` start at this index.
    static let columnCount: Int32 = 23

    private static func name(_ column: String) -> String { "(SELECT value FROM names WHERE id = r.\(column))" }

    init(row: Row) {
        runID = row.text(0) ?? ""
        ledgerSeq = row.int(1) ?? 0
        traceID = row.text(2)
        agentRef = row.text(3)
        agentHash = row.text(4)
        taskRef = row.text(5)
        taskHash = row.text(6)
        seed = row.int(7)
        success = row.bool(8)
        failureType = row.text(9)
        terminationReason = row.text(10)
        stepsUsed = row.int(11)
        toolCallsUsed = row.int(12)
        budgetSteps = row.int(13)
        budgetToolCalls = row.int(14)
        budgetWallClockSeconds = row.int(15)
        artifactHash = ColumnEncoding.prefixedHash(row, 16)
        runtimeName = row.text(17)
        specVersion = row.text(18)
        startedAt = ColumnEncoding.timestamp(row, 19)
        completedAt = ColumnEncoding.timestamp(row, 20)
        recordedAt = ColumnEncoding.timestamp(row, 21) ?? ""
        contentSHA256 = row.isBlob(22) ? ColumnEncoding.hex(row.bytes(22)) : row.text(22) ?? ""
    }

    /// Inserts the run's row, pointing at blob `blob`, inside the caller's write transaction.
    func insert(blob: Int64, volatile: [UInt8], _ c: Connection, names: inout Names) throws(StoreError) {
        let values: [SQLValue] = [
            .integer(Int64(ledgerSeq)), .text(runID), .integer(blob), SQLValue(traceID),
            try names.id(agentRef, c), try names.id(agentHash, c), try names.id(taskRef, c), try names.id(taskHash, c),
            SQLValue(seed), SQLValue(success), try names.id(failureType, c), try names.id(terminationReason, c),
            SQLValue(stepsUsed), SQLValue(toolCallsUsed), SQLValue(budgetSteps), SQLValue(budgetToolCalls),
            SQLValue(budgetWallClockSeconds), ColumnEncoding.prefixedHash(artifactHash),
            try names.id(runtimeName, c), try names.id(specVersion, c), ColumnEncoding.timestamp(startedAt),
            ColumnEncoding.timestamp(completedAt), ColumnEncoding.timestamp(recordedAt), .blob(volatile),
        ]
        try c.run("""
            INSERT INTO runs (ledger_seq, run_id, blob, trace_id, agent_ref, agent_hash, task_ref, task_hash, seed, \
            success, failure_type, termination_reason, steps_used, tool_calls_used, budget_steps, budget_tool_calls, \
            budget_wall_clock, artifact_hash, runtime_name, spec_version, started_at, completed_at, recorded_at, volatile) \
            VALUES (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))
            """, values)
    }

    /// The payload of the run's ledger entry: what the ledger vouches for about the run.
    var ledgerPayload: JSON {
        [
            "run_id": .string(runID),
            "artifact_hash": artifactHash.map(JSON.string) ?? .null,
            "task_ref": taskRef.map(JSON.string) ?? .null,
            "agent_ref": agentRef.map(JSON.string) ?? .null,
            "seed": seed.map(JSON.int) ?? .null,
            "success": success.map(JSON.bool) ?? .null,
        ]
    }

    /// The index columns whose value differs from what `other` (the same run, indexed afresh from
    /// its artifact) holds: column name, this row's value, the artifact's value.
    func columnsDiffering(from other: RunSummary) -> [(column: String, indexed: String, artifact: String)] {
        func text(_ v: (any CustomStringConvertible)?) -> String { v.map { String(reflecting: $0) } ?? "null" }
        let pairs: [(String, (any CustomStringConvertible)?, (any CustomStringConvertible)?)] = [
            ("trace_id", traceID, other.traceID), ("agent_ref", agentRef, other.agentRef), ("agent_hash", agentHash, other.agentHash),
            ("task_ref", taskRef, other.taskRef), ("task_hash", taskHash, other.taskHash), ("seed", seed, other.seed),
            ("success", success, other.success), ("failure_type", failureType, other.failureType),
            ("termination_reason", terminationReason, other.terminationReason), ("steps_used", stepsUsed, other.stepsUsed),
            ("tool_calls_used", toolCallsUsed, other.toolCallsUsed), ("budget_steps", budgetSteps, other.budgetSteps),
            ("budget_tool_calls", budgetToolCalls, other.budgetToolCalls),
            ("budget_wall_clock", budgetWallClockSeconds, other.budgetWallClockSeconds), ("artifact_hash", artifactHash, other.artifactHash),
            ("runtime_name", runtimeName, other.runtimeName), ("spec_version", specVersion, other.specVersion),
            ("started_at", startedAt, other.startedAt), ("completed_at", completedAt, other.completedAt),
        ]
        return pairs.compactMap { column, mine, theirs in
            let a = text(mine), b = text(theirs)
            return a == b ? nil : (column, a, b)
        }
    }

    /// The volatile fields this row holds itself, which a volatile part may leave out
    /// (`ArtifactSplit.rowKeys`).
    var rowFields: [String: String] {
        var fields = ["run_id": runID]
        fields["trace_id"] = traceID
        fields["started_at"] = startedAt
        fields["completed_at"] = completedAt
        fields["artifact_hash"] = artifactHash
        return fields
    }
}

/// What `RunStore.record` did with an artifact.
public struct StoredRun: Sendable, Equatable {
    public var summary: RunSummary
    /// False when the same run was already stored and recording it again changed nothing.
    public var inserted: Bool
    /// True when the stable part was new to the store (false for a replay of a stored episode).
    public var addedBlob: Bool

    public var runID: String { summary.runID }

    package init(summary: RunSummary, inserted: Bool, addedBlob: Bool) {
        self.summary = summary
        self.inserted = inserted
        self.addedBlob = addedBlob
    }
}
