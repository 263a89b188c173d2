import Foundation
@testable import RigorStore
import RigorSpec
import Testing

/// Concurrent writers never lose a run and never fork the ledger.
@Suite("concurrency")
struct ConcurrencyTests {
    static func check(_ store: RunStore, runs: Int) throws {
        #expect(try store.runs(limit: 0).count == runs)
        let verification = try store.verifyLedger()
        #expect(verification.isIntact, "\(verification)")
        #expect(verification.entries == runs)
        #expect(try store.verifyBlobs().isEmpty)
        // Recording order is the ledger order: seqs are exactly 1...runs.
        #expect(Set(try store.runs(limit: 0).map(\.ledgerSeq)) == Set(1...runs))
    }

    @Test("two threads, each with its own connection, record 200 runs each: 400 runs, one valid ledger")
    func twoConnections() throws {
        let (_, directory) = try Fixtures.store("threads")
        let errors = Collector<String>()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                let store = try RunStore.open(directory: directory, create: false)
                for i in 0..<200 {
                    try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("thread-\(thread)-\(i)"), seed: i % 10, steps: 2))
                }
            } catch {
                errors.add("thread \(thread): \(error)")
            }
        }
        #expect(errors.all.isEmpty)
        let store = try RunStore.open(directory: directory, create: false)
        try Self.check(store, runs: 400)
        // Both threads replayed the same ten episodes: ten blobs hold all 400 runs.
        #expect(try store.statistics().blobs == 10)
    }

    @Test("one store shared by two threads serialises its connection")
    func sharedStore() throws {
        let (store, _) = try Fixtures.store("shared")
        let errors = Collector<String>()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                for i in 0..<50 {
                    try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("shared-\(thread)-\(i)"), steps: 1))
                    _ = try store.runs(limit: 5)
                }
            } catch {
                errors.add("thread \(thread): \(error)")
            }
        }
        #expect(errors.all.isEmpty)
        try Self.check(store, runs: 100)
    }

    static let sqliteShell = FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")

    @Test("a record waits for another process's write transaction instead of failing", .enabled(if: sqliteShell))
    func otherProcessHoldsTheLock() throws {
        let (store, directory) = try Fixtures.store("process")
        try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("before")))
        // Another process takes the write lock, writes, holds the lock for 1.5 s, then commits.
        let other = Process()
        other.executableURL = URL(fileURLWithPath: "/bin/sh")
        other.arguments = ["-c", """
            printf "BEGIN IMMEDIATE;\nINSERT INTO session VALUES ('external', 'x');\n.shell sleep 1.5\nCOMMIT;\n"             | sqlite3 '\(directory)/rigor.db'
            """]
        try other.run()
        Thread.sleep(forTimeInterval: 0.5)
        let start = MonotonicClock.nanoseconds()
        let stored = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("during")))
        let waited = Double(MonotonicClock.nanoseconds() - start) / 1e9
        other.waitUntilExit()
        print("record waited \(String(format: "%.2f", waited)) s for the other process's transaction")
        #expect(other.terminationStatus == 0)
        #expect(stored.inserted)
        #expect(try store.rawText("SELECT value FROM session WHERE key = 'external'") == "x")
        try Self.check(store, runs: 2)
    }
}
