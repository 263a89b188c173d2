import RigorSpec

extension RunStore {
    /// The full run id a user's reference names: a full id, a unique prefix of at least
    /// `minimumPrefixLength` characters, or `latest` (the run recorded last).
    public func resolve(_ ref: String) throws(StoreError) -> String {
        try withConnection { (c) throws(StoreError) in
            if ref == "latest" {
                guard let id = try c.first("SELECT value FROM session WHERE key = 'latest_run'", [], { $0.text(0) }) ?? nil else {
                    throw .noRuns
                }
                return id
            }
            if try c.first("SELECT 1 FROM runs WHERE run_id = ?", [.text(ref)], { _ in true }) != nil { return ref }
            guard ref.count >= RunStore.minimumPrefixLength else {
                throw .referenceTooShort(ref: ref, minimum: RunStore.minimumPrefixLength)
            }
            // A range scan on the primary key: ids are compared as bytes, and no UTF-8 sequence
            // that continues the prefix sorts after U+10FFFF.
            let matches = try c.query(
                "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 6",
                [.text(ref), .text(ref + "\u{10FFFF}")]
            ) { $0.text(0) ?? "" }
            switch matches.count {
            case 0: throw .runNotFound(ref: ref)
            case 1: return matches[0]
            default: throw .ambiguousRun(ref: ref, matches: Array(matches.prefix(5)), more: matches.count > 5)
            }
        }
    }

    /// Runs matching `filter`, newest (last recorded) first; at most `limit` of them, or all of
    /// them when `limit` is less than 1.
    public func runs(filter: RunFilter = RunFilter(), limit: Int = 50) throws(StoreError) -> [RunSummary] {
        let (clause, arguments) = filter.sql()
        return try withConnection { (c) throws(StoreError) in
            try c.query(
                "SELECT \(RunSummary.selectColumns) FROM runs r\(clause) ORDER BY r.ledger_seq DESC LIMIT ?",
                arguments + [.integer(Int64(limit < 1 ? -1 : limit))],
                RunSummary.init(row:))
        }
    }

    /// The index row of the run with this exact id (see `resolve` for references).
    public func summary(_ runID: String) throws(StoreError) -> RunSummary {
        let found = try withConnection { (c) throws(StoreError) in
            try c.first("SELECT \(RunSummary.selectColumns) FROM runs r WHERE r.run_id = ?", [.text(runID)], RunSummary.init(row:))
        }
        guard let found else { throw .runNotFound(ref: runID) }
        return found
    }

    /// The recorded artifact, reassembled from its blob and volatile part: equal (`==`) to the
    /// value that was recorded, integers and doubles included. The blob's SHA-256 is checked on
    /// the way out, so damaged content is an error, never a wrong artifact.
    public func artifact(_ runID: String) throws(StoreError) -> JSON {
        let found = try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                let dictionaries = try self.dictionaries(c)
                let parts = try c.first(
                    """
                    SELECT \(RunSummary.selectColumns), r.volatile, b.codec, b.size, b.data
                    FROM runs r LEFT JOIN blobs b ON b.id = r.blob WHERE r.run_id = ?
                    """,
                    [.text(runID)]
                ) { row in
                    let next = RunSummary.columnCount
                    return (summary: RunSummary(row: row), volatile: row.bytes(next),
                            blob: row.isNull(next + 1) ? nil
                                : StoredBlob(codec: row.text(next + 1) ?? "", size: row.int(next + 2) ?? -1, data: row.bytes(next + 3)))
                }
                return parts.map { (parts: $0, dictionaries: dictionaries) }
            }
        }
        guard let (parts, dictionaries) = found else { throw .runNotFound(ref: runID) }
        do throws(CodecError) {
            guard let blob = parts.blob else { throw CodecError(reason: "its blob \(parts.summary.contentSHA256) is missing") }
            let stable = try blob.decoded(expectingSHA256: parts.summary.contentSHA256, dictionaries)
            return try ArtifactSplit.reassemble(
                stableBytes: stable, storedVolatile: try dictionaries.decodeVolatile(parts.volatile), row: parts.summary.rowFields)
        } catch {
            throw .damagedRun(runID: runID, detail: error.reason)
        }
    }

    /// The recorded artifact as JCS bytes: the same bytes on every call, for every store holding
    /// this run. `JSON.parse` of them equals the recorded artifact except that doubles with an
    /// integral value (`0.0`) read back as integers, which is how JCS writes them.
    public func exportBytes(_ runID: String) throws(StoreError) -> [UInt8] {
        let artifact = try artifact(runID)
        do throws(CanonicalJSONError) {
            return try artifact.canonicalBytes(style: .jcs)
        } catch {
            // Unreachable in practice: the stored part was JCS already, so it has no NaN.
            throw .damagedRun(runID: runID, detail: error.description)
        }
    }
}

/// A blob row as read from the table.
struct StoredBlob {
    let codec: String
    let size: Int
    let data: [UInt8]

    /// The uncompressed bytes, checked against the blob's address (with a dictionary too: the
    /// frame's checksum covers the bytes, the address covers what they mean).
    func decoded(expectingSHA256 sha256: String, _ dictionaries: DictionarySet) throws(CodecError) -> [UInt8] {
        let bytes = try dictionaries.decode(self)
        let actual = Digest.sha256Hex(bytes)
        guard actual == sha256 else { throw CodecError(reason: "content hashes to \(actual), not to its address \(sha256)") }
        return bytes
    }
}
