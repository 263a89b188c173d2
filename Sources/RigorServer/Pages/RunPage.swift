import RigorJSON

/// One run (`/runs/{id}`), rendered from the view `rigor runs show --json` prints: why it ended,
/// the budget burn-down, the validator, the step timeline (observation, action, result, IO
/// audit, budget after the step) a window of steps at a time, and the agent's log tail.
enum RunPage {
    /// Steps shown per window: a 10,000-step run pages through its timeline instead of
    /// rendering megabytes at once.
    static let stepsPerWindow = 100

    static func render(_ view: JSON, from: Int?, layout: Layout) -> HTML {
        let id = view["run_id"]?.stringValue ?? "?"
        return layout.page(title: "Run \(id)", current: nil, api: Link("/api/runs/" + Link.encode(id)), body(view, from: from, linkRuns: true))
    }

    /// The page's content; `linkRuns` false (the report) leaves out links to the server.
    static func body(_ view: JSON, from: Int?, linkRuns: Bool, window size: Int = stepsPerWindow) -> HTML {
        let artifact = view["artifact"] ?? [:]
        let id = view["run_id"]?.stringValue ?? "?"
        let ok = view["success"]?.boolValue == true
        var body: HTML = "<div class=\"cards\">"
        body += card("outcome", ok ? "<span class=\"ok outcome\">success</span>"
                     : "<span class=\"bad outcome\">" + .text(view["failure_type"]?.stringValue ?? "failure") + "</span>",
                     .text(view["termination_reason"]?.stringValue ?? ""))
        body += card("pairing", .text(view["agent_ref"]?.stringValue ?? "?"), .text("× " + (view["task_ref"]?.stringValue ?? "?") + " seed " + (view["seed"]?.intValue.map(String.init) ?? "?")))
        body += card("steps", .text("\(view["steps_used"]?.intValue ?? 0) / \(view["budget_steps"]?.intValue.map(String.init) ?? "?")"),
                     .text("tool calls \(view["tool_calls_used"]?.intValue ?? 0) / \(view["budget_tool_calls"]?.intValue.map(String.init) ?? "?")"))
        body += card("artifact_hash", "<span class=\"mono\">" + .text(String((view["artifact_hash"]?.stringValue ?? "?").prefix(23))) + "…</span>",
                     .text("started " + (view["started_at"]?.stringValue ?? "?")))
        body += "</div>"
        if let reason = view["failure_reason"]?.stringValue {
            body += "<p class=\"failure-reason\"><b>failure reason</b> " + .text(reason) + "</p>"
        }
        if let note = view["network_note"]?.stringValue { body += "<p class=\"warn\">" + .text(note) + "</p>" }

        let trace = artifact["action_trace"]?.arrayValue ?? []
        body += "<h2>Budget burn-down</h2>"
        // From the whole budget before step 1 to what was left after the last step.
        let budgetSteps = view["budget_steps"]?.intValue ?? 0, budgetToolCalls = view["budget_tool_calls"]?.intValue ?? 0
        body += Charts.burnDown(steps: [budgetSteps] + trace.map { $0["budget_after_step", "steps"]?.intValue ?? 0 },
                                toolCalls: [budgetToolCalls] + trace.map { $0["budget_after_step", "tool_calls"]?.intValue ?? 0 },
                                budgetSteps: view["budget_steps"]?.intValue ?? 0, budgetToolCalls: view["budget_tool_calls"]?.intValue ?? 0)

        body += "<h2>Validator</h2><pre class=\"validator\">" + .json(artifact["validator"]) + "</pre>"

        let failing = view["failing_step", "step"]?.intValue
        body += HTML(unsafeMarkup: "<h2>Steps <small>\(trace.count) in the trace") + .text(failing.map { "; step \($0) decided the failure" } ?? "") + "</small></h2>"
        if linkRuns { body += "<label><input type=\"checkbox\" id=\"only-io\"> only steps with IO</label>" }
        // The window: from `from`, else the one holding the failing step, else the start.
        let start = max(1, from ?? failing.map { max(1, $0 - size / 2) } ?? 1)
        let window = trace.dropFirst(start - 1).prefix(size)
        body += pager(id: id, start: start, count: trace.count, linkRuns: linkRuns)
        if !linkRuns && trace.count > size {
            body += "<p class=\"mute\">" + .text("steps \(start)–\(min(trace.count, start + size - 1)) of \(trace.count) shown; `rigor runs show` or `rigor serve` shows all") + "</p>"
        }
        body += HTML(unsafeMarkup: "<div class=\"steps\"\(linkRuns ? " id=\"steps\"" : "")>")
        for s in window { body += step(s, failing: failing) }
        body += "</div>"
        if trace.isEmpty { body += "<p>No step was recorded: the episode ended before the agent's first action.</p>" }
        body += pager(id: id, start: start, count: trace.count, linkRuns: linkRuns)
        body += traceProposals(artifact["trace_actions"]?.arrayValue ?? [])

        body += "<h2>Agent log <small>end of stderr as the artifact keeps it</small></h2>"
        if let log = view["agent_log"], !log.isNull {
            let dropped = log["bytes_dropped"]?.intValue ?? 0
            if dropped > 0 { body += "<p class=\"mute\">" + .text("\(dropped) earlier bytes dropped by the runner's stderr limit") + "</p>" }
            let lines = (log["tail"]?.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false).suffix(200)
            body += "<pre class=\"agent-log\">" + .text(lines.joined(separator: "\n")) + "</pre>"
        } else {
            body += "<p class=\"mute\">No agent log in this artifact.</p>"
        }
        if linkRuns {
            body += "<p>" + .link(Link("/diff", [("a", id), ("b", "latest")]), "Diff with the latest run") + "</p>"
        }
        return body
    }

    static func card(_ title: String, _ value: HTML, _ note: HTML) -> HTML {
        "<div class=\"card\"><small>" + .text(title) + "</small><b>" + value + "</b><small>" + note + "</small></div>"
    }

    static func step(_ s: JSON, failing: Int?) -> HTML {
        let n = s["step"]?.intValue ?? 0
        let io = s["io_audit"]?.arrayValue ?? []
        var h = HTML(unsafeMarkup: "<div class=\"step\(n == failing ? " failing" : "")\" id=\"step-\(n)\" data-io=\"\(io.isEmpty ? 0 : 1)\"><h3>step \(n) ")
        h += "<code>" + .compact(s["action", "type"]) + "</code>"
        if let intent = s["intent"]?.stringValue { h += " <small>" + .text(intent) + "</small>" }
        let ok = s["result", "ok"]?.boolValue
        h += ok == false ? " <span class=\"pill bad\">" + .compact(s["result", "error"], limit: 60) + "</span>" : ""
        h += " <small>" + .text("left: \(s["budget_after_step", "steps"]?.intValue ?? 0) steps, \(s["budget_after_step", "tool_calls"]?.intValue ?? 0) tool calls") + "</small></h3>"
        h += policyLine(s["policy"], evidence: s["evidence"]?.arrayValue ?? [])
        h += "<div class=\"grid\"><div><h4>observation</h4><pre>" + .json(s["observation"]) + "</pre></div>"
        h += "<div><h4>action</h4><pre>" + .json(s["action"]) + "</pre></div>"
        h += "<div><h4>result</h4><pre>" + .json(s["result"]) + "</pre></div>"
        h += "<div><h4>io audit</h4><pre>" + (io.isEmpty ? "none" : .json(.array(io))) + "</pre></div></div></div>"
        return h
    }

    /// A step's policy decision (spec/policy.md): the decision and the rule that made it, what
    /// the approver said, and the evidence checks attached to the step, each passed or not.
    static func policyLine(_ policy: JSON?, evidence: [JSON]) -> HTML {
        guard policy != nil || !evidence.isEmpty else { return "" }
        var h: HTML = "<p class=\"policy\">"
        if let policy, !policy.isNull {
            let decision = policy["decision"]?.stringValue ?? "?"
            let denied = policy["outcome"]?.stringValue == "denied" || decision == "rejected"
            h += "<b>policy</b> <span class=\"pill " + HTML(unsafeMarkup: denied ? "bad" : "ok") + "\">" + .text(decision) + "</span> "
            h += "rule <code>" + .text(policy["rule_id"]?.stringValue ?? "?") + "</code>"
            if let outcome = policy["outcome"]?.stringValue { h += " " + .text(outcome) }
            if let approval = policy["approval"], !approval.isNull {
                // The approver's note says what it decided; without one, the decision alone.
                h += "; approver <code>" + .text(approval["approver"]?.stringValue ?? "?") + "</code>: "
                    + .text(approval["note"]?.stringValue ?? (approval["approved"]?.boolValue == true ? "approved" : "refused"))
            }
        }
        if !evidence.isEmpty {
            h += " <b>evidence</b> "
            for (i, e) in evidence.enumerated() {
                if i > 0 { h += ", " }
                let pass = e["pass"]?.boolValue == true
                h += "<span class=\"pill " + HTML(unsafeMarkup: pass ? "ok" : "bad") + "\">" + .text((pass ? "✓ " : "✗ ") + (e["name"]?.stringValue ?? "?")) + "</span>"
                if let source = e["source"]?.stringValue { h += " <small>" + .text(source) + "</small>" }
            }
        }
        return h + "</p>"
    }

    /// What the agent proposed on the TRACE endpoint (spec/trace-endpoint.md), in order.
    static func traceProposals(_ proposals: [JSON]) -> HTML {
        guard !proposals.isEmpty else { return "" }
        var h: HTML = "<h2>TRACE endpoint <small>" + .text("\(proposals.count) proposals") + "</small></h2>"
        h += "<table class=\"trace-actions\"><thead><tr><th>#</th><th>before step</th><th>type</th><th>target</th><th>decision</th><th>rule</th><th>evidence</th></tr></thead><tbody>"
        for p in proposals {
            let evidence = (p["evidence"]?.arrayValue ?? []).map { e in
                ((e["pass"]?.boolValue == true) ? "✓ " : "✗ ") + (e["name"]?.stringValue ?? "?")
            }
            h += "<tr><td>" + .text(p["n"]?.intValue.map(String.init) ?? "?") + "</td><td>" + .text(p["step"]?.intValue.map(String.init) ?? "?")
                + "</td><td><code>" + .text(p["type"]?.stringValue ?? "?") + "</code></td><td>" + .compact(p["target"], limit: 60)
                + "</td><td>" + .text(p["decision"]?.stringValue ?? "?") + "</td><td><code>" + .text(p["rule_id"]?.stringValue ?? "?")
                + "</code></td><td>" + .text(evidence.joined(separator: ", ")) + "</td></tr>"
        }
        return h + "</tbody></table>"
    }

    static func pager(id: String, start: Int, count: Int, linkRuns: Bool) -> HTML {
        guard count > stepsPerWindow, linkRuns else { return "" }
        var h: HTML = "<div class=\"pager\">"
        if start > 1 { h += .link(Link("/runs/" + Link.encode(id), [("from", String(max(1, start - stepsPerWindow)))]), "← earlier steps") }
        h += .text("steps \(start)–\(min(count, start + stepsPerWindow - 1)) of \(count)")
        if start + stepsPerWindow <= count { h += .link(Link("/runs/" + Link.encode(id), [("from", String(start + stepsPerWindow))]), "later steps →") }
        return h + "</div>"
    }
}
