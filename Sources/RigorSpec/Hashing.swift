import Crypto

/// SHA-256 digests in the one spelling Rigor uses everywhere: `"sha256:" + lowercase hex`.
public enum Digest {
    /// `sha256:<hex>` of raw bytes.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> String {
        "sha256:" + sha256Hex(bytes)
    }

    /// Lowercase hex of the SHA-256 of raw bytes, without prefix.
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        hex(SHA256.hash(data: Array(bytes)))
    }

    /// `sha256:<hex>` of bytes in memory, hashed where they are (no copy).
    public static func sha256(bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return "sha256:" + hex(hasher.finalize())
    }

    /// `sha256:<hex>` of the RFC 8785 canonical form of a JSON value.
    public static func sha256(canonical value: JSON) throws(CanonicalJSONError) -> String {
        sha256(try value.canonicalBytes(style: .jcs))
    }

    /// Raw 32-byte SHA-256.
    public static func sha256Bytes(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
