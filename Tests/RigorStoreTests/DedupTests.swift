@testable import RigorStore
import RigorSpec
import Testing

/// Identical content is stored once: replays of an episode share their blob.
@Suite("dedup")
struct DedupTests {
    @Test("two replays that differ only in run_id, timestamps and diagnostics add one blob")
    func replaysShareABlob() throws {
        let (store, _) = try Fixtures.store("dedup")
        let first = try Fixtures.rigorArtifact(runID: Fixtures.runID("replay-1"), diagnostics: ["wall": 0.25])
        let second = try Fixtures.rigorArtifact(runID: Fixtures.runID("replay-2"), diagnostics: ["wall": 0.75, "extra": true])
        #expect(first != second)
        #expect(first["artifact_hash"] == second["artifact_hash"])

        let a = try store.record(first)
        let b = try store.record(second)
        #expect(a.addedBlob && !b.addedBlob)
        #expect(a.summary.contentSHA256 == b.summary.contentSHA256)
        let stats = try store.statistics()
        #expect(stats.runs == 2 && stats.blobs == 1)
        // Each still exports as itself.
        #expect(try store.artifact(a.runID) == first)
        #expect(try store.artifact(b.runID) == second)
    }

    @Test("a different episode (another seed) adds its own blob")
    func differentEpisode() throws {
        let (store, _) = try Fixtures.store("dedup-seed")
        try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("s1"), seed: 1))
        let other = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("s2"), seed: 2))
        #expect(other.addedBlob)
        #expect(try store.statistics().blobs == 2)
    }

    @Test("gc removes only blobs no run refers to and gives the space back")
    func gc() throws {
        let (store, _) = try Fixtures.store("gc")
        let shared1 = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("g1"), seed: 1))
        let shared2 = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("g2"), seed: 1))
        let alone = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("g3"), seed: 3, steps: 40))
        #expect(try store.gc() == GCReport(
            blobsRemoved: 0, blobBytesRemoved: 0, databaseBytesBefore: try store.statistics().databaseBytes,
            databaseBytesAfter: try store.statistics().databaseBytes))

        // Runs are never deleted through the API; deleting rows by hand is what leaves orphans.
        try store.raw("DELETE FROM runs WHERE run_id IN (?, ?)", [.text(shared1.runID), .text(alone.runID)])
        let report = try store.gc()
        #expect(report.blobsRemoved == 1)
        #expect(report.blobBytesRemoved > 0)
        #expect(report.databaseBytesAfter <= report.databaseBytesBefore)
        #expect(try store.statistics().blobs == 1)
        #expect(try store.artifact(shared2.runID)["run_id"]?.stringValue == shared2.runID)
        #expect(try store.verifyBlobs().isEmpty)
    }
}
