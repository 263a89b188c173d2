import RigorJSON

/// The pages about the store's provenance: baselines with the last CI gate, the ledger with its
/// verification, and bundle seals with the state of their files. Each renders its JSON twin.
enum StorePages {
    static func baselines(_ view: JSON, layout: Layout) -> HTML {
        var body: HTML = "<h2>Last CI gate</h2>"
        if let gate = view["last_gate"], !gate.isNull {
            body += gateSummary(gate)
        } else {
            body += "<p class=\"mute\" id=\"no-gate\">No CI gate has run in this workspace yet: <code>rigor ci</code> keeps its result here.</p>"
        }
        let rows = view["baselines"]?.arrayValue ?? []
        body += "<h2>Baselines <small>" + .text("\(rows.count) in \(view["directory"]?.stringValue ?? "?")") + "</small></h2>"
        if let problem = view["problem"]?.stringValue { body += "<p class=\"bad\">" + .text(problem) + "</p>" }
        body += "<table id=\"baselines\"><tr><th>pairing</th><th>seed</th><th>outcome</th><th>steps</th><th>artifact_hash</th></tr>"
        for b in rows {
            let ok = b["outcome", "success"]?.boolValue == true
            body += "<tr><td>" + .text(b["pairing"]?.stringValue ?? "?") + "</td><td class=\"num\">" + .text(String(b["seed"]?.intValue ?? 0)) + "</td>"
            body += ok ? "<td><span class=\"pill ok\">success</span></td>" : "<td><span class=\"pill bad\">" + .text(b["outcome", "failure_type"]?.stringValue ?? "failure") + "</span></td>"
            body += "<td class=\"num\">" + .text(String(b["steps"]?.intValue ?? 0)) + "</td><td class=\"mono\">" + .text(b["artifact_hash"]?.stringValue ?? "—") + "</td></tr>"
        }
        body += "</table>"
        return layout.page(title: "Baselines & CI", current: "/baselines", api: Link("/api/baselines"), body)
    }

    /// The gate's verdict and its checks (what `rigor ci --json` printed).
    static func gateSummary(_ gate: JSON, linkRuns: Bool = true) -> HTML {
        let passed = gate["passed"]?.boolValue == true
        var h: HTML = passed ? "<p id=\"gate\"><span class=\"pill ok\">passed</span> " : "<p id=\"gate\"><span class=\"pill bad\">failed</span> "
        h += .text("\(gate["gate"]?.stringValue ?? "?") gate; \(gate["total"]?.intValue ?? 0) baselines, \(gate["regressions"]?.intValue ?? 0) regressions, \(gate["changed"]?.intValue ?? 0) changed")
        if let at = gate["finished_at"]?.stringValue { h += " <small>" + .text("finished " + at) + "</small>" }
        h += "</p><table id=\"checks\"><tr><th>pairing</th><th>seed</th><th>result</th><th>first divergent step</th><th>regressions / changes</th><th>run</th></tr>"
        for c in gate["checks"]?.arrayValue ?? [] {
            let reproduced = c["reproduced"]?.boolValue == true, identical = c["identical"]?.boolValue == true
            h += "<tr><td>" + .text(c["pairing"]?.stringValue ?? "?") + "</td><td class=\"num\">" + .text(String(c["seed"]?.intValue ?? 0)) + "</td>"
            h += !reproduced ? "<td><span class=\"pill bad\">regression</span></td>" : identical ? "<td><span class=\"pill ok\">identical</span></td>" : "<td><span class=\"pill warn\">changed</span></td>"
            h += "<td class=\"num\">" + .text(c["first_divergent_step"]?.intValue.map(String.init) ?? "—") + "</td><td>"
            let notes = (c["regressions"]?.arrayValue ?? []) + (c["changes"]?.arrayValue ?? [])
            h += .text(notes.compactMap(\.stringValue).joined(separator: "; ")) + "</td><td class=\"mono\">"
            if let run = c["run_id"]?.stringValue {
                h += linkRuns ? .link(.run(run), .text(String(run.prefix(12)))) : .link(Link("#run-" + Link.encode(run)), .text(String(run.prefix(12))))
            }
            h += "</td></tr>"
        }
        return h + "</table>"
    }

    static func ledger(_ view: JSON, layout: Layout) -> HTML {
        let v = view["verification"] ?? [:]
        var body: HTML = v["intact"]?.boolValue == true
            ? "<p id=\"ledger-state\"><span class=\"pill ok\">intact</span> "
            : "<p id=\"ledger-state\"><span class=\"pill bad\">broken</span> "
        body += .text("\(v["entries"]?.intValue ?? 0) entries; head \(v["head_hash"]?.stringValue ?? "—")")
        if let brk = v["first_break", "description"]?.stringValue { body += "<br><span class=\"bad\">" + .text("first break: " + brk) + "</span>" }
        body += "</p><table id=\"ledger\"><tr><th>seq</th><th>kind</th><th>payload</th><th>entry_hash</th></tr>"
        for e in view["entries"]?.arrayValue ?? [] {
            body += "<tr><td class=\"num\">" + .text(String(e["seq"]?.intValue ?? 0)) + "</td><td>" + .text(e["kind"]?.stringValue ?? "?") + "</td><td>"
            if let run = e["payload", "run_id"]?.stringValue { body += .link(.run(run), .text(String(run.prefix(12)))) + " " }
            body += "<code>" + .compact(e["payload"], limit: 200) + "</code></td><td class=\"mono\">" + .text(String((e["entry_hash"]?.stringValue ?? "").prefix(16))) + "…</td></tr>"
        }
        body += "</table>"
        return layout.page(title: "Ledger", current: "/ledger", api: Link("/api/ledger"), body)
    }

    static func bundles(_ view: JSON, layout: Layout) -> HTML {
        let rows = view["bundles"]?.arrayValue ?? []
        var body: HTML = "<p class=\"mute\">" + .text("Bundle seals in the ledger; files under \(view["directory"]?.stringValue ?? "?")") + "</p>"
        if rows.isEmpty { body += "<p id=\"no-bundles\">No bundle sealed yet: <code>rigor bundle seal RUN</code>.</p>" }
        body += "<table id=\"bundles\"><tr><th>seq</th><th>run</th><th>signed</th><th>file</th><th>bundle sha256</th></tr>"
        for b in rows {
            let run = b["run_id"]?.stringValue ?? ""
            let state = b["file", "state"]?.stringValue ?? "?"
            body += "<tr><td class=\"num\">" + .text(String(b["seq"]?.intValue ?? 0)) + "</td><td>" + .link(.run(run), .text(String(run.prefix(12)))) + "</td>"
            body += "<td>" + .text(b["signed"]?.boolValue == true ? "ed25519" : "no") + "</td>"
            body += HTML(unsafeMarkup: "<td><span class=\"pill \(state == "verified" ? "ok" : state == "missing" ? "warn" : "bad")\">") + .text(state) + "</span> "
            body += "<small>" + .text((b["file", "problems"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "; ")) + "</small></td>"
            body += "<td class=\"mono\">" + .text(String((b["bundle_sha256"]?.stringValue ?? "").prefix(23))) + "…</td></tr>"
        }
        body += "</table>"
        return layout.page(title: "Bundles", current: "/bundles", api: Link("/api/bundles"), body)
    }

    static func error(_ e: DashboardError, layout: Layout) -> HTML {
        layout.page(title: "Error \(e.status)", current: nil, api: nil, "<p id=\"error\">" + .text(e.description) + "</p><p><a href=\"/runs\">back to the runs</a></p>")
    }
}
