import PropertyBased
import RigorSpec
import Testing

/// Invariants of the policy engine, the redactor and the action export, for generated inputs.
@Suite("Policy, redaction and export properties")
struct PolicyPropertyTests {
    static let types = ["read_file", "list_dir", "delete_path", "deploy", "approve", "ask", "fetch", "set_output"]

    /// A policy from generated numbers: each number picks an action glob, a decision and a limit.
    static func policy(_ codes: [Int], approver: Bool) -> Policy {
        let globs = types + ["*", "read_*", "de*", "?et*"]
        let decisions = PolicyDecision.allCases
        var rules: [PolicyRule] = []
        for (i, c) in codes.enumerated() {
            var rule = PolicyRule(id: "r\(i)", actions: [globs[c % globs.count]], decision: decisions[(c / 13) % decisions.count])
            switch (c / 61) % 5 {
            case 0: rule.maxCount = c % 4
            case 1: rule.rate = RateLimit(max: 1 + c % 3, perSteps: 1 + c % 5)
            case 2: rule.after = [types[(c / 7) % types.count]]
            case 3: rule.args = ["n": .bounds(min: Double(c % 10), max: nil)]
            default: break
            }
            rule.onReject = c % 2 == 0 ? .continue : nil
            rules.append(rule)
        }
        return Policy(rules: rules, defaultDecision: codes.first.map { $0 % 7 == 0 } == true ? .rejected : .approved,
                      approver: approver ? Approver(kind: .askedFirst, request: "ask", matchArg: "action") : nil)
    }

    static func action(_ c: Int) -> (String, [String: JSON]) {
        let type = types[c % types.count]
        if type == "ask" { return (type, ["action": .string(types[(c / 8) % types.count])]) }
        return (type, ["n": .int(c % 17)])
    }

    static func evaluate(_ policy: Policy, _ actions: [Int]) -> [PolicyRecord] {
        var state = PolicyState(policy: policy)
        return actions.enumerated().map { i, c in
            let (type, args) = action(c)
            let r = state.evaluate(type: type, args: args, step: i + 1)
            if r.executed { state.recordExecuted(type: type, args: args, step: i + 1) }
            return r
        }
    }

    @Test func everyDecisionHasAStableRuleID() async {
        await propertyCheck(input: Gen.int(in: 0...100_000).array(of: 0...12), Gen.int(in: 0...100_000).array(of: 1...40), Gen.bool) { rules, actions, approver in
            let p = Self.policy(rules, approver: approver)
            let ids = Set(p.rules.map(\.id) + ["default"])
            let first = Self.evaluate(p, actions)
            #expect(first == Self.evaluate(p, actions), "the same episode must get the same decisions")
            for r in first {
                #expect(ids.contains(r.ruleID), "rule id '\(r.ruleID)' is not one of the policy's")
                #expect(r.observed.allSatisfy { ids.contains($0) })
                if r.ruleID != "default" {
                    let rule = p.rules.first { $0.id == r.ruleID }
                    #expect(rule?.decision == r.decision)
                }
                #expect(r.executed == (r.decision == .approved || r.decision == .observed || r.approval?.approved == true))
            }
        }
    }

    @Test func countLimitsAreNeverExceeded() async {
        await propertyCheck(input: Gen.int(in: 0...3).array(of: 1...4), Gen.int(in: 0...100_000).array(of: 1...60)) { limits, actions in
            // One rejecting count-limited rule per action type (the first types), nothing before them.
            let rules = limits.enumerated().map { i, max in
                PolicyRule(id: "limit-\(i)", actions: [Self.types[i]], decision: .rejected, onReject: .continue, maxCount: max)
            }
            let p = Policy(rules: rules)
            let records = Self.evaluate(p, actions)
            for (i, max) in limits.enumerated() {
                let executed = zip(actions, records).filter { Self.action($0.0).0 == Self.types[i] && $0.1.executed }.count
                #expect(executed <= max, "\(Self.types[i]) ran \(executed) times under max_count \(max)")
                let sent = actions.filter { Self.action($0).0 == Self.types[i] }.count
                #expect(executed == min(sent, max), "a limit lets through exactly min(sent, max)")
            }
        }
    }

    /// JSON holding a planted secret in strings and keys at generated places.
    static func planted(_ secret: String, _ shape: [Int]) -> JSON {
        var items: [JSON] = []
        for (i, c) in shape.enumerated() {
            let text = String(repeating: "x", count: c % 5) + (c % 3 == 0 ? secret : "") + "y\(i)" + (c % 4 == 1 ? secret + secret : "")
            switch c % 4 {
            case 0: items.append(.string(text))
            case 1: items.append(.object([text: .int(c), "v": .string(text)]))
            case 2: items.append(.array([.string(text), .object(["k\(secret)": .string(secret)])]))
            default: items.append(.object(["nested": .object(["deeper": .string(text)])]))
            }
        }
        return .object(["items": .array(items), secret: .string(secret)])
    }

    @Test func redactionNeverLeaksAPlantedSecret() async throws {
        let secretGen = Gen.letterOrNumber.string(of: 4...40).map { $0.lowercased() }
        await propertyCheck(input: secretGen, Gen.int(in: 0...1000).array(of: 0...20)) { secret, shape in
            let r = Redactor(secrets: [.init(name: "SENTINEL", value: secret)])
            let redacted = r.redact(Self.planted(secret, shape))
            let bytes = (try? redacted.canonicalBytes()) ?? []
            #expect(!bytes.isEmpty)
            #expect(!String(decoding: bytes, as: UTF8.self).contains(secret), "the secret survived redaction")
            #expect(String(decoding: bytes, as: UTF8.self).contains("[REDACTED:SENTINEL]"))
            #expect(r.redact(redacted) == redacted, "redaction is idempotent")
        }
    }

    /// A sealed artifact with a generated trace.
    static func artifact(_ codes: [Int], policy: Bool) -> JSON {
        var trace: [TraceStep] = []
        for (i, c) in codes.enumerated() {
            let (type, args) = action(c)
            let record = policy ? PolicyRecord(decision: PolicyDecision.allCases[c % 4], ruleID: c % 5 == 0 ? "default" : "r\(c % 9)",
                                               approval: c % 3 == 0 ? ApprovalRecord(approved: c % 2 == 0, approver: "asked_first", note: "n\(c)") : nil,
                                               executed: c % 2 == 0) : nil
            let evidence = (0..<(c % 3)).map { EvidenceCheck(name: "e\($0)", pass: (c + $0) % 2 == 0, note: $0 == 0 ? nil : "note \(c)", source: "world") }
            trace.append(TraceStep(step: i + 1, actionTimestamp: Timestamp.now(), observation: ["step": .int(i + 1)],
                                   action: ["type": .string(type), "args": .object(args)],
                                   result: c % 6 == 0 ? ["ok": false, "error": "policy_denied"] : ["ok": true],
                                   ioAudit: [], budgetAfter: BudgetCounts(steps: 100 - i, toolCalls: 100 - i), budgetDelta: BudgetCounts(steps: 1, toolCalls: 1),
                                   intent: c % 4 == 0 ? "because \(c)" : nil, policy: record, evidence: evidence))
        }
        let termination = TerminationReason.allCases[codes.count % TerminationReason.allCases.count]
        var a = Artifact(runID: "0123456789abcdef0123456789abcdef", agentRef: "agent.py", agentHash: "sha256:" + String(repeating: "a", count: 64),
                         taskID: "t", taskVersion: 1, taskHash: "sha256:" + String(repeating: "b", count: 64), seed: codes.first ?? 0,
                         budgets: Budgets(steps: 100, toolCalls: 100, wallClockSeconds: nil), termination: termination, failureReason: nil,
                         trace: trace, toolCallsUsed: trace.count, validator: ValidatorVerdict(success: false, message: "m", terminal: false, step: 0),
                         startedAt: Timestamp.now(), completedAt: Timestamp.now(), sandbox: [:], diagnostics: [:], gitSHA: nil)
        if policy { a.policy = ["hash": .string("sha256:" + String(repeating: "c", count: 64)), "layers": ["task"], "rules": 3] }
        return (try? a.sealed()) ?? .null
    }

    @Test func exportsAlwaysParseAndValidate() async throws {
        await propertyCheck(count: 60, input: Gen.int(in: 0...100_000).array(of: 0...30).array(of: 1...4), Gen.bool) { runs, policy in
            let artifacts = runs.map { Self.artifact($0, policy: policy) }
            do {
                let document = try ActionExport.document(artifacts, redactor: Redactor())
                let bytes = try document.canonicalBytes()
                let parsed = try JSON.parse(bytes)
                #expect(ActionExport.problems(parsed) == [])
                #expect(parsed["export_version"] == 1)
                let actions = parsed["runs"]?.arrayValue?.map { $0["actions"]?.arrayValue?.count ?? -1 }
                #expect(actions == runs.map(\.count), "one exported action per step")
            } catch {
                Issue.record("export failed: \(error)")
            }
        }
    }
}
