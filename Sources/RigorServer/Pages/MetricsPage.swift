import RigorJSON

/// Batches and metrics (`/metrics`), rendered from the `rigor.run_metrics/1` view: pass rate
/// with its Wilson interval per pairing, P50/P95 of steps, tool calls and wall time, the failure
/// taxonomy, reproducibility, and the pass rate per day.
enum MetricsPage {
    static func render(_ view: JSON, layout: Layout, api: Link?) -> HTML {
        func pct(_ v: JSON?) -> String { v?.doubleOrInt.map { Charts.fmt($0 * 100) + "%" } ?? "—" }
        var body: HTML = "<div class=\"cards\" id=\"headline\">"
        body += RunPage.card("runs", .text(String(view["runs"]?.intValue ?? 0)), .text("\(view["passed"]?.intValue ?? 0) passed, \(view["failed"]?.intValue ?? 0) failed"))
        body += RunPage.card("pass rate", .text(pct(view["pass_rate"])), .text("95% Wilson " + interval(view["wilson_95"])))
        body += RunPage.card("reproducibility", .text(pct(view["reproducibility", "rate"])),
                             .text("\(view["reproducibility", "reproducible"]?.intValue ?? 0) of \(view["reproducibility", "repeated"]?.intValue ?? 0) repeated pairings+seeds"))
        body += RunPage.card("steps P50 / P95", .text(pcts(view["steps"])), .text("tool calls " + pcts(view["tool_calls"])))
        body += RunPage.card("wall time P50 / P95", .text(pcts(view["wall_s"]) + " s"), "")
        body += "</div>"

        let pairings = view["pairings"]?.arrayValue ?? []
        body += "<h2>Pass rate per pairing <small>bars with 95% Wilson intervals</small></h2>"
        var bars: [(label: String, rate: Double?, low: Double?, high: Double?, runs: Int)] = []
        for p in pairings {
            let label: String = (p["agent_ref"]?.stringValue ?? "?") + " × " + (p["task_ref"]?.stringValue ?? "?")
            let ci = bounds(p["wilson_95"])
            bars.append((label, p["pass_rate"]?.doubleOrInt, ci?.low, ci?.high, p["runs"]?.intValue ?? 0))
        }
        body += Charts.passRates(bars)
        body += "<table id=\"pairings\"><tr><th>agent</th><th>task</th><th>runs</th><th>pass rate</th><th>95% Wilson</th><th>steps P50/P95</th><th>tool calls P50/P95</th><th>wall s P50/P95</th><th></th></tr>"
        for p in pairings {
            let agent = p["agent_ref"]?.stringValue ?? "", task = p["task_ref"]?.stringValue ?? ""
            body += "<tr><td>" + .text(agent) + "</td><td>" + .text(task) + "</td><td class=\"num\">" + .text(String(p["runs"]?.intValue ?? 0))
            body += "</td><td class=\"num\">" + .text(pct(p["pass_rate"])) + "</td><td>" + .text(interval(p["wilson_95"])) + "</td>"
            body += "<td>" + .text(pcts(p["steps"])) + "</td><td>" + .text(pcts(p["tool_calls"])) + "</td><td>" + .text(pcts(p["wall_s"])) + "</td>"
            body += "<td>" + .link(Link("/runs", [("agent", agent), ("task", task)]), "runs") + " · "
                + .link(Link("/runs", [("agent", agent), ("task", task), ("outcome", "failure")]), "failures") + "</td></tr>"
        }
        body += "</table>"

        body += "<h2>Failure taxonomy</h2>"
        var types: [(String, Int)] = []
        if case .object(let byType)? = view["failures", "by_type"] {
            types = byType.compactMap { k, v in v.intValue.map { (k, $0) } }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
        }
        body += types.isEmpty ? "<p class=\"mute\">no failures</p>" : Charts.counts(types.map { (label: $0.0, count: $0.1) })
        let reasons = view["failures", "by_reason"]?.arrayValue ?? []
        if !reasons.isEmpty {
            body += "<table id=\"reasons\"><tr><th>failure_type</th><th>termination_reason</th><th>runs</th></tr>"
            for r in reasons {
                let type = r["failure_type"]?.stringValue ?? ""
                body += "<tr><td>" + .link(Link("/runs", [("failure_type", type)]), .text(type.isEmpty ? "—" : type)) + "</td><td>"
                    + .text(r["termination_reason"]?.stringValue ?? "—") + "</td><td class=\"num\">" + .text(String(r["count"]?.intValue ?? 0)) + "</td></tr>"
            }
            body += "</table>"
        }
        body += "<h2>Trend <small>pass rate per day</small></h2>"
        body += Charts.trend((view["trend"]?.arrayValue ?? []).map { d in
            (d["day"]?.stringValue ?? "", d["pass_rate"]?.doubleOrInt, d["runs"]?.intValue ?? 0)
        })
        return layout.page(title: "Metrics", current: "/metrics", api: api, body)
    }

    /// A Wilson interval as the views write it: `[low, high]` or `{"low":, "high":}`.
    static func bounds(_ v: JSON?) -> (low: Double, high: Double)? {
        if let a = v?.arrayValue, a.count == 2, let lo = a[0].doubleOrInt, let hi = a[1].doubleOrInt { return (lo, hi) }
        if let lo = v?["low"]?.doubleOrInt, let hi = v?["high"]?.doubleOrInt { return (lo, hi) }
        return nil
    }

    static func interval(_ v: JSON?) -> String {
        guard let b = bounds(v) else { return "—" }
        return "\(Charts.fmt(b.low * 100))–\(Charts.fmt(b.high * 100))%"
    }

    static func pcts(_ v: JSON?) -> String {
        func s(_ x: JSON?) -> String {
            guard let x, let d = x.doubleOrInt else { return "—" }
            if case .int(let i) = x { return String(i) }
            return Charts.fmt(d)
        }
        return "\(s(v?["p50"])) / \(s(v?["p95"]))"
    }
}

extension JSON {
    var doubleOrInt: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
