import Foundation
import RigorSpec
import RigorStore

/// The shared store for teams: the same runs index, content-addressed blobs, hash-chained
/// ledger and session as the embedded store (`RunStore`), in a PostgreSQL database that
/// several machines — CI runners, shards of a batch, a dashboard — read and write at once.
///
/// Runs are encoded exactly as the embedded store encodes them (`RunCodec`): a run has the same
/// content address, ledger payload and reassembled artifact in both. What differs is how
/// concurrent writers are kept in line: every transaction that appends to the ledger (recording
/// runs, `appendLedger`) or deletes blobs (`gc`) first takes one transaction-scoped advisory
/// lock (`PostgresSchema.ledgerLock`), then reads the head and inserts seq + 1. The lock
/// orders appenders; the primary key on `seq` makes a second entry at one seq impossible even
/// for a writer that skipped the lock; a transaction the server aborts for a concurrent writer
/// is retried. A writer killed mid-transaction leaves nothing: the server rolls its
/// transaction back, and every run committed before stays, with its entry. spec/store.md
/// ("The shared store") has the tables.
public final class PostgresRunStore: RunStorage, @unchecked Sendable {
    let connection: ServerConnection
    public let postgresLocation: PostgresLocation

    public var location: String { postgresLocation.description }

    private init(connection: ServerConnection) {
        self.connection = connection
        self.postgresLocation = connection.location
    }

    /// Connects to the store at `url` (`PostgresLocation`) and brings its schema up to date.
    /// With `create` false a database without a Rigor store is `emptyDatabase`; with `create`
    /// the tables are made. A database of a newer schema, or holding someone else's tables, is
    /// refused untouched.
    public static func open(url: String, create: Bool,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) -> PostgresRunStore {
        let location = try PostgresLocation(parsing: url, environment: environment)
        let connection = try ServerConnection.connect(location)
        try PostgresSchema.migrate(connection, create: create)
        return PostgresRunStore(connection: connection)
    }

    // MARK: recording

    @discardableResult
    public func record(contentsOf artifacts: [JSON], hashedBytes: [[UInt8]]?) throws(StoreError) -> [StoredRun] {
        var encoded: [RunCodec.Encoded] = []
        encoded.reserveCapacity(artifacts.count)
        for (i, artifact) in artifacts.enumerated() {
            let known = hashedBytes.flatMap { i < $0.count ? $0[i] : nil }
            encoded.append(try RunCodec.encode(artifact, hashedBytes: known))
        }
        return try store(encoded)
    }

    @discardableResult
    public func importArtifact(_ artifact: JSON) throws(StoreError) -> StoredRun {
        try store([try RunCodec.encodeImport(artifact)])[0]
    }

    @discardableResult
    public func appendLedger(kind: String, payload: JSON) throws(StoreError) -> LedgerEntry {
        // Checked before the transaction: a bad kind or payload is not worth a lock.
        _ = try Ledger.makeEntry(kind: kind, payload: payload, after: nil)
        return try connection.transaction { () throws(StoreError) in
            try lockLedger()
            var head = try ledgerHead()
            return try append(kind: kind, payload: payload, head: &head)
        }
    }

    private func store(_ runs: [RunCodec.Encoded]) throws(StoreError) -> [StoredRun] {
        let recordedAt = Timestamp.now().rfc3339
        return try connection.transaction { () throws(StoreError) in
            try lockLedger()
            var head = try ledgerHead()
            var stored: [StoredRun] = []
            stored.reserveCapacity(runs.count)
            for var run in runs {
                run.summary.recordedAt = recordedAt
                stored.append(try insert(run, head: &head))
            }
            if let latest = stored.last(where: \.inserted) {
                try connection.query(
                    "INSERT INTO session (key, value) VALUES ('latest_run', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [.text(latest.runID)])
            }
            return stored
        }
    }

    private func lockLedger() throws(StoreError) {
        try connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.ledgerLock))")
    }

    private func ledgerHead() throws(StoreError) -> (seq: Int, hash: String)? {
        guard let row = try connection.query("SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1").first else { return nil }
        return (seq: row.int(0) ?? 0, hash: row.text(1) ?? "")
    }

    private func append(kind: String, payload: JSON, head: inout (seq: Int, hash: String)?) throws(StoreError) -> LedgerEntry {
        let (entry, payloadBytes) = try Ledger.makeEntry(kind: kind, payload: payload, after: head)
        try connection.query(
            "INSERT INTO ledger (seq, kind, payload, prev_hash, entry_hash) VALUES ($1, $2, $3, $4, $5)",
            [.int(entry.seq), .text(kind), .text(String(decoding: payloadBytes, as: UTF8.self)), .text(entry.prevHash), .text(entry.entryHash)])
        head = (seq: entry.seq, hash: entry.entryHash)
        return entry
    }

    /// One run, inside the caller's locked transaction.
    private func insert(_ run: RunCodec.Encoded, head: inout (seq: Int, hash: String)?) throws(StoreError) -> StoredRun {
        let runID = run.summary.runID
        if let row = try connection.query("SELECT \(Self.summaryColumns), volatile FROM runs WHERE run_id = $1", [.text(runID)]).first {
            let summary = Self.summary(row)
            guard try RunCodec.isSameRun(run, stored: summary, storedVolatile: row.bytes(Self.summaryColumnCount)) else {
                throw .runConflict(runID: runID)
            }
            return StoredRun(summary: summary, inserted: false, addedBlob: false)
        }
        let added = try connection.query(
            "INSERT INTO blobs (sha256, size, codec, data) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING RETURNING 1",
            [.text(run.contentSHA256), .int(run.stableSize), .text(RunCodec.codec), .bytes(run.compressedStable)])
        var summary = run.summary
        summary.ledgerSeq = try append(kind: "run", payload: RunCodec.ledgerPayload(summary), head: &head).seq
        let s = summary
        let values: [SQLParameter] = [
            .text(s.runID), .int(s.ledgerSeq), .text(s.contentSHA256), SQLParameter(s.traceID), SQLParameter(s.agentRef),
            SQLParameter(s.agentHash), SQLParameter(s.taskRef), SQLParameter(s.taskHash), SQLParameter(s.seed), SQLParameter(s.success),
            SQLParameter(s.failureType), SQLParameter(s.terminationReason), SQLParameter(s.stepsUsed), SQLParameter(s.toolCallsUsed),
            SQLParameter(s.budgetSteps), SQLParameter(s.budgetToolCalls), SQLParameter(s.budgetWallClockSeconds),
            SQLParameter(s.artifactHash), SQLParameter(s.runtimeName), SQLParameter(s.specVersion), SQLParameter(s.startedAt),
            SQLParameter(s.completedAt), .text(s.recordedAt), .bytes(run.compressedVolatile),
        ]
        try connection.query("""
            INSERT INTO runs (run_id, ledger_seq, blob, trace_id, agent_ref, agent_hash, task_ref, task_hash, seed, success, \
            failure_type, termination_reason, steps_used, tool_calls_used, budget_steps, budget_tool_calls, budget_wall_clock, \
            artifact_hash, runtime_name, spec_version, started_at, completed_at, recorded_at, volatile) \
            VALUES (\((1...values.count).map { "$\($0)" }.joined(separator: ", ")))
            """, values)
        return StoredRun(summary: summary, inserted: true, addedBlob: !added.isEmpty)
    }

    // MARK: rows

    /// The columns `summary(_:)` reads, in its order.
    static let summaryColumns = """
        run_id, ledger_seq, trace_id, agent_ref, agent_hash, task_ref, task_hash, seed, success, failure_type, \
        termination_reason, steps_used, tool_calls_used, budget_steps, budget_tool_calls, budget_wall_clock, artifact_hash, \
        runtime_name, spec_version, started_at, completed_at, recorded_at, blob
        """
    static let summaryColumnCount = 23

    static func summary(_ row: ResultRow) -> RunSummary {
        var s = RunSummary(runID: row.text(0) ?? "", ledgerSeq: row.int(1) ?? 0, contentSHA256: row.text(22) ?? "",
                           recordedAt: row.text(21) ?? "")
        s.traceID = row.text(2)
        s.agentRef = row.text(3)
        s.agentHash = row.text(4)
        s.taskRef = row.text(5)
        s.taskHash = row.text(6)
        s.seed = row.int(7)
        s.success = row.bool(8)
        s.failureType = row.text(9)
        s.terminationReason = row.text(10)
        s.stepsUsed = row.int(11)
        s.toolCallsUsed = row.int(12)
        s.budgetSteps = row.int(13)
        s.budgetToolCalls = row.int(14)
        s.budgetWallClockSeconds = row.int(15)
        s.artifactHash = row.text(16)
        s.runtimeName = row.text(17)
        s.specVersion = row.text(18)
        s.startedAt = row.text(19)
        s.completedAt = row.text(20)
        return s
    }
}
