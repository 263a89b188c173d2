import RigorSpec

/// The result of re-checking the whole ledger: how many entries were read and, if the chain is
/// broken, where it first breaks and how.
public struct LedgerVerification: Sendable, Equatable, CustomStringConvertible {
    public var entries: Int
    /// `entry_hash` of the last entry (the value to publish or sign), nil for an empty ledger.
    public var headHash: String?
    public var firstBreak: LedgerBreak?

    public var isIntact: Bool { firstBreak == nil }

    public var description: String {
        if let firstBreak { return "ledger broken: \(firstBreak)" }
        return "ledger intact: \(entries) entries" + (headHash.map { ", head \($0)" } ?? "")
    }
}

/// Where and how a ledger chain breaks.
public struct LedgerBreak: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Entries are missing: this entry's seq is not the previous one plus one.
        case gap(expectedSeq: Int)
        /// `prev_hash` is not the previous entry's `entry_hash` (entries removed or reordered, or
        /// `prev_hash` itself altered).
        case brokenLink
        /// `entry_hash` is not the hash of the entry's content (content or hash altered).
        case alteredEntry
        /// The chain is whole, but a recorded run has no matching "run" entry at its `ledger_seq`
        /// (entries cut off the end of the ledger, or a run row slipped in beside it).
        case runWithoutEntry(runID: String)
        /// A run's "run" entry records another value of `field` than the run's index row holds
        /// (the row was edited).
        case runDisagrees(runID: String, field: String, row: String, entry: String)
        /// A "merge" entry's copied history does not re-chain to the head it records
        /// (`RunStore.appendHistory`): an entry copied from a shard was altered, dropped or added.
        case mergedHistory(detail: String)
    }

    public var seq: Int
    public var kind: Kind

    public var description: String {
        switch kind {
        case .gap(let expected): return "seq \(seq): gap, expected seq \(expected)"
        case .brokenLink: return "seq \(seq): broken link, prev_hash is not the entry_hash of seq \(seq - 1)"
        case .alteredEntry: return "seq \(seq): altered entry, entry_hash does not match its content"
        case .runWithoutEntry(let runID): return "seq \(seq): run '\(runID)' has no matching ledger entry"
        case .runDisagrees(let runID, let field, let row, let entry):
            return "seq \(seq): run '\(runID)' has \(field) \(row) in the runs index but \(entry) in its ledger entry (the row was edited)"
        case .mergedHistory(let detail): return "seq \(seq): merged history does not re-prove: \(detail)"
        }
    }
}

extension RunStore {
    /// Appends an entry of `kind` (lowercase letters, digits, `_`) with an object `payload`, in
    /// its own transaction, and returns it with its seq and hashes.
    @discardableResult
    public func appendLedger(kind: String, payload: JSON) throws(StoreError) -> LedgerEntry {
        try withConnection { (c) throws(StoreError) in
            try c.immediateTransaction { () throws(StoreError) in try Ledger.append(kind: kind, payload: payload, c) }
        }
    }

    /// Every entry, in seq order. A row that does not read as an entry is `damagedLedgerEntry`
    /// (`verifyLedger` reports it without throwing).
    public func ledgerEntries() throws(StoreError) -> [LedgerEntry] {
        try Ledger.entries(try withConnection(Ledger.rawRows))
    }

    /// Recomputes the whole chain from the stored rows and reports the first break: per entry, in
    /// seq order, a gap, then a broken link, then an altered entry; then checks that every run
    /// has its "run" entry. Reads one consistent snapshot.
    public func verifyLedger() throws(StoreError) -> LedgerVerification {
        let (rows, runs) = try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                (try Ledger.rawRows(c),
                 try c.query("SELECT \(RunSummary.selectColumns) FROM runs r ORDER BY r.ledger_seq", [], RunSummary.init(row:)))
            }
        }
        return Ledger.verify(rows: rows, runs: runs)
    }

    /// The ledger as JSON Lines: one JCS object per entry, with its `entry_hash`, in seq order,
    /// each line ending in "\n". Rows are exported as stored, damage included, so an outside
    /// verifier (spec/store.md) sees what this store holds.
    public func exportLedger() throws(StoreError) -> String {
        Ledger.export(try withConnection(Ledger.rawRows))
    }
}


extension Ledger {
    /// The chain check of `verifyLedger`, on rows and runs read in one snapshot by any store:
    /// per entry, in seq order, a gap, then a broken link, then an altered entry; then every run
    /// must have its "run" entry, vouching for what its index row says.
    package static func verify(rows: [RawRow], runs: [RunSummary]) -> LedgerVerification {
        var result = LedgerVerification(entries: rows.count, headHash: nil, firstBreak: nil)
        var previousHash = Array(genesisHash.utf8)
        var expectedSeq = 1
        var entriesBySeq: [Int: LedgerEntry] = [:]
        for row in rows {
            if row.seq != expectedSeq {
                result.firstBreak = LedgerBreak(seq: row.seq, kind: .gap(expectedSeq: expectedSeq))
                return result
            }
            if row.prevHash != previousHash {
                result.firstBreak = LedgerBreak(seq: row.seq, kind: .brokenLink)
                return result
            }
            guard let recomputed = row.recomputedHash(), recomputed == row.entryHash, let entry = row.entry() else {
                result.firstBreak = LedgerBreak(seq: row.seq, kind: .alteredEntry)
                return result
            }
            entriesBySeq[row.seq] = entry
            previousHash = row.entryHash
            expectedSeq += 1
        }
        result.headHash = rows.isEmpty ? nil : String(decoding: previousHash, as: UTF8.self)
        if let failure = MergedHistories.firstFailure(rows.compactMap { entriesBySeq[$0.seq] }) {
            result.firstBreak = LedgerBreak(seq: failure.seq, kind: .mergedHistory(detail: failure.detail))
            return result
        }
        for run in runs {
            let entry = entriesBySeq[run.ledgerSeq]
            let matches = entry?.kind == "run" && entry?.payload["run_id"]?.stringValue == run.runID
                && entry?.payload["artifact_hash"]?.stringValue == run.artifactHash
            guard let entry, matches else {
                result.firstBreak = LedgerBreak(seq: run.ledgerSeq, kind: .runWithoutEntry(runID: run.runID))
                return result
            }
            // Every other field the entry vouches for must still be what the row says.
            let expected = run.ledgerPayload.objectValue ?? [:]
            for (field, value) in expected.sorted(by: { $0.key < $1.key }) where entry.payload[field] != nil && entry.payload[field] != value {
                let shown = { (v: JSON?) in v.flatMap { try? $0.canonicalString() } ?? "nothing" }
                result.firstBreak = LedgerBreak(seq: run.ledgerSeq, kind: .runDisagrees(
                    runID: run.runID, field: field, row: shown(value), entry: shown(entry.payload[field])))
                return result
            }
        }
        return result
    }

    /// The rows as entries; a row that does not read as one is `damagedLedgerEntry`.
    package static func entries(_ rows: [RawRow]) throws(StoreError) -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        for row in rows {
            guard let entry = row.entry() else {
                throw .damagedLedgerEntry(seq: row.seq, detail: "its columns are not valid UTF-8 or its payload is not a canonical JSON object")
            }
            entries.append(entry)
        }
        return entries
    }

    /// The rows as JSON Lines (`exportLedger`), exactly as stored, damage included.
    package static func export(_ rows: [RawRow]) -> String {
        var out: [UInt8] = []
        func string(_ bytes: [UInt8]) -> [UInt8] {
            (try? JSON.string(String(decoding: bytes, as: UTF8.self)).canonicalBytes(style: .jcs)) ?? Array("\"\"".utf8)
        }
        // Members in JCS order (entry_hash < kind < payload < prev_hash < seq); the payload is
        // stored as JCS already, so the line is the JCS of the entry object.
        for row in rows {
            out += Array("{\"entry_hash\":".utf8) + string(row.entryHash)
            out += Array(",\"kind\":".utf8) + string(row.kind)
            out += Array(",\"payload\":".utf8) + row.payload
            out += Array(",\"prev_hash\":".utf8) + string(row.prevHash)
            out += Array(",\"seq\":\(row.seq)}\n".utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
