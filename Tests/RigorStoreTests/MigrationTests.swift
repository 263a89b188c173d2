import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// A store written by schema version 1 (Rigor before the compact layout), made the way that code
/// made it: its schema SQL and its row format are frozen here, independent of `Schema`.
enum VersionOneStore {
    /// The version-1 schema exactly as released.
    static let schema = """
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

    /// What the fixture recorded, to compare the migrated store with.
    struct Contents {
        var artifacts: [(runID: String, artifact: JSON)] = []
        var summaries: [RunSummary] = []
        var ledger: [LedgerEntry] = []
    }

    /// Writes a version-1 store in `directory` holding `artifacts` (imported the version-1 way)
    /// followed by a note in the ledger.
    static func write(_ artifacts: [JSON], directory: String) throws -> Contents {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let c = try Connection(path: directory + "/" + RunStore.fileName, create: true)
        try c.execute("PRAGMA journal_mode = WAL")
        try c.execute("PRAGMA foreign_keys = ON")
        try c.execute(schema)
        try c.execute("PRAGMA user_version = 1")
        var contents = Contents()
        func append(_ kind: String, _ payload: JSON) throws -> Int {
            var entry = LedgerEntry(
                seq: contents.ledger.count + 1, kind: kind, payload: payload,
                prevHash: contents.ledger.last?.entryHash ?? String(repeating: "0", count: 64), entryHash: "")
            entry.entryHash = Digest.sha256Hex(try entry.hashedJSON.canonicalBytes(style: .jcs))
            try c.run("INSERT INTO ledger (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)",
                      [.integer(Int64(entry.seq)), .text(kind), .text(try payload.canonicalString(style: .jcs)),
                       .text(entry.prevHash), .text(entry.entryHash)])
            contents.ledger.append(entry)
            return entry.seq
        }
        for artifact in artifacts {
            let runID = try artifact["run_id"]?.stringValue
                ?? String(Digest.sha256Hex(artifact.canonicalBytes(style: .jcs)).prefix(32))
            let parts = try ArtifactSplit.split(artifact)
            var summary = RunSummary(indexing: artifact, runID: runID, contentSHA256: parts.contentSHA256,
                                     recordedAt: Timestamp.now().rfc3339)
            try c.run("INSERT INTO blobs (sha256, size, codec, data) VALUES (?, ?, 'zstd', ?) ON CONFLICT (sha256) DO NOTHING",
                      [.text(parts.contentSHA256), .integer(Int64(parts.stableBytes.count)), .blob(try Zstd.compress(parts.stableBytes))])
            summary.ledgerSeq = try append("run", [
                "run_id": .string(runID), "artifact_hash": summary.artifactHash.map(JSON.string) ?? .null,
                "task_ref": summary.taskRef.map(JSON.string) ?? .null, "agent_ref": summary.agentRef.map(JSON.string) ?? .null,
                "seed": summary.seed.map(JSON.int) ?? .null, "success": summary.success.map(JSON.bool) ?? .null,
            ])
            let s = summary
            try c.run("""
                INSERT INTO runs (run_id, ledger_seq, trace_id, agent_ref, agent_hash, task_ref, task_hash, seed, success,
                failure_type, termination_reason, steps_used, tool_calls_used, budget_steps, budget_tool_calls,
                budget_wall_clock, artifact_hash, runtime_name, spec_version, started_at, completed_at, recorded_at,
                content_sha256, volatile) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [
                    .text(s.runID), .integer(Int64(s.ledgerSeq)), SQLValue(s.traceID), SQLValue(s.agentRef), SQLValue(s.agentHash),
                    SQLValue(s.taskRef), SQLValue(s.taskHash), SQLValue(s.seed), SQLValue(s.success), SQLValue(s.failureType),
                    SQLValue(s.terminationReason), SQLValue(s.stepsUsed), SQLValue(s.toolCallsUsed), SQLValue(s.budgetSteps),
                    SQLValue(s.budgetToolCalls), SQLValue(s.budgetWallClockSeconds), SQLValue(s.artifactHash),
                    SQLValue(s.runtimeName), SQLValue(s.specVersion), SQLValue(s.startedAt), SQLValue(s.completedAt),
                    .text(s.recordedAt), .text(s.contentSHA256), .blob(try Zstd.compress(parts.volatileBytes)),
                ])
            try c.run("INSERT INTO session (key, value) VALUES ('latest_run', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      [.text(runID)])
            contents.artifacts.append((runID, artifact))
            contents.summaries.append(summary)
        }
        _ = try append("baseline", ["name": "nightly", "threshold": 0.5])
        return contents
    }

    /// TraceCore's artifacts and enough Rigor ones (80) for the store to train dictionaries.
    static func artifacts() throws -> [JSON] {
        var artifacts = try Fixtures.interopFileNames.prefix(3).map { try Fixtures.interopArtifact($0) }
        for i in 0..<80 {
            artifacts.append(try Fixtures.rigorArtifact(runID: Fixtures.runID("v1-\(i)"), seed: i, steps: 1 + i % 5))
        }
        return artifacts
    }
}

@Suite("migration")
struct MigrationTests {
    static func schema(_ store: RunStore) throws -> [String] {
        try store.withConnection { (c) throws(StoreError) in
            try c.query("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY name") { $0.text(0) ?? "" }
        }
    }

    @Test("a version-1 store opens, migrates once, keeps every run, artifact and ledger entry, and keeps working")
    func fromVersionOne() throws {
        let directory = RepoPaths.temporaryDirectory("rigor-store-v1") + "/.rigor"
        let contents = try VersionOneStore.write(try VersionOneStore.artifacts(), directory: directory)

        let store = try RunStore.open(directory: directory, create: false)
        #expect(try store.rawInt("PRAGMA user_version") == Schema.version)
        let fresh = try Fixtures.store("v2-fresh").store
        #expect(try Self.schema(store) == (try Self.schema(fresh)))

        // Every run reads back as it was recorded, with the same index row.
        let listed = try store.runs(limit: 0)
        #expect(listed == contents.summaries.reversed())
        for (runID, artifact) in contents.artifacts {
            #expect(try store.artifact(runID) == artifact)
            #expect(try store.exportBytes(runID) == (try artifact.canonicalBytes(style: .jcs)))
        }
        #expect(try store.resolve("latest") == contents.artifacts.last?.runID)
        #expect(try store.verifyBlobs().isEmpty)
        // The ledger is the same chain, exported line for line as version 1 exported it.
        #expect(try store.ledgerEntries() == contents.ledger)
        #expect(try store.verifyLedger() == LedgerVerification(
            entries: contents.ledger.count, headHash: contents.ledger.last?.entryHash, firstBreak: nil))
        let expectedExport = try contents.ledger.map { try $0.json.canonicalString(style: .jcs) + "\n" }.joined()
        #expect(try store.exportLedger() == expectedExport)
        #expect(try store.statistics().dictionaries == 0)

        // Reopening migrates nothing again.
        let again = try RunStore.open(directory: directory, create: false)
        #expect(try Self.schema(again) == (try Self.schema(store)))

        // Recording goes on: the store now holds enough to train its dictionaries, and the first
        // items are recompressed with them; gc recompresses the rest.
        let new = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("after-migration"), seed: 999))
        #expect(new.inserted && new.summary.ledgerSeq == contents.ledger.count + 1)
        #expect(try store.statistics().dictionaries == 2)
        let report = try store.gc()
        #expect(report.blobsRemoved == 0)
        #expect(try store.rawInt("SELECT count(*) FROM blobs WHERE codec = 'zstd'") == 0)
        for (runID, artifact) in contents.artifacts { #expect(try store.artifact(runID) == artifact) }
        #expect(try store.verifyBlobs().isEmpty)
        #expect(try store.verifyLedger().isIntact)
    }

    @Test("two processes opening a version-1 store at once migrate it once")
    func concurrentOpeners() throws {
        let directory = RepoPaths.temporaryDirectory("rigor-store-v1-race") + "/.rigor"
        let contents = try VersionOneStore.write(Array(try VersionOneStore.artifacts().prefix(10)), directory: directory)
        let errors = Collector<String>()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                let store = try RunStore.open(directory: directory, create: false)
                _ = try store.runs(limit: 1)
            } catch {
                errors.add("opener \(thread): \(error)")
            }
        }
        #expect(errors.all.isEmpty)
        let store = try RunStore.open(directory: directory, create: false)
        #expect(try store.runs(limit: 0).count == contents.summaries.count)
        #expect(try store.verifyLedger().isIntact)
    }

    @Test("a store written by a newer version is still refused after the migration code ran")
    func newerThanTwo() throws {
        let (store, directory) = try Fixtures.store("newer-than-2")
        try store.raw("PRAGMA user_version = \(Schema.version + 1)")
        #expect(throws: StoreError.newerSchema(path: directory + "/rigor.db", found: Schema.version + 1, supported: Schema.version)) {
            try RunStore.open(directory: directory, create: false)
        }
    }
}
