import CZstd

/// Why stored bytes could not be turned back into what was stored.
struct CodecError: Error, Sendable {
    let reason: String
}

/// Zstandard compression of blobs and volatile parts.
///
/// Every frame carries zstd's content checksum and its content size, so a flipped byte in stored
/// data is caught by the decoder itself before SHA-256 is even recomputed, and the decoder never
/// allocates more than the size the row says it holds.
enum Zstd {
    /// The codec name written in `blobs.codec`.
    static let codecName = "zstd"

    /// The level Rigor writes with. Measured on the stable parts of the 24 TraceCore interop
    /// artifacts (spec/store.md, section 3): 4.95× at level 3, 5.27× at 6, and nothing more from 7
    /// to 9, which only cost more CPU. Level 6 is the knee. Readers do not depend on the level.
    static let level: Int32 = 6

    /// Frames larger than this are refused without trying to allocate them.
    static let maximumContentSize = 1 << 30

    static func compress(_ input: [UInt8], level: Int32 = level) throws(CodecError) -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw CodecError(reason: "zstd: out of memory") }
        defer { ZSTD_freeCCtx(context) }
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1))
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress2(context, out.baseAddress, out.count, inp.baseAddress, inp.count)
            }
        }
        try check(written)
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one frame that must hold exactly `expectedSize` bytes.
    static func decompress(_ input: [UInt8], expectedSize: Int) throws(CodecError) -> [UInt8] {
        guard expectedSize >= 0, expectedSize <= maximumContentSize else {
            throw CodecError(reason: "recorded size \(expectedSize) is out of range")
        }
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_ERROR is (0ULL - 2), ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1).
        guard declared < UInt64.max - 1 else { throw CodecError(reason: "not a zstd frame with a content size") }
        guard declared == UInt64(expectedSize) else {
            throw CodecError(reason: "frame declares \(declared) bytes, the row says \(expectedSize)")
        }
        // One spare byte, so a frame holding more than it declares cannot fit silently.
        var output = [UInt8](repeating: 0, count: expectedSize + 1)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in ZSTD_decompress(out.baseAddress, out.count, inp.baseAddress, inp.count) }
        }
        try check(written)
        guard written == expectedSize else {
            throw CodecError(reason: "frame decoded to \(written) bytes, expected \(expectedSize)")
        }
        output.removeLast()
        return output
    }

    /// Decompresses a frame of unknown size (the volatile part of a run), up to the maximum.
    static func decompress(_ input: [UInt8]) throws(CodecError) -> [UInt8] {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard declared <= UInt64(maximumContentSize) else { throw CodecError(reason: "not a zstd frame with a content size") }
        return try decompress(input, expectedSize: Int(declared))
    }

    private static func check(_ code: Int) throws(CodecError) {
        if ZSTD_isError(code) != 0 {
            throw CodecError(reason: "zstd: " + String(cString: ZSTD_getErrorName(code)))
        }
    }
}
