import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// How big a store is against the JSON files of the same artifacts. Sizes are printed; the
/// acceptance target (a store at most 1/8 of the files) is measured on the 1,100 artifacts of
/// `rigor batch --pairings all --seeds 0..99`, by hand:
///
///     rigor batch --pairings all --seeds 0..99 --state-dir /tmp/x --isolation process
///     RIGOR_STORE_SIZE_DIR=/tmp/x/runs swift test --filter "sizeOfADirectory"
enum StoreSize {
    struct Report: CustomStringConvertible {
        var files = 0
        var jsonBytes = 0
        var storeBytes = 0
        var recordMilliseconds = 0.0
        var statistics: StoreStatistics?
        /// Per table and index (dbstat): pages × page size, and the payload bytes in them.
        var breakdown: [(name: String, bytes: Int, payload: Int)] = []

        var ratio: Double { Double(storeBytes) / Double(max(1, jsonBytes)) }

        var description: String {
            var out = """
                \(files) artifacts: \(jsonBytes) bytes of JSON files (\(jsonBytes / max(1, files)) per file); \
                store \(storeBytes) bytes (\(storeBytes / max(1, files)) per run) = 1/\(String(format: "%.2f", 1 / max(ratio, 1e-9))) \
                of the files; recorded in \(Int(recordMilliseconds)) ms
                """
            if let s = statistics {
                out += "\n  blobs \(s.blobs) (\(s.blobBytes) bytes compressed, \(s.contentBytes) raw), volatile \(s.volatileBytes) bytes, "
                    + "dictionaries \(s.dictionaries) (\(s.dictionaryBytes) bytes), ledger entries \(s.ledgerEntries)"
            }
            for row in breakdown {
                out += "\n  \(row.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(row.bytes).leftPadded(9)) bytes"
                    + " \(String(row.payload).leftPadded(9)) payload  \(String(row.bytes / max(1, files)).leftPadded(5)) per run"
            }
            return out
        }
    }

    /// Records the JSON files, one transaction each in the given order (as `rigor batch` does),
    /// into a fresh store; closes it (checkpointing the WAL) and measures.
    static func measure(files: [String], label: String) throws -> Report {
        let directory = RepoPaths.temporaryDirectory("rigor-store-size-\(label)") + "/.rigor"
        var report = Report()
        do {
            let store = try RunStore.open(directory: directory, create: true)
            var artifacts: [JSON] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw FixtureError("cannot read \(file)") }
                report.jsonBytes += data.count
                report.files += 1
                artifacts.append(try JSON.parse([UInt8](data)))
            }
            let start = MonotonicClock.nanoseconds()
            for artifact in artifacts { try store.importArtifact(artifact) }
            report.recordMilliseconds = Double(MonotonicClock.nanoseconds() - start) / 1e6
            report.statistics = try store.statistics()
        }  // closed: the WAL is checkpointed into rigor.db and removed
        let path = directory + "/" + RunStore.fileName
        for file in [path, path + "-wal"] {
            report.storeBytes += ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0
        }
        let store = try RunStore.open(directory: directory, create: false)
        try store.withConnection { (c) throws(StoreError) in
            report.breakdown = try c.query(
                "SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC"
            ) { (name: $0.text(0) ?? "", bytes: $0.int(1) ?? 0, payload: $0.int(2) ?? 0) }
        }
        return report
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

@Suite("store size")
struct SizeTests {
    @Test("the 24 TraceCore artifacts: store against files")
    func interop() throws {
        let files = Fixtures.interopFileNames.map { "\(RepoPaths.interop)/\($0)" }
        let report = try StoreSize.measure(files: files, label: "interop")
        print(report)
        #expect(report.files == 24)
        #expect(report.storeBytes < report.jsonBytes)
    }

    static let directory = ProcessInfo.processInfo.environment["RIGOR_STORE_SIZE_DIR"]

    @Test("the artifacts in $RIGOR_STORE_SIZE_DIR (by hand: the 1,100 of a full batch)", .enabled(if: directory != nil))
    func sizeOfADirectory() throws {
        let directory = try #require(Self.directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
        // Recording order: the order the batch wrote them in.
        let files = names.map { "\(directory)/\($0)" }.sorted { a, b in
            let ta = (try? FileManager.default.attributesOfItem(atPath: a)[.modificationDate] as? Date) ?? .distantPast
            let tb = (try? FileManager.default.attributesOfItem(atPath: b)[.modificationDate] as? Date) ?? .distantPast
            return ta == tb ? a < b : ta < tb
        }
        let report = try StoreSize.measure(files: files, label: "directory")
        print(report)
    }

    static let stateDirectory = ProcessInfo.processInfo.environment["RIGOR_STORE_MIGRATE_DIR"]

    /// By hand, on a state directory written by an older Rigor (its rigor.db and runs/*.json):
    /// a copy of the store is migrated, checked against the files, and compacted by gc.
    @Test("a copy of the store in $RIGOR_STORE_MIGRATE_DIR migrates and still holds its runs", .enabled(if: stateDirectory != nil))
    func migrateAStore() throws {
        let source = try #require(Self.stateDirectory)
        let directory = RepoPaths.temporaryDirectory("rigor-store-migrate") + "/.rigor"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: "\(source)/rigor.db\(suffix)") {
            try FileManager.default.copyItem(atPath: "\(source)/rigor.db\(suffix)", toPath: "\(directory)/rigor.db\(suffix)")
        }
        func size() -> Int {
            ["", "-wal"].reduce(0) { total, suffix in
                total + (((try? FileManager.default.attributesOfItem(atPath: "\(directory)/rigor.db\(suffix)"))?[.size] as? NSNumber)?.intValue ?? 0)
            }
        }
        let before = size()
        var store: RunStore?
        let migration = try ScaleTests.milliseconds { store = try RunStore.open(directory: directory, create: false) }
        let migrated = try #require(store)
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(source)/runs") where name.hasSuffix(".json") {
            let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: "\(source)/runs/\(name)"))))
            let runID = try #require(artifact["run_id"]?.stringValue)
            #expect(try migrated.artifact(runID) == artifact)
            checked += 1
        }
        #expect(try migrated.verifyBlobs().isEmpty)
        #expect(try migrated.verifyLedger().isIntact)
        let gc = try migrated.gc()
        store = nil
        print("""
            migrated \(checked) runs in \(Int(migration)) ms; store \(before) bytes before, \
            \(gc.databaseBytesBefore) after the migration, \(gc.databaseBytesAfter) after gc (\(gc.recompressed) items recompressed)
            """)
    }
}

