import RigorSpec

/// What `RunStore.appendHistory` added to a store.
public struct AppendedHistory: Sendable, Equatable {
    /// The seq, in this store, of the first entry copied from the source.
    public var firstSeq: Int
    /// Entries copied (the source's whole ledger).
    public var entries: Int
    /// Runs recorded with them (one per "run" entry).
    public var runs: Int
    /// The source's chain head: the `entry_hash` of its last entry.
    public var sourceHead: String
    /// The "merge" entry that closes the copy and vouches for it.
    public var mergeEntry: LedgerEntry
}

/// The ledger kind of the entry that closes a copied history.
public let mergeLedgerKind = "merge"

extension RunStore {
    /// Appends the whole history of `source` to this store, in one transaction: each of its
    /// ledger entries in seq order (same kind, same payload, re-chained here), the run behind each
    /// "run" entry (its artifact, read back and checked against its `artifact_hash`), and then one
    /// "merge" entry whose payload is `note` plus `head_hash` (the source's head), `entries` and
    /// `first_seq` (where the copy starts here).
    ///
    /// Why the entries are copied rather than summarised: a chain's entry hashes depend only on
    /// each entry's seq, kind, payload and predecessor, so `verifyLedger` can recompute the
    /// source's chain from the copies (numbered 1…n from genesis again) and check that it ends in
    /// `head_hash`. The merged store thereby keeps a proof of every source's history, not just its
    /// runs. A run entry costs nothing extra: its copy is the merged store's own entry for the run.
    ///
    /// Refused (`mergeRefused`, nothing written) when the source's chain does not verify, when a
    /// run entry names a run the source lacks or whose artifact disagrees with the entry, or when
    /// this store already holds one of the source's runs (the source was merged already).
    @discardableResult
    public func appendHistory(of source: RunStore, note: JSON) throws(StoreError) -> AppendedHistory {
        guard case .object(var payload) = note else { throw .invalidLedgerEntry("the merge note must be a JSON object") }
        let rows = try source.withConnection(Ledger.rawRows)
        var entries: [LedgerEntry] = []
        entries.reserveCapacity(rows.count)
        var previous = genesisHash
        for (i, row) in rows.enumerated() {
            guard row.seq == i + 1, let entry = row.entry(), entry.prevHash == previous,
                  row.recomputedHash().map({ String(decoding: $0, as: UTF8.self) }) == entry.entryHash else {
                throw .mergeRefused("the source's ledger does not verify at seq \(row.seq) (run `rigor ledger verify` on it)")
            }
            previous = entry.entryHash
            entries.append(entry)
        }
        guard !entries.isEmpty else { throw .mergeRefused("the source's ledger is empty: it holds nothing to merge") }
        return try withConnection { (c) throws(StoreError) in
            let dictionaries = try self.dictionaries(c)
            let appended = try c.immediateTransaction { () throws(StoreError) -> AppendedHistory in
                let current = try c.first("SELECT coalesce(max(seq), 0) FROM ledger") { $0.int(0) ?? 0 } ?? 0
                var names = Names()
                var runs = 0
                for entry in entries {
                    guard entry.kind == "run" else {
                        _ = try Ledger.append(kind: entry.kind, payload: entry.payload, c)
                        continue
                    }
                    guard let runID = entry.payload["run_id"]?.stringValue else {
                        throw .mergeRefused("the source's ledger entry \(entry.seq) is a run entry without a run_id")
                    }
                    let artifact: JSON
                    do { artifact = try source.artifact(runID) } catch {
                        throw .mergeRefused("the source's run '\(runID)' (ledger entry \(entry.seq)) cannot be read back: \(error)")
                    }
                    do { try Self.checkHash(artifact) } catch {
                        throw .mergeRefused("the source's run '\(runID)': \(error)")
                    }
                    let run = try PreparedRun(artifact, runID: runID, dictionaries: dictionaries)
                    guard run.summary.ledgerPayload == entry.payload else {
                        throw .mergeRefused("the source's ledger entry \(entry.seq) does not describe run '\(runID)' as its artifact does")
                    }
                    let stored = try insert(run, c, dictionaries, names: &names)
                    guard stored.inserted else {
                        throw .mergeRefused("run '\(runID)' is in this store already: the source was merged here before")
                    }
                    runs += 1
                }
                payload["head_hash"] = .string(previous)
                payload["entries"] = .int(entries.count)
                payload["first_seq"] = .int(current + 1)
                let closing = try Ledger.append(kind: mergeLedgerKind, payload: .object(payload), c)
                return AppendedHistory(firstSeq: current + 1, entries: entries.count, runs: runs, sourceHead: previous, mergeEntry: closing)
            }
            trainIfDue(c, dictionaries)
            return appended
        }
    }
}

/// Re-proves copied histories: each "merge" entry's range of entries, renumbered from 1 and
/// chained from genesis again, must end in the `head_hash` it names; a range may itself hold
/// "merge" entries (a merge of merged stores), checked the same way inside it.
enum MergedHistories {
    /// The first "merge" entry whose history does not re-prove, with why; nil when all do.
    /// `entries` are a whole chain, in seq order, numbered from 1.
    static func firstFailure(_ entries: [LedgerEntry]) -> (seq: Int, detail: String)? {
        check(entries[...])
    }

    private static func check(_ range: ArraySlice<LedgerEntry>) -> (seq: Int, detail: String)? {
        for (i, entry) in zip(range.indices, range) where entry.kind == mergeLedgerKind {
            let local = i - range.startIndex + 1
            guard let first = entry.payload["first_seq"]?.intValue, let count = entry.payload["entries"]?.intValue,
                  let head = entry.payload["head_hash"]?.stringValue else {
                return (entry.seq, "its payload lacks first_seq, entries or head_hash")
            }
            guard first >= 1, count >= 1, first <= local - count else {
                return (entry.seq, "it names entries \(first)…\(first + count - 1), which do not all come before it")
            }
            let start = range.startIndex + first - 1
            let copied = range[start..<(start + count)]
            var previous = genesisHash
            for (n, e) in copied.enumerated() {
                let renumbered = LedgerEntry(seq: n + 1, kind: e.kind, payload: e.payload, prevHash: previous, entryHash: "")
                guard let bytes = try? renumbered.hashedJSON.canonicalBytes(style: .jcs) else {
                    return (entry.seq, "entry \(e.seq) cannot be hashed")
                }
                previous = Digest.sha256Hex(bytes)
            }
            guard previous == head else {
                return (entry.seq, "the \(count) entries from seq \(copied.first?.seq ?? 0) re-chain to head \(previous.prefix(16))…, not to the merged store's head_hash \(head.prefix(16))…")
            }
            if let inner = check(copied) { return inner }
        }
        return nil
    }
}
