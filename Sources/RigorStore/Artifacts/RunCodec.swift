import RigorSpec

/// How a run is encoded for storage, for stores that keep their rows somewhere other than
/// SQLite (the PostgreSQL store): the same split into a stable and a volatile part
/// (`ArtifactSplit`), the same zstd frames with checksums (without the embedded store's trained
/// dictionaries), the same index row and the same checks on the way back. A run therefore has
/// the same content address, the same ledger payload and the same reassembled artifact in every
/// kind of store.
package enum RunCodec {
    /// An artifact ready to be written: its index row, its blob's address and compressed bytes,
    /// and its compressed volatile part.
    package struct Encoded: Sendable {
        package var summary: RunSummary
        /// Lowercase hex SHA-256 of the stable part's JCS: the blob's address.
        package var contentSHA256: String { summary.contentSHA256 }
        /// Uncompressed size of the stable part.
        package let stableSize: Int
        package let compressedStable: [UInt8]
        package let compressedVolatile: [UInt8]
        /// JCS of the whole volatile part, to tell a re-recording of the same run from a conflict.
        package let volatileBytes: [UInt8]
    }

    /// The codec name blobs written here carry.
    package static let codec = Zstd.codecName

    /// An artifact that carries its own `run_id` (what `record` takes). `hashedBytes`: the bytes
    /// its `artifact_hash` covers, when the caller has them (used only when they match).
    package static func encode(_ artifact: JSON, hashedBytes: [UInt8]?) throws(StoreError) -> Encoded {
        guard let runID = artifact["run_id"]?.stringValue else {
            throw .invalidArtifact("it has no run_id string (importArtifact derives one from the content)")
        }
        return try encode(artifact, runID: runID, hashedBytes: hashedBytes)
    }

    /// An artifact written elsewhere (what `importArtifact` takes): it must recompute to its
    /// `artifact_hash`; without a `run_id` it is filed under one derived from its content.
    package static func encodeImport(_ artifact: JSON) throws(StoreError) -> Encoded {
        try encode(artifact, runID: try RunStore.importedRunID(artifact), hashedBytes: nil)
    }

    private static func encode(_ artifact: JSON, runID: String, hashedBytes: [UInt8]?) throws(StoreError) -> Encoded {
        let prepared = try PreparedRun(artifact, runID: runID, dictionaries: DictionarySet(), stableBytes: hashedBytes)
        return Encoded(summary: prepared.summary, stableSize: prepared.parts.stableBytes.count,
                       compressedStable: prepared.compressedStable, compressedVolatile: prepared.compressedVolatile,
                       volatileBytes: prepared.parts.volatileBytes)
    }

    /// Whether `encoded` is the very run already stored as `stored` (with its compressed volatile
    /// part): then recording it again changes nothing; otherwise it is a `runConflict`.
    package static func isSameRun(_ encoded: Encoded, stored: RunSummary, storedVolatile: [UInt8]) throws(StoreError) -> Bool {
        do throws(CodecError) {
            let volatile = try ArtifactSplit.volatileBytes(stored: try Zstd.decompress(storedVolatile), row: stored.rowFields)
            return stored.contentSHA256 == encoded.contentSHA256 && volatile == encoded.volatileBytes
        } catch {
            throw .damagedRun(runID: stored.runID, detail: "volatile part: \(error.reason)")
        }
    }

    /// A stored blob row: codec, uncompressed size, data.
    package struct Blob: Sendable {
        package let codec: String
        package let size: Int
        package let data: [UInt8]
        package init(codec: String, size: Int, data: [UInt8]) {
            self.codec = codec
            self.size = size
            self.data = data
        }
        var stored: StoredBlob { StoredBlob(codec: codec, size: size, data: data) }
    }

    /// The recorded artifact from its row, its blob (nil: missing) and its volatile part; damaged
    /// content is `damagedRun`, never a wrong artifact.
    package static func decode(_ summary: RunSummary, blob: Blob?, volatile: [UInt8]) throws(StoreError) -> JSON {
        let none = DictionarySet()
        do throws(CodecError) {
            guard let blob else { throw CodecError(reason: "its blob \(summary.contentSHA256) is missing") }
            let stable = try blob.stored.decoded(expectingSHA256: summary.contentSHA256, none)
            return try ArtifactSplit.reassemble(
                stableBytes: stable, storedVolatile: try none.decodeVolatile(volatile), row: summary.rowFields)
        } catch {
            throw .damagedRun(runID: summary.runID, detail: error.reason)
        }
    }

    /// A blob's content, or what is wrong with it (`verifyBlobs`).
    package static func check(blob: Blob, address sha256: String) -> (content: [UInt8]?, problem: BlobProblem?) {
        let none = DictionarySet()
        do throws(CodecError) {
            return (try blob.stored.decoded(expectingSHA256: sha256, none), nil)
        } catch {
            return (nil, BlobProblem(blob: sha256, runID: nil, kind: RunStore.problem(decoding: blob.stored, none, error)))
        }
    }

    /// What is wrong with a run whose blob decoded to `stable` (`verifyBlobs`): its volatile
    /// part, its `artifact_hash`, and every index column against the artifact.
    package static func check(run: RunSummary, stable: [UInt8], volatile: [UInt8]) -> [BlobProblem] {
        RunStore.check(run, stable: stable, volatile: volatile, DictionarySet())
    }

    /// The payload of a run's "run" ledger entry.
    package static func ledgerPayload(_ summary: RunSummary) -> JSON { summary.ledgerPayload }
}
