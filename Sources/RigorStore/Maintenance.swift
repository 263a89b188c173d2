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
        /// A column of the runs index says something else than the artifact it indexes (the row
        /// was edited): the column, the row's value and the artifact's, as JSON-ish text.
        case indexMismatch(column: String, indexed: String, artifact: String)
    }

    /// Address (hex SHA-256) of the blob concerned.
    public var blob: String
    /// The run concerned, for problems found while reassembling a run.
    public var runID: String?
    public var kind: Kind

    package init(blob: String, runID: String?, kind: Kind) {
        self.blob = blob
        self.runID = runID
        self.kind = kind
    }

    public var description: String {
        let subject = runID.map { "run '\($0)' (blob \(blob.prefix(12))…)" } ?? "blob \(blob)"
        switch kind {
        case .digestMismatch(let actual): return "\(subject): content hashes to \(actual), not to its address"
        case .undecodable(let reason): return "\(subject): cannot be decoded: \(reason)"
        case .missing: return "\(subject): blob is missing"
        case .volatileUndecodable(let reason): return "\(subject): volatile part cannot be decoded: \(reason)"
        case .artifactHashMismatch(let recorded, let recomputed):
            return "\(subject): artifact_hash is \(recorded) but the artifact recomputes to \(recomputed)"
        case .indexMismatch(let column, let indexed, let artifact):
            return "\(subject): index column \(column) says \(indexed) but the artifact says \(artifact) (the runs row was edited)"
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
    /// Blobs and volatile parts rewritten with the store's dictionaries.
    public var recompressed: Int = 0

    package init(blobsRemoved: Int, blobBytesRemoved: Int, databaseBytesBefore: Int, databaseBytesAfter: Int, recompressed: Int = 0) {
        self.blobsRemoved = blobsRemoved
        self.blobBytesRemoved = blobBytesRemoved
        self.databaseBytesBefore = databaseBytesBefore
        self.databaseBytesAfter = databaseBytesAfter
        self.recompressed = recompressed
    }
}

extension RunStore {
    /// Re-reads everything stored and reports what no longer checks out, without changing anything.
    ///
    /// Every blob is decompressed and its SHA-256 recomputed against its address; then every run
    /// is reassembled and, if it carries an `artifact_hash`, that hash is recomputed with the
    /// artifact's own recipe (`HashRecipe.forArtifact`), and every column of its index row is
    /// compared with the value indexed afresh from the artifact (a row edited with sqlite3 is
    /// named with its column). A damaged blob is reported once, not again for each run that uses
    /// it.
    public func verifyBlobs() throws(StoreError) -> [BlobProblem] {
        var problems: [BlobProblem] = []
        var decoded: [Int: [UInt8]] = [:]
        try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                let dictionaries = try self.dictionaries(c)
                let blobs = try c.query("SELECT id, sha256, codec, size, data FROM blobs") { row in
                    (id: row.int(0) ?? 0, sha256: row.isBlob(1) ? ColumnEncoding.hex(row.bytes(1)) : row.text(1) ?? "",
                     blob: StoredBlob(codec: row.text(2) ?? "", size: row.int(3) ?? -1, data: row.bytes(4)))
                }
                var present: Set<Int> = []
                for (id, sha256, blob) in blobs {
                    present.insert(id)
                    do throws(CodecError) {
                        decoded[id] = try blob.decoded(expectingSHA256: sha256, dictionaries)
                    } catch {
                        problems.append(BlobProblem(blob: sha256, runID: nil, kind: Self.problem(decoding: blob, dictionaries, error)))
                    }
                }
                let runs = try c.query(
                    "SELECT \(RunSummary.selectColumns), r.volatile, r.blob FROM runs r ORDER BY r.ledger_seq"
                ) { row in
                    (summary: RunSummary(row: row), volatile: row.bytes(RunSummary.columnCount),
                     blob: row.int(RunSummary.columnCount + 1) ?? 0)
                }
                for run in runs {
                    guard present.contains(run.blob) else {
                        problems.append(BlobProblem(blob: run.summary.contentSHA256, runID: run.summary.runID, kind: .missing))
                        continue
                    }
                    guard let stable = decoded[run.blob] else { continue }  // reported above
                    problems += Self.check(run.summary, stable: stable, volatile: run.volatile, dictionaries)
                }
            }
        }
        return problems
    }

    static func problem(decoding blob: StoredBlob, _ dictionaries: DictionarySet, _ error: CodecError) -> BlobProblem.Kind {
        // Tell "decodes to other bytes" apart from "does not decode" by decoding without the check.
        if let bytes = try? dictionaries.decode(blob) {
            return .digestMismatch(actual: Digest.sha256Hex(bytes))
        }
        return .undecodable(reason: error.reason)
    }

    static func check(_ run: RunSummary, stable: [UInt8], volatile: [UInt8], _ dictionaries: DictionarySet) -> [BlobProblem] {
        let artifact: JSON
        let sha256 = run.contentSHA256
        do throws(CodecError) {
            artifact = try ArtifactSplit.reassemble(
                stableBytes: stable, storedVolatile: try dictionaries.decodeVolatile(volatile), row: run.rowFields)
        } catch {
            return [BlobProblem(blob: sha256, runID: run.runID, kind: .volatileUndecodable(reason: error.reason))]
        }
        var problems: [BlobProblem] = []
        if let recorded = artifact["artifact_hash"]?.stringValue {
            let recomputed = (try? HashRecipe.forArtifact(artifact).hash(artifact)) ?? "(not hashable)"
            if recomputed != recorded {
                problems.append(BlobProblem(blob: sha256, runID: run.runID, kind: .artifactHashMismatch(recorded: recorded, recomputed: recomputed)))
            }
        }
        // The index row must say what the artifact says: list filters and `runs show` read it alone.
        let indexed = RunSummary(indexing: artifact, runID: run.runID, contentSHA256: sha256, recordedAt: run.recordedAt)
        for (column, mine, theirs) in run.columnsDiffering(from: indexed) {
            problems.append(BlobProblem(blob: sha256, runID: run.runID, kind: .indexMismatch(column: column, indexed: mine, artifact: theirs)))
        }
        return problems
    }

    /// Deletes blobs that no run refers to, trains the store's dictionaries if it holds enough for
    /// them and has none, recompresses with them what was stored without one, then VACUUMs the
    /// file to give the space back.
    ///
    /// Recording never leaves unreferenced blobs behind (a blob and its run are written together);
    /// they appear when runs are deleted. Data without a dictionary was written before the store
    /// had one (or by schema version 1). VACUUM rewrites the whole file, so it needs free disk
    /// space about the size of the store and waits for other writers like any write.
    public func gc() throws(StoreError) -> GCReport {
        try withConnection { (c) throws(StoreError) in
            func number(_ sql: String) throws(StoreError) -> Int { try c.first(sql) { $0.int(0) ?? 0 } ?? 0 }
            let databaseBytes = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            let before = try number(databaseBytes)
            let unreferenced = "FROM blobs WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.blob = blobs.id)"
            let removed = try c.immediateTransaction { () throws(StoreError) in
                let counts = try c.first("SELECT count(*), coalesce(sum(length(data)), 0) \(unreferenced)") {
                    (blobs: $0.int(0) ?? 0, bytes: $0.int(1) ?? 0)
                } ?? (blobs: 0, bytes: 0)
                try c.run("DELETE \(unreferenced)")
                return counts
            }
            // A store migrated from version 1 may hold enough to train its dictionaries already.
            let trained = trainIfDue(c, try dictionaries(c), vacuum: false)
            let recompressed = try trained + recompressWithoutDictionary(c)
            try c.execute("VACUUM")
            return GCReport(
                blobsRemoved: removed.blobs, blobBytesRemoved: removed.bytes,
                databaseBytesBefore: before, databaseBytesAfter: try number(databaseBytes), recompressed: recompressed)
        }
    }
}
