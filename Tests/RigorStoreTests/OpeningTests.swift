import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// Opening a store: what is created, what is refused, and that refused files are left alone.
@Suite("opening")
struct OpeningTests {
    static func fileBytes(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    @Test("a missing store is created only when asked, with the documented settings")
    func missingStore() throws {
        let directory = RepoPaths.temporaryDirectory("rigor-store-open") + "/nested/.rigor"
        #expect(throws: StoreError.storeMissing(path: directory + "/rigor.db")) {
            try RunStore.open(directory: directory, create: false)
        }
        #expect(!FileManager.default.fileExists(atPath: directory))

        let store = try RunStore.open(directory: directory, create: true)
        #expect(store.path == directory + "/rigor.db")
        #expect(try store.rawText("PRAGMA journal_mode") == "wal")
        #expect(try store.rawInt("PRAGMA foreign_keys") == 1)
        #expect(try store.rawInt("PRAGMA synchronous") == 1)  // NORMAL
        #expect(try store.rawInt("PRAGMA busy_timeout") == 10_000)
        #expect(try store.rawInt("PRAGMA user_version") == Schema.version)
        #expect(throws: StoreError.self) {  // foreign keys are enforced
            try store.raw("INSERT INTO runs (run_id, ledger_seq, recorded_at, blob, volatile) VALUES ('x', 99, 'now', 12345, x'')")
        }
        try store.appendLedger(kind: "note", payload: ["text": "first"])
        #expect(throws: StoreError.self) { try store.raw("DELETE FROM ledger") }  // append-only
        #expect(throws: StoreError.self) { try store.raw("UPDATE ledger SET kind = 'x'") }
        #expect(try store.ledgerEntries().count == 1)
    }

    @Test("reopening applies no migration twice and keeps everything")
    func reopen() throws {
        let (store, directory) = try Fixtures.store("reopen")
        let run = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("reopen")))
        let schema = try store.rawText("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master ORDER BY name)")
        for _ in 0..<3 {
            let again = try RunStore.open(directory: directory, create: false)
            #expect(try again.rawInt("PRAGMA user_version") == Schema.version)
            #expect(try again.rawText("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master ORDER BY name)") == schema)
            #expect(try again.summary(run.runID) == run.summary)
            #expect(try again.verifyLedger().isIntact)
        }
        #expect(try store.statistics().runs == 1)
    }

    @Test("a store from a newer schema is refused, naming both versions, and left as it was")
    func newerSchema() throws {
        let directory: String
        do {
            let (store, dir) = try Fixtures.store("newer")
            try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("newer")))
            try store.raw("PRAGMA user_version = 7")
            directory = dir
        }
        do {
            _ = try RunStore.open(directory: directory, create: true)
            Issue.record("a newer store was opened")
        } catch {
            #expect(error == .newerSchema(path: directory + "/rigor.db", found: 7, supported: Schema.version))
            #expect(error.description.contains("schema version 7"))
            #expect(error.description.contains("versions up to \(Schema.version)"))
            #expect(error.description.contains("upgrade Rigor"))
        }
        // Still version 7, still holding its run: read it with SQLite directly.
        let check = try CommandLineRun.run("/bin/sh", ["-c", "sqlite3 '\(directory)/rigor.db' 'PRAGMA user_version; SELECT count(*) FROM runs;'"])
        #expect(check.stdout == "7\n1\n", "\(check.stderr)")
    }

    @Test("a file that is not a database is reported and never recreated", arguments: [
        Array("this is not a database, it is a note\n".utf8),
        Array(repeating: 0xA5, count: 8192),
    ])
    func garbageFile(content: [UInt8]) throws {
        let directory = RepoPaths.temporaryDirectory("rigor-store-garbage") + "/.rigor"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/rigor.db"
        try Data(content).write(to: URL(fileURLWithPath: path))
        for create in [false, true] {
            do {
                _ = try RunStore.open(directory: directory, create: create)
                Issue.record("a garbage file opened as a store")
            } catch {
                guard case .notADatabase(let reported, _) = error else {
                    Issue.record("unexpected error: \(error)")
                    continue
                }
                #expect(reported == path)
                #expect(error.description.contains("is not a Rigor run store"))
                #expect(error.description.contains("left untouched"))
            }
        }
        #expect(Self.fileBytes(path) == content)
    }

    @Test("an empty rigor.db is refused without create, and initialised with it")
    func emptyFile() throws {
        let directory = RepoPaths.temporaryDirectory("rigor-store-empty") + "/.rigor"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: directory + "/rigor.db", contents: Data()))
        #expect(throws: StoreError.self) { try RunStore.open(directory: directory, create: false) }
        let store = try RunStore.open(directory: directory, create: true)
        #expect(try store.statistics().runs == 0)
    }

    @Test("a truncated store is reported as damaged and left untouched", arguments: [2, 3, 10])
    func truncatedFile(divisor: Int) throws {
        let directory: String
        do {
            let (store, dir) = try Fixtures.store("truncated")
            try store.record(contentsOf: (0..<300).map { try Fixtures.smallArtifact(index: $0) })
            directory = dir
        }  // the last connection closes here: the WAL is checkpointed into rigor.db and removed
        let path = directory + "/rigor.db"
        let full = try #require(Self.fileBytes(path))
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let truncated = Array(full.prefix(full.count / divisor))
        try Data(truncated).write(to: URL(fileURLWithPath: path))
        do {
            _ = try RunStore.open(directory: directory, create: true)
            Issue.record("a truncated store (1/\(divisor) of \(full.count) bytes) opened")
        } catch {
            switch error {
            case .corrupt, .notADatabase: #expect(error.description.contains("left untouched"))
            default: Issue.record("unexpected error: \(error)")
            }
        }
        #expect(Self.fileBytes(path) == truncated)
    }
}
