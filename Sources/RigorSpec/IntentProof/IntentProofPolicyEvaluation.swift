extension IntentProofPolicy {
    /// Evaluates the policy on the events of one flow, in flow order.
    public func evaluate(flow events: [JSON], correlationID: String) -> IntentProofFlowResult {
        if !scopeActions.isEmpty, ignoreFlowsWithNoMatch,
           !events.contains(where: { scopeActions.contains($0["action"]?.stringValue ?? "") }) {
            return IntentProofFlowResult(correlationID: correlationID, status: "skipped", findings: [])
        }
        let findings = rules.map { evaluate($0, events) }
        let status = findings.contains { $0.outcome == "fail" } ? "fail"
            : findings.contains { $0.outcome == "inconclusive" } ? "inconclusive" : "pass"
        return IntentProofFlowResult(correlationID: correlationID, status: status, findings: findings)
    }

    /// Groups events into flows by `correlation_id`, in order of first appearance, and evaluates each.
    public func evaluate(events: [JSON]) -> [IntentProofFlowResult] {
        var order: [String] = []
        var flows: [String: [JSON]] = [:]
        for e in events {
            let id = e["correlation_id"]?.stringValue ?? ""
            if flows[id] == nil { order.append(id) }
            flows[id, default: []].append(e)
        }
        return order.map { evaluate(flow: flows[$0] ?? [], correlationID: $0) }
    }

    private func evaluate(_ rule: Rule, _ events: [JSON]) -> IntentProofFinding {
        func finding(_ outcome: String, _ reason: String, _ ids: [String], _ summary: String, category: String? = nil) -> IntentProofFinding {
            IntentProofFinding(ruleID: rule.id, category: category ?? rule.category, outcome: outcome, severity: rule.severity,
                               reason: reason, evidenceEventIDs: ids, summary: summary)
        }
        let spec = rule.spec
        switch rule.category {
        case "required":
            let action = spec["action"]?.stringValue ?? ""
            let matches = Self.matching(events, action: action, where: spec["where"])
            let minimum = spec["min"]?.intValue ?? 1
            let ids = matches.map(Self.id)
            if matches.isEmpty && minimum > 0 { return finding("fail", "fail.required.missing", [], "No '\(action)' event was observed.") }
            if matches.count < minimum {
                return finding("fail", "fail.required.under_min", ids, "'\(action)' occurred \(matches.count) times; at least \(minimum) required.")
            }
            if let maximum = spec["max"]?.intValue, matches.count > maximum {
                return finding("fail", "fail.required.over_max", ids, "'\(action)' occurred \(matches.count) times; at most \(maximum) allowed.")
            }
            return finding("pass", "pass.required.satisfied", ids, "'\(action)' occurred \(matches.count) time\(matches.count == 1 ? "" : "s").")
        case "forbidden":
            let action = spec["action"]?.stringValue ?? ""
            let candidates = Self.indexed(events, action: action, where: spec["where"])
            if let after = spec["after"]?.stringValue {
                let predecessors = Self.indexed(events, action: after, where: spec["where_predecessor"]).map(\.0)
                if let without = spec["without_predecessor"]?.stringValue {
                    let guards = Self.indexed(events, action: without, where: nil).map(\.0)
                    let bad = candidates.filter { c in
                        predecessors.contains { $0 < c.0 } && !guards.contains { $0 < c.0 }
                    }
                    return bad.isEmpty ? finding("pass", "pass.forbidden.absent", [], "No '\(action)' after '\(after)' without '\(without)' first.")
                        : finding("fail", "fail.forbidden.without_predecessor", bad.map { Self.id($0.1) }, "'\(action)' followed '\(after)' with no '\(without)' before it.")
                }
                let bad = candidates.filter { c in predecessors.contains { $0 < c.0 } }
                return bad.isEmpty ? finding("pass", "pass.forbidden.absent", [], "No '\(action)' after '\(after)'.")
                    : finding("fail", "fail.forbidden.after_predecessor", bad.map { Self.id($0.1) }, "'\(action)' occurred after '\(after)'.")
            }
            return candidates.isEmpty ? finding("pass", "pass.forbidden.absent", [], "No '\(action)' event was observed.")
                : finding("fail", "fail.forbidden.present", candidates.map { Self.id($0.1) }, "Forbidden '\(action)' occurred \(candidates.count) time\(candidates.count == 1 ? "" : "s").")
        case "cardinality":
            let action = spec["action"]?.stringValue ?? ""
            let matches = Self.matching(events, action: action, where: spec["where"])
            let ids = matches.map(Self.id)
            let n = matches.count
            if let exactly = spec["exactly"]?.intValue {
                return n == exactly ? finding("pass", "pass.cardinality.satisfied", ids, "'\(action)' occurred exactly \(n) times.")
                    : finding("fail", "fail.cardinality.not_exact", ids, "'\(action)' occurred \(n) times; exactly \(exactly) required.")
            }
            if let minimum = spec["min"]?.intValue, n < minimum {
                return finding("fail", "fail.cardinality.under_min", ids, "'\(action)' occurred \(n) times; at least \(minimum) required.")
            }
            if let maximum = spec["max"]?.intValue, n > maximum {
                return finding("fail", "fail.cardinality.over_max", ids, "'\(action)' occurred \(n) times; at most \(maximum) allowed.")
            }
            return finding("pass", "pass.cardinality.satisfied", ids, "'\(action)' occurred \(n) times.")
        case "ordering":
            return ordering(rule, events, finding)
        case "temporal", "consensus", "value_bound", "claim_match":
            return finding("inconclusive", "inconclusive.unknown.unsupported_rule_category", [],
                           "Rigor does not evaluate \(rule.category) rules (they need clocks or claims from outside the run).")
        default:
            return finding("inconclusive", "inconclusive.unknown.unsupported_rule_category", [],
                           "Unknown rule category '\(rule.category)'.", category: "unknown")
        }
    }

    private func ordering(_ rule: Rule, _ events: [JSON],
                          _ finding: (String, String, [String], String, String?) -> IntentProofFinding) -> IntentProofFinding {
        let before = rule.spec["before"]?.stringValue ?? ""
        let after = rule.spec["after"]?.stringValue ?? ""
        let befores = Self.indexed(events, action: before, where: nil)
        let afters = Self.indexed(events, action: after, where: nil)
        if afters.isEmpty { return finding("inconclusive", "inconclusive.ordering.after_missing", [], "No '\(after)' event to order.", nil) }
        if befores.isEmpty {
            return finding("fail", "fail.ordering.violated", afters.map { Self.id($0.1) }, "'\(after)' occurred with no '\(before)' before it.", nil)
        }
        if let attribute = rule.spec["match_by_attribute"]?.stringValue {
            let unmatched = afters.filter { a in
                let key = a.1["attributes"]?[attribute]
                return !befores.contains { $0.0 < a.0 && key != nil && $0.1["attributes"]?[attribute] == key }
            }
            return unmatched.isEmpty ? finding("pass", "pass.ordering.satisfied", afters.map { Self.id($0.1) }, "Every '\(after)' has a matching '\(before)' before it.", nil)
                : finding("fail", "fail.ordering.unmatched_pair", unmatched.map { Self.id($0.1) }, "'\(after)' has no '\(before)' with the same \(attribute) before it.", nil)
        }
        if rule.spec["scope"]?.stringValue == "all-occurrences" {
            let early = afters.filter { a in !befores.contains { $0.0 < a.0 } }
            return early.isEmpty ? finding("pass", "pass.ordering.satisfied", [], "Every '\(after)' follows a '\(before)'.", nil)
                : finding("fail", "fail.ordering.out_of_order", early.map { Self.id($0.1) }, "'\(after)' occurred before any '\(before)'.", nil)
        }
        let firstBefore = befores[0], firstAfter = afters[0]
        return firstBefore.0 < firstAfter.0
            ? finding("pass", "pass.ordering.satisfied", [Self.id(firstBefore.1), Self.id(firstAfter.1)], "'\(before)' came before '\(after)'.", nil)
            : finding("fail", "fail.ordering.violated", [Self.id(firstAfter.1)], "'\(after)' came before the first '\(before)'.", nil)
    }

    static func id(_ event: JSON) -> String { event["event_id"]?.stringValue ?? "" }

    static func matching(_ events: [JSON], action: String, where predicate: JSON?) -> [JSON] {
        indexed(events, action: action, where: predicate).map(\.1)
    }

    static func indexed(_ events: [JSON], action: String, where predicate: JSON?) -> [(Int, JSON)] {
        var out: [(Int, JSON)] = []
        for (i, e) in events.enumerated() where e["action"]?.stringValue == action && holds(predicate, on: e) { out.append((i, e)) }
        return out
    }

    /// An AttributePredicate: `status` must equal, and `attribute` must `equals` a value or be
    /// `in` a list (present, when neither is given).
    static func holds(_ predicate: JSON?, on event: JSON) -> Bool {
        guard let predicate, predicate.objectValue != nil else { return true }
        if let status = predicate["status"]?.stringValue, event["status"]?.stringValue != status { return false }
        if let name = predicate["attribute"]?.stringValue {
            guard let value = event["attributes"]?[name] else { return false }
            if let expected = predicate["equals"], !SchemaEquality.equal(value, expected) { return false }
            if let list = predicate["in"]?.arrayValue, !list.contains(where: { SchemaEquality.equal(value, $0) }) { return false }
        }
        return true
    }
}
