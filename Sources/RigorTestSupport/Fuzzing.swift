import Foundation

/// A deterministic mutation fuzzer for Rigor's input readers (the manifest parser, the
/// agent-line reader, the bundle reader): seeded, so a failure found once is found again, and
/// bounded, so it can run in `make test` for a few seconds and for as long as asked under
/// `make fuzz`.
///
/// It mutates valid inputs (seeds) the ways hostile or broken input differs from them: flipped
/// bytes, truncations, splices of two seeds, numbers too large for any integer or double, and
/// nesting far beyond every depth limit. The target must turn every input into a value or a
/// typed error; a trap ends the test process, which is the failure.
public struct Fuzzer {
    /// How many inputs per target: `RIGOR_FUZZ_ITERATIONS`, else `defaultIterations`.
    public let iterations: Int
    /// Wall-clock cap per target: `RIGOR_FUZZ_SECONDS`, else 3 s (unbounded when iterations
    /// were given explicitly, so `make fuzz` runs them all).
    public let seconds: Double
    var rng: SplitMix64

    public init(seed: UInt64, defaultIterations: Int = 3000) {
        let env = ProcessInfo.processInfo.environment
        let given = env["RIGOR_FUZZ_ITERATIONS"].flatMap(Int.init)
        iterations = max(1, given ?? defaultIterations)
        seconds = env["RIGOR_FUZZ_SECONDS"].flatMap(Double.init) ?? (given == nil ? 3 : .infinity)
        // RIGOR_FUZZ_SEED explores other inputs (mixed into each target's own seed).
        rng = SplitMix64(seed: seed ^ (env["RIGOR_FUZZ_SEED"].flatMap(UInt64.init) ?? 0))
    }

    /// Feeds `target` the seeds themselves, then `iterations` mutants of them (or as many as
    /// fit in `seconds`). Returns how many inputs ran.
    @discardableResult
    public mutating func run(seeds: [[UInt8]], _ target: ([UInt8]) throws -> Void) throws -> Int {
        precondition(!seeds.isEmpty, "a fuzz target needs at least one valid seed")
        let start = Date()
        // RIGOR_FUZZ_DUMP=<file>: each input is written there before it runs, so the one that
        // crashed the process is left behind to reproduce it.
        let dump = ProcessInfo.processInfo.environment["RIGOR_FUZZ_DUMP"]
        func feed(_ input: [UInt8]) throws {
            if let dump { FileManager.default.createFile(atPath: dump, contents: Data(input)) }
            try target(input)
        }
        for s in seeds { try feed(s) }
        var ran = seeds.count
        for _ in 0..<iterations {
            if Date().timeIntervalSince(start) > seconds { break }
            try feed(mutate(seeds[Int(rng.next() % UInt64(seeds.count))], others: seeds))
            ran += 1
        }
        return ran
    }

    static let hostileTokens: [String] = [
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e400", "-1e400", "1e30", "-1",
        "0", "nan", "inf", "-inf", "1.5", "\"abc\"", "true", "null", "\"\\u0000\"", "\"\\ud800\"", "\u{1B}[2J",
    ]

    /// One to three mutations of `input`.
    public mutating func mutate(_ input: [UInt8], others: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 8 {
            case 0:  // flip a bit
                if !bytes.isEmpty { bytes[at] ^= UInt8(1 << (rng.next() % 8)) }
            case 1:  // random byte
                if !bytes.isEmpty { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2:  // truncate
                bytes.removeSubrange(at...)
            case 3:  // splice: this input's head, another seed's tail
                let other = others[Int(rng.next() % UInt64(others.count))]
                let from = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
                bytes = Array(bytes[..<at]) + other[from...]
            case 4:  // replace a number (or any token) with a hostile one
                let token = Array(Self.hostileTokens[Int(rng.next() % UInt64(Self.hostileTokens.count))].utf8)
                var end = at
                while end < bytes.count, bytes[end] >= 0x30 && bytes[end] <= 0x39 || bytes[end] == 0x2E || bytes[end] == 0x2D { end += 1 }
                bytes.replaceSubrange(at..<max(at, end), with: token)
            case 5:  // deep nesting
                let depth = [65, 67, 70, 513, 100_000][Int(rng.next() % 5)]
                let open: UInt8 = rng.next() % 2 == 0 ? 0x5B : 0x7B
                var nest = [UInt8](repeating: open, count: depth)
                if open == 0x7B { nest = Array(String(repeating: "{\"a\":", count: depth).utf8) }
                bytes.insert(contentsOf: nest, at: at)
            case 6:  // duplicate a chunk
                let end = min(bytes.count, at + Int(rng.next() % 64))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            default:  // delete a chunk
                let end = min(bytes.count, at + Int(rng.next() % 16))
                bytes.removeSubrange(at..<end)
            }
        }
        return bytes
    }
}

/// SplitMix64: a tiny, well-known, seedable generator (never the platform's random, so a run
/// can be repeated from its seed).
public struct SplitMix64 {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
