/// SVG charts drawn here, as plain markup: every label goes through `HTML.text`, every number
/// is formatted by Swift, so no value can close the `<svg>`.
enum Charts {
    static func fmt(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        return String(Double(Int((v * 10).rounded())) / 10)
    }

    /// Horizontal bars of pass rates (0…1) with Wilson 95% intervals as whiskers.
    static func passRates(_ rows: [(label: String, rate: Double?, low: Double?, high: Double?, runs: Int)]) -> HTML {
        let rowHeight = 22.0, labelWidth = 300.0, barWidth = 360.0
        let height = Double(rows.count) * rowHeight + 24
        var h = HTML(unsafeMarkup: "<svg role=\"img\" aria-label=\"pass rate per pairing\" width=\"\(fmt(labelWidth + barWidth + 90))\" height=\"\(fmt(height))\">")
        for (i, r) in rows.enumerated() {
            let y = Double(i) * rowHeight + 4
            h += HTML(unsafeMarkup: "<text x=\"0\" y=\"\(fmt(y + 14))\">") + .text(String(r.label.prefix(48))) + "</text>"
            h += HTML(unsafeMarkup: "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(barWidth))\" height=\"14\" fill=\"#f6f8fa\"/>")
            if let rate = r.rate {
                h += HTML(unsafeMarkup: "<rect class=\"pass\" x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(barWidth * rate))\" height=\"14\"/>")
                if let lo = r.low, let hi = r.high {
                    let x1 = labelWidth + barWidth * lo, x2 = labelWidth + barWidth * hi
                    h += HTML(unsafeMarkup: "<line class=\"ci\" x1=\"\(fmt(x1))\" x2=\"\(fmt(x2))\" y1=\"\(fmt(y + 10))\" y2=\"\(fmt(y + 10))\"/>")
                    h += HTML(unsafeMarkup: "<line class=\"ci\" x1=\"\(fmt(x1))\" x2=\"\(fmt(x1))\" y1=\"\(fmt(y + 5))\" y2=\"\(fmt(y + 15))\"/>")
                    h += HTML(unsafeMarkup: "<line class=\"ci\" x1=\"\(fmt(x2))\" x2=\"\(fmt(x2))\" y1=\"\(fmt(y + 5))\" y2=\"\(fmt(y + 15))\"/>")
                }
                h += HTML(unsafeMarkup: "<text x=\"\(fmt(labelWidth + barWidth + 6))\" y=\"\(fmt(y + 14))\">\(fmt(rate * 100))% of \(r.runs)</text>")
            }
        }
        h += "</svg>"
        return h
    }

    /// Budget burn-down: steps and tool calls left before step 1 (index 0) and after each step.
    static func burnDown(steps: [Int], toolCalls: [Int], budgetSteps: Int, budgetToolCalls: Int) -> HTML {
        let width = 640.0, height = 160.0, pad = 30.0
        let n = max(steps.count - 1, 1)
        let top = Double(max(budgetSteps, budgetToolCalls, steps.max() ?? 0, toolCalls.max() ?? 0, 1))
        func points(_ values: [Int]) -> String {
            // At most ~600 points: a 10,000-step run draws every 16th step (and the last).
            let stride = max(1, values.count / 600)
            var out: [String] = []
            for (i, v) in values.enumerated() where i % stride == 0 || i == values.count - 1 {
                let x = pad + (width - 2 * pad) * Double(i) / Double(n)
                let y = height - pad - (height - 2 * pad) * Double(v) / top
                out.append("\(fmt(x)),\(fmt(y))")
            }
            return out.joined(separator: " ")
        }
        var h = HTML(unsafeMarkup: "<svg role=\"img\" aria-label=\"budget left after each step\" width=\"\(fmt(width))\" height=\"\(fmt(height))\">")
        h += HTML(unsafeMarkup: "<line class=\"axis\" x1=\"\(fmt(pad))\" y1=\"\(fmt(height - pad))\" x2=\"\(fmt(width - pad))\" y2=\"\(fmt(height - pad))\"/>")
        h += HTML(unsafeMarkup: "<line class=\"axis\" x1=\"\(fmt(pad))\" y1=\"\(fmt(pad))\" x2=\"\(fmt(pad))\" y2=\"\(fmt(height - pad))\"/>")
        h += HTML(unsafeMarkup: "<text x=\"2\" y=\"\(fmt(pad + 4))\">\(Int(top))</text><text x=\"2\" y=\"\(fmt(height - pad))\">0</text>")
        h += HTML(unsafeMarkup: "<text x=\"\(fmt(width - pad - 40))\" y=\"\(fmt(height - 8))\">step \(max(0, steps.count - 1))</text>")
        if !steps.isEmpty { h += HTML(unsafeMarkup: "<polyline class=\"line\" points=\"\(points(steps))\"/>") }
        if !toolCalls.isEmpty { h += HTML(unsafeMarkup: "<polyline class=\"line2\" points=\"\(points(toolCalls))\"/>") }
        h += HTML(unsafeMarkup: "<text x=\"\(fmt(pad + 10))\" y=\"14\" style=\"fill:#0969da\">steps left</text><text x=\"\(fmt(pad + 90))\" y=\"14\" style=\"fill:#bf8700\">tool calls left</text>")
        h += "</svg>"
        return h
    }

    /// Pass rate per day (0…1) as a line with dots.
    static func trend(_ days: [(day: String, rate: Double?, runs: Int)]) -> HTML {
        let width = 640.0, height = 140.0, pad = 30.0
        guard !days.isEmpty else { return "<p class=\"mute\">no dated runs</p>" }
        var h = HTML(unsafeMarkup: "<svg role=\"img\" aria-label=\"pass rate per day\" width=\"\(fmt(width))\" height=\"\(fmt(height))\">")
        h += HTML(unsafeMarkup: "<line class=\"axis\" x1=\"\(fmt(pad))\" y1=\"\(fmt(height - pad))\" x2=\"\(fmt(width - pad))\" y2=\"\(fmt(height - pad))\"/>")
        h += HTML(unsafeMarkup: "<text x=\"2\" y=\"\(fmt(pad + 4))\">100%</text><text x=\"2\" y=\"\(fmt(height - pad))\">0%</text>")
        var pts: [String] = []
        for (i, d) in days.enumerated() {
            let x = days.count == 1 ? width / 2 : pad + (width - 2 * pad) * Double(i) / Double(days.count - 1)
            guard let r = d.rate else { continue }
            let y = height - pad - (height - 2 * pad) * r
            pts.append("\(fmt(x)),\(fmt(y))")
            h += HTML(unsafeMarkup: "<circle class=\"pass\" cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"3\"><title>") + .text("\(d.day): \(fmt(r * 100))% of \(d.runs)") + "</title></circle>"
        }
        if pts.count > 1 { h += HTML(unsafeMarkup: "<polyline class=\"line\" points=\"\(pts.joined(separator: " "))\"/>") }
        h += .text("") + HTML(unsafeMarkup: "<text x=\"\(fmt(pad))\" y=\"\(fmt(height - 8))\">") + .text(days.first?.day ?? "") + "</text>"
        h += HTML(unsafeMarkup: "<text x=\"\(fmt(width - pad - 70))\" y=\"\(fmt(height - 8))\">") + .text(days.last?.day ?? "") + "</text>"
        h += "</svg>"
        return h
    }

    /// Counts as horizontal bars (failure taxonomy).
    static func counts(_ rows: [(label: String, count: Int)]) -> HTML {
        let top = Double(max(rows.map(\.count).max() ?? 1, 1))
        let height = Double(rows.count) * 20 + 8
        var h = HTML(unsafeMarkup: "<svg role=\"img\" aria-label=\"failures by type\" width=\"560\" height=\"\(fmt(height))\">")
        for (i, r) in rows.enumerated() {
            let y = Double(i) * 20 + 4
            h += HTML(unsafeMarkup: "<text x=\"0\" y=\"\(fmt(y + 12))\">") + .text(r.label) + "</text>"
            h += HTML(unsafeMarkup: "<rect class=\"fail\" x=\"180\" y=\"\(fmt(y + 2))\" width=\"\(fmt(300 * Double(r.count) / top))\" height=\"12\"/>")
            h += HTML(unsafeMarkup: "<text x=\"\(fmt(186 + 300 * Double(r.count) / top))\" y=\"\(fmt(y + 12))\">\(r.count)</text>")
        }
        h += "</svg>"
        return h
    }
}
