import RigorSpec
import Testing

/// What each kind of rule decides, step by step.
@Suite("Policy evaluation")
struct PolicyEvaluationTests {
    /// Evaluates a sequence the way the episode loop does: execution is recorded only for
    /// actions the policy let through.
    static func run(_ policy: Policy, _ actions: [(String, [String: JSON])]) -> [PolicyRecord] {
        var state = PolicyState(policy: policy)
        var out: [PolicyRecord] = []
        for (i, (type, args)) in actions.enumerated() {
            let r = state.evaluate(type: type, args: args, step: i + 1)
            if r.executed { state.recordExecuted(type: type, args: args, step: i + 1) }
            out.append(r)
        }
        return out
    }

    @Test func globsExactValuesAndBoundsMatch() {
        let p = Policy(rules: [
            PolicyRule(id: "etc", actions: ["read_*"], args: ["path": .glob("/etc/*")], decision: .rejected),
            PolicyRule(id: "big", actions: ["pay"], args: ["amount": .bounds(min: 100, max: nil)], decision: .rejected),
            PolicyRule(id: "eu", actions: ["pay"], args: ["to": .oneOf(["de", "fr"])], decision: .observed),
        ])
        let r = Self.run(p, [
            ("read_file", ["path": "/etc/passwd"]), ("read_file", ["path": "/app/x"]), ("list_dir", ["path": "/etc/x"]),
            ("pay", ["amount": 100]), ("pay", ["amount": 99.5]), ("pay", ["amount": "1000"]), ("pay", ["amount": 5, "to": "fr"]),
        ])
        #expect(r.map(\.ruleID) == ["etc", "default", "default", "big", "default", "default", "eu"])
        #expect(r.map(\.executed) == [false, true, true, false, true, true, true])
        #expect(r[6].decision == .observed && r[6].observed == ["eu"])
    }

    @Test func aCountLimitLetsThroughExactlyMax() {
        let p = Policy(rules: [PolicyRule(id: "two", actions: ["fetch"], decision: .rejected, maxCount: 2)], onReject: .continue)
        let r = Self.run(p, Array(repeating: ("fetch", [:]), count: 5))
        #expect(r.map(\.executed) == [true, true, false, false, false])
        #expect(r[2].ruleID == "two" && r[2].onReject == .continue)
    }

    @Test func aRateLimitSlidesWithTheSteps() {
        let p = Policy(rules: [PolicyRule(id: "rate", actions: ["fetch"], decision: .rejected, rate: RateLimit(max: 2, perSteps: 3))])
        // Steps 1..7: fetch fetch fetch wait fetch fetch fetch. At most 2 executed fetches in any
        // 3 consecutive steps: step 3 sees 1 and 2; step 6 sees only 5 (4 was a wait); step 7 sees 5 and 6.
        let r = Self.run(p, [("fetch", [:]), ("fetch", [:]), ("fetch", [:]), ("wait", [:]), ("fetch", [:]), ("fetch", [:]), ("fetch", [:])])
        #expect(r.map(\.executed) == [true, true, false, true, true, true, false])
    }

    @Test func aSequenceRuleHoldsUntilThePrerequisiteRan() {
        let p = Policy(rules: [PolicyRule(id: "deploy-after-approve", actions: ["deploy"], decision: .rejected, after: ["approve"])])
        let r = Self.run(p, [("deploy", [:]), ("approve", [:]), ("deploy", [:])])
        #expect(r.map(\.executed) == [false, true, true])
        #expect(r[0].ruleID == "deploy-after-approve")
    }

    @Test func askedFirstApprovesOneActionPerMatchingRequest() {
        let p = Policy(rules: [PolicyRule(id: "rm", actions: ["rm"], decision: .requiresApproval)],
                       approver: Approver(kind: .askedFirst, request: "ask", matchArg: "action"))
        let r = Self.run(p, [("rm", [:]), ("ask", ["action": "deploy"]), ("rm", [:]), ("ask", ["action": "rm"]), ("rm", [:]), ("rm", [:])])
        #expect(r.map(\.executed) == [false, true, false, true, true, false])
        #expect(r[4].approval?.approved == true)
        #expect(r[4].approval?.note.contains("step 4") == true)
        #expect(r[5].approval?.approved == false)
    }

    @Test func withoutAnApproverNothingIsApproved() {
        let p = Policy(rules: [PolicyRule(id: "rm", decision: .requiresApproval)])
        let r = Self.run(p, [("anything", [:])])
        #expect(r[0].executed == false && r[0].approval?.approver == "none")
    }

    @Test func aRejectingDefaultNamesDefault() {
        let p = Policy(rules: [PolicyRule(id: "ok", actions: ["list_dir"], decision: .approved)], defaultDecision: .rejected)
        let r = Self.run(p, [("list_dir", [:]), ("rm", [:])])
        #expect(r.map(\.ruleID) == ["ok", "default"])
        #expect(r.map(\.executed) == [true, false])
    }

    @Test(arguments: [
        ("*", "anything", true), ("read_*", "read_file", true), ("read_*", "list_dir", false), ("?s", "ls", true),
        ("a*b*c", "axxbyyc", true), ("a*b*c", "axxbyy", false), ("", "", true), ("", "a", false), ("é?", "éa", true),
        ("*.log", "/var/x.log", true), ("/etc/*", "/etc", false),
    ])
    func globs(_ pattern: String, _ text: String, _ expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }
}
