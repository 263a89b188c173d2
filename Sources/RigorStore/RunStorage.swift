import RigorSpec

/// A store of runs, wherever it lives: the embedded SQLite store (`RunStore`, the default, no
/// server) or a shared store on a PostgreSQL server (`PostgresRunStore`, module
/// RigorStorePostgres) that several machines record into at once.
///
/// Every command that reads or writes runs (run, batch, runs, ledger, compare, ci, replay,
/// bundle...) goes through these operations, so it works with either. The contract is the same
/// for both: a run, its blob, its "run" ledger entry and the latest-run session are written in
/// one transaction (all or nothing); blobs are content-addressed and stored once; the ledger is
/// one hash chain (`LedgerEntry`) however many writers append to it; reading reassembles an
/// artifact equal to the one recorded and checks its blob's SHA-256 on the way out.
/// spec/store.md describes both layouts.
public protocol RunStorage: AnyObject, Sendable {
    /// Where the store is, for messages: the path of `rigor.db`, or the server's URL without its
    /// password.
    var location: String { get }
    /// The full run id a reference names: a full id, a unique prefix of at least
    /// `RunStore.minimumPrefixLength` characters, or `latest`.
    func resolve(_ ref: String) throws(StoreError) -> String
    /// Runs matching `filter`, newest first; at most `limit` (all when `limit` < 1).
    func runs(filter: RunFilter, limit: Int) throws(StoreError) -> [RunSummary]
    /// The index row of the run with this exact id.
    func summary(_ runID: String) throws(StoreError) -> RunSummary
    /// The recorded artifact, reassembled and checked against its blob's address.
    func artifact(_ runID: String) throws(StoreError) -> JSON
    /// Records artifacts in one transaction (`RunStore.record(contentsOf:hashedBytes:)`).
    @discardableResult
    func record(contentsOf artifacts: [JSON], hashedBytes: [[UInt8]]?) throws(StoreError) -> [StoredRun]
    /// Records an artifact written elsewhere, after checking its `artifact_hash`.
    @discardableResult
    func importArtifact(_ artifact: JSON) throws(StoreError) -> StoredRun
    /// Appends a ledger entry in its own transaction.
    @discardableResult
    func appendLedger(kind: String, payload: JSON) throws(StoreError) -> LedgerEntry
    /// Every ledger entry, in seq order.
    func ledgerEntries() throws(StoreError) -> [LedgerEntry]
    /// Recomputes the chain and reports its first break.
    func verifyLedger() throws(StoreError) -> LedgerVerification
    /// The ledger as JSON Lines, rows as stored.
    func exportLedger() throws(StoreError) -> String
    /// Re-reads every blob and run and reports what no longer checks out.
    func verifyBlobs() throws(StoreError) -> [BlobProblem]
    func statistics() throws(StoreError) -> StoreStatistics
    /// Removes unreferenced blobs and gives space back.
    func gc() throws(StoreError) -> GCReport
}

extension RunStorage {
    /// Records one artifact (see `record(contentsOf:hashedBytes:)`).
    @discardableResult
    public func record(_ artifact: JSON) throws(StoreError) -> StoredRun {
        try record(contentsOf: [artifact], hashedBytes: nil)[0]
    }

    @discardableResult
    public func record(contentsOf artifacts: [JSON]) throws(StoreError) -> [StoredRun] {
        try record(contentsOf: artifacts, hashedBytes: nil)
    }

    /// Every run matching no filter, newest first; at most `limit` (< 1: all).
    public func runs(limit: Int) throws(StoreError) -> [RunSummary] { try runs(filter: RunFilter(), limit: limit) }

    /// The recorded artifact as JCS bytes: the same bytes for every store holding this run.
    public func exportBytes(_ runID: String) throws(StoreError) -> [UInt8] {
        let artifact = try artifact(runID)
        do throws(CanonicalJSONError) {
            return try artifact.canonicalBytes(style: .jcs)
        } catch {
            throw .damagedRun(runID: runID, detail: error.description)
        }
    }
}

extension RunStore: RunStorage {
    public var location: String { path }
}
