import RigorStore

/// The shared store's tables and their versioned, forward-only migrations.
///
/// `rigor_meta` holds `schema_version` (and `store` = `rigor-run-store`, which tells a Rigor
/// database from any other). Opening takes a transaction-scoped advisory lock
/// (`migrationLock`), rereads the version, and applies each missing migration in that one
/// transaction, so several machines opening a new or old database at once migrate it exactly
/// once. A database at a version above `version` was written by a newer Rigor and is refused
/// before anything is written; a database that holds tables of Rigor's names but no
/// `rigor_meta` is someone else's and is refused untouched. Released migrations are never
/// edited: a change is a new one.
enum PostgresSchema {
    /// The version this build writes.
    static let version = 1

    /// Advisory lock keys (any two distinct 64-bit numbers that other applications are unlikely
    /// to use: "rigorsch" and "rigorled" in ASCII).
    static let migrationLock = 0x7269_676f_7273_6368
    /// Held by every transaction that appends to the ledger or deletes blobs.
    static let ledgerLock = 0x7269_676f_726c_6564

    /// Tables Rigor creates: a database holding any of them without `rigor_meta` is not Rigor's.
    static let tables = ["rigor_meta", "blobs", "runs", "ledger", "session"]

    /// Migration `n` takes a database from version `n - 1` to `n`.
    static let migrations: [Int: [String]] = [
        1: [
            "CREATE TABLE rigor_meta (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO rigor_meta (key, value) VALUES ('store', 'rigor-run-store'), ('schema_version', '0')",
            // Content-addressed stable parts: lowercase hex SHA-256 of the uncompressed JCS.
            """
            CREATE TABLE blobs (
                sha256 text COLLATE "C" PRIMARY KEY,
                size   bigint NOT NULL,
                codec  text NOT NULL,
                data   bytea NOT NULL)
            """,
            """
            CREATE TABLE ledger (
                seq        bigint PRIMARY KEY CHECK (seq >= 1),
                kind       text NOT NULL,
                payload    text NOT NULL,
                prev_hash  text NOT NULL,
                entry_hash text NOT NULL)
            """,
            """
            CREATE TABLE runs (
                run_id             text COLLATE "C" PRIMARY KEY,
                ledger_seq         bigint NOT NULL UNIQUE,
                blob               text COLLATE "C" NOT NULL REFERENCES blobs (sha256),
                trace_id           text,
                agent_ref          text,
                agent_hash         text,
                task_ref           text,
                task_hash          text,
                seed               bigint,
                success            boolean,
                failure_type       text,
                termination_reason text,
                steps_used         bigint,
                tool_calls_used    bigint,
                budget_steps       bigint,
                budget_tool_calls  bigint,
                budget_wall_clock  bigint,
                artifact_hash      text,
                runtime_name       text,
                spec_version       text,
                started_at         text,
                completed_at       text,
                recorded_at        text NOT NULL,
                volatile           bytea NOT NULL)
            """,
            "CREATE INDEX runs_by_agent ON runs (agent_ref, ledger_seq)",
            "CREATE INDEX runs_by_task ON runs (task_ref, ledger_seq)",
            "CREATE INDEX runs_by_outcome ON runs (success, ledger_seq)",
            "CREATE INDEX runs_by_failure ON runs (failure_type, ledger_seq)",
            "CREATE INDEX runs_by_blob ON runs (blob)",
            "CREATE TABLE session (key text PRIMARY KEY, value text NOT NULL)",
            // Append-only: stops accidents, not adversaries (an owner can drop the trigger);
            // verifyLedger is what detects tampering.
            """
            CREATE FUNCTION rigor_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $$
            """,
            """
            CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
            FOR EACH ROW EXECUTE FUNCTION rigor_ledger_append_only()
            """,
        ],
    ]

    /// Brings the database to `version` (creating the tables when `create`), or refuses it.
    static func migrate(_ c: ServerConnection, create: Bool) throws(StoreError) {
        let shown = c.location.description
        try c.transaction { () throws(StoreError) in
            try c.query("SELECT pg_advisory_xact_lock(\(migrationLock))")
            let found = try c.query(
                "SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace "
                    + "AND c.relname IN (\(tables.map { "'\($0)'" }.joined(separator: ", ")))"
            ).compactMap { $0.text(0) }
            var current = 0
            if found.contains("rigor_meta") {
                let marker = try c.query("SELECT value FROM rigor_meta WHERE key = 'store'").first?.text(0)
                guard marker == "rigor-run-store" else {
                    throw .foreignDatabase(location: shown, detail: "its rigor_meta table does not name a Rigor run store")
                }
                let text = try c.query("SELECT value FROM rigor_meta WHERE key = 'schema_version'").first?.text(0) ?? ""
                guard let number = Int(text), number >= 0 else {
                    throw .foreignDatabase(location: shown, detail: "its schema version '\(text)' is not a number")
                }
                current = number
            } else if !found.isEmpty {
                throw .foreignDatabase(location: shown, detail: "it has tables named \(found.sorted().joined(separator: ", ")) but no rigor_meta")
            } else if !create {
                throw .emptyDatabase(location: shown)
            }
            if current > version { throw .newerSchema(path: shown, found: current, supported: version) }
            guard current < version else { return }
            for next in (current + 1)...version {
                for statement in migrations[next] ?? [] { try c.query(statement) }
                try c.query("UPDATE rigor_meta SET value = $1 WHERE key = 'schema_version'", [.text(String(next))])
            }
        }
    }
}
