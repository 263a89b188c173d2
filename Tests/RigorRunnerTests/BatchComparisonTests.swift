import Foundation
import RigorRunner
import RigorSpec
import Testing

@Suite("McNemar's test")
struct McNemarTests {
    @Test("exact two-sided p-values match the binomial by hand", arguments: [
        (0, 6, 0.03125),          // 2 · 1/64
        (6, 0, 0.03125),
        (1, 9, 0.021484375),      // 2 · (1 + 10)/1024
        (3, 3, 1.0),              // 2 · 42/64 > 1
        (0, 0, 1.0),              // no discordant pairs, no evidence
        (0, 1, 1.0),
        (2, 8, 0.109375),         // 2 · (1 + 10 + 45)/1024
        (0, 25, 2.0 / 33_554_432),
    ])
    func exact(_ b: Int, _ c: Int, _ expected: Double) {
        let t = McNemarTest(b: b, c: c)
        #expect(t.method == .exact)
        #expect(t.statistic == nil)
        #expect(abs(t.pValue - expected) <= 1e-15 * max(1, expected), "b=\(b) c=\(c): \(t.pValue)")
    }

    @Test("the exact p-value equals integer binomial sums for every b, c up to 12")
    func exactMatchesIntegers() {
        for b in 0...12 {
            for c in 0...12 {
                let n = b + c
                var binomial = 1, sum = 0  // C(n, k), exact in Int for n ≤ 24
                for k in 0...min(b, c) {
                    sum += binomial
                    binomial = binomial * (n - k) / (k + 1)
                }
                let expected = n == 0 ? 1 : min(1, 2 * Double(sum) / Double(1 << n))
                #expect(McNemarTest(b: b, c: c).pValue == expected, "b=\(b) c=\(c)")
            }
        }
    }

    @Test("above 25 discordant pairs: chi-square with continuity correction")
    func chiSquare() {
        // b = 20, c = 10: x = (|20 − 10| − 1)² / 30 = 81/30 = 2.7;
        // p = P(χ²₁ > 2.7) = erfc(√(2.7/2)) = 0.100348246... (χ²₁ tables: 2.706 ↔ 0.10).
        let t = McNemarTest(b: 20, c: 10)
        #expect(t.method == .chiSquare)
        #expect(abs((t.statistic ?? 0) - 2.7) < 1e-12)
        #expect(abs(t.pValue - 0.10034824646229074) < 1e-12)
        // b = 5, c = 25: x = 19²/30 = 12.0333…, p ≈ 5.2258e-4 (χ²₁ tables: 10.83 ↔ 0.001).
        let u = McNemarTest(b: 5, c: 25)
        #expect(abs((u.statistic ?? 0) - 361.0 / 30.0) < 1e-12)
        #expect(abs(u.pValue - 0.0005225753951242474) < 1e-12)
        // Equal counts: the correction cannot make the statistic negative.
        #expect(McNemarTest(b: 13, c: 13).pValue == 1)
    }

    @Test("25 discordant pairs is exact, 26 is chi-square")
    func boundary() {
        #expect(McNemarTest(b: 20, c: 5).method == .exact)
        #expect(McNemarTest(b: 20, c: 6).method == .chiSquare)
    }

    @Test("a drop is significant only when pass → fail outnumber fail → pass")
    func direction() {
        #expect(McNemarTest(b: 6, c: 0).isSignificantDrop())
        #expect(!McNemarTest(b: 0, c: 6).isSignificantDrop())
        #expect(!McNemarTest(b: 3, c: 0).isSignificantDrop())  // p = 0.25
    }
}

@Suite("BatchComparison")
struct BatchComparisonTests {
    typealias Episode = BatchComparison.Episode

    /// `toy` passes every seed 0–19 before; after, seeds 0–5 fail. `rate` is unchanged but for
    /// one seed each way, and has seeds on one side only.
    func sample() -> ([Episode], [Episode]) {
        var before = (0..<20).map { Episode(pairing: "toy", seed: $0, passed: true) }
        var after = (0..<20).map { Episode(pairing: "toy", seed: $0, passed: $0 > 5) }
        before += (0..<10).map { Episode(pairing: "rate", seed: $0, passed: $0 != 3) }
        after += (0..<10).map { Episode(pairing: "rate", seed: $0, passed: $0 != 7) }
        before.append(Episode(pairing: "rate", seed: 100, passed: true))
        after += [Episode(pairing: "rate", seed: 200, passed: false), Episode(pairing: "rate", seed: 201, passed: true)]
        return (before, after)
    }

    @Test("flips are listed by seed, and a one-sided drop of six is significant")
    func flips() throws {
        let (before, after) = sample()
        let c = BatchComparison(before: before, after: after)
        let toy = try #require(c.pairings.first { $0.name == "toy" })
        #expect(toy.passToFail == [0, 1, 2, 3, 4, 5])
        #expect(toy.failToPass == [])
        #expect(toy.counts.test.b == 6 && toy.counts.test.c == 0)
        #expect(toy.counts.test.pValue == 0.03125)
        #expect(toy.counts.test.isSignificantDrop())
        #expect(c.hasSignificantDrop)
        #expect(c.significantDrops.map(\.name) == ["toy"])

        let rate = try #require(c.pairings.first { $0.name == "rate" })
        #expect(rate.passToFail == [7])
        #expect(rate.failToPass == [3])
        #expect(rate.counts.test.pValue == 1)
        #expect(rate.counts.matched == 10 && rate.counts.onlyBefore == 1 && rate.counts.onlyAfter == 2)
        #expect(c.pairings.map(\.name) == ["toy", "rate"])
    }

    @Test("pass rates carry 95% Wilson intervals on both sides")
    func wilson() throws {
        let (before, after) = sample()
        let toy = try #require(BatchComparison(before: before, after: after).pairings.first)
        #expect(toy.counts.before.passed == 20 && toy.counts.before.total == 20)
        #expect(toy.counts.after.passed == 14 && toy.counts.after.total == 20)
        let b = toy.counts.before.interval, a = toy.counts.after.interval
        #expect(abs(b.low - 0.8389) < 1e-4 && b.high == 1)           // Wilson, 20/20
        #expect(abs(a.low - 0.4810) < 1e-4 && abs(a.high - 0.8545) < 1e-4)  // Wilson, 14/20
    }

    @Test("the overall test pools the flips of every pairing")
    func overall() {
        let (before, after) = sample()
        let c = BatchComparison(before: before, after: after)
        #expect(c.overall.test.b == 7 && c.overall.test.c == 1)
        #expect(c.overall.matched == 30)
        #expect(c.overall.before.total == 31 && c.overall.after.total == 32)
        #expect(abs(c.overall.test.pValue - 0.0703125) < 1e-15)  // 2 · (1 + 8)/256
    }

    @Test("no drop when nothing flipped, and repeated seeds are counted, not paired twice")
    func noDrop() {
        let same = (0..<5).map { Episode(pairing: "p", seed: $0, passed: $0 % 2 == 0) }
        let c = BatchComparison(before: same + [Episode(pairing: "p", seed: 0, passed: false)], after: same)
        #expect(!c.hasSignificantDrop)
        #expect(c.duplicatesBefore == 1 && c.duplicatesAfter == 0)
        #expect(c.pairings.first?.counts.matched == 5)
        #expect(c.pairings.first?.counts.test.pValue == 1)
    }

    @Test("the JSON report has rates, intervals, seeds and the test")
    func json() throws {
        let (before, after) = sample()
        let j = BatchComparison(before: before, after: after).json
        #expect(j["significant_drop"] == true)
        let toy = try #require(j["pairings"]?.arrayValue?.first)
        #expect(toy["name"] == "toy")
        #expect(toy["pass_to_fail_seeds"] == [0, 1, 2, 3, 4, 5])
        #expect(toy["before"]?["wilson_95"]?.arrayValue?.count == 2)
        #expect(toy["after"]?["pass_rate"] == .double(0.7))
        #expect(toy["mcnemar"]?["method"] == "exact_binomial")
        #expect(toy["mcnemar"]?["p_value"] == .double(0.03125))
        #expect(toy["significant_drop"] == true)
        #expect(j["overall"]?["mcnemar"]?["pass_to_fail"] == 7)
    }

    @Test("episodes are read from rigor batch --json output; anything else is refused with the file named")
    func reading() throws {
        let summary: JSON = ["episodes": [["pairing": "toy", "seed": 3, "passed": false, "success": true]]]
        #expect(try BatchComparison.episodes(in: summary, file: "a.json") == [Episode(pairing: "toy", seed: 3, passed: false)])
        do {
            _ = try BatchComparison.episodes(in: ["total": 3], file: "a.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("'a.json' is not a batch summary"))
        }
        do {
            _ = try BatchComparison.episodes(in: ["episodes": [["pairing": "toy"]]], file: "b.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("'b.json': episode 1"))
        }
    }
}
