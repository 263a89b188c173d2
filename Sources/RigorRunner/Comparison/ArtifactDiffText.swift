import Foundation
import RigorSpec

extension ArtifactDiff {
    /// The report for people: sections one under the other, A and B in two columns.
    ///
    /// The gutter between the columns marks each row the way `diff -y` does: `|` changed,
    /// `<` only in A (removed), `>` only in B (added). With `colour` (the caller decides: a
    /// terminal, no NO_COLOR) A-only text is red and B-only text green as well. Values longer
    /// than a column wrap onto at most four lines and are then cut with `…`, and the report ends
    /// with a note saying so; `json` and `html` always hold the values in full. The report is
    /// ready for a terminal: control characters from the artifacts are escaped (`TerminalText`).
    public func text(width: Int = 120, colour: Bool = false) -> String {
        var report = TextReport(width: InputRanges.diffWidth.clamped(width), colour: colour)
        report.render(self)
        return TerminalText.shown(report.lines.joined(separator: "\n") + "\n")
    }
}

/// Builds the text report line by line.
struct TextReport {
    let width: Int
    let colour: Bool
    var lines: [String] = []
    /// Cells that did not fit in `maxCellLines` lines.
    var cutCells = 0
    static let maxCellLines = 4
    static let labelWidth = 20

    init(width: Int, colour: Bool) {
        self.width = width
        self.colour = colour
    }

    // MARK: Sections

    mutating func render(_ d: ArtifactDiff) {
        let title: String
        switch d.verdict {
        case .same: title = paint("SAME", "32;1")
        case .different: title = paint("DIFFERENT", "31;1")
        case .notComparable: title = paint("NOT COMPARABLE", "33;1")
        }
        // The summary's clauses, one per line, so the first line stays short.
        let detail = d.summary.split(separator: ":", maxSplits: 1).last.map { $0.trimmingLeadingSpaces() } ?? ""
        let clauses = d.verdict == .notComparable ? [] : detail.components(separatedBy: "; ")
        let indent = String(repeating: " ", count: d.verdict == .same ? 6 : 11)
        lines.append(clauses.isEmpty ? title : "\(title)  \(clauses[0])")
        for clause in clauses.dropFirst() { lines.append(indent + clause) }
        for (name, side) in [("A", d.a), ("B", d.b)] {
            var facts: [String] = []
            if let r = side.runtime { facts.append(r) }
            if let n = side.traceLength { facts.append("\(n) step\(n == 1 ? "" : "s")") }
            if let h = side.artifactHash { facts.append(String(h.prefix(19)) + "…") }
            lines.append("  \(name)  \(side.label)" + (facts.isEmpty ? "" : "  " + dim("(" + facts.joined(separator: ", ") + ")")))
        }
        if d.verdict == .notComparable {
            lines.append("")
            for p in d.problems { lines.append("  - \(p)") }
            lines.append("  Give two artifact files (written by rigor run or TraceCore), baseline files, or run ids from the store.")
            return
        }

        section("pairing", d.samePairing ? "same" : "different")
        for f in d.pairing { fieldRow(f) }
        section("outcome", d.outcomeChanged ? "changed" : "unchanged")
        for f in d.outcome { fieldRow(f) }
        usageSection(d)
        ioSection(d)
        stepSection(d)
        if cutCells > 0 {
            lines.append("")
            lines.append(dim("note: \(cutCells) value\(cutCells == 1 ? " was" : "s were") cut to fit (marked …); widen with --width,"))
            lines.append(dim("      or use --format json or html for every value in full."))
        }
    }

    mutating func section(_ name: String, _ state: String) {
        lines.append("")
        lines.append(bold(name) + "  " + dim(state))
    }

    mutating func usageSection(_ d: ArtifactDiff) {
        section("budget usage", d.usageChanged || d.budgetsChanged ? "changed" : "unchanged")
        let column = 18
        lines.append("  " + pad("", Self.labelWidth) + pad("A (used / budget)", column) + "   " + pad("B", column) + "B−A")
        for u in d.usage {
            func cell(_ used: Int?, _ budget: Int?) -> String { "\(used.map(String.init) ?? "—") / \(budget.map(String.init) ?? "—")" }
            let delta = u.delta.map { $0 > 0 ? "+\($0)" : "\($0)" } ?? "—"
            let left = pad(cell(u.a, u.budgetA), column), right = pad(cell(u.b, u.budgetB), column)
            lines.append("  " + pad(u.name, Self.labelWidth) + (u.changed ? red(left) : left) + mark(u.changed ? .changed : .same) + " "
                + (u.changed ? green(right) : right) + delta)
        }
        if let wall = d.budgets.first(where: { $0.name == "budgets.wall_clock_seconds" }) { fieldRow(wall) }
    }

    mutating func ioSection(_ d: ArtifactDiff) {
        section("io_audit, whole trace", d.paths.isEmpty && d.hosts.isEmpty ? "same paths and hosts" : "changed")
        for (noun, change) in [("path", d.paths), ("host", d.hosts)] {
            for p in change.removed { lines.append("  " + red("- \(noun) \(p)") + dim("  (only in A)")) }
            for p in change.added { lines.append("  " + green("+ \(noun) \(p)") + dim("  (only in B)")) }
        }
    }

    mutating func stepSection(_ d: ArtifactDiff) {
        guard let divergence = d.divergence else { return }
        guard let step = divergence.firstStep else {
            section("steps", "all \(d.a.traceLength ?? 0) identical")
            return
        }
        let lengths = "A has \(d.a.traceLength ?? 0) steps, B has \(d.b.traceLength ?? 0)"
        section("first divergent step: \(step)", "differs in \(divergence.parts.joined(separator: ", ")); \(lengths)")
        if divergence.left.isNull || divergence.right.isNull {
            lines.append("  " + dim("(\(divergence.left.isNull ? "A" : "B")'s trace ends before step \(step))"))
        }
        let column = (width - 2 - 3) / 2
        lines.append("  " + bold(pad("A", column)) + "   " + bold("B"))
        for (part, alignment, differs) in d.stepAlignments {
            lines.append("  " + bold(part) + "  " + dim(differs ? "differs" : "same"))
            for segment in alignment.collapsed() {
                switch segment {
                case .skipped(let n): lines.append("  " + dim("⋯ \(n) unchanged line\(n == 1 ? "" : "s")"))
                case .rows(let rows):
                    for r in rows { sideBySide(label: nil, r.left, r.right, r.kind, column: column) }
                }
            }
        }
    }

    // MARK: Rows

    mutating func fieldRow(_ f: ArtifactDiff.Field) {
        let kind: LineAlignment.Kind = !f.changed ? .same : f.a == nil ? .added : f.b == nil ? .removed : .changed
        let column = (width - 2 - Self.labelWidth - 3) / 2
        sideBySide(label: f.name, Self.valueText(f.a), Self.valueText(f.b), kind, column: column)
    }

    /// Strings as they are, anything else as compact JSON, a missing field as "(absent)".
    static func valueText(_ v: JSON?) -> String {
        guard let v else { return "(absent)" }
        if let s = v.stringValue { return s }
        return (try? v.canonicalString()) ?? "(unprintable)"
    }

    /// One row, wrapped onto as many lines as its longer cell needs.
    mutating func sideBySide(label: String?, _ left: String?, _ right: String?, _ kind: LineAlignment.Kind, column: Int) {
        let l = left.map { cells($0, column) } ?? [""]
        let r = right.map { cells($0, column) } ?? [""]
        for i in 0..<max(l.count, r.count) {
            var line = "  "
            if let label { line += pad(i == 0 ? label : "", Self.labelWidth) }
            let lc = pad(i < l.count ? l[i] : "", column), rc = i < r.count ? r[i] : ""
            line += (kind == .changed || kind == .removed ? red(lc) : lc) + mark(i == 0 ? kind : .same) + " "
            line += (kind == .changed || kind == .added) ? green(rc) : rc
            lines.append(trimmingTrailing(line))
        }
    }

    func mark(_ kind: LineAlignment.Kind) -> String {
        switch kind {
        case .same: return "  "
        case .changed: return " " + paint("|", "33;1")
        case .removed: return " " + red("<")
        case .added: return " " + green(">")
        }
    }

    /// `text` cut into pieces of `column` characters, at most `maxCellLines` of them.
    mutating func cells(_ text: String, _ column: Int) -> [String] {
        let chars = Array(text)
        guard chars.count > column, column > 1 else { return [text] }
        var out: [String] = []
        var start = 0
        while start < chars.count {
            if out.count == Self.maxCellLines - 1 && chars.count - start > column {
                out.append(String(chars[start..<(start + column - 1)]) + "…")
                cutCells += 1
                break
            }
            let end = min(chars.count, start + column)
            out.append(String(chars[start..<end]))
            start = end
        }
        return out
    }

    // MARK: Painting

    func pad(_ s: String, _ n: Int) -> String {
        let count = s.count
        return count >= n ? s : s + String(repeating: " ", count: n - count)
    }

    func trimmingTrailing(_ s: String) -> String {
        var s = Substring(s)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    func paint(_ s: String, _ code: String) -> String { colour && !s.isEmpty ? TerminalText.paint(s, code) : s }
    func red(_ s: String) -> String { paint(s, "31") }
    func green(_ s: String) -> String { paint(s, "32") }
    func dim(_ s: String) -> String { paint(s, "2") }
    func bold(_ s: String) -> String { paint(s, "1") }
}

extension Substring {
    fileprivate func trimmingLeadingSpaces() -> String { String(drop { $0 == " " }) }
}
