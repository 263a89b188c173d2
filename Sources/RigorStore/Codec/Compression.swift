/// zstd for other modules (bundles): the same frames the store writes, with checksums.
public enum Compression {
    /// Why bytes could not be compressed or restored.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func compress(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        do { return try Zstd.compress(bytes) } catch { throw Failure(description: "cannot compress: \(error.reason)") }
    }

    /// Decompresses one frame; `what` names the data in the error (e.g. the bundle's path).
    public static func decompress(_ bytes: [UInt8], what: String) throws(Failure) -> [UInt8] {
        do { return try Zstd.decompress(bytes) } catch { throw Failure(description: "\(what) is damaged (\(error.reason))") }
    }
}
