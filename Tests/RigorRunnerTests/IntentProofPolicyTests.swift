import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// The three IntentProof reference policies for AI agents (YAML, read through Yams) give their
/// fixtures' expected findings, and Rigor's own runs export to events that the official schema
/// accepts and the chain check verifies.
@Suite struct IntentProofPolicyTests {
    static let references = "\(RepoPaths.intentProofSpec)/reference-policies/ai-agent"

    static var fixtures: [(policy: String, fixture: String)] {
        var out: [(String, String)] = []
        for policy in ["budget-bounded", "eval-gate", "high-stakes-tool-use"] {
            let dir = "\(references)/\(policy)/v1/fixtures"
            for fixture in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
                out.append((policy, fixture))
            }
        }
        return out
    }

    static func json(_ path: String) throws -> JSON {
        try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: path))))
    }

    @Test func everyReferencePolicyHasItsFixtures() {
        #expect(Self.fixtures.count == 6)
    }

    /// The fixtures' flows list event ids only (the events themselves are not in the spec data);
    /// each id spells its action and status (`evt_ai_tool_approve_ok` is `ai.tool.approve`, ok),
    /// so the events are rebuilt from the ids against the policy's scope actions.
    static func events(flow: JSON, actions: [String]) throws -> [JSON] {
        try (flow["events"]?.arrayValue ?? []).map { entry in
            let id = try #require(entry["event_id"]?.stringValue)
            let action = try #require(actions.first { "evt_" + $0.replacingOccurrences(of: ".", with: "_") + "_ok" == id }, "no action spells \(id)")
            return ["event_id": .string(id), "action": .string(action), "status": "ok", "correlation_id": flow["correlation_id"] ?? .null]
        }
    }

    @Test(arguments: fixtures.map { "\($0.policy)/\($0.fixture)" })
    func referencePolicyGivesTheFixturesExpectedFindings(_ name: String) throws {
        let parts = name.split(separator: "/").map(String.init)
        let base = "\(Self.references)/\(parts[0])/v1"
        let policy = try Workspace.loadIntentProofPolicy("\(base)/policy.yaml")
        // The YAML and JSON forms of the policy read the same.
        #expect(try IntentProofPolicy(try Self.json("\(base)/policy.json")) == policy)
        let flow = try Self.json("\(base)/fixtures/\(parts[1])/flow.json")
        let expected = try Self.json("\(base)/fixtures/\(parts[1])/expected-run.json")
        let result = policy.evaluate(flow: try Self.events(flow: flow, actions: policy.scopeActions),
                                     correlationID: flow["correlation_id"]?.stringValue ?? "")
        #expect(result.status == expected["status"]?.stringValue)
        let got = result.json
        #expect(got["summary"] == expected["summary"])
        let expectedFindings = try #require(expected["findings"]?.arrayValue)
        #expect(result.findings.count == expectedFindings.count)
        for (finding, want) in zip(result.findings, expectedFindings) {
            for key in ["rule_id", "rule_category", "outcome", "severity", "reason", "evidence_event_ids", "evidence_attestation_ids", "provenance_class"] {
                #expect(finding.json[key] == want[key], "\(name) \(finding.ruleID).\(key)")
            }
        }
    }

    @Test func findingsValidateAgainstTheOfficialFindingSchema() throws {
        let schema = try JSONSchema(try Self.json("\(RepoPaths.intentProofSpec)/schema/finding.v1.schema.json"))
        let policy = try Workspace.loadIntentProofPolicy("\(Self.references)/high-stakes-tool-use/v1/policy.yaml")
        for events in [[], [["event_id": "e1", "action": "ai.tool.request", "status": "ok"] as JSON]] {
            for finding in policy.evaluate(flow: events, correlationID: "c").findings {
                #expect(schema.validate(finding.json).isEmpty, "\(finding)")
            }
        }
    }

    static func policy(_ rules: [JSON]) throws -> IntentProofPolicy {
        try IntentProofPolicy(["schema": "intentproof.policy.v1", "policy_id": "t", "policy_version": 1, "rules": .array(rules)])
    }

    static func event(_ id: String, _ action: String, _ status: String = "ok", attributes: [String: JSON] = [:]) -> JSON {
        ["event_id": .string(id), "action": .string(action), "status": .string(status), "attributes": .object(attributes)]
    }

    @Test func forbiddenCardinalityAndOrderingRulesDecideAsSpecified() throws {
        let p = try Self.policy([
            ["id": "no-delete", "category": "forbidden", "severity": "critical", "spec": ["action": "delete"]],
            ["id": "one-approve", "category": "cardinality", "spec": ["action": "approve", "exactly": 1]],
            ["id": "approve-first", "category": "ordering", "spec": ["before": "approve", "after": "deploy"]],
            ["id": "when", "category": "temporal", "spec": [:]],
            ["id": "odd", "category": "astrology", "spec": [:]],
        ])
        let good = p.evaluate(flow: [Self.event("a", "approve"), Self.event("b", "deploy")], correlationID: "c")
        #expect(good.findings.map(\.outcome) == ["pass", "pass", "pass", "inconclusive", "inconclusive"])
        #expect(good.findings.last?.category == "unknown")
        #expect(good.status == "inconclusive")
        let bad = p.evaluate(flow: [Self.event("b", "deploy"), Self.event("x", "delete"), Self.event("a", "approve"), Self.event("a2", "approve")],
                             correlationID: "c")
        #expect(bad.findings.prefix(3).map(\.reason) == ["fail.forbidden.present", "fail.cardinality.not_exact", "fail.ordering.violated"])
        #expect(bad.findings[0].evidenceEventIDs == ["x"])
        #expect(bad.status == "fail")
    }

    @Test func wherePredicatesFilterOnStatusAndAttributes() throws {
        let p = try Self.policy([["id": "r", "category": "required", "spec": ["action": "pay", "where": ["status": "ok", "attribute": "amount", "in": [1, 2]]]]])
        #expect(p.evaluate(flow: [Self.event("e", "pay", "error", attributes: ["amount": 1])], correlationID: "c").status == "fail")
        #expect(p.evaluate(flow: [Self.event("e", "pay", attributes: ["amount": 3])], correlationID: "c").status == "fail")
        #expect(p.evaluate(flow: [Self.event("e", "pay", attributes: ["amount": 2])], correlationID: "c").status == "pass")
    }

    @Test(arguments: [
        "schema: intentproof.policy.v1\n",
        "not: [a policy",
        "schema: other\npolicy_id: x\nrules: [{id: a, category: required, spec: {action: b}}]\n",
        "schema: intentproof.policy.v1\npolicy_id: x\nrules: [{id: a, category: required, spec: {}}]\n",
        "schema: intentproof.policy.v1\npolicy_id: x\nrules: [{id: a, category: required, spec: {action: b}}, {id: a, category: required, spec: {action: c}}]\n",
        "schema: intentproof.policy.v1\npolicy_id: x\nrules: [{id: a, category: required, severity: urgent, spec: {action: b}}]\n",
        // A billion laughs: aliases that would expand to 10^9 values.
        "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        String(repeating: "[", count: 10_000),
        "",
    ])
    func malformedPoliciesAreRefusedWithAReason(_ text: String) throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-policy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/policy.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RunnerError.self) { try Workspace.loadIntentProofPolicy(path) }
    }
}
