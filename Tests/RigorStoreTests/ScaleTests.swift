import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// Size and speed at realistic scale. Timings are printed, never asserted.
@Suite("scale")
struct ScaleTests {
    static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = MonotonicClock.nanoseconds()
        try body()
        return Double(MonotonicClock.nanoseconds() - start) / 1e6
    }

    @Test("a store of 10,000 runs lists, filters and resolves from its indexes")
    func tenThousandRuns() throws {
        let (store, directory) = try Fixtures.store("scale")
        let artifacts = try (0..<10_000).map(Fixtures.smallArtifact(index:))
        var stored: [StoredRun] = []
        let insert = try Self.milliseconds { stored = try store.record(contentsOf: artifacts) }
        #expect(stored.count == 10_000 && stored.allSatisfy(\.inserted))

        var newest: [RunSummary] = []
        // The first query after the bulk insert and the dictionary training that follows it reads
        // its pages back into the cache (a few ms): it is timed apart.
        let cold = try Self.milliseconds { _ = try store.runs(limit: 50) }
        let list = try Self.milliseconds { newest = try store.runs(limit: 50) }
        #expect(newest.map(\.runID) == artifacts.suffix(50).reversed().map { $0["run_id"]?.stringValue ?? "" })

        var failures: [RunSummary] = []
        let filtered = try Self.milliseconds {
            failures = try store.runs(filter: RunFilter(taskRef: "task_3@1", outcome: .failure), limit: 50)
        }
        #expect(failures.count == 50)
        #expect(failures.allSatisfy { $0.taskRef == "task_3@1" && $0.success == false && $0.failureType == "budget_exhausted" })

        var substring: [RunSummary] = []
        let contains = try Self.milliseconds { substring = try store.runs(filter: RunFilter(agent: .contains("agent_6")), limit: 50) }
        #expect(substring.count == 50)

        let id = try #require(artifacts[1234]["run_id"]?.stringValue)
        var resolved = ""
        let resolve = try Self.milliseconds { resolved = try store.resolve(String(id.prefix(8))) }
        #expect(resolved == id)

        let reopen = try Self.milliseconds { _ = try RunStore.open(directory: directory, create: false) }
        let stats = try store.statistics()
        #expect(stats.runs == 10_000 && stats.blobs == 10_000 && stats.ledgerEntries == 10_000)
        print("""
            10,000 runs: insert (one transaction) \(Int(insert)) ms; runs(limit: 50) \(String(format: "%.2f", list)) ms \
            (first call \(String(format: "%.2f", cold)) ms); \
            task+outcome filter \(String(format: "%.2f", filtered)) ms; agent substring \(String(format: "%.2f", contains)) ms; \
            resolve prefix \(String(format: "%.2f", resolve)) ms; reopen with quick_check \(Int(reopen)) ms; \
            database \(stats.databaseBytes / 1024) KiB
            """)
    }

    @Test("compression of the 24 TraceCore artifacts: levels 3 to 9, and the store against the files")
    func compression() throws {
        let names = Fixtures.interopFileNames
        #expect(names.count == 24)
        var fileBytes = 0
        var distinct: [String: [UInt8]] = [:]
        for name in names {
            let bytes = try Fixtures.interopBytes(name)
            fileBytes += bytes.count
            let parts = try ArtifactSplit.split(try JSON.parse(bytes))
            distinct[parts.contentSHA256] = parts.stableBytes
        }
        let stable = distinct.values.reduce(0) { $0 + $1.count }
        var table = "level  compressed  ratio  time\n"
        for level in Int32(3)...9 {
            var compressed = 0
            let time = try Self.milliseconds {
                for _ in 0..<20 {
                    compressed = 0
                    for bytes in distinct.values {
                        let frame = try Zstd.compress(bytes, level: level)
                        compressed += frame.count
                        #expect(try Zstd.decompress(frame, expectedSize: bytes.count) == bytes)
                    }
                }
            }
            table += "  \(level)    \(compressed)      \(String(format: "%.2f", Double(stable) / Double(compressed)))x  \(String(format: "%.1f", time / 20)) ms\n"
        }

        let (store, directory) = try Fixtures.store("compression")
        for name in names { try store.importArtifact(try Fixtures.interopArtifact(name)) }
        try store.raw("PRAGMA wal_checkpoint(TRUNCATE)")
        let stats = try store.statistics()
        let dbFile = try #require(try FileManager.default.attributesOfItem(atPath: directory + "/rigor.db")[.size] as? NSNumber).intValue
        print("""
            24 TraceCore artifacts: \(fileBytes) bytes as pretty JSON files; \(distinct.count) distinct stable parts, \
            \(stable) bytes of JCS
            \(table)\
            store at level \(Zstd.level): blobs \(stats.blobBytes) bytes + volatile \(stats.volatileBytes) bytes; \
            rigor.db \(dbFile) bytes (\(String(format: "%.2f", Double(fileBytes) / Double(dbFile)))x smaller than the files)
            """)
        #expect(stats.runs == 24 && stats.blobs == distinct.count)
        #expect(stats.blobBytes < stable)
    }
}
