import CZstd
import Foundation
import RigorSpec

/// Why stored bytes could not be turned back into what was stored.
struct CodecError: Error, Sendable {
    let reason: String
}

/// A trained zstd dictionary, digested once for compression and once for decompression.
///
/// Its `id` is both the row id in the `dictionaries` table and the dictionary ID zstd writes in
/// the header of every frame compressed with it, so a frame says which dictionary it needs.
/// Digested dictionaries are read-only and may be used by several threads at once.
final class ZstdDictionary: @unchecked Sendable {
    let id: Int
    let data: [UInt8]
    private let cdict: OpaquePointer
    private let ddict: OpaquePointer

    init(id: Int, data: [UInt8], level: Int32 = Zstd.dictionaryLevel) throws(CodecError) {
        guard id > 0, id <= Int(UInt32.max) else { throw CodecError(reason: "dictionary id \(id) is out of range") }
        let declared = data.withUnsafeBytes { ZSTD_getDictID_fromDict($0.baseAddress, $0.count) }
        guard declared == UInt32(id) else {
            throw CodecError(reason: "dictionary \(id) is damaged (it declares id \(declared))")
        }
        let cdict = data.withUnsafeBytes { ZSTD_createCDict($0.baseAddress, $0.count, level) }
        let ddict = data.withUnsafeBytes { ZSTD_createDDict($0.baseAddress, $0.count) }
        guard let cdict, let ddict else {
            ZSTD_freeCDict(cdict)
            ZSTD_freeDDict(ddict)
            throw CodecError(reason: "dictionary \(id) cannot be loaded")
        }
        self.id = id
        self.data = data
        self.cdict = cdict
        self.ddict = ddict
    }

    deinit {
        ZSTD_freeCDict(cdict)
        ZSTD_freeDDict(ddict)
    }

    func withCDict<T>(_ body: (OpaquePointer) -> T) -> T { body(cdict) }
    func withDDict<T>(_ body: (OpaquePointer) -> T) -> T { body(ddict) }
}

/// Zstandard compression of blobs and volatile parts.
///
/// Every frame carries zstd's content checksum and its content size, so a flipped byte in stored
/// data is caught by the decoder itself before SHA-256 is even recomputed, and the decoder never
/// allocates more than the size the row says it holds. A frame compressed with a dictionary also
/// carries the dictionary's ID.
enum Zstd {
    /// The codec name written in `blobs.codec` for a frame without a dictionary; a frame with
    /// dictionary `n` is `zstd-dict:n`.
    static let codecName = "zstd"
    static let dictionaryCodecPrefix = "zstd-dict:"

    /// The level Rigor writes with, without a dictionary. Measured on the stable parts of the 24
    /// TraceCore interop artifacts (spec/store.md, section 3): 4.95× at level 3, 5.27× at 6, and
    /// nothing more from 7 to 9, which only cost more CPU. Level 6 is the knee. Readers do not
    /// depend on the level.
    static let level: Int32 = 6

    /// The level used with a dictionary (spec/store.md, section 3: with a dictionary, levels up
    /// to 9 still pay).
    static let dictionaryLevel: Int32 = 9

    /// Frames larger than this are refused without trying to allocate them.
    static let maximumContentSize = ArtifactLimits.storedBytes

    static func codec(dictionary: Int?) -> String {
        dictionary.map { dictionaryCodecPrefix + String($0) } ?? codecName
    }

    /// The dictionary a codec name names: nil for plain `zstd`, throws for anything unknown.
    static func dictionaryID(codec: String) throws(CodecError) -> Int? {
        if codec == codecName { return nil }
        guard codec.hasPrefix(dictionaryCodecPrefix), let id = Int(codec.dropFirst(dictionaryCodecPrefix.count)),
              String(id) == codec.dropFirst(dictionaryCodecPrefix.count), id > 0
        else { throw CodecError(reason: "unknown codec '\(codec)'") }
        return id
    }

    /// The dictionary ID a frame's header declares (0: none). Damaged headers may declare anything;
    /// the checksum still decides.
    static func frameDictionaryID(_ frame: [UInt8]) -> Int {
        Int(frame.withUnsafeBytes { ZSTD_getDictID_fromFrame($0.baseAddress, $0.count) })
    }

    static func compress(_ input: [UInt8], level: Int32 = level) throws(CodecError) -> [UInt8] {
        try compress(input, dictionary: nil, level: level)
    }

    /// Compresses one frame, with `dictionary` if given (at the level it was digested for,
    /// `dictionaryLevel`), otherwise at `level`.
    static func compress(_ input: [UInt8], dictionary: ZstdDictionary?, level: Int32 = level) throws(CodecError) -> [UInt8] {
        guard let context = ZstdContexts.compression.take() else { throw CodecError(reason: "zstd: out of memory") }
        defer { ZstdContexts.compression.give(context) }
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1))
        if let dictionary {
            // The digested dictionary carries its level (`dictionaryLevel`).
            try check(ZSTD_CCtx_setParameter(context, ZSTD_c_dictIDFlag, 1))
            try check(dictionary.withCDict { ZSTD_CCtx_refCDict(context, $0) })
        } else {
            try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        }
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
        try decompress(input, expectedSize: expectedSize, dictionary: nil)
    }

    /// Decompresses one frame that must hold exactly `expectedSize` bytes and was compressed with
    /// `dictionary` (or with none, when nil): a frame naming another dictionary is refused.
    static func decompress(_ input: [UInt8], expectedSize: Int, dictionary: ZstdDictionary?) throws(CodecError) -> [UInt8] {
        guard expectedSize >= 0, expectedSize <= maximumContentSize else {
            throw CodecError(reason: "recorded size \(expectedSize) is out of range")
        }
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_ERROR is (0ULL - 2), ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1).
        guard declared < UInt64.max - 1 else { throw CodecError(reason: "not a zstd frame with a content size") }
        guard declared == UInt64(expectedSize) else {
            throw CodecError(reason: "frame declares \(declared) bytes, the row says \(expectedSize)")
        }
        let frameDictionary = frameDictionaryID(input)
        guard frameDictionary == (dictionary?.id ?? 0) else {
            throw CodecError(reason: "frame names dictionary \(frameDictionary), expected \(dictionary?.id ?? 0)")
        }
        guard let context = ZstdContexts.decompression.take() else { throw CodecError(reason: "zstd: out of memory") }
        defer { ZstdContexts.decompression.give(context) }
        // One spare byte, so a frame holding more than it declares cannot fit silently.
        var output = [UInt8](repeating: 0, count: expectedSize + 1)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                if let dictionary {
                    dictionary.withDDict {
                        ZSTD_decompress_usingDDict(context, out.baseAddress, out.count, inp.baseAddress, inp.count, $0)
                    }
                } else {
                    ZSTD_decompressDCtx(context, out.baseAddress, out.count, inp.baseAddress, inp.count)
                }
            }
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
        try decompress(input, dictionary: nil)
    }

    /// Decompresses a frame of unknown size with `dictionary` (or none).
    static func decompress(_ input: [UInt8], dictionary: ZstdDictionary?) throws(CodecError) -> [UInt8] {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard declared <= UInt64(maximumContentSize) else { throw CodecError(reason: "not a zstd frame with a content size") }
        return try decompress(input, expectedSize: Int(declared), dictionary: dictionary)
    }

    /// Trains a dictionary of at most `capacity` bytes on `samples`, declaring `id` and tuned for
    /// `level`. Nil when zstd cannot build one from these samples (too few, too small, too alike).
    static func trainDictionary(samples: [[UInt8]], capacity: Int, id: Int, level: Int32) -> [UInt8]? {
        guard samples.count >= 8, id > 0, id <= Int(UInt32.max) else { return nil }
        let flat = samples.flatMap { $0 }
        let sizes = samples.map(\.count)
        var trained = [UInt8](repeating: 0, count: capacity)
        // One fastCover training with fixed parameters. ZDICT_trainFromBuffer searches four
        // segment sizes with a 1 MiB-entry table: 82 ms on the 256 samples of the 1,100-run
        // batch, against 24 ms here for a dictionary that compresses the whole batch 6 % smaller
        // (spec/store.md, section 3). A training runs on the recording path, once per store.
        var training = ZDICT_fastCover_params_t()
        training.k = 500
        training.d = 8
        training.f = 14
        training.accel = 1
        training.nbThreads = 1
        training.splitPoint = 1.0
        training.zParams.compressionLevel = level
        let trainedSize = trained.withUnsafeMutableBytes { out in
            flat.withUnsafeBytes { buffer in
                ZDICT_trainFromBuffer_fastCover(out.baseAddress, out.count, buffer.baseAddress, sizes, UInt32(sizes.count), training)
            }
        }
        guard ZDICT_isError(trainedSize) == 0 else { return nil }
        trained.removeSubrange(trainedSize...)
        // The trainer picks a random ID: finalise its content again under the ID the store chose
        // (which is also the row id), with statistics for the level the store writes at.
        let headerSize = trained.withUnsafeBytes { ZDICT_getDictHeaderSize($0.baseAddress, $0.count) }
        guard ZDICT_isError(headerSize) == 0, headerSize < trained.count else { return nil }
        let content = Array(trained[headerSize...])
        var dictionary = [UInt8](repeating: 0, count: trained.count + 1024)
        let params = ZDICT_params_t(compressionLevel: level, notificationLevel: 0, dictID: UInt32(id))
        let finalSize = dictionary.withUnsafeMutableBytes { out in
            content.withUnsafeBytes { body in
                flat.withUnsafeBytes { buffer in
                    ZDICT_finalizeDictionary(out.baseAddress, out.count, body.baseAddress, body.count,
                                             buffer.baseAddress, sizes, UInt32(sizes.count), params)
                }
            }
        }
        guard ZDICT_isError(finalSize) == 0 else { return nil }
        dictionary.removeSubrange(finalSize...)
        return dictionary
    }

    private static func check(_ code: Int) throws(CodecError) {
        if ZSTD_isError(code) != 0 {
            throw CodecError(reason: "zstd: " + String(cString: ZSTD_getErrorName(code)))
        }
    }
}

/// A few zstd contexts kept for reuse. A compression context holds several hundred KiB of
/// tables: making and freeing one per frame (twice per recorded run) cost more page faults
/// than the compression itself. A context taken from the pool is reset to its defaults, so
/// nothing of one frame's settings carries into the next.
enum ZstdContexts {
    static let compression = Pool(make: { ZSTD_createCCtx() }, reset: { _ = ZSTD_CCtx_reset($0, ZSTD_reset_session_and_parameters) },
                                  free: { _ = ZSTD_freeCCtx($0) })
    static let decompression = Pool(make: { ZSTD_createDCtx() }, reset: { _ = ZSTD_DCtx_reset($0, ZSTD_reset_session_and_parameters) },
                                    free: { _ = ZSTD_freeDCtx($0) })

    /// Contexts of one kind; more than the threads that use them at once in practice, and
    /// any beyond that are freed.
    final class Pool: @unchecked Sendable {
        private let capacity = 8
        private let lock = NSLock()
        private var idle: [OpaquePointer] = []
        private let make: () -> OpaquePointer?
        private let reset: (OpaquePointer) -> Void
        private let free: (OpaquePointer) -> Void

        init(make: @escaping () -> OpaquePointer?, reset: @escaping (OpaquePointer) -> Void, free: @escaping (OpaquePointer) -> Void) {
            self.make = make
            self.reset = reset
            self.free = free
        }

        func take() -> OpaquePointer? {
            lock.lock()
            let pooled = idle.popLast()
            lock.unlock()
            guard let context = pooled else { return make() }
            reset(context)
            return context
        }

        func give(_ context: OpaquePointer) {
            lock.lock()
            let kept = idle.count < capacity
            if kept { idle.append(context) }
            lock.unlock()
            if !kept { free(context) }
        }
    }
}
