import Crypto

/// The portable pseudo-random generator every task world is built from ("rigor-prng/1").
///
/// Worlds must be identical on every machine and every Rigor build, so Rigor never uses the
/// platform's random source. The state is the SHA-256 of `"rigor-prng/1|<task id>|<seed>"` read
/// as four big-endian 64-bit words, and the generator is xoshiro256**. `spec/determinism.md`
/// specifies it exactly, with test vectors in `spec/vectors/prng.json`.
public struct PRNG: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(taskID: String, seed: Int) {
        self.init(material: Array("rigor-prng/1|\(taskID)|\(seed)".utf8))
    }

    /// Keyed seeding (spec/determinism.md §1.1): the state is HMAC-SHA256 under the world key of
    /// the same material. Every world Rigor runs is seeded this way, so that knowing the task id
    /// and the seed — both of which the agent is told — is not enough to rebuild the world: its
    /// hidden values also depend on a key the agent never sees.
    public init(taskID: String, seed: Int, key: [UInt8]) {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("rigor-prng/1|\(taskID)|\(seed)".utf8), using: SymmetricKey(data: key))
        self.init(state: Array(mac))
    }

    /// Seeds from the SHA-256 of arbitrary bytes.
    public init(material: [UInt8]) {
        self.init(state: Digest.sha256Bytes(material))
    }

    /// Seeds from 32 bytes read as four big-endian 64-bit words.
    private init(state d: [UInt8]) {
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for b in d[(i * 8)..<(i * 8 + 8)] { w = (w << 8) | UInt64(b) }
            return w
        }
        s0 = word(0); s1 = word(1); s2 = word(2); s3 = word(3)
        // An all-zero state would stick at zero; SHA-256 will not produce it in practice,
        // but the generator must still be total.
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }

    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        let result = PRNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = PRNG.rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<n` (rejection sampling, no modulo bias). `n` must be ≥ 1.
    public mutating func below(_ n: Int) -> Int {
        precondition(n >= 1, "PRNG.below needs n >= 1")  // programmer error, never input
        let un = UInt64(n)
        let threshold = (0 &- un) % un
        while true {
            let x = next()
            if x >= threshold { return Int(x % un) }
        }
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// One element of `items`, uniformly.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }

    /// `count` characters drawn from `alphabet`.
    public mutating func string(_ count: Int, alphabet: String) -> String {
        let chars = Array(alphabet)
        var out = ""
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(chars[below(chars.count)]) }
        return out
    }

    public mutating func digits(_ count: Int) -> String {
        string(count, alphabet: "0123456789")
    }

    /// Fisher–Yates, from the last index down.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, through: 1, by: -1) {
            let j = below(i + 1)
            items.swapAt(i, j)
        }
    }
}
