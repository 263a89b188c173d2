import Foundation

/// McNemar's test for paired pass/fail outcomes: did the same episodes (pairing × seed) pass
/// less often after a change than before?
///
/// Only the discordant pairs carry information: `b` episodes went from pass to fail, `c` from
/// fail to pass. Under "nothing changed" each discordant pair is a fair coin, so `b` is
/// Binomial(b + c, ½). With at most `exactLimit` discordant pairs the two-sided exact binomial
/// p-value is used (the chi-square approximation is poor there); above it, the chi-square
/// statistic with Edwards' continuity correction, `(|b − c| − 1)² / (b + c)`, and its
/// chi-square(1) survival function, `erfc(√(x/2))`.
public struct McNemarTest: Sendable, Equatable {
    public enum Method: String, Sendable {
        case exact = "exact_binomial"
        case chiSquare = "chi_square_continuity_corrected"
    }

    /// Discordant pairs at or below which the exact test is used.
    public static let exactLimit = 25

    /// Pass → fail.
    public let b: Int
    /// Fail → pass.
    public let c: Int
    public let method: Method
    /// The chi-square statistic (nil for the exact test).
    public let statistic: Double?
    /// Two-sided p-value; 1 when there are no discordant pairs.
    public let pValue: Double

    public init(b: Int, c: Int) {
        self.b = b
        self.c = c
        if b + c <= Self.exactLimit {
            method = .exact
            statistic = nil
            pValue = Self.exactPValue(b: b, c: c)
        } else {
            method = .chiSquare
            let (x, p) = Self.chiSquare(b: b, c: c)
            statistic = x
            pValue = p
        }
    }

    /// `min(1, 2 · Σ_{k ≤ min(b,c)} C(n,k) / 2ⁿ)` with `n = b + c`.
    ///
    /// Each term is built from the previous one, `C(n,k+1)/2ⁿ = C(n,k)/2ⁿ · (n−k)/(k+1)`,
    /// starting from the exactly representable 2⁻ⁿ; for the n this is used with (≤ 25) every
    /// term and partial sum is exact in a Double. Past the range of 2⁻ⁿ it sums in log space.
    public static func exactPValue(b: Int, c: Int) -> Double {
        let n = b + c, k = min(b, c)
        guard n > 0, k >= 0 else { return 1 }
        var sum = 0.0
        if n <= 1000 {
            var term = pow(2.0, -Double(n))
            for i in 0...k {
                sum += term
                term = term * Double(n - i) / Double(i + 1)
            }
        } else {
            let logHalfPower = -Double(n) * log(2.0)
            for i in 0...k {
                sum += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) + logHalfPower)
            }
        }
        return min(1, 2 * sum)
    }

    /// The continuity-corrected statistic and its chi-square(1) upper-tail probability.
    public static func chiSquare(b: Int, c: Int) -> (statistic: Double, pValue: Double) {
        let n = b + c
        guard n > 0 else { return (0, 1) }
        let corrected = Double(max(0, abs(b - c) - 1))
        let x = corrected * corrected / Double(n)
        return (x, min(1, erfc((x / 2).squareRoot())))
    }

    /// True when the change made things significantly worse: more pass → fail than fail → pass,
    /// with p below `alpha`.
    public func isSignificantDrop(alpha: Double = 0.05) -> Bool { b > c && pValue < alpha }
}
