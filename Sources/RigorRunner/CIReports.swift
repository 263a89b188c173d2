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

    public static func junit(_ checks: [CICheck], seconds: Double) -> String {
        let failures = checks.filter { !$0.reproduced }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"rigor ci\" tests=\"\(checks.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", seconds))\">\n"
        out += "  <testsuite name=\"baselines\" tests=\"\(checks.count)\" failures=\"\(failures)\">\n"
        for c in checks {
            out += "    <testcase classname=\"rigor.\(xml(c.baseline.pairing))\" name=\"seed-\(c.baseline.seed)\">\n"
            if !c.reproduced {
                out += "      <failure message=\"\(xml(c.regressions.first ?? "regression"))\">\(xml(detail(c)))</failure>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    public static func markdown(_ checks: [CICheck]) -> String {
        let failed = checks.filter { !$0.reproduced }
        var out = "## rigor ci: \(failed.isEmpty ? "all \(checks.count) baselines reproduced" : "\(failed.count) of \(checks.count) baselines regressed")\n\n"
        out += "| pairing | seed | baseline | now | verdict |\n|---|---|---|---|---|\n"
        for c in checks {
            let verdict = c.reproduced ? "reproduced" : "**regression**: " + c.regressions.joined(separator: "; ")
            out += "| \(c.baseline.pairing) | \(c.baseline.seed) | \(c.oldSummary) | \(c.newSummary) | \(verdict.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        for c in failed where c.divergence?.firstStep != nil {
            out += "\n### \(c.baseline.pairing) seed \(c.baseline.seed)\n\n```\n\(detail(c))\n```\n"
        }
        return out
    }
}
