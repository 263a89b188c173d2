/// The store's schema and its forward migrations.
///
/// `PRAGMA user_version` holds the schema version. Migration `n` takes a store from version
/// `n - 1` to `n`; opening applies every missing one, in order, in a single `BEGIN IMMEDIATE`
/// transaction that rereads the version first, so two processes opening an old store at once
/// migrate it exactly once. A store at a version above `Schema.version` was written by a newer
/// Rigor and is refused before anything is written to it. Migrations are append-only: a released
/// migration is never edited, a change is always a new one. A new store gets the current tables
/// directly (`currentSQL`); the tests check that a migrated store has exactly the same schema.
enum Schema {
    /// The version this build writes.
    static let version = 2

    /// The tables of a new store: those of the latest migration, plus the `session` table, which
    /// version 1 created and no migration has changed since.
    static let currentSQL = Migration2.sql + """

        CREATE TABLE session (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        """

    /// Migration `n`: upgrades a store from version `n - 1` to `n`.
    static func migration(_ n: Int, _ c: Connection) throws(StoreError) {
        switch n {
        case 1: try c.execute(version1)
        case 2: try Migration2.run(c)
        default: throw .corrupt(path: c.path, detail: "no migration to schema version \(n)")
        }
    }

    /// Version 1: runs index, blobs, ledger, session. Released: never edit it.
    static let version1 = """
        CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY NOT NULL,  -- lowercase hex SHA-256 of the uncompressed bytes
            size   INTEGER NOT NULL,           -- uncompressed size
            codec  TEXT NOT NULL,              -- 'zstd'
            data   BLOB NOT NULL
        );
        CREATE TABLE runs (
            run_id             TEXT PRIMARY KEY NOT NULL,
            ledger_seq         INTEGER NOT NULL UNIQUE,  -- seq of the run's ledger entry: recording order
            trace_id           TEXT,
            agent_ref          TEXT,
            agent_hash         TEXT,
            task_ref           TEXT,
            task_hash          TEXT,
            seed               INTEGER,
            success            INTEGER,
            failure_type       TEXT,
            termination_reason TEXT,
            steps_used         INTEGER,
            tool_calls_used    INTEGER,
            budget_steps       INTEGER,
            budget_tool_calls  INTEGER,
            budget_wall_clock  INTEGER,
            artifact_hash      TEXT,
            runtime_name       TEXT,
            spec_version       TEXT,
            started_at         TEXT,
            completed_at       TEXT,
            recorded_at        TEXT NOT NULL,
            content_sha256     TEXT NOT NULL REFERENCES blobs(sha256),
            volatile           BLOB NOT NULL             -- zstd of JCS of the volatile part
        );
        CREATE INDEX runs_by_agent   ON runs(agent_ref, ledger_seq);
        CREATE INDEX runs_by_task    ON runs(task_ref, ledger_seq);
        CREATE INDEX runs_by_outcome ON runs(success, ledger_seq);
        CREATE INDEX runs_by_failure ON runs(failure_type, ledger_seq);
        CREATE INDEX runs_by_content ON runs(content_sha256);
        CREATE TABLE ledger (
            seq        INTEGER PRIMARY KEY,
            kind       TEXT NOT NULL,
            payload    TEXT NOT NULL,  -- JCS of the payload object
            prev_hash  TEXT NOT NULL,
            entry_hash TEXT NOT NULL
        );
        -- The ledger is append-only. The triggers stop accidents, not adversaries (anyone with the
        -- file can drop them): verifyLedger is what detects tampering.
        CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TABLE session (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        """

    /// Brings the store on `connection` to `Schema.version`, or refuses a newer one.
    static func migrate(_ connection: Connection) throws(StoreError) {
        let current = try userVersion(connection)
        if current == version { return }
        try refuseNewer(current, connection)
        try connection.immediateTransaction { () throws(StoreError) in
            // Another process may have migrated while this one waited for the lock.
            let found = try userVersion(connection)
            try refuseNewer(found, connection)
            if found == version { return }
            if found == 0 {
                // A new store: the current tables directly, which is what the migrations produce,
                // without the pages the older tables would leave free.
                try connection.execute(currentSQL)
                try connection.execute("PRAGMA user_version = \(version)")
                return
            }
            for next in (found + 1)...version {
                try migration(next, connection)
                try connection.execute("PRAGMA user_version = \(next)")
            }
        }
    }

    static func userVersion(_ connection: Connection) throws(StoreError) -> Int {
        try connection.first("PRAGMA user_version") { $0.int(0) ?? 0 } ?? 0
    }

    static func refuseNewer(_ found: Int, _ connection: Connection) throws(StoreError) {
        if found < 0 { throw .corrupt(path: connection.path, detail: "schema version \(found) is not a version") }
        if found > version { throw .newerSchema(path: connection.path, found: found, supported: version) }
    }
}
