import RigorSpec

/// An artifact made ready for the write transaction: split, hashed and compressed, so that the
/// write lock is held only for the SQL.
struct PreparedRun {
    var summary: RunSummary
    let parts: ArtifactParts
    let compressedStable: [UInt8]
    let compressedVolatile: [UInt8]

    init(_ artifact: JSON, runID: String) throws(StoreError) {
        guard !runID.isEmpty else { throw .invalidArtifact("its run_id is empty") }
        guard runID != "latest" else { throw .invalidArtifact("'latest' is reserved and cannot be a run_id") }
        parts = try ArtifactSplit.split(artifact)
        do throws(CodecError) {
            compressedStable = try Zstd.compress(parts.stableBytes)
            compressedVolatile = try Zstd.compress(parts.volatileBytes)
        } catch {
            throw .invalidArtifact(error.reason)
        }
        summary = RunSummary(
            indexing: artifact, runID: runID, contentSHA256: parts.contentSHA256, recordedAt: Timestamp.now().rfc3339)
    }

    /// The payload of the run's ledger entry.
    var ledgerPayload: JSON {
        [
            "run_id": .string(summary.runID),
            "artifact_hash": summary.artifactHash.map(JSON.string) ?? .null,
            "task_ref": summary.taskRef.map(JSON.string) ?? .null,
            "agent_ref": summary.agentRef.map(JSON.string) ?? .null,
            "seed": summary.seed.map(JSON.int) ?? .null,
            "success": summary.success.map(JSON.bool) ?? .null,
        ]
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
    public func record(contentsOf artifacts: [JSON]) throws(StoreError) -> [StoredRun] {
        var prepared: [PreparedRun] = []
        prepared.reserveCapacity(artifacts.count)
        for artifact in artifacts {
            guard let runID = artifact["run_id"]?.stringValue else {
                throw .invalidArtifact("it has no run_id string (importArtifact derives one from the content)")
            }
            prepared.append(try PreparedRun(artifact, runID: runID))
        }
        return try store(prepared)
    }

    /// Records an artifact written elsewhere (TraceCore's, or an exported file).
    ///
    /// Same as `record`, except that an artifact without a `run_id` is filed under one derived from
    /// its content: the first 32 hex digits of the SHA-256 of its JCS bytes (the shape of
    /// TraceCore's run ids). Importing the same file twice is therefore a no-op. The derived id is
    /// only the index key; the artifact itself is stored and exported exactly as given.
    @discardableResult
    public func importArtifact(_ artifact: JSON) throws(StoreError) -> StoredRun {
        var runID = artifact["run_id"]?.stringValue
        if runID == nil {
            do throws(CanonicalJSONError) {
                runID = String(Digest.sha256Hex(try artifact.canonicalBytes(style: .jcs)).prefix(32))
            } catch {
                throw .invalidArtifact(error.description)
            }
        }
        return try store([try PreparedRun(artifact, runID: runID ?? "")])[0]
    }

    private func store(_ runs: [PreparedRun]) throws(StoreError) -> [StoredRun] {
        try withConnection { (c) throws(StoreError) in
            try c.immediateTransaction { () throws(StoreError) in
                var stored: [StoredRun] = []
                stored.reserveCapacity(runs.count)
                for run in runs { stored.append(try insert(run, c)) }
                if let latest = stored.last(where: \.inserted) {
                    try c.run(
                        "INSERT INTO session (key, value) VALUES ('latest_run', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [.text(latest.runID)])
                }
                return stored
            }
        }
    }

    /// One run, inside the caller's transaction.
    private func insert(_ run: PreparedRun, _ c: Connection) throws(StoreError) -> StoredRun {
        let runID = run.summary.runID
        let existing = try c.first(
            "SELECT \(RunSummary.selectColumns), volatile FROM runs WHERE run_id = ?", [.text(runID)]
        ) { (row) -> (RunSummary, [UInt8]) in (RunSummary(row: row), row.bytes(23)) }
        if let (summary, volatile) = existing {
            let storedVolatile: [UInt8]
            do throws(CodecError) {
                storedVolatile = try Zstd.decompress(volatile)
            } catch {
                throw .damagedRun(runID: runID, detail: "volatile part: \(error.reason)")
            }
            guard summary.contentSHA256 == run.parts.contentSHA256, storedVolatile == run.parts.volatileBytes else {
                throw .runConflict(runID: runID)
            }
            return StoredRun(summary: summary, inserted: false, addedBlob: false)
        }

        try c.run(
            "INSERT INTO blobs (sha256, size, codec, data) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            [.text(run.parts.contentSHA256), .integer(Int64(run.parts.stableBytes.count)), .text(Zstd.codecName),
             .blob(run.compressedStable)])
        let addedBlob = c.changes > 0
        var summary = run.summary
        summary.ledgerSeq = try Ledger.append(kind: "run", payload: run.ledgerPayload, c).seq
        try c.run(
            "INSERT INTO runs (\(RunSummary.selectColumns), volatile) VALUES (\(Array(repeating: "?", count: 24).joined(separator: ", ")))",
            summary.insertValues(volatile: run.compressedVolatile))
        return StoredRun(summary: summary, inserted: true, addedBlob: addedBlob)
    }
}
