import Foundation
@testable import RigorStore
import RigorSpec
import Testing

/// `appendHistory`: another store's whole history copied in, re-provable by `verifyLedger`.
@Suite("merged histories")
struct MergeHistoryTests {
    /// A store with `runs` runs and a closing "batch_shard"-like entry, as a shard leaves it.
    static func shard(_ label: String, runs: Int) throws -> RunStore {
        let (store, _) = try Fixtures.store(label)
        var ids: [JSON] = []
        for i in 0..<runs {
            let id = Fixtures.runID("\(label)-\(i)")
            try store.record(try Fixtures.rigorArtifact(runID: id, seed: i, steps: 1 + i % 4))
            ids.append(.string(id))
        }
        try store.appendLedger(kind: "batch_shard", payload: ["label": .string(label), "runs": .array(ids)])
        return store
    }

    /// Rewrites the ledger from `seq` on with `payload` at `seq`, re-chaining every later entry:
    /// what a forger who understands the chain (but not merge entries) would do.
    static func forge(_ store: RunStore, seq: Int, payload: JSON) throws {
        try store.raw("DROP TRIGGER IF EXISTS ledger_no_update")
        var entries = try store.ledgerEntries()
        var previous = seq == 1 ? String(repeating: "0", count: 64) : entries[seq - 2].entryHash
        for i in (seq - 1)..<entries.count {
            if i == seq - 1 { entries[i].payload = payload }
            entries[i].prevHash = previous
            entries[i].entryHash = Digest.sha256Hex(try entries[i].hashedJSON.canonicalBytes(style: .jcs))
            previous = entries[i].entryHash
            try store.raw("UPDATE ledger SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?", [
                .text(try entries[i].payload.canonicalString()), Ledger.hashValue(Array(entries[i].prevHash.utf8)),
                Ledger.hashValue(Array(entries[i].entryHash.utf8)), .integer(Int64(entries[i].seq))])
        }
    }

    @Test("two shards appended: every run readable, the ledger intact, each merge entry names its source's head")
    func appendTwo() throws {
        let a = try Self.shard("hist-a", runs: 5), b = try Self.shard("hist-b", runs: 4)
        let (merged, _) = try Fixtures.store("hist-merged")
        let first = try merged.appendHistory(of: a, note: ["source": "a"])
        let second = try merged.appendHistory(of: b, note: ["source": "b"])
        #expect(first.runs == 5 && first.entries == 6 && first.firstSeq == 1)
        #expect(second.runs == 4 && second.entries == 5 && second.firstSeq == 8)
        #expect(first.sourceHead == (try a.verifyLedger().headHash))
        #expect(second.mergeEntry.payload["head_hash"]?.stringValue == (try b.verifyLedger().headHash))
        #expect(second.mergeEntry.payload["source"] == "b")
        let verification = try merged.verifyLedger()
        #expect(verification.isIntact, "\(verification)")
        #expect(verification.entries == 13)
        #expect(try merged.verifyBlobs().isEmpty)
        for i in 0..<5 {
            let id = Fixtures.runID("hist-a-\(i)")
            #expect(try merged.exportBytes(id) == (try a.exportBytes(id)))
        }
    }

    @Test("a copied entry altered and the whole chain re-hashed after it: the merge entry no longer re-proves")
    func forgedCopy() throws {
        let a = try Self.shard("hist-forge-src", runs: 3)
        let (merged, _) = try Fixtures.store("hist-forge")
        let appended = try merged.appendHistory(of: a, note: ["source": "a"])
        // The copied batch_shard entry (the last copied one) now claims another run list.
        let copied = appended.firstSeq + appended.entries - 1
        try Self.forge(merged, seq: copied, payload: ["label": "hist-forge-src", "runs": []])
        let verification = try merged.verifyLedger()
        #expect(verification.firstBreak?.seq == appended.mergeEntry.seq, "\(verification)")
        if case .mergedHistory(let detail)? = verification.firstBreak?.kind {
            #expect(detail.contains("re-chain"))
        } else {
            Issue.record("expected a mergedHistory break, got \(verification)")
        }
    }

    @Test("a source whose ledger was edited is refused, and the target is left as it was")
    func forgedSource() throws {
        let a = try Self.shard("hist-bad-src", runs: 3)
        try a.raw("DROP TRIGGER ledger_no_update")
        try a.raw("UPDATE ledger SET payload = ? WHERE seq = 2", [.text(#"{"run_id":"x"}"#)])
        let (merged, _) = try Fixtures.store("hist-bad")
        #expect(throws: StoreError.self) { try merged.appendHistory(of: a, note: [:]) }
        #expect(try merged.statistics().runs == 0)
        #expect(try merged.statistics().ledgerEntries == 0)
    }

    @Test("a source whose run entry disagrees with its artifact is refused (the whole transaction rolls back)")
    func runEntryDisagrees() throws {
        let a = try Self.shard("hist-disagree-src", runs: 3)
        // Re-chained so the source's own chain verifies, but entry 2 vouches for another hash.
        var payload = try #require(try a.ledgerEntries()[1].payload.objectValue)
        payload["artifact_hash"] = .string("sha256:" + String(repeating: "0", count: 64))
        try Self.forge(a, seq: 2, payload: .object(payload))
        let (merged, _) = try Fixtures.store("hist-disagree")
        do {
            try merged.appendHistory(of: a, note: [:])
            Issue.record("a disagreeing run entry was merged")
        } catch {
            #expect("\(error)".contains("does not describe run"))
        }
        #expect(try merged.statistics().runs == 0 && (try merged.statistics().ledgerEntries) == 0)
    }

    @Test("the same source twice is refused: its runs are there already")
    func twice() throws {
        let a = try Self.shard("hist-twice-src", runs: 2)
        let (merged, _) = try Fixtures.store("hist-twice")
        try merged.appendHistory(of: a, note: [:])
        let before = try merged.statistics()
        do {
            try merged.appendHistory(of: a, note: [:])
            Issue.record("the same history was merged twice")
        } catch {
            #expect("\(error)".contains("merged here before"))
        }
        #expect(try merged.statistics() == before)
        #expect(try merged.verifyLedger().isIntact)
    }

    @Test("a merge of merged stores re-proves at both levels; a forgery inside the inner one is found")
    func nested() throws {
        let a = try Self.shard("hist-nest-a", runs: 2), b = try Self.shard("hist-nest-b", runs: 2)
        let (inner, _) = try Fixtures.store("hist-nest-inner")
        try inner.appendHistory(of: a, note: ["source": "a"])
        try inner.appendHistory(of: b, note: ["source": "b"])
        let (outer, _) = try Fixtures.store("hist-nest-outer")
        let appended = try outer.appendHistory(of: inner, note: ["source": "inner"])
        #expect(try outer.verifyLedger().isIntact)
        // Forge b's copied batch_shard entry inside the outer store (entry 7 of the inner history).
        try Self.forge(outer, seq: appended.firstSeq + 6, payload: ["label": "forged", "runs": []])
        let verification = try outer.verifyLedger()
        guard case .mergedHistory? = verification.firstBreak?.kind else {
            Issue.record("expected a mergedHistory break, got \(verification)")
            return
        }
    }

    @Test("an empty source, or a note that is not an object, is refused")
    func refusals() throws {
        let (empty, _) = try Fixtures.store("hist-empty")
        let (merged, _) = try Fixtures.store("hist-empty-target")
        #expect(throws: StoreError.self) { try merged.appendHistory(of: empty, note: [:]) }
        let a = try Self.shard("hist-note", runs: 1)
        #expect(throws: StoreError.self) { try merged.appendHistory(of: a, note: "a string") }
    }
}
