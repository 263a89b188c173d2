/// zstd for other modules (bundles): the same frames the store writes, with checksums.
public enum Compression {
    public static func compress(_ bytes: [UInt8]) throws(StoreError) -> [UInt8] {
        do { return try Zstd.compress(bytes) } catch { throw .invalidArtifact("cannot compress: \(error.reason)") }
    }

    /// Decompresses one frame; `what` names the data in the error (e.g. the bundle's path).
    public static func decompress(_ bytes: [UInt8], what: String) throws(StoreError) -> [UInt8] {
        do { return try Zstd.decompress(bytes) } catch { throw .invalidArtifact("\(what) is not intact zstd data: \(error.reason)") }
    }
}
