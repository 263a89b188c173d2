import RigorRunner

/// The diff of two runs (`/diff?a=&b=`): `rigor diff`'s own HTML report (first divergent step
/// side by side, outcome, budgets, IO), inside the dashboard's frame.
enum DiffPage {
    static func render(_ diff: ArtifactDiff, a: String, b: String, layout: Layout) -> HTML {
        var body: HTML = "<form class=\"filters\" method=\"get\" action=\"/diff\">"
        body += "<label>run A<input name=\"a\" id=\"diff-a\" value=\"" + .text(a) + "\"></label>"
        body += "<label>run B<input name=\"b\" id=\"diff-b\" value=\"" + .text(b) + "\"></label><button type=\"submit\">Diff</button></form>"
        body += "<p>" + .link(.run(a), .text("run A")) + " · " + .link(.run(b), .text("run B")) + "</p>"
        body += HTML(unsafeMarkup: "<div id=\"diff\" class=\"diff-\(diff.verdict.rawValue)\"><h2 class=\"\(diff.verdict.rawValue)\">\(diff.verdict.rawValue)</h2>")
        // `htmlFragment` escapes every value itself (ArtifactDiffMarkup).
        body += HTML(unsafeMarkup: diff.htmlFragment) + "</div>"
        return layout.page(title: "Diff", current: nil, api: Link("/api/diff", [("a", a), ("b", b)]), body)
    }
}
