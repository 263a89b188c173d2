import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two batch summaries: pass rates, flipped episodes and McNemar's test per pairing.",
        discussion: """
            A and B are batch summaries written by `rigor batch ... --json > FILE`, A before a \
            change and B after it. Episodes are paired by pairing name and seed; only paired \
            episodes enter the test, the others are counted as unmatched.

              rigor batch --pairings all --seeds 0..49 --json > before.json
              (change an agent or a task)
              rigor batch --pairings all --seeds 0..49 --json > after.json
              rigor compare before.json after.json

            Per pairing, and over all pairings together: the pass rate on each side with its 95% \
            Wilson interval, the seeds that went pass → fail and fail → pass, and McNemar's test on \
            those flips (exact two-sided binomial up to 25 flips, chi-square with continuity \
            correction above).

            Exit 0 when no pairing has a significant drop (more pass → fail than fail → pass, \
            p < 0.05), 1 when one does, 2 when a file cannot be read or is not a batch summary.
            """)

    @Argument(help: ArgumentHelp("The batch summary before the change (rigor batch --json).", valueName: "A"))
    var a: String

    @Argument(help: ArgumentHelp("The batch summary after the change.", valueName: "B"))
    var b: String

    @Flag(help: "Print JSON instead of the human report.")
    var json = false

    func run() throws {
        let comparison: BatchComparison
        do {
            comparison = try BatchComparison.compare(a, b)
        } catch {
            throw Console.fail(error)
        }
        if json { Console.printJSON(comparison.json) } else { CompareReport.print(comparison, a: a, b: b) }
        if comparison.hasSignificantDrop { throw CLIExit(code: .failed) }
    }
}

/// The human report of `rigor compare`.
enum CompareReport {
    static let nameWidth = 28
    static let seedsShown = 30

    static func print(_ c: BatchComparison, a: String, b: String) {
        Console.line("A (before)  \(a)  \(Console.dim("\(c.overall.before.total) episodes"))")
        Console.line("B (after)   \(b)  \(Console.dim("\(c.overall.after.total) episodes"))")
        Console.line("")
        Console.line(pad("pairing", nameWidth) + pad("before (95% Wilson)", 31) + pad("after (95% Wilson)", 31) + pad("flips", 12) + "McNemar")
        for p in c.pairings {
            Console.line(row(p.name, p.counts, alpha: c.alpha))
            if !p.passToFail.isEmpty { Console.line("    " + Console.red("pass → fail") + "  seeds " + seeds(p.passToFail)) }
            if !p.failToPass.isEmpty { Console.line("    " + Console.green("fail → pass") + "  seeds " + seeds(p.failToPass)) }
            if p.counts.onlyBefore > 0 || p.counts.onlyAfter > 0 {
                Console.line("    " + Console.dim("unmatched: \(p.counts.onlyBefore) only in A, \(p.counts.onlyAfter) only in B (not in the test)"))
            }
        }
        Console.line("")
        Console.line(row("all pairings", c.overall, alpha: c.alpha))
        if c.overall.onlyBefore > 0 || c.overall.onlyAfter > 0 {
            Console.line("    " + Console.dim("unmatched: \(c.overall.onlyBefore) only in A, \(c.overall.onlyAfter) only in B"))
        }
        if c.duplicatesBefore > 0 || c.duplicatesAfter > 0 {
            Console.line(Console.yellow("note: repeated pairing × seed entries ignored: \(c.duplicatesBefore) in A, \(c.duplicatesAfter) in B (the first of each is used)"))
        }
        Console.line(Console.dim("↓ pass → fail, ↑ fail → pass, over episodes paired by pairing and seed; McNemar: exact binomial up to 25 flips, else χ² with continuity correction"))
        if !c.models.isEmpty {
            Console.line("")
            Console.line(pad("models", nameWidth) + pad("calls before → after", 24) + pad("cost before → after", 30) + "per solved before → after")
            for (name, m) in c.models.sorted(by: { $0.key < $1.key }) {
                func num(_ v: JSON?, _ key: String) -> String {
                    switch v?[key] {
                    case .int(let i)?: return key == "calls" ? "\(i)" : String(format: "$%.6f", Double(i))
                    case .double(let d)?: return String(format: "$%.6f", d)
                    default: return "—"
                    }
                }
                Console.line(pad(name, nameWidth) + pad("\(num(m.before, "calls")) → \(num(m.after, "calls"))", 24)
                    + pad("\(num(m.before, "cost_usd")) → \(num(m.after, "cost_usd"))", 30)
                    + "\(num(m.before, "cost_per_solved_usd")) → \(num(m.after, "cost_per_solved_usd"))")
            }
        }
        Console.line("")
        let drops = c.significantDrops
        if drops.isEmpty {
            Console.line(Console.green("no pairing dropped significantly") + Console.dim(" (McNemar p < \(c.alpha))"))
        } else {
            Console.line(Console.red("\(drops.count) pairing\(drops.count == 1 ? "" : "s") dropped significantly: ") + drops.map(\.name).joined(separator: ", "))
        }
    }

    static func row(_ name: String, _ counts: BatchComparison.Counts, alpha: Double) -> String {
        let t = counts.test
        let method = t.method == .exact ? "exact" : "χ² cc"
        let verdict: String
        if t.isSignificantDrop(alpha: alpha) {
            verdict = Console.red("significant drop")
        } else if t.c > t.b && t.pValue < alpha {
            verdict = Console.green("significant gain")
        } else {
            verdict = Console.dim("no significant change")
        }
        return pad(name, nameWidth) + pad(rate(counts.before), 31) + pad(rate(counts.after), 31)
            + pad("↓\(t.b) ↑\(t.c)", 12) + pad("p = \(String(format: "%.4g", t.pValue)) (\(method))", 24) + verdict
    }

    static func rate(_ r: BatchComparison.Rate) -> String {
        let ci = r.interval
        return String(format: "%d/%d %5.1f%% [%.1f, %.1f]", r.passed, r.total, r.rate * 100, ci.low * 100, ci.high * 100)
    }

    static func seeds(_ list: [Int]) -> String {
        let shown = list.prefix(seedsShown).map(String.init).joined(separator: ", ")
        return list.count > seedsShown ? shown + " … and \(list.count - seedsShown) more (see --json)" : shown
    }

    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }
}
