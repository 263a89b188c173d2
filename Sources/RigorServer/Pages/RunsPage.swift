import Foundation
import RigorJSON
import RigorSpec

/// The runs list (`/runs`), rendered from the `rigor.runs_page/1` view: the filter form, one
/// row per run (outcome, pairing, seed, usage, times), two check boxes to pick a diff, and the
/// pager.
enum RunsPage {
    static let filterNames = ["task", "agent", "outcome", "failure_type", "seed", "since", "until"]

    static func render(_ view: JSON, layout: Layout) -> HTML {
        let filter = view["filter"] ?? [:]
        func value(_ name: String) -> String {
            guard let v = filter[name] else { return "" }
            if case .int(let i) = v { return String(i) }
            return v.stringValue ?? ""
        }
        var body: HTML = "<form class=\"filters\" method=\"get\" action=\"/runs\" id=\"filters\">"
        for (name, label, hint) in [("task", "task", "id@version"), ("agent", "agent contains", ""), ("seed", "seed", ""),
                                    ("since", "since", "YYYY-MM-DD"), ("until", "until", "YYYY-MM-DD")] {
            body += HTML(unsafeMarkup: "<label>\(label)<input name=\"\(name)\" id=\"f-\(name)\" placeholder=\"\(hint)\" value=\"") + .text(value(name)) + "\"></label>"
        }
        body += select("outcome", ["success", "failure"], selected: value("outcome"))
        body += select("failure_type", FailureType.allCases.map(\.rawValue), selected: value("failure_type"))
        body += "<button type=\"submit\" id=\"apply\">Filter</button> <a href=\"/runs\">clear</a></form>"

        let runs = view["runs"]?.arrayValue ?? []
        let total = view["total"]?.intValue
        let offset = view["offset"]?.intValue ?? 0
        let limit = view["limit"]?.intValue ?? 50
        body += HTML(unsafeMarkup: "<p class=\"mute\" id=\"count\">") + .text(total.map { "\($0) runs match" } ?? "\(runs.count) runs shown")
            + "</p><p><button id=\"diff-picked\" type=\"button\" disabled>Diff the two picked runs</button></p>"
        if runs.isEmpty {
            body += "<p id=\"no-runs\">No runs match. Record some with <code>rigor run</code> or <code>rigor batch</code>, or clear the filters.</p>"
        } else {
            body += "<table id=\"runs\"><tr><th></th><th>run</th><th>outcome</th><th>task</th><th>agent</th><th>seed</th><th>steps</th><th>tool calls</th><th>started</th></tr>"
            for r in runs {
                let id = r["run_id"]?.stringValue ?? ""
                let ok = r["success"]?.boolValue == true
                body += "<tr class=\"run\"><td><input type=\"checkbox\" class=\"pick\" value=\"" + .text(id) + "\" aria-label=\"pick for diff\"></td>"
                body += "<td class=\"mono\">" + .link(.run(id), .text(String(id.prefix(12))), cls: "run-link") + "</td>"
                body += outcome(ok: ok, r)
                body += "<td>" + .text(r["task_ref"]?.stringValue ?? "?") + "</td><td>" + .text(r["agent_ref"]?.stringValue ?? "?") + "</td>"
                body += "<td class=\"num\">" + .text(r["seed"]?.intValue.map(String.init) ?? "?") + "</td>"
                body += "<td class=\"num\">" + .text(String(r["steps_used"]?.intValue ?? 0)) + "</td>"
                body += "<td class=\"num\">" + .text(String(r["tool_calls_used"]?.intValue ?? 0)) + "</td>"
                body += "<td class=\"mono\">" + .text(r["started_at"]?.stringValue ?? "") + "</td></tr>"
            }
            body += "</table>"
        }
        let query = filterNames.map { ($0, value($0)) }
        body += "<div class=\"pager\">"
        if offset > 0 {
            body += .link(Link("/runs", query + [("offset", String(max(0, offset - limit))), ("limit", String(limit))]), "← newer", cls: "prev")
        }
        body += .text("runs \(runs.isEmpty ? 0 : offset + 1)–\(offset + runs.count)")
        if !(view["next_cursor"]?.isNull ?? true) || (total.map { offset + runs.count < $0 } ?? false) {
            body += .link(Link("/runs", query + [("offset", String(offset + limit)), ("limit", String(limit))]), "older →", cls: "next")
        }
        body += "</div>"
        return layout.page(title: "Runs", current: "/runs", api: Link("/api/runs", query + [("offset", offset > 0 ? String(offset) : ""), ("limit", limit != 50 ? String(limit) : "")]), body)
    }

    static func outcome(ok: Bool, _ r: JSON) -> HTML {
        ok ? "<td><span class=\"pill ok\">success</span></td>"
           : "<td><span class=\"pill bad\">" + .text(r["failure_type"]?.stringValue ?? "failure") + "</span> <small>" + .text(r["termination_reason"]?.stringValue ?? "") + "</small></td>"
    }

    static func select(_ name: String, _ options: [String], selected: String) -> HTML {
        var h = HTML(unsafeMarkup: "<label>\(name.replacingOccurrences(of: "_", with: " "))<select name=\"\(name)\" id=\"f-\(name)\"><option value=\"\">any</option>")
        for o in options {
            h += HTML(unsafeMarkup: "<option value=\"\(o)\"\(o == selected ? " selected" : "")>\(o)</option>")
        }
        return h + "</select></label>"
    }
}
