import RigorSpec

/// Version 2: the compact layout (spec/store.md, section 2).
///
/// - `dictionaries`: zstd dictionaries trained on the store's own content;
/// - `names`: each repeated text (agent and task references and hashes, failure types, ...) once,
///   referenced from `runs` by id;
/// - `blobs` keyed by an integer id, with the SHA-256 as a 32-byte BLOB;
/// - `runs` keyed by `ledger_seq` (its rowid), pointing at its blob by id, with timestamps and
///   hashes in their compact spellings (`ColumnEncoding`);
/// - `ledger` hashes as 32-byte BLOBs.
///
/// The migration renames the version-1 tables aside, creates these, copies every row (blob
/// bytes, volatile parts and ledger payloads unchanged) and drops the old tables, inside the
/// caller's migration transaction. Released: never edit it.
enum Migration2 {
    static let sql = """
        CREATE TABLE dictionaries (
            id      INTEGER PRIMARY KEY,  -- also the dictionary ID zstd writes in each frame using it
            purpose TEXT NOT NULL,        -- 'stable' (blobs) or 'volatile' (runs.volatile)
            data    BLOB NOT NULL         -- the zstd dictionary; empty when training failed
        );
        CREATE TABLE names (
            id    INTEGER PRIMARY KEY,
            value TEXT NOT NULL UNIQUE
        );
        CREATE TABLE blobs (
            id     INTEGER PRIMARY KEY,
            sha256 BLOB NOT NULL UNIQUE,  -- the 32 bytes of the SHA-256 of the uncompressed bytes
            size   INTEGER NOT NULL,      -- uncompressed size
            codec  TEXT NOT NULL,         -- 'zstd' or 'zstd-dict:<dictionaries.id>'
            data   BLOB NOT NULL
        );
        CREATE TABLE runs (
            ledger_seq         INTEGER PRIMARY KEY,  -- seq of the run's ledger entry: recording order
            run_id             TEXT NOT NULL UNIQUE,
            blob               INTEGER NOT NULL REFERENCES blobs(id),
            trace_id           TEXT,
            agent_ref          INTEGER REFERENCES names(id),
            agent_hash         INTEGER REFERENCES names(id),
            task_ref           INTEGER REFERENCES names(id),
            task_hash          INTEGER REFERENCES names(id),
            seed               INTEGER,
            success            INTEGER,
            failure_type       INTEGER REFERENCES names(id),
            termination_reason INTEGER REFERENCES names(id),
            steps_used         INTEGER,
            tool_calls_used    INTEGER,
            budget_steps       INTEGER,
            budget_tool_calls  INTEGER,
            budget_wall_clock  INTEGER,
            artifact_hash,              -- (no type: stored as given) 32-byte BLOB for 'sha256:<hex>', otherwise TEXT
            runtime_name       INTEGER REFERENCES names(id),
            spec_version       INTEGER REFERENCES names(id),
            started_at,                 -- INTEGER microseconds since 1970 for Rigor's shape, otherwise TEXT
            completed_at,
            recorded_at        NOT NULL,
            volatile           BLOB NOT NULL  -- zstd of JCS of the volatile part
        );
        -- Every index entry ends with the rowid, which is ledger_seq: listings walk these newest first.
        CREATE INDEX runs_by_agent   ON runs(agent_ref);
        CREATE INDEX runs_by_task    ON runs(task_ref);
        CREATE INDEX runs_by_outcome ON runs(success);
        CREATE INDEX runs_by_failure ON runs(failure_type);
        CREATE INDEX runs_by_blob    ON runs(blob);
        CREATE TABLE ledger (
            seq        INTEGER PRIMARY KEY,
            kind       TEXT NOT NULL,
            payload    TEXT NOT NULL,  -- JCS of the payload object
            prev_hash  BLOB NOT NULL,  -- 32 bytes
            entry_hash BLOB NOT NULL   -- 32 bytes
        );
        CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        """

    static func run(_ c: Connection) throws(StoreError) {
        try c.execute("""
            DROP INDEX runs_by_agent; DROP INDEX runs_by_task; DROP INDEX runs_by_outcome;
            DROP INDEX runs_by_failure; DROP INDEX runs_by_content;
            DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete;
            ALTER TABLE runs RENAME TO v1_runs;
            ALTER TABLE blobs RENAME TO v1_blobs;
            ALTER TABLE ledger RENAME TO v1_ledger;
            """)
        try c.execute(sql)

        // Blobs, in their order; the bytes are unchanged (plain zstd frames).
        var blobIDs: [String: Int64] = [:]
        let blobs = try c.query("SELECT sha256, size, codec, data FROM v1_blobs ORDER BY rowid") {
            (sha256: $0.text(0) ?? "", size: $0.int(1) ?? 0, codec: $0.bytes(2), data: $0.bytes(3))
        }
        for blob in blobs {
            try c.run("INSERT INTO blobs (sha256, size, codec, data) VALUES (?, ?, ?, ?)",
                      [ColumnEncoding.digest(hex: blob.sha256).map(SQLValue.blob) ?? .text(blob.sha256),
                       .integer(Int64(blob.size)), .textBytes(blob.codec), .blob(blob.data)])
            blobIDs[blob.sha256] = c.lastInsertRowID
        }

        // Runs: the same values in the new columns; volatile parts unchanged (they hold every
        // volatile field themselves, so they need nothing from the row).
        let runs = try c.query("""
            SELECT run_id, ledger_seq, trace_id, agent_ref, agent_hash, task_ref, task_hash, seed, success,
                   failure_type, termination_reason, steps_used, tool_calls_used, budget_steps, budget_tool_calls,
                   budget_wall_clock, artifact_hash, runtime_name, spec_version, started_at, completed_at,
                   recorded_at, content_sha256, volatile
            FROM v1_runs ORDER BY ledger_seq
            """) { row in
            (summary: RunSummary(
                runID: row.text(0) ?? "", ledgerSeq: row.int(1) ?? 0, traceID: row.text(2), agentRef: row.text(3),
                agentHash: row.text(4), taskRef: row.text(5), taskHash: row.text(6), seed: row.int(7), success: row.bool(8),
                failureType: row.text(9), terminationReason: row.text(10), stepsUsed: row.int(11),
                toolCallsUsed: row.int(12), budgetSteps: row.int(13), budgetToolCalls: row.int(14),
                budgetWallClockSeconds: row.int(15), artifactHash: row.text(16), runtimeName: row.text(17),
                specVersion: row.text(18), startedAt: row.text(19), completedAt: row.text(20),
                recordedAt: row.text(21) ?? "", contentSHA256: row.text(22) ?? ""),
             volatile: row.bytes(23))
        }
        var names = Names()
        for run in runs {
            // A run whose blob is missing (possible only in a damaged store) keeps a dangling id,
            // which the foreign key refuses: the migration fails and the store is left as it was.
            let blob = blobIDs[run.summary.contentSHA256] ?? -1
            try run.summary.insert(blob: blob, volatile: run.volatile, c, names: &names)
        }

        // Ledger rows byte for byte, hashes as 32-byte BLOBs where they are 64 lowercase hex digits.
        let ledger = try c.query("SELECT seq, kind, payload, prev_hash, entry_hash FROM v1_ledger ORDER BY seq") {
            (seq: $0.int(0) ?? 0, kind: $0.bytes(1), payload: $0.bytes(2), prev: $0.bytes(3), entry: $0.bytes(4))
        }
        for row in ledger {
            try c.run("INSERT INTO ledger (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)",
                      [.integer(Int64(row.seq)), .textBytes(row.kind), .textBytes(row.payload),
                       Ledger.hashValue(row.prev), Ledger.hashValue(row.entry)])
        }
        try c.execute("DROP TABLE v1_runs; DROP TABLE v1_blobs; DROP TABLE v1_ledger;")
    }
}

/// Interned texts for the `names` table, inside one write transaction.
///
/// The ids are only remembered for the transaction that looked them up: a rolled-back
/// transaction's new names disappear with it, so they must not outlive it.
struct Names {
    private var ids: [String: Int64] = [:]

    mutating func id(_ value: String?, _ c: Connection) throws(StoreError) -> SQLValue {
        guard let value else { return .null }
        if let id = ids[value] { return .integer(id) }
        try c.run("INSERT INTO names (value) VALUES (?) ON CONFLICT (value) DO NOTHING", [.text(value)])
        guard let id = try c.first("SELECT id FROM names WHERE value = ?", [.text(value)], { $0.int(0) }) ?? nil else {
            throw .sqlite(path: c.path, operation: "INSERT names", code: 0, message: "the name just written is missing")
        }
        ids[value] = Int64(id)
        return .integer(Int64(id))
    }
}
