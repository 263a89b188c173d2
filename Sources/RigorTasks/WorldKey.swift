import RigorSpec

/// The evaluator's secret that, together with the task id and the seed, decides every hidden
/// value of a world (spec/determinism.md §1.1, "keyed seeding").
///
/// Why it exists: the agent is told the task id and the seed, and the generator is public; a
/// world drawn from those alone can be rebuilt by the agent, which then "solves" the task
/// without looking (an oracle). With the key the world is still a pure function of its inputs —
/// the same key, task and seed give the same world on any machine — but the agent, which never
/// sees the key, cannot compute it. Artifacts record only `id`, a one-way commitment that tells
/// two keys apart; baselines and bundles carry the key itself so that anyone verifying them can
/// rebuild the same world.
public struct WorldKey: Sendable, Equatable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    /// A key from its 64 lowercase or uppercase hex digits (surrounding whitespace ignored);
    /// nil for anything else.
    public init?(hex text: String) {
        let trimmed = text.trimmingWhitespace()
        let digits = Array(trimmed.utf8)
        guard digits.count == 2 * WorldKey.byteCount else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(WorldKey.byteCount)
        var i = 0
        while i < digits.count {
            guard let hi = WorldKey.nibble(digits[i]), let lo = WorldKey.nibble(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        bytes = out
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == WorldKey.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A fresh key from the system's random source.
    public static func generate() -> WorldKey {
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(byteCount)
        for _ in 0..<(byteCount / 8) {
            var word = generator.next()
            for _ in 0..<8 {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return WorldKey(unchecked: out)
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The key as 64 lowercase hex digits (what key files, baselines and bundles hold).
    public var hex: String { Digest.hex(bytes) }

    /// `sha256:` of a domain-separated hash of the key: recorded in artifacts (and so hashed),
    /// it says which key built the world without revealing it.
    public var id: String { Digest.sha256(Array("rigor-world-key-id/1|".utf8) + bytes) }

    /// Never the key itself: a key printed by accident would be a key given away.
    public var description: String { "WorldKey(\(id))" }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension PRNG {
    /// The generator of a world: keyed seeding under `key` (spec/determinism.md §1.1).
    public init(taskID: String, seed: Int, key: WorldKey) {
        self.init(taskID: taskID, seed: seed, key: key.bytes)
    }
}

private extension String {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }
}
