/// An IntentProof verification policy (`intentproof.policy.v1`): rules over the events of a
/// flow, each giving a finding (`pass`, `fail`, `inconclusive`) with a reason from the
/// IntentProof vocabulary (spec/intentproof.md §4).
///
/// Rigor evaluates the event-only categories: `required`, `forbidden`, `cardinality` and
/// `ordering`, with `where` predicates on `status` and attributes. Rules that need sources Rigor
/// does not have (`temporal`, `consensus`, `value_bound`, `claim_match`: clocks across systems,
/// external claims) and unknown categories give `inconclusive` findings saying so; they never
/// pass silently.
public struct IntentProofPolicy: Sendable, Equatable {
    public let policyID: String
    public let policyVersion: Int
    public let name: String?
    public let fingerprint: String?
    /// `scope.any_event_action_in`: when non-empty, a flow with none of these actions is out of
    /// scope (skipped if `ignoreFlowsWithNoMatch`, else evaluated as it is).
    public let scopeActions: [String]
    public let ignoreFlowsWithNoMatch: Bool
    public let rules: [Rule]

    public static let severities = ["critical", "high", "medium", "low", "info"]

    public struct Rule: Sendable, Equatable {
        public let id: String
        public let category: String
        public let severity: String
        public let spec: JSON
    }

    /// Reads a policy from its JSON form (YAML policies are converted to JSON first), checking
    /// what evaluation relies on and naming the offending rule when something is wrong.
    public init(_ value: JSON) throws(IntentProofError) {
        guard value.objectValue != nil else { throw IntentProofError("a policy must be an object, got a \(value.typeName)") }
        guard value["schema"]?.stringValue == "intentproof.policy.v1" else {
            throw IntentProofError("not an IntentProof policy: \"schema\" must be \"intentproof.policy.v1\"")
        }
        guard let id = value["policy_id"]?.stringValue, !id.isEmpty else { throw IntentProofError("the policy has no policy_id") }
        policyID = id
        policyVersion = value["policy_version"]?.intValue ?? 0
        name = value["name"]?.stringValue
        fingerprint = value["policy_fingerprint"]?.stringValue
        scopeActions = (value["scope"]?["any_event_action_in"]?.arrayValue ?? []).compactMap(\.stringValue)
        ignoreFlowsWithNoMatch = value["scope"]?["ignore_flows_with_no_match"]?.boolValue ?? false
        guard let list = value["rules"]?.arrayValue, !list.isEmpty else { throw IntentProofError("policy '\(id)' has no rules") }
        var rules: [Rule] = []
        var seen = Set<String>()
        for (i, r) in list.enumerated() {
            guard let rid = r["id"]?.stringValue, !rid.isEmpty else { throw IntentProofError("rules[\(i)] has no id") }
            guard seen.insert(rid).inserted else { throw IntentProofError("rule id '\(rid)' appears twice; rule ids must be unique") }
            guard let category = r["category"]?.stringValue else { throw IntentProofError("rule '\(rid)' has no category") }
            let severity = r["severity"]?.stringValue ?? "medium"
            guard Self.severities.contains(severity) else {
                throw IntentProofError("rule '\(rid)': severity '\(severity)' is not one of \(Self.severities.joined(separator: ", "))")
            }
            guard let spec = r["spec"], spec.objectValue != nil else { throw IntentProofError("rule '\(rid)' has no spec object") }
            switch category {
            case "required", "forbidden", "cardinality":
                guard spec["action"]?.stringValue != nil else { throw IntentProofError("rule '\(rid)' (\(category)) needs spec.action") }
            case "ordering":
                guard spec["before"]?.stringValue != nil, spec["after"]?.stringValue != nil else {
                    throw IntentProofError("rule '\(rid)' (ordering) needs spec.before and spec.after")
                }
            default: break
            }
            rules.append(Rule(id: rid, category: category, severity: severity, spec: spec))
        }
        self.rules = rules
    }
}

/// One finding (`intentproof.finding.v1` shape): a rule's outcome on one flow.
public struct IntentProofFinding: Sendable, Equatable {
    public let ruleID: String
    public let category: String
    public let outcome: String
    public let severity: String
    public let reason: String
    public let evidenceEventIDs: [String]
    public let summary: String

    public var json: JSON {
        [
            "provenance_class": "platform_attested", "rule_id": .string(ruleID), "rule_category": .string(category),
            "outcome": .string(outcome), "severity": .string(severity), "reason": .string(reason),
            "evidence_event_ids": .array(evidenceEventIDs.map(JSON.string)), "evidence_attestation_ids": [],
            "human_summary": .string(summary),
        ]
    }
}

/// The findings of a policy on one flow (the events sharing a `correlation_id`), and the flow's
/// status: `fail` if any finding fails, else `inconclusive` if any is, else `pass`; `skipped`
/// when the flow is out of the policy's scope and the policy ignores such flows.
public struct IntentProofFlowResult: Sendable, Equatable {
    public let correlationID: String
    public let status: String
    public let findings: [IntentProofFinding]

    public var json: JSON {
        var outcomes: [String: Int] = ["pass": 0, "fail": 0, "inconclusive": 0]
        var severities: [String: Int] = Dictionary(uniqueKeysWithValues: IntentProofPolicy.severities.map { ($0, 0) })
        for f in findings {
            outcomes[f.outcome, default: 0] += 1
            severities[f.severity, default: 0] += 1
        }
        return [
            "correlation_id": .string(correlationID), "status": .string(status),
            "summary": ["outcome_counts": .object(outcomes.mapValues(JSON.int)), "severity_counts": .object(severities.mapValues(JSON.int))],
            "findings": .array(findings.map(\.json)),
        ]
    }
}
