import Foundation

/// Small, exact statistics for batch summaries.
public enum Statistics {
    /// The 95% Wilson score interval for `successes` out of `trials` (better than the normal
    /// approximation at small n and at rates near 0 or 1).
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959963984540054) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let denom = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denom
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denom
        return (max(0, center - half), min(1, center + half))
    }

    /// The nearest-rank percentile (p in 0...1) of unsorted values; 0 for none.
    public static func percentile<T: Comparable & Numeric>(_ values: [T], _ p: Double) -> T {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
