import RigorSpec

/// Something `verifyBlobs` found wrong with stored content.
public struct BlobProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The blob decodes, but its bytes no longer hash to its address.
        case digestMismatch(actual: String)
        /// The blob's data cannot be decoded (zstd error or checksum, size mismatch, unknown codec).
        case undecodable(reason: String)
        /// A run refers to a blob that is not in the table.
        case missing
        /// The run's volatile part cannot be decoded, or does not fit its blob.
        case volatileUndecodable(reason: String)
        /// The reassembled artifact no longer recomputes to the `artifact_hash` it carries.
        case artifactHashMismatch(recorded: String, recomputed: String)
    }

    /// Address (hex SHA-256) of the blob concerned.
    public var blob: String
    /// The run concerned, for problems found while reassembling a run.
    public var runID: String?
    public var kind: Kind

    public var description: String {
        let subject = runID.map { "run '\($0)' (blob \(blob.prefix(12))…)" } ?? "blob \(blob)"
        switch kind {
        case .digestMismatch(let actual): return "\(subject): content hashes to \(actual), not to its address"
        case .undecodable(let reason): return "\(subject): cannot be decoded: \(reason)"
        case .missing: return "\(subject): blob is missing"
        case .volatileUndecodable(let reason): return "\(subject): volatile part cannot be decoded: \(reason)"
        case .artifactHashMismatch(let recorded, let recomputed):
            return "\(subject): artifact_hash is \(recorded) but the artifact recomputes to \(recomputed)"
        }
    }
}

/// What `gc` removed.
public struct GCReport: Sendable, Equatable {
    public var blobsRemoved: Int
    /// Compressed bytes of the removed blobs.
    public var blobBytesRemoved: Int
    public var databaseBytesBefore: Int
    public var databaseBytesAfter: Int
}

extension RunStore {
    /// Re-reads everything stored and reports what no longer checks out, without changing anything.
    ///
    /// Every blob is decompressed and its SHA-256 recomputed against its address; then every run
    /// is reassembled and, if it carries an `artifact_hash`, that hash is recomputed with the
    /// artifact's own recipe (`HashRecipe.forArtifact`). A damaged blob is reported once, not
    /// again for each run that uses it.
    public func verifyBlobs() throws(StoreError) -> [BlobProblem] {
        var problems: [BlobProblem] = []
        var decoded: [String: [UInt8]] = [:]
        try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                let blobs = try c.query("SELECT sha256, codec, size, data FROM blobs") { row in
                    (sha256: row.text(0) ?? "", blob: StoredBlob(codec: row.text(1) ?? "", size: row.int(2) ?? -1, data: row.bytes(3)))
                }
                for (sha256, blob) in blobs {
                    do throws(CodecError) {
                        decoded[sha256] = try blob.decoded(expectingSHA256: sha256)
                    } catch {
                        problems.append(BlobProblem(blob: sha256, runID: nil, kind: Self.problem(decoding: blob, sha256, error)))
                    }
                }
                let runs = try c.query("SELECT run_id, content_sha256, volatile FROM runs ORDER BY ledger_seq") {
                    (runID: $0.text(0) ?? "", sha256: $0.text(1) ?? "", volatile: $0.bytes(2))
                }
                let present = Set(blobs.map(\.sha256))
                for run in runs {
                    guard present.contains(run.sha256) else {
                        problems.append(BlobProblem(blob: run.sha256, runID: run.runID, kind: .missing))
                        continue
                    }
                    guard let stable = decoded[run.sha256] else { continue }  // reported above
                    if let problem = Self.check(run.runID, stable: stable, sha256: run.sha256, volatile: run.volatile) {
                        problems.append(problem)
                    }
                }
            }
        }
        return problems
    }

    private static func problem(decoding blob: StoredBlob, _ sha256: String, _ error: CodecError) -> BlobProblem.Kind {
        // Tell "decodes to other bytes" apart from "does not decode" by decoding without the check.
        if blob.codec == Zstd.codecName, let bytes = try? Zstd.decompress(blob.data, expectedSize: blob.size) {
            return .digestMismatch(actual: Digest.sha256Hex(bytes))
        }
        return .undecodable(reason: error.reason)
    }

    private static func check(_ runID: String, stable: [UInt8], sha256: String, volatile: [UInt8]) -> BlobProblem? {
        let artifact: JSON
        do throws(CodecError) {
            artifact = try ArtifactSplit.reassemble(stableBytes: stable, volatileBytes: try Zstd.decompress(volatile))
        } catch {
            return BlobProblem(blob: sha256, runID: runID, kind: .volatileUndecodable(reason: error.reason))
        }
        guard let recorded = artifact["artifact_hash"]?.stringValue else { return nil }
        let recomputed = (try? HashRecipe.forArtifact(artifact).hash(artifact)) ?? "(not hashable)"
        guard recomputed != recorded else { return nil }
        return BlobProblem(blob: sha256, runID: runID, kind: .artifactHashMismatch(recorded: recorded, recomputed: recomputed))
    }

    /// Deletes blobs that no run refers to, then VACUUMs the file to give the space back.
    ///
    /// Recording never leaves such blobs behind (a blob and its run are written together); they
    /// appear when runs are deleted. VACUUM rewrites the whole file, so it needs free disk space
    /// about the size of the store and waits for other writers like any write.
    public func gc() throws(StoreError) -> GCReport {
        try withConnection { (c) throws(StoreError) in
            func number(_ sql: String) throws(StoreError) -> Int { try c.first(sql) { $0.int(0) ?? 0 } ?? 0 }
            let databaseBytes = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            let before = try number(databaseBytes)
            let unreferenced = "FROM blobs WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.content_sha256 = blobs.sha256)"
            let removed = try c.immediateTransaction { () throws(StoreError) in
                let counts = try c.first("SELECT count(*), coalesce(sum(length(data)), 0) \(unreferenced)") {
                    (blobs: $0.int(0) ?? 0, bytes: $0.int(1) ?? 0)
                } ?? (blobs: 0, bytes: 0)
                try c.run("DELETE \(unreferenced)")
                return counts
            }
            try c.execute("VACUUM")
            return GCReport(
                blobsRemoved: removed.blobs, blobBytesRemoved: removed.bytes,
                databaseBytesBefore: before, databaseBytesAfter: try number(databaseBytes))
        }
    }
}
