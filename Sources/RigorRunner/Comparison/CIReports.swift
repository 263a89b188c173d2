import Foundation
import RigorSpec

/// JUnit XML and Markdown for CI job pages, from the same checks the terminal table shows.
public enum CIReports {
    /// XML text and attribute escaping: the HTML escaping, after replacing what XML 1.0 cannot hold
    /// at all (control characters other than tab and newlines, lone surrogates, U+FFFE/U+FFFF).
    static func xml(_ s: String) -> String {
        var text = ""
        for ch in s.unicodeScalars {
            let v = ch.value
            let allowed = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && !(0xD800...0xDFFF).contains(v) && v != 0xFFFE && v != 0xFFFF)
            if allowed { text.unicodeScalars.append(ch) } else { text += "?" }
        }
        return Markup.escape(text)
    }

    /// The divergent step, old and new, for failure bodies.
    public static func detail(_ c: CICheck) -> String {
        var lines = c.regressions
        if let d = c.divergence, let step = d.firstStep {
            for part in d.parts where part != "missing" {
                lines.append("step \(step) \(part) (baseline): \(d.left[part].flatMap { try? $0.canonicalString() } ?? "none")")
                lines.append("step \(step) \(part) (now):      \(d.right[part].flatMap { try? $0.canonicalString() } ?? "none")")
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func junit(_ checks: [CICheck], seconds: Double, mode: CIGateMode = .exact) -> String {
        let drops = mode == .stats ? CIGate.comparison(checks).pairings : []
        let statCases = drops.map { p in (p, p.counts.test.isSignificantDrop(alpha: 0.05)) }
        let failures = checks.filter { !$0.reproduced }.count + statCases.filter(\.1).count
        let tests = checks.count + statCases.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"rigor ci\" tests=\"\(tests)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", seconds))\">\n"
        out += "  <testsuite name=\"baselines (gate: \(mode.rawValue))\" tests=\"\(tests)\" failures=\"\(failures)\">\n"
        for c in checks {
            out += "    <testcase classname=\"rigor.\(xml(c.baseline.pairing))\" name=\"seed-\(c.baseline.seed)\">\n"
            if !c.reproduced {
                out += "      <failure message=\"\(xml(c.regressions.first ?? "regression"))\">\(xml(detail(c)))</failure>\n"
            }
            out += "    </testcase>\n"
        }
        for (p, dropped) in statCases {
            out += "    <testcase classname=\"rigor.\(xml(p.name))\" name=\"pass-rate (McNemar)\">\n"
            if dropped {
                out += "      <failure message=\"\(xml(statsLine(p)))\">\(xml("pass → fail seeds: \(p.passToFail.map(String.init).joined(separator: " "))"))</failure>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    /// One pairing's McNemar line: pass counts before and after, flips, p-value.
    public static func statsLine(_ p: BatchComparison.PairingChange) -> String {
        let c = p.counts
        return "\(p.name): \(c.before.passed)/\(c.before.total) → \(c.after.passed)/\(c.after.total) passed, "
            + "\(c.test.b) pass → fail, \(c.test.c) fail → pass, McNemar p = \(String(format: "%.4g", c.test.pValue))"
    }

    public static func markdown(_ checks: [CICheck], mode: CIGateMode = .exact) -> String {
        let failed = checks.filter { !$0.reproduced }
        let comparison = mode == .stats ? CIGate.comparison(checks) : nil
        let drops = comparison?.significantDrops ?? []
        let headline: String
        if failed.isEmpty && drops.isEmpty {
            headline = mode == .exact ? "all \(checks.count) baselines reproduced" : "gate passed over \(checks.count) baselines"
        } else if !failed.isEmpty {
            headline = "\(failed.count) of \(checks.count) baselines regressed"
        } else {
            headline = "\(drops.count) pairing\(drops.count == 1 ? "" : "s") dropped significantly"
        }
        var out = "## rigor ci: \(headline)\n\nGate: \(mode.explanation).\n\n"
        if let comparison {
            out += "| pairing | pass rate, McNemar | verdict |\n|---|---|---|\n"
            for p in comparison.pairings {
                let dropped = p.counts.test.isSignificantDrop(alpha: comparison.alpha)
                out += "| \(p.name) | \(statsLine(p).replacingOccurrences(of: "|", with: "\\|")) | \(dropped ? "**significant drop**" : "holds") |\n"
            }
            out += "\n"
        }
        out += "| pairing | seed | baseline | now | verdict |\n|---|---|---|---|---|\n"
        for c in checks {
            let verdict = !c.reproduced ? "**regression**: " + c.regressions.joined(separator: "; ")
                : c.changes.isEmpty ? "reproduced" : "changed (not failed): " + c.changes.joined(separator: "; ")
            out += "| \(c.baseline.pairing) | \(c.baseline.seed) | \(c.oldSummary) | \(c.newSummary) | \(verdict.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        for c in failed where c.divergence?.firstStep != nil {
            out += "\n### \(c.baseline.pairing) seed \(c.baseline.seed)\n\n```\n\(detail(c))\n```\n"
        }
        return out
    }
}
