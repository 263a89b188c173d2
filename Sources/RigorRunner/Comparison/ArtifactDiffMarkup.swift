import RigorSpec

extension ArtifactDiff {
    /// The report as GitHub-flavoured Markdown, for pull-request comments and CI summaries:
    /// tables for the fields, and a `diff` block per part of the divergent step.
    public var markdown: String {
        var out: [String] = []
        out.append("## rigor diff: \(verdict.rawValue)")
        out.append("")
        out.append(Markup.mdText(summary))
        out.append("")
        out.append("| | A | B |")
        out.append("|---|---|---|")
        for (name, x, y) in sideFacts { out.append("| \(name) | \(Markup.code(x)) | \(Markup.code(y)) |") }
        if verdict == .notComparable {
            out.append("")
            for p in problems { out.append("- " + Markup.mdText(p)) }
            return out.joined(separator: "\n") + "\n"
        }
        func table(_ title: String, _ state: String, _ fields: [Field]) {
            out += ["", "### \(title) — \(state)", "", "| field | A | B | |", "|---|---|---|---|"]
            for f in fields {
                out.append("| \(f.name) | \(Markup.code(TextReport.valueText(f.a))) | \(Markup.code(TextReport.valueText(f.b))) | \(f.changed ? "**changed**" : "") |")
            }
        }
        table("Pairing", samePairing ? "same" : "different", pairing)
        table("Outcome", outcomeChanged ? "changed" : "unchanged", outcome)
        out += ["", "### Budget usage — \(usageChanged || budgetsChanged ? "changed" : "unchanged")", "",
                "| | A used / budget | B used / budget | B−A |", "|---|---|---|---|"]
        for u in usage { out.append("| \(u.name) | \(Markup.usageCell(u.a, u.budgetA)) | \(Markup.usageCell(u.b, u.budgetB)) | \(Markup.delta(u.delta)) |") }
        out += ["", "### io_audit, whole trace", ""]
        if paths.isEmpty && hosts.isEmpty { out.append("Same paths and hosts on both sides.") }
        for (noun, change) in [("path", paths), ("host", hosts)] {
            for p in change.removed { out.append("- removed \(noun) \(Markup.code(p)) (only in A)") }
            for p in change.added { out.append("- added \(noun) \(Markup.code(p)) (only in B)") }
        }
        if let d = divergence {
            if let step = d.firstStep {
                out += ["", "### First divergent step: \(step)", "",
                        "Differs in \(d.parts.joined(separator: ", ")). A has \(a.traceLength ?? 0) steps, B has \(b.traceLength ?? 0)."]
                for (part, alignment, differs) in stepAlignments {
                    out += ["", "#### \(part) — \(differs ? "differs" : "same")", "", "```diff"]
                    out += Markup.unified(alignment)
                    out.append("```")
                }
            } else {
                out += ["", "### Steps", "", "All \(a.traceLength ?? 0) steps are identical."]
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The report as one self-contained HTML page (no scripts, no external resources; a
    /// Content-Security-Policy forbids both), every value escaped and shown in full.
    public var html: String {
        let title = "rigor diff: \(verdict.rawValue)"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Markup.escape(title))</title>
            <style>\(Markup.css)</style></head><body>
            <h1 class="\(verdict.rawValue)">\(Markup.escape(title))</h1>

            """ + htmlFragment + "</body></html>\n"
    }

    /// The style sheet the HTML report's classes need (the web UI serves it with its own).
    public static var htmlStyle: String { Markup.css }

    /// The HTML report without its page around it (from the summary to the divergent step), for
    /// a page that has its own head and title: the web UI's diff page and the HTML report.
    /// Every value is escaped.
    public var htmlFragment: String {
        var h: [String] = []
        h.append("<p class=\"summary\">\(Markup.escape(summary))</p>")
        h.append("<table class=\"fields\"><tr><th></th><th>A</th><th>B</th></tr>")
        for (name, x, y) in sideFacts { h.append("<tr><th>\(name)</th><td><code>\(Markup.escape(x))</code></td><td><code>\(Markup.escape(y))</code></td></tr>") }
        h.append("</table>")
        if verdict == .notComparable {
            h.append("<ul class=\"problems\">" + problems.map { "<li>\(Markup.escape($0))</li>" }.joined() + "</ul>")
            return h.joined(separator: "\n") + "\n"
        }
        func table(_ title: String, _ state: String, _ fields: [Field]) {
            h.append("<h2>\(title) <small>\(state)</small></h2><table class=\"fields\"><tr><th>field</th><th>A</th><th>B</th></tr>")
            for f in fields {
                h.append("<tr class=\"\(f.changed ? "changed" : "same")\"><th>\(Markup.escape(f.name))</th><td class=\"a\"><code>\(Markup.escape(TextReport.valueText(f.a)))</code></td><td class=\"b\"><code>\(Markup.escape(TextReport.valueText(f.b)))</code></td></tr>")
            }
            h.append("</table>")
        }
        table("Pairing", samePairing ? "same" : "different", pairing)
        table("Outcome", outcomeChanged ? "changed" : "unchanged", outcome)
        h.append("<h2>Budget usage <small>\(usageChanged || budgetsChanged ? "changed" : "unchanged")</small></h2>")
        h.append("<table class=\"fields\"><tr><th></th><th>A used / budget</th><th>B used / budget</th><th>B−A</th></tr>")
        for u in usage {
            h.append("<tr class=\"\(u.changed ? "changed" : "same")\"><th>\(u.name)</th><td class=\"a\">\(Markup.usageCell(u.a, u.budgetA))</td><td class=\"b\">\(Markup.usageCell(u.b, u.budgetB))</td><td>\(Markup.delta(u.delta))</td></tr>")
        }
        h.append("</table><h2>io_audit <small>whole trace</small></h2><ul class=\"io\">")
        if paths.isEmpty && hosts.isEmpty { h.append("<li>Same paths and hosts on both sides.</li>") }
        for (noun, change) in [("path", paths), ("host", hosts)] {
            for p in change.removed { h.append("<li class=\"removed\">− \(noun) <code>\(Markup.escape(p))</code> (only in A)</li>") }
            for p in change.added { h.append("<li class=\"added\">+ \(noun) <code>\(Markup.escape(p))</code> (only in B)</li>") }
        }
        h.append("</ul>")
        if let d = divergence {
            if let step = d.firstStep {
                h.append("<h2>First divergent step: \(step) <small>differs in \(Markup.escape(d.parts.joined(separator: ", "))); A has \(a.traceLength ?? 0) steps, B has \(b.traceLength ?? 0)</small></h2>")
                for (part, alignment, differs) in stepAlignments {
                    h.append("<h3>\(Markup.escape(part)) <small>\(differs ? "differs" : "same")</small></h3>")
                    h.append("<table class=\"sbs\"><tr><th>A</th><th></th><th>B</th></tr>")
                    for r in alignment.rows {
                        let m = r.kind == .changed ? "|" : r.kind == .removed ? "&lt;" : r.kind == .added ? "&gt;" : ""
                        h.append("<tr class=\"\(r.kind.rawValue)\"><td class=\"a\">\(Markup.escape(r.left ?? ""))</td><td class=\"m\">\(m)</td><td class=\"b\">\(Markup.escape(r.right ?? ""))</td></tr>")
                    }
                    h.append("</table>")
                }
            } else {
                h.append("<h2>Steps</h2><p>All \(a.traceLength ?? 0) steps are identical.</p>")
            }
        }
        return h.joined(separator: "\n") + "\n"
    }

    /// Source, runtime, trace length and hash of each side, for the header tables.
    var sideFacts: [(String, String, String)] {
        [
            ("source", a.label, b.label),
            ("runtime", a.runtime ?? "—", b.runtime ?? "—"),
            ("steps in trace", a.traceLength.map(String.init) ?? "—", b.traceLength.map(String.init) ?? "—"),
            ("artifact_hash", a.artifactHash ?? "—", b.artifactHash ?? "—"),
        ]
    }

    /// Each part of the divergent step shown, lined up, and whether it differs.
    var stepAlignments: [(String, LineAlignment, Bool)] {
        guard let d = divergence else { return [] }
        return stepParts.map { part in
            let left = d.left.isNull ? nil : d.left[part]
            let right = d.right.isNull ? nil : d.right[part]
            let alignment = LineAlignment(LineAlignment.lines(of: left), LineAlignment.lines(of: right))
            return (part, alignment, d.parts.contains(part) || d.parts == ["missing"])
        }
    }
}

/// HTML escaping for every page Rigor writes (diff --format html, the web UI, the HTML report):
/// one function, so no renderer escapes differently.
public enum HTMLText {
    /// `s` safe as an element's text and as a quoted attribute value (`& < > " '` escaped).
    public static func escaped(_ s: String) -> String { Markup.escape(s) }
}

/// Escaping and small pieces shared by the Markdown and HTML renderers.
enum Markup {
    /// HTML text and attribute escaping: the five characters that can end a text or a value.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Plain Markdown text with nothing a renderer would read as HTML or table structure.
    static func mdText(_ s: String) -> String {
        escape(s).replacingAll("|", with: "\\|").replacingAll("`", with: "\\`").replacingAll("\n", with: " ")
    }

    /// A value as a code span inside a table cell: pipes escaped, newlines flattened, and a
    /// longer backtick fence when the value holds backticks itself.
    static func code(_ s: String) -> String {
        let flat = s.replacingAll("\n", with: " ").replacingAll("|", with: "\\|")
        guard flat.contains("`") else { return "`\(flat)`" }
        var fence = "``"
        while flat.contains(fence) { fence += "`" }
        return "\(fence) \(flat) \(fence)"
    }

    static func usageCell(_ used: Int?, _ budget: Int?) -> String {
        "\(used.map(String.init) ?? "—") / \(budget.map(String.init) ?? "—")"
    }

    static func delta(_ d: Int?) -> String { d.map { $0 > 0 ? "+\($0)" : "\($0)" } ?? "—" }

    /// An alignment as unified-diff lines: within each changed stretch every A line (`-`)
    /// before every B line (`+`); long unchanged stretches as `@@` markers.
    static func unified(_ alignment: LineAlignment) -> [String] {
        var out: [String] = []
        var minus: [String] = [], plus: [String] = []
        func flush() {
            out += minus + plus
            minus = []
            plus = []
        }
        for segment in alignment.collapsed() {
            switch segment {
            case .skipped(let n):
                flush()
                out.append("@@ \(n) unchanged line\(n == 1 ? "" : "s") @@")
            case .rows(let rows):
                for r in rows {
                    if r.kind == .same {
                        flush()
                        out.append(" " + (r.left ?? ""))
                    } else {
                        if let l = r.left { minus.append("-" + l) }
                        if let rr = r.right { plus.append("+" + rr) }
                    }
                }
            }
        }
        flush()
        return out
    }

    static let css = """
        body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
        h1.same{color:#1a7f37}h1.different{color:#cf222e}h1.not_comparable{color:#9a6700}
        small{color:#6e7781;font-weight:normal}
        table{border-collapse:collapse;margin:.5em 0 1.5em}
        th,td{border:1px solid #d0d7de;padding:2px 8px;text-align:left;vertical-align:top}
        code,table.sbs td{font:12px/1.4 ui-monospace,Menlo,monospace;white-space:pre-wrap;word-break:break-all}
        table.sbs{width:100%;table-layout:fixed}table.sbs td.m{width:1.5em;text-align:center;color:#9a6700}
        table.sbs th:nth-child(2){width:1.5em}
        tr.changed td.a,tr.removed td.a,li.removed{background:#ffebe9;color:#82071e}
        tr.changed td.b,tr.added td.b,li.added{background:#dafbe1;color:#116329}
        """
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
