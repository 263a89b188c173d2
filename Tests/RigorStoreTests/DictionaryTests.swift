import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// The zstd dictionaries a store trains on its own content.
@Suite("dictionaries")
struct DictionaryTests {
    /// Distinct episodes (one blob each), of several tasks and agents.
    static func artifact(_ i: Int, label: String = "dict") throws -> JSON {
        try Fixtures.rigorArtifact(
            runID: Fixtures.runID("\(label)-\(i)"), seed: i, agent: "agents/agent_\(i % 3).py", task: "task_\(i % 4)",
            termination: i % 5 == 0 ? .stepsExhausted : .success, steps: 1 + i % 7)
    }

    static func volatileDictionaries(_ store: RunStore) throws -> [Int: Int] {
        let frames = try store.withConnection { (c) throws(StoreError) in
            try c.query("SELECT volatile FROM runs") { $0.bytes(0) }
        }
        return Dictionary(grouping: frames.map(Zstd.frameDictionaryID), by: { $0 }).mapValues(\.count)
    }

    @Test("the dictionaries are trained at the threshold (32nd item); everything stored before is recompressed and reads back")
    func trainedAtThreshold() throws {
        let (store, _) = try Fixtures.store("dict")
        let threshold = DictionaryPurpose.trainingThreshold
        var artifacts: [JSON] = []
        for i in 0..<(threshold - 1) {
            artifacts.append(try Self.artifact(i))
            try store.record(artifacts[i])
        }
        #expect(try store.statistics().dictionaries == 0)
        let plain = try store.statistics()

        for i in (threshold - 1)..<(threshold + 20) {
            artifacts.append(try Self.artifact(i))
            try store.record(artifacts[i])
        }
        let stats = try store.statistics()
        #expect(stats.dictionaries == 2)
        let ids = try store.withConnection { (c) throws(StoreError) in
            try c.query("SELECT id, purpose FROM dictionaries ORDER BY id") { "\($0.int(0) ?? 0) \($0.text(1) ?? "")" }
        }
        #expect(ids == ["32768 stable", "32769 volatile"])
        // Every blob and every volatile part uses its dictionary, the first ones too.
        #expect(try store.rawInt("SELECT count(*) FROM blobs WHERE codec = 'zstd-dict:32768'") == artifacts.count)
        #expect(try Self.volatileDictionaries(store) == [32769: artifacts.count])
        print("""
            \(threshold - 1) runs without dictionaries: blobs \(plain.blobBytes) bytes, volatile \(plain.volatileBytes); \
            \(artifacts.count) runs with: blobs \(stats.blobBytes), volatile \(stats.volatileBytes), \
            dictionaries \(stats.dictionaryBytes)
            """)
        #expect(stats.blobBytes < plain.blobBytes)

        for artifact in artifacts {
            let runID = try #require(artifact["run_id"]?.stringValue)
            #expect(try store.artifact(runID) == artifact)
            #expect(try store.exportBytes(runID) == (try artifact.canonicalBytes(style: .jcs)))
        }
        #expect(try store.verifyBlobs().isEmpty)
        #expect(try store.verifyLedger().isIntact)
        // Recording a stored run again is still a no-op, and other content under its id a conflict.
        #expect(try store.record(artifacts[0]).inserted == false)
        #expect(throws: StoreError.runConflict(runID: Fixtures.runID("dict-0"))) {
            try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("dict-0"), seed: 12345))
        }
        // A reopened store (empty cache) reads the same.
        let reopened = try RunStore.open(directory: (store.path as NSString).deletingLastPathComponent, create: false)
        #expect(try reopened.artifact(Fixtures.runID("dict-5")) == artifacts[5])
    }

    @Test("two writers crossing the threshold together train one dictionary per purpose and lose nothing")
    func trainingRace() throws {
        let (_, directory) = try Fixtures.store("dict-race")
        let errors = Collector<String>()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                let store = try RunStore.open(directory: directory, create: false)
                for i in 0..<60 { try store.record(try Self.artifact(thread * 1000 + i, label: "race")) }
            } catch {
                errors.add("thread \(thread): \(error)")
            }
        }
        #expect(errors.all.isEmpty)
        let store = try RunStore.open(directory: directory, create: false)
        try ConcurrencyTests.check(store, runs: 120)
        #expect(try store.rawInt("SELECT count(*) FROM dictionaries") == 2)
        #expect(try store.statistics().dictionaries == 2)
        // What a writer compressed before the other's training committed is written with the
        // dictionary all the same, or recompressed by gc.
        _ = try store.gc()
        #expect(try store.rawInt("SELECT count(*) FROM blobs WHERE codec = 'zstd'") == 0)
        #expect(try Self.volatileDictionaries(store).keys.contains(0) == false)
        #expect(try store.verifyBlobs().isEmpty)
    }

    @Test("a training that produced nothing is not retried, and data is stored without a dictionary")
    func failedTraining() throws {
        let (store, _) = try Fixtures.store("dict-failed")
        try store.raw("INSERT INTO dictionaries (id, purpose, data) VALUES (32768, 'stable', x''), (32769, 'volatile', x'')")
        for i in 0..<70 { try store.record(try Self.artifact(i, label: "failed")) }
        #expect(try store.rawInt("SELECT count(*) FROM dictionaries") == 2)
        #expect(try store.statistics().dictionaries == 0)
        #expect(try store.rawInt("SELECT count(*) FROM blobs WHERE codec = 'zstd'") == 70)
        #expect(try Self.volatileDictionaries(store) == [0: 70])
        #expect(try store.verifyBlobs().isEmpty)
    }

    @Test("with dictionaries, a flipped byte in a blob, a volatile part or a dictionary is detected")
    func tamper() throws {
        let (store, directory) = try Fixtures.store("dict-tamper")
        var runs: [StoredRun] = []
        for i in 0..<70 { runs.append(try store.record(try Self.artifact(i, label: "tamper"))) }
        #expect(try store.statistics().dictionaries == 2)
        var prng = PRNG(material: Array("store-tamper/dictionaries".utf8))
        for _ in 0..<30 {
            let run = prng.pick(runs)
            let address = SQLValue.blob(try #require(ColumnEncoding.digest(hex: run.summary.contentSHA256)))
            let original = try #require(try store.rawBytes("SELECT data FROM blobs WHERE sha256 = ?", [address]))
            let (damaged, position) = TamperTests.flip(original, &prng)
            try store.raw("UPDATE blobs SET data = ? WHERE sha256 = ?", [.blob(damaged), address])
            #expect(try store.verifyBlobs().map(\.blob) == [run.summary.contentSHA256], "blob byte \(position)")
            #expect(throws: StoreError.self, "blob byte \(position)") { try store.artifact(run.runID) }
            try store.raw("UPDATE blobs SET data = ? WHERE sha256 = ?", [.blob(original), address])
        }
        for _ in 0..<30 {
            let run = prng.pick(runs)
            let seq = SQLValue.integer(Int64(run.summary.ledgerSeq))
            let original = try #require(try store.rawBytes("SELECT volatile FROM runs WHERE ledger_seq = ?", [seq]))
            let (damaged, position) = TamperTests.flip(original, &prng)
            try store.raw("UPDATE runs SET volatile = ? WHERE ledger_seq = ?", [.blob(damaged), seq])
            #expect(try store.verifyBlobs().map(\.runID) == [run.runID], "volatile byte \(position)")
            #expect(throws: StoreError.self, "volatile byte \(position)") { try store.artifact(run.runID) }
            try store.raw("UPDATE runs SET volatile = ? WHERE ledger_seq = ?", [.blob(original), seq])
        }
        #expect(try store.verifyBlobs().isEmpty)
        // A damaged dictionary (seen by a store that opens the file afterwards) breaks what uses it.
        for id in [32768, 32769] {
            let original = try #require(try store.rawBytes("SELECT data FROM dictionaries WHERE id = ?", [.integer(Int64(id))]))
            let (damaged, position) = TamperTests.flip(original, &prng)
            try store.raw("UPDATE dictionaries SET data = ? WHERE id = ?", [.blob(damaged), .integer(Int64(id))])
            let reader = try RunStore.open(directory: directory, create: false)
            let problems = try reader.verifyBlobs()
            // A flip in the dictionary's unused tail may change nothing; anywhere it matters, it is reported.
            if problems.isEmpty {
                for run in runs { #expect(try reader.exportBytes(run.runID) == (try store.exportBytes(run.runID))) }
            } else {
                #expect(!problems.isEmpty, "dictionary \(id) byte \(position)")
            }
            try store.raw("UPDATE dictionaries SET data = ? WHERE id = ?", [.blob(original), .integer(Int64(id))])
        }
        // A frame naming a dictionary the store does not have is refused.
        try store.raw("DELETE FROM dictionaries WHERE id = 32769")
        let reader = try RunStore.open(directory: directory, create: false)
        #expect(throws: StoreError.self) { try reader.artifact(runs[0].runID) }
        #expect(try reader.verifyBlobs().count == runs.count)
    }
}

@Suite("column encoding")
struct ColumnEncodingTests {
    @Test("timestamps in Rigor's shape are stored as microseconds and read back exactly", arguments: [
        "2026-11-22T06:18:35.498683+00:00", "1970-01-01T00:00:00.000000+00:00", "1969-12-31T23:59:59.999999+00:00",
        "2000-02-29T12:00:00.000001+00:00", "9999-12-31T23:59:59.999999+00:00", "0001-01-01T00:00:00.000000+00:00",
    ])
    func compactTimestamps(text: String) throws {
        let micros = try #require(ColumnEncoding.microseconds(text))
        #expect(ColumnEncoding.rfc3339(microseconds: micros) == text)
        #expect(ColumnEncoding.timestamp(text) == .integer(micros))
    }

    @Test("other text stays text", arguments: [
        "2026-11-22T06:18:35.498683Z", "2026-11-22T06:18:35.498683+01:00", "2026-11-22T06:18:35.4986+00:00",
        "2026-13-22T06:18:35.498683+00:00", "2026-02-30T06:18:35.498683+00:00", "2026-11-22T24:00:00.000000+00:00",
        "2026-11-22T06:18:60.000000+00:00", "2026-11-22 06:18:35.498683+00:00", "+026-11-22T06:18:35.498683+00:00",
        "", "yesterday",
    ])
    func textTimestamps(text: String) throws {
        #expect(ColumnEncoding.microseconds(text) == nil)
        #expect(ColumnEncoding.timestamp(text) == .text(text))
    }

    @Test("hashes: 'sha256:' and 64 lowercase hex digits are 32 bytes, anything else text")
    func hashes() throws {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        #expect(ColumnEncoding.prefixedHash("sha256:" + hex) == .blob(try #require(ColumnEncoding.digest(hex: hex))))
        #expect(ColumnEncoding.hex(try #require(ColumnEncoding.digest(hex: hex))) == hex)
        for other in ["sha256:" + hex.uppercased(), "sha256:" + hex.dropLast(), "sha1:" + hex, hex, "sha256:" + hex + "0"] {
            #expect(ColumnEncoding.prefixedHash(other) == .text(other))
        }
    }

    @Test("a run whose timestamps and hashes are not in the compact shapes reads back exactly")
    func unusualValues() throws {
        let (store, _) = try Fixtures.store("encoding")
        var artifact = try Fixtures.smallArtifact(index: 1)
        artifact = Fixtures.setting("started_at", to: "2026-01-01T00:00:00Z", in: artifact)
        artifact = Fixtures.setting("completed_at", to: 12, in: artifact)
        artifact = Fixtures.setting("trace_id", to: "12", in: artifact)
        artifact = Fixtures.setting("artifact_hash", to: "sha256:ABC", in: artifact)
        artifact = Fixtures.setting("agent_hash", to: "", in: artifact)
        let stored = try store.record(artifact)
        #expect(stored.summary.startedAt == "2026-01-01T00:00:00Z")
        #expect(stored.summary.completedAt == nil)
        #expect(stored.summary.traceID == "12")
        #expect(stored.summary.artifactHash == "sha256:ABC")
        #expect(stored.summary.agentHash == "")
        #expect(try store.summary(stored.runID) == stored.summary)
        #expect(try store.artifact(stored.runID) == artifact)
        #expect(try store.verifyLedger().isIntact)
    }
}
