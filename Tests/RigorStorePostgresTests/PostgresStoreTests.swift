import Foundation
import RigorSpec
import RigorStore
import RigorStorePostgres
import RigorTestSupport
import Testing

/// Artifacts for the shared-store tests: small Rigor-shaped ones, hashed with the Rigor recipe.
enum Samples {
    static func runID(_ label: String) -> String {
        String(Digest.sha256Hex(Array("run|\(label)".utf8)).prefix(32))
    }

    static func artifact(_ label: String, seed: Int = 1, success: Bool = true, content: String = "same") throws -> JSON {
        var members: [String: JSON] = [
            "spec_version": "tracecore-spec-v1.0",
            "runtime_identity": ["name": "rigor", "version": "0.1.0", "git_sha": nil],
            "run_id": .string(runID(label)), "trace_id": .string(runID("trace-" + label)),
            "agent_ref": "agents/toy.py", "agent_hash": "sha256:00", "task_id": "t", "task_ref": "task_a@1", "task_hash": "sha256:11",
            "seed": .int(seed), "budgets": ["steps": 10, "tool_calls": 10],
            "success": .bool(success), "termination_reason": .string(success ? "success" : "steps_exhausted"),
            "failure_type": success ? .null : "budget_exhausted", "failure_reason": nil,
            "steps_used": 1, "tool_calls_used": 1,
            "started_at": .string(Timestamp.now().rfc3339), "completed_at": .string(Timestamp.now().rfc3339),
            "wall_clock_elapsed_s": 0.25,
            "action_trace": [["step": 1, "action_ts": .string(Timestamp.now().rfc3339), "action": ["type": "noop"],
                              "result": ["ok": true, "content": .string(content)]]],
            "diagnostics": [:],
        ]
        members["artifact_hash"] = .string(try HashRecipe.rigor.hash(.object(members)))
        return .object(members)
    }
}

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test("a recorded artifact reads back equal, with the same blob address and ledger payload as the embedded store")
    func roundTrip() throws {
        let url = try PostgresTestServer.freshDatabase("roundtrip")
        let shared = try PostgresRunStore.open(url: url, create: true)
        let embedded = try RunStore.open(directory: RepoPaths.temporaryDirectory("pg-roundtrip") + "/.rigor", create: true)
        let artifact = try Samples.artifact("one")
        let a = try shared.record(artifact), b = try embedded.record(artifact)
        #expect(a.inserted && a.addedBlob)
        #expect(a.summary.contentSHA256 == b.summary.contentSHA256)
        #expect(try shared.artifact(a.runID) == artifact)
        #expect(try shared.exportBytes(a.runID) == embedded.exportBytes(b.runID))
        #expect(try shared.summary(a.runID).artifactHash == artifact["artifact_hash"]?.stringValue)
        #expect(try shared.ledgerEntries().map(\.payload) == embedded.ledgerEntries().map(\.payload))
        #expect(try shared.resolve("latest") == a.runID)
        #expect(try shared.resolve(String(a.runID.prefix(6))) == a.runID)
        // Recording it again changes nothing; the same id with other content is a conflict.
        #expect(try shared.record(artifact).inserted == false)
        var other = artifact
        if case .object(var m) = other { m["seed"] = 99; m["artifact_hash"] = .string(try HashRecipe.rigor.hash(.object(m))); other = .object(m) }
        #expect(throws: StoreError.runConflict(runID: a.runID)) { try shared.record(other) }
        #expect(try shared.verifyBlobs().isEmpty)
        #expect(try shared.verifyLedger().isIntact)
    }

    @Test("identical content is stored once: a replay adds a run and a ledger entry, no blob")
    func deduplicatesBlobs() throws {
        let store = try PostgresRunStore.open(url: try PostgresTestServer.freshDatabase("dedup"), create: true)
        let first = try store.record(try Samples.artifact("a", content: "x"))
        let replay = try store.record(try Samples.artifact("b", content: "x"))
        let different = try store.record(try Samples.artifact("c", content: "y"))
        #expect(first.addedBlob && !replay.addedBlob && different.addedBlob)
        let stats = try store.statistics()
        #expect(stats.runs == 3 && stats.blobs == 2 && stats.ledgerEntries == 3)
        #expect(try store.runs(filter: RunFilter(agent: .contains("toy")), limit: 0).count == 3)
        #expect(try store.runs(filter: RunFilter(outcome: .failure), limit: 0).isEmpty)
    }

    @Test("8 threads appending at once, each with its own connection, leave one intact chain with every entry")
    func concurrentAppends() throws {
        let url = try PostgresTestServer.freshDatabase("appends")
        _ = try PostgresRunStore.open(url: url, create: true)
        let failures = Failures()
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let store = try PostgresRunStore.open(url: url, create: true)
                    for i in 0..<10 {
                        if i % 2 == 0 {
                            try store.appendLedger(kind: "note", payload: ["thread": .int(t), "i": .int(i)])
                        } else {
                            try store.record(try Samples.artifact("t\(t)-\(i)", seed: i, content: "t\(t)"))
                        }
                    }
                } catch { failures.add("\(error)") }
            }.start()
        }
        group.wait()
        #expect(failures.all.isEmpty)
        let store = try PostgresRunStore.open(url: url, create: false)
        let verification = try store.verifyLedger()
        #expect(verification.isIntact, "\(verification)")
        #expect(verification.entries == 80)
        #expect(try store.statistics().runs == 40)
        #expect(try store.ledgerEntries().map(\.seq) == Array(1...80))
    }

    @Test("a blob row corrupted in the database is named by verify, and reading its run is an error, not a wrong artifact")
    func corruptBlob() throws {
        let url = try PostgresTestServer.freshDatabase("blob")
        let store = try PostgresRunStore.open(url: url, create: true)
        let run = try store.record(try Samples.artifact("victim"))
        try PostgresTestServer.sql(url, "UPDATE blobs SET data = set_byte(data, 10, (get_byte(data, 10) + 1) % 256)")
        let problems = try store.verifyBlobs()
        #expect(problems.count == 1)
        #expect(problems.first?.blob == run.summary.contentSHA256)
        #expect(throws: StoreError.self) { try store.artifact(run.runID) }
        // A run whose blob row is gone altogether is named as missing.
        try PostgresTestServer.sql(url, "ALTER TABLE runs DROP CONSTRAINT runs_blob_fkey; DELETE FROM blobs")
        #expect(try store.verifyBlobs() == [BlobProblem(blob: run.summary.contentSHA256, runID: run.runID, kind: .missing)])
    }

    @Test("a ledger row edited in the database breaks the chain at its seq; an edited runs row is named by its column")
    func editedRows() throws {
        let url = try PostgresTestServer.freshDatabase("ledger")
        let store = try PostgresRunStore.open(url: url, create: true)
        for i in 0..<4 { try store.record(try Samples.artifact("r\(i)", seed: i, content: "c\(i)")) }
        #expect(try store.verifyLedger().isIntact)
        // The append-only trigger stops the accident...
        #expect(throws: (any Error).self) { try PostgresTestServer.sql(url, "UPDATE ledger SET kind = 'x' WHERE seq = 2") }
        // ...an owner who disables it is caught by verification.
        try PostgresTestServer.sql(url, """
            ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;
            UPDATE ledger SET payload = replace(payload, '"seed":2', '"seed":7') WHERE seq = 3;
            ALTER TABLE ledger ENABLE TRIGGER ledger_append_only
            """)
        let broken = try store.verifyLedger()
        #expect(broken.firstBreak?.seq == 3 && broken.firstBreak?.kind == .alteredEntry)
        #expect(try store.exportLedger().contains("\"seed\":7"))

        let url2 = try PostgresTestServer.freshDatabase("runsrow")
        let other = try PostgresRunStore.open(url: url2, create: true)
        let run = try other.record(try Samples.artifact("row"))
        try PostgresTestServer.sql(url2, "UPDATE runs SET success = false")
        #expect(try other.verifyBlobs().contains { $0.runID == run.runID && $0.kind == .indexMismatch(column: "success", indexed: "false", artifact: "true") })
        #expect(try other.verifyLedger().firstBreak?.seq == 1)
    }

    @Test("an artifact the server cannot index (a NUL in a text column) is a typed error, and its transaction leaves nothing behind")
    func refusedArtifactRollsBack() throws {
        let url = try PostgresTestServer.freshDatabase("nul")
        let store = try PostgresRunStore.open(url: url, create: true)
        try store.record(try Samples.artifact("before"))
        guard case .object(var members) = try Samples.artifact("hostile", content: "other") else { return }
        members["agent_ref"] = .string("agents/evil\u{0}.py")
        members["artifact_hash"] = .string(try HashRecipe.rigor.hash(.object(members)))
        #expect(throws: StoreError.self) { try store.record(contentsOf: [try Samples.artifact("with-it", content: "x"), .object(members)]) }
        let stats = try store.statistics()
        #expect(stats.runs == 1 && stats.blobs == 1 && stats.ledgerEntries == 1)
        #expect(try store.verifyLedger().isIntact)
        try store.record(try Samples.artifact("after", content: "y"))
        #expect(try store.verifyLedger().entries == 2)
    }

    @Test("a database of a newer schema, or holding someone else's tables, is refused untouched")
    func refusals() throws {
        let newer = try PostgresTestServer.freshDatabase("newer")
        _ = try PostgresRunStore.open(url: newer, create: true)
        try PostgresTestServer.sql(newer, "UPDATE rigor_meta SET value = '99' WHERE key = 'schema_version'")
        #expect(throws: StoreError.self) { try PostgresRunStore.open(url: newer, create: true) }
        do { _ = try PostgresRunStore.open(url: newer, create: true) } catch {
            guard case .newerSchema(_, let found, let supported) = error else { Issue.record("got \(error)"); return }
            #expect(found == 99 && supported == 1)
        }
        let foreign = try PostgresTestServer.freshDatabase("foreign")
        try PostgresTestServer.sql(foreign, "CREATE TABLE ledger (id int)")
        do { _ = try PostgresRunStore.open(url: foreign, create: true); Issue.record("opened a foreign database") } catch {
            guard case .foreignDatabase = error else { Issue.record("got \(error)"); return }
        }
        #expect(try PostgresTestServer.sql(foreign, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1")
        let empty = try PostgresTestServer.freshDatabase("empty")
        #expect(throws: StoreError.emptyDatabase(location: try PostgresLocation(parsing: empty).description)) {
            try PostgresRunStore.open(url: empty, create: false)
        }
    }

    @Test("an unreachable server, a missing database and a refused login each get their own error")
    func connectionErrors() throws {
        let base = try PostgresTestServer.baseURL()
        let location = try PostgresLocation(parsing: base)
        do { _ = try PostgresRunStore.open(url: "postgres://postgres@127.0.0.1:1/rigor?connect_timeout=2", create: false) } catch {
            guard case .unreachable = error else { Issue.record("got \(error)"); return }
        }
        do { _ = try PostgresRunStore.open(url: "postgres://postgres@\(location.host):\(location.port)/no_such_db", create: false) } catch {
            guard case .databaseMissing(_, let database) = error else { Issue.record("got \(error)"); return }
            #expect(database == "no_such_db")
        }
        do { _ = try PostgresRunStore.open(url: "postgres://nobody:pw@\(location.host):\(location.port)/rigor", create: false) } catch {
            guard case .authenticationFailed(let shown, _) = error else { Issue.record("got \(error)"); return }
            #expect(!shown.contains("pw"))
        }
    }
}

final class Failures: @unchecked Sendable {
    private var items: [String] = []
    private let lock = NSLock()
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
