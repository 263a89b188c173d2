import RigorSpec

/// An artifact made ready for the write transaction: split, hashed and compressed, so that the
/// write lock is held only for the SQL.
struct PreparedRun {
    var summary: RunSummary
    let parts: ArtifactParts
    /// The volatile part as stored: without the fields the row holds (`ArtifactSplit.storedVolatile`).
    let storedVolatile: [UInt8]
    private(set) var compressedStable: [UInt8]
    private(set) var compressedVolatile: [UInt8]
    /// The dictionaries they were compressed with (nil: none).
    private(set) var stableDictionary: Int?
    private(set) var volatileDictionary: Int?

    init(_ artifact: JSON, runID: String, dictionaries: DictionarySet, stableBytes: [UInt8]? = nil) throws(StoreError) {
        guard !runID.isEmpty else { throw .invalidArtifact("its run_id is empty") }
        guard runID != "latest" else { throw .invalidArtifact("'latest' is reserved and cannot be a run_id") }
        // A run id names files (`runs/<run_id>.json`, `bundles/<run_id>.rigorbundle`).
        do { try PathName.checkIdentifier(runID, as: "run_id") } catch { throw .invalidArtifact(error.description) }
        parts = try ArtifactSplit.split(artifact, knownStableBytes: stableBytes)
        summary = RunSummary(
            indexing: artifact, runID: runID, contentSHA256: parts.contentSHA256, recordedAt: Timestamp.now().rfc3339)
        storedVolatile = try ArtifactSplit.storedVolatile(parts, row: summary.rowFields)
        compressedStable = []
        compressedVolatile = []
        try compress(with: dictionaries)
    }

    /// Compresses (again) with the set's current dictionaries, unless that is what was done.
    mutating func compress(with dictionaries: DictionarySet) throws(StoreError) {
        let stable = dictionaries.current[.stable], volatile = dictionaries.current[.volatile]
        do throws(CodecError) {
            if compressedStable.isEmpty || stableDictionary != stable?.id {
                compressedStable = try Zstd.compress(parts.stableBytes, dictionary: stable)
                stableDictionary = stable?.id
            }
            if compressedVolatile.isEmpty || volatileDictionary != volatile?.id {
                compressedVolatile = try Zstd.compress(storedVolatile, dictionary: volatile)
                volatileDictionary = volatile?.id
            }
        } catch {
            throw .invalidArtifact(error.reason)
        }
    }

}

extension RunStore {
    /// Records one artifact: index row, stable blob (if new), volatile part, a "run" ledger entry
    /// and the session's latest run, all in one transaction.
    ///
    /// The artifact must be an object with a string `run_id`. Recording a run that is already
    /// stored with the same content changes nothing and returns the stored row
    /// (`inserted == false`); the same `run_id` with different content is `runConflict`.
    @discardableResult
    public func record(_ artifact: JSON) throws(StoreError) -> StoredRun {
        try record(contentsOf: [artifact])[0]
    }

    /// Records several artifacts in one transaction: all of them are stored, or none.
    @discardableResult
    ///
    /// `hashedBytes`, when given, holds for each artifact the bytes its Rigor `artifact_hash` was
    /// computed over (`Artifact.sealedWithHashedBytes`): they are exactly its stable part, which
    /// is then not serialised again. Bytes that do not hash to the artifact's `artifact_hash` are
    /// ignored, so a mix-up costs time, never a wrong blob.
    public func record(contentsOf artifacts: [JSON], hashedBytes: [[UInt8]]? = nil) throws(StoreError) -> [StoredRun] {
        let dictionaries = try withConnection(dictionaries)
        var prepared: [PreparedRun] = []
        prepared.reserveCapacity(artifacts.count)
        for (i, artifact) in artifacts.enumerated() {
            guard let runID = artifact["run_id"]?.stringValue else {
                throw .invalidArtifact("it has no run_id string (importArtifact derives one from the content)")
            }
            let known = hashedBytes.flatMap { i < $0.count ? $0[i] : nil }
            prepared.append(try PreparedRun(artifact, runID: runID, dictionaries: dictionaries, stableBytes: known))
        }
        return try store(prepared)
    }

    /// Records an artifact written elsewhere (TraceCore's, or an exported file).
    ///
    /// Its content must recompute to the `artifact_hash` it carries (with its runtime's recipe,
    /// `HashRecipe.forArtifact`): an artifact edited after it was written, or one without a hash
    /// to check, is refused (`invalidArtifact`), so that nothing imported is trusted on its word.
    ///
    /// Same as `record`, except that an artifact without a `run_id` is filed under one derived from
    /// its content: the first 32 hex digits of the SHA-256 of its JCS bytes (the shape of
    /// TraceCore's run ids). Importing the same file twice is therefore a no-op. The derived id is
    /// only the index key; the artifact itself is stored and exported exactly as given.
    @discardableResult
    public func importArtifact(_ artifact: JSON) throws(StoreError) -> StoredRun {
        let runID = try Self.importedRunID(artifact)
        let dictionaries = try withConnection(dictionaries)
        return try store([try PreparedRun(artifact, runID: runID, dictionaries: dictionaries)])[0]
    }

    /// The run id an imported artifact is filed under (its own, or one derived from its
    /// content), after checking that it recomputes to its `artifact_hash`.
    static func importedRunID(_ artifact: JSON) throws(StoreError) -> String {
        try Self.checkHash(artifact)
        if let runID = artifact["run_id"]?.stringValue { return runID }
        do throws(CanonicalJSONError) {
            return String(Digest.sha256Hex(try artifact.canonicalBytes(style: .jcs)).prefix(32))
        } catch {
            throw .invalidArtifact(error.description)
        }
    }

    /// Refuses an artifact whose content does not recompute to its `artifact_hash`.
    static func checkHash(_ artifact: JSON) throws(StoreError) {
        guard artifact.objectValue != nil else { throw .invalidArtifact("it is a JSON \(artifact.typeName), not an object") }
        guard let recorded = artifact["artifact_hash"]?.stringValue else {
            throw .invalidArtifact("it has no artifact_hash, so its content cannot be verified; import the artifact as its runtime wrote it")
        }
        let recipe = HashRecipe.forArtifact(artifact)
        let recomputed: String
        do { recomputed = try recipe.hash(artifact) } catch { throw .invalidArtifact("its content cannot be hashed: \(error)") }
        guard recomputed == recorded else {
            throw .invalidArtifact("its artifact_hash is \(recorded), but its content hashes to \(recomputed) (\(recipe.rawValue) recipe): it was edited after it was written; import the artifact as its runtime wrote it")
        }
    }

    private func store(_ runs: [PreparedRun]) throws(StoreError) -> [StoredRun] {
        try withConnection { (c) throws(StoreError) in
            var dictionaries = DictionarySet()
            let stored = try c.immediateTransaction { () throws(StoreError) in
                // Another writer may have trained a dictionary since the runs were compressed:
                // what is written uses the dictionaries as they are now.
                dictionaries = try self.dictionaries(c)
                var names = Names()
                var stored: [StoredRun] = []
                stored.reserveCapacity(runs.count)
                for var run in runs {
                    try run.compress(with: dictionaries)
                    stored.append(try insert(run, c, dictionaries, names: &names))
                }
                if let latest = stored.last(where: \.inserted) {
                    try c.run(
                        "INSERT INTO session (key, value) VALUES ('latest_run', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [.text(latest.runID)])
                }
                return stored
            }
            trainIfDue(c, dictionaries)
            return stored
        }
    }

    /// One run, inside the caller's transaction.
    func insert(_ run: PreparedRun, _ c: Connection, _ dictionaries: DictionarySet, names: inout Names) throws(StoreError) -> StoredRun {
        let runID = run.summary.runID
        let existing = try c.first(
            "SELECT \(RunSummary.selectColumns), r.volatile FROM runs r WHERE r.run_id = ?", [.text(runID)]
        ) { (row) -> (RunSummary, [UInt8]) in (RunSummary(row: row), row.bytes(RunSummary.columnCount)) }
        if let (summary, volatile) = existing {
            let storedVolatile: [UInt8]
            do throws(CodecError) {
                storedVolatile = try ArtifactSplit.volatileBytes(
                    stored: try dictionaries.decodeVolatile(volatile), row: summary.rowFields)
            } catch {
                throw .damagedRun(runID: runID, detail: "volatile part: \(error.reason)")
            }
            guard summary.contentSHA256 == run.parts.contentSHA256, storedVolatile == run.parts.volatileBytes else {
                throw .runConflict(runID: runID)
            }
            return StoredRun(summary: summary, inserted: false, addedBlob: false)
        }

        guard let address = ColumnEncoding.digest(hex: run.parts.contentSHA256) else {
            throw .invalidArtifact("content address \(run.parts.contentSHA256) is not a SHA-256")
        }
        try c.run(
            "INSERT INTO blobs (sha256, size, codec, data) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            [.blob(address), .integer(Int64(run.parts.stableBytes.count)),
             .text(Zstd.codec(dictionary: run.stableDictionary)), .blob(run.compressedStable)])
        let addedBlob = c.changes > 0
        let blob: Int64
        if addedBlob {
            blob = c.lastInsertRowID
        } else {
            blob = Int64(try c.first("SELECT id FROM blobs WHERE sha256 = ?", [.blob(address)]) { $0.int(0) ?? 0 } ?? 0)
        }
        var summary = run.summary
        summary.ledgerSeq = try Ledger.append(kind: "run", payload: run.summary.ledgerPayload, c).seq
        try summary.insert(blob: blob, volatile: run.compressedVolatile, c, names: &names)
        return StoredRun(summary: summary, inserted: true, addedBlob: addedBlob)
    }
}
