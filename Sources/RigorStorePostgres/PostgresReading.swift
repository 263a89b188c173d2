import RigorSpec
import RigorStore

extension PostgresRunStore {
    public func resolve(_ ref: String) throws(StoreError) -> String {
        if ref == "latest" {
            guard let id = try connection.query("SELECT value FROM session WHERE key = 'latest_run'").first?.text(0) else {
                throw .noRuns
            }
            return id
        }
        if try !connection.query("SELECT 1 FROM runs WHERE run_id = $1", [.text(ref)]).isEmpty { return ref }
        guard ref.count >= RunStore.minimumPrefixLength else {
            throw .referenceTooShort(ref: ref, minimum: RunStore.minimumPrefixLength)
        }
        // run_id is COLLATE "C": bytewise order, so this range is exactly the ids with the prefix.
        let matches = try connection.query(
            "SELECT run_id FROM runs WHERE run_id >= $1 AND run_id < $2 ORDER BY run_id LIMIT 6",
            [.text(ref), .text(ref + "\u{10FFFF}")]
        ).compactMap { $0.text(0) }
        switch matches.count {
        case 0: throw .runNotFound(ref: ref)
        case 1: return matches[0]
        default: throw .ambiguousRun(ref: ref, matches: Array(matches.prefix(5)), more: matches.count > 5)
        }
    }

    public func runs(filter: RunFilter, limit: Int) throws(StoreError) -> [RunSummary] {
        var conditions: [String] = []
        var parameters: [SQLParameter] = []
        func add(_ condition: (String) -> String, _ value: SQLParameter) {
            parameters.append(value)
            conditions.append(condition("$\(parameters.count)"))
        }
        switch filter.agent {
        case .exact(let ref)?: add({ "agent_ref = \($0)" }, .text(ref))
        case .contains(let text)?: add({ "strpos(agent_ref, \($0)) > 0" }, .text(text))
        case nil: break
        }
        if let taskRef = filter.taskRef { add({ "task_ref = \($0)" }, .text(taskRef)) }
        if let outcome = filter.outcome { add({ "success = \($0)" }, .bool(outcome == .success)) }
        if let failureType = filter.failureType { add({ "failure_type = \($0)" }, .text(failureType)) }
        let clause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let limitClause = limit < 1 ? "" : " LIMIT \(limit)"
        return try connection.query(
            "SELECT \(Self.summaryColumns) FROM runs\(clause) ORDER BY ledger_seq DESC\(limitClause)", parameters
        ).map(Self.summary)
    }

    public func summary(_ runID: String) throws(StoreError) -> RunSummary {
        guard let row = try connection.query("SELECT \(Self.summaryColumns) FROM runs WHERE run_id = $1", [.text(runID)]).first else {
            throw .runNotFound(ref: runID)
        }
        return Self.summary(row)
    }

    public func artifact(_ runID: String) throws(StoreError) -> JSON {
        let rows = try connection.query("""
            SELECT \(Self.summaryColumns.replacingOccurrences(of: "blob", with: "r.blob").replacingOccurrences(of: "run_id,", with: "r.run_id,")), \
            r.volatile, b.codec, b.size, b.data FROM runs r LEFT JOIN blobs b ON b.sha256 = r.blob WHERE r.run_id = $1
            """, [.text(runID)])
        guard let row = rows.first else { throw .runNotFound(ref: runID) }
        let next = Self.summaryColumnCount
        let blob = row.isNull(next + 1) ? nil
            : RunCodec.Blob(codec: row.text(next + 1) ?? "", size: row.int(next + 2) ?? -1, data: row.bytes(next + 3))
        return try RunCodec.decode(Self.summary(row), blob: blob, volatile: row.bytes(next))
    }

    // MARK: ledger

    func ledgerRows() throws(StoreError) -> [Ledger.RawRow] {
        try connection.query("SELECT seq, kind, payload, prev_hash, entry_hash FROM ledger ORDER BY seq").map { row in
            Ledger.RawRow(seq: row.int(0) ?? 0, kind: Array((row.text(1) ?? "").utf8), payload: Array((row.text(2) ?? "").utf8),
                          prevHash: Array((row.text(3) ?? "").utf8), entryHash: Array((row.text(4) ?? "").utf8))
        }
    }

    public func ledgerEntries() throws(StoreError) -> [LedgerEntry] {
        try Ledger.entries(try ledgerRows())
    }

    /// The same check as the embedded store's, on one snapshot (REPEATABLE READ) of the ledger
    /// and the runs, taken while other machines go on appending.
    public func verifyLedger() throws(StoreError) -> LedgerVerification {
        let (rows, runs) = try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(StoreError) in
            (try ledgerRows(), try connection.query("SELECT \(Self.summaryColumns) FROM runs ORDER BY ledger_seq").map(Self.summary))
        }
        return Ledger.verify(rows: rows, runs: runs)
    }

    public func exportLedger() throws(StoreError) -> String {
        Ledger.export(try ledgerRows())
    }

    // MARK: maintenance

    /// Every blob decoded and checked against its address, every run reassembled and checked
    /// (`RunCodec.check`), on one snapshot.
    public func verifyBlobs() throws(StoreError) -> [BlobProblem] {
        try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(StoreError) in
            var problems: [BlobProblem] = []
            var decoded: [String: [UInt8]] = [:]
            var present: Set<String> = []
            for row in try connection.query("SELECT sha256, codec, size, data FROM blobs") {
                let sha256 = row.text(0) ?? ""
                present.insert(sha256)
                let checked = RunCodec.check(blob: RunCodec.Blob(codec: row.text(1) ?? "", size: row.int(2) ?? -1, data: row.bytes(3)), address: sha256)
                if let content = checked.content { decoded[sha256] = content }
                if let problem = checked.problem { problems.append(problem) }
            }
            for row in try connection.query("SELECT \(Self.summaryColumns), volatile FROM runs ORDER BY ledger_seq") {
                let summary = Self.summary(row)
                guard present.contains(summary.contentSHA256) else {
                    problems.append(BlobProblem(blob: summary.contentSHA256, runID: summary.runID, kind: .missing))
                    continue
                }
                guard let stable = decoded[summary.contentSHA256] else { continue }  // reported above
                problems += RunCodec.check(run: summary, stable: stable, volatile: row.bytes(Self.summaryColumnCount))
            }
            return problems
        }
    }

    public func statistics() throws(StoreError) -> StoreStatistics {
        guard let row = try connection.query("""
            SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM blobs), (SELECT count(*) FROM ledger),
                   (SELECT coalesce(sum(octet_length(data)), 0) FROM blobs)::bigint, (SELECT coalesce(sum(size), 0) FROM blobs)::bigint,
                   (SELECT coalesce(sum(octet_length(volatile)), 0) FROM runs)::bigint,
                   (pg_total_relation_size('runs') + pg_total_relation_size('blobs') + pg_total_relation_size('ledger')
                    + pg_total_relation_size('session') + pg_total_relation_size('rigor_meta'))::bigint
            """).first else { throw .server(location: location, operation: "statistics", code: "?", message: "no row") }
        return StoreStatistics(runs: row.int(0) ?? 0, blobs: row.int(1) ?? 0, ledgerEntries: row.int(2) ?? 0,
                               blobBytes: row.int(3) ?? 0, contentBytes: row.int(4) ?? 0, volatileBytes: row.int(5) ?? 0,
                               databaseBytes: row.int(6) ?? 0)
    }

    /// Deletes blobs no run refers to, under the ledger lock (a writer that found a blob already
    /// stored holds that lock until its run row commits, so a blob in use is never taken), then
    /// lets the server reclaim the space (`VACUUM`, outside any transaction).
    public func gc() throws(StoreError) -> GCReport {
        func size() throws(StoreError) -> Int {
            try connection.integer("SELECT (pg_total_relation_size('runs') + pg_total_relation_size('blobs'))::bigint")
        }
        let before = try size()
        let removed = try connection.transaction { () throws(StoreError) in
            try connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.ledgerLock))")
            return try connection.query(
                "DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.blob = b.sha256) RETURNING octet_length(b.data)::bigint"
            ).map { $0.int(0) ?? 0 }
        }
        try connection.query("VACUUM blobs")
        return GCReport(blobsRemoved: removed.count, blobBytesRemoved: removed.reduce(0, +),
                        databaseBytesBefore: before, databaseBytesAfter: try size())
    }
}
