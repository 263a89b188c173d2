import Foundation
import RigorSpec

/// Two batches of the same matrix, before (A) and after (B) a change, compared episode by
/// episode: per pairing, the pass rates with 95% Wilson intervals, the seeds that flipped, and
/// McNemar's test on the flips; then the same over all pairings together.
///
/// Episodes are paired by (pairing name, seed) and only paired episodes enter the test: a seed
/// run on one side only says nothing about the change, so it is counted (`onlyBefore`,
/// `onlyAfter`) and left out. The pass rates are each side's own, over all its episodes of the
/// pairing, as `rigor batch` reported them.
public struct BatchComparison: Sendable {
    /// One episode as `rigor batch --json` lists it.
    public struct Episode: Sendable, Hashable {
        public let pairing: String
        public let seed: Int
        /// The batch's verdict (with --strict-spec, spec problems fail an episode too).
        public let passed: Bool

        public init(pairing: String, seed: Int, passed: Bool) {
            self.pairing = pairing
            self.seed = seed
            self.passed = passed
        }
    }

    /// Passed out of total, with its Wilson interval.
    public struct Rate: Sendable, Equatable {
        public let passed: Int
        public let total: Int
        public var rate: Double { total == 0 ? 0 : Double(passed) / Double(total) }
        public var interval: (low: Double, high: Double) { Statistics.wilson(successes: passed, trials: total) }
    }

    /// What changed for a set of episodes (one pairing, or all of them).
    public struct Counts: Sendable, Equatable {
        public let before: Rate
        public let after: Rate
        /// Episodes present on both sides.
        public let matched: Int
        public let onlyBefore: Int
        public let onlyAfter: Int
        public let test: McNemarTest
    }

    /// One pairing's change, with the flipped seeds.
    public struct PairingChange: Sendable, Equatable {
        public let name: String
        public let counts: Counts
        /// Seeds that passed before and fail after, ascending.
        public let passToFail: [Int]
        /// Seeds that failed before and pass after, ascending.
        public let failToPass: [Int]
    }

    public let pairings: [PairingChange]
    public let overall: Counts
    /// Repeated (pairing, seed) entries in each file; the first of each is used.
    public let duplicatesBefore: Int
    public let duplicatesAfter: Int
    /// The significance level for "a significant drop".
    public let alpha: Double
    /// Pairing → its model totals (`pairings[].models` of `rigor batch --json`: calls, tokens,
    /// cost, cost per solved episode) before and after; only pairings that had the gateway.
    public var models: [String: (before: JSON?, after: JSON?)] = [:]

    public init(before: [Episode], after: [Episode], alpha: Double = 0.05) {
        self.alpha = alpha
        let (a, dupA) = Self.index(before)
        let (b, dupB) = Self.index(after)
        duplicatesBefore = dupA
        duplicatesAfter = dupB
        var names: [String] = []
        var seen = Set<String>()
        for e in before + after where seen.insert(e.pairing).inserted { names.append(e.pairing) }

        var changes: [PairingChange] = []
        for name in names {
            let sa = a[name] ?? [:], sb = b[name] ?? [:]
            var down: [Int] = [], up: [Int] = []
            var matched = 0
            for (seed, passedBefore) in sa {
                guard let passedAfter = sb[seed] else { continue }
                matched += 1
                if passedBefore && !passedAfter { down.append(seed) }
                if !passedBefore && passedAfter { up.append(seed) }
            }
            let counts = Counts(
                before: Rate(passed: sa.values.filter { $0 }.count, total: sa.count),
                after: Rate(passed: sb.values.filter { $0 }.count, total: sb.count),
                matched: matched, onlyBefore: sa.count - matched, onlyAfter: sb.count - matched,
                test: McNemarTest(b: down.count, c: up.count))
            changes.append(PairingChange(name: name, counts: counts, passToFail: down.sorted(), failToPass: up.sorted()))
        }
        pairings = changes
        func total(_ f: (Counts) -> Int) -> Int { changes.map { f($0.counts) }.reduce(0, +) }
        overall = Counts(
            before: Rate(passed: total(\.before.passed), total: total(\.before.total)),
            after: Rate(passed: total(\.after.passed), total: total(\.after.total)),
            matched: total(\.matched), onlyBefore: total(\.onlyBefore), onlyAfter: total(\.onlyAfter),
            test: McNemarTest(b: total(\.test.b), c: total(\.test.c)))
    }

    /// Episodes by pairing and seed, first occurrence kept; and how many repeats were dropped.
    static func index(_ episodes: [Episode]) -> ([String: [Int: Bool]], Int) {
        var out: [String: [Int: Bool]] = [:]
        var duplicates = 0
        for e in episodes {
            if out[e.pairing]?[e.seed] != nil { duplicates += 1; continue }
            out[e.pairing, default: [:]][e.seed] = e.passed
        }
        return (out, duplicates)
    }

    /// The pairings whose pass rate dropped significantly (pass → fail outnumber fail → pass,
    /// McNemar p < alpha).
    public var significantDrops: [PairingChange] { pairings.filter { $0.counts.test.isSignificantDrop(alpha: alpha) } }
    public var hasSignificantDrop: Bool { !significantDrops.isEmpty }

    // MARK: Reading summaries

    /// The episodes of a batch summary (`rigor batch --json`).
    public static func episodes(in summary: JSON, file: String) throws(RunnerError) -> [Episode] {
        guard let list = summary["episodes"]?.arrayValue else {
            throw .usage("'\(file)' is not a batch summary: it has no \"episodes\" array; write one with `rigor batch ... --json > \(file)`")
        }
        var out: [Episode] = []
        for (i, e) in list.enumerated() {
            guard let pairing = e["pairing"]?.stringValue, let seed = e["seed"]?.intValue,
                  let passed = e["passed"]?.boolValue ?? e["success"]?.boolValue else {
                throw .usage("'\(file)': episode \(i + 1) lacks a string \"pairing\", an integer \"seed\" or a boolean \"passed\"; is it the output of `rigor batch --json`?")
            }
            out.append(Episode(pairing: pairing, seed: seed, passed: passed))
        }
        return out
    }

    /// Reads a batch summary file.
    public static func load(_ path: String) throws(RunnerError) -> [Episode] {
        try episodes(in: try ArtifactLocator.readJSON(path, expecting: "a batch summary, written by `rigor batch ... --json > FILE`"), file: path)
    }

    /// Compares two batch summary files, model costs included.
    public static func compare(_ a: String, _ b: String, alpha: Double = 0.05) throws(RunnerError) -> BatchComparison {
        let expecting = "a batch summary, written by `rigor batch ... --json > FILE`"
        let before = try ArtifactLocator.readJSON(a, expecting: expecting), after = try ArtifactLocator.readJSON(b, expecting: expecting)
        var c = BatchComparison(before: try episodes(in: before, file: a), after: try episodes(in: after, file: b), alpha: alpha)
        func totals(_ summary: JSON) -> [String: JSON] {
            var out: [String: JSON] = [:]
            for p in summary["pairings"]?.arrayValue ?? [] {
                if let name = p["name"]?.stringValue, let m = p["models"], m.objectValue != nil { out[name] = m }
            }
            return out
        }
        let mb = totals(before), ma = totals(after)
        for name in Set(mb.keys).union(ma.keys) { c.models[name] = (mb[name], ma[name]) }
        return c
    }

    // MARK: JSON

    public var json: JSON {
        func rate(_ r: Rate) -> JSON {
            let ci = r.interval
            return ["passed": .int(r.passed), "total": .int(r.total), "pass_rate": .double(Self.round(r.rate)),
                    "wilson_95": [.double(Self.round(ci.low)), .double(Self.round(ci.high))]]
        }
        func counts(_ c: Counts) -> [String: JSON] {
            [
                "before": rate(c.before), "after": rate(c.after),
                "matched": .int(c.matched), "only_before": .int(c.onlyBefore), "only_after": .int(c.onlyAfter),
                "mcnemar": [
                    "pass_to_fail": .int(c.test.b), "fail_to_pass": .int(c.test.c), "method": .string(c.test.method.rawValue),
                    "statistic": c.test.statistic.map { .double(Self.round($0, places: 6)) } ?? .null,
                    "p_value": .double(c.test.pValue),
                ],
                "significant_drop": .bool(c.test.isSignificantDrop(alpha: alpha)),
            ]
        }
        return [
            "alpha": .double(alpha),
            "significant_drop": .bool(hasSignificantDrop),
            "pairings": .array(pairings.map { p in
                var o = counts(p.counts)
                o["name"] = .string(p.name)
                o["pass_to_fail_seeds"] = .array(p.passToFail.map(JSON.int))
                o["fail_to_pass_seeds"] = .array(p.failToPass.map(JSON.int))
                return .object(o)
            }),
            "overall": .object(counts(overall)),
            "duplicates_ignored": ["before": .int(duplicatesBefore), "after": .int(duplicatesAfter)],
            "models": .object(models.mapValues { ["before": $0.before ?? .null, "after": $0.after ?? .null] }),
        ]
    }

    static func round(_ x: Double, places: Double = 4) -> Double {
        let scale = pow(10, places)
        return (x * scale).rounded() / scale
    }
}
