/// A policy evaluated over one episode: the counts, windows, sequence and approval requests it
/// has seen so far (spec/policy.md §2–§3). A value: the episode loop owns one per episode.
///
/// Two calls per step: `evaluate` before the world runs the action (it answers the decision and,
/// for `requires_approval`, the approver's answer), and `recordExecuted` once the world has run
/// it. Only actions that reached the world count toward limits, sequences and approvals, so a
/// count-limited rule lets through at most `max_count` matching actions.
public struct PolicyState: Sendable {
    public let policy: Policy
    /// Per rule: matching actions that reached the world.
    private(set) var executedCounts: [Int]
    /// Per rule with a rate: the steps at which matching actions reached the world (ascending).
    private var windows: [[Int]]
    private var executedTypes: Set<String> = []
    /// Approval requests not yet used, by the action they ask for (`*`: any), each its step.
    private var requests: [String: [Int]] = [:]

    public init(policy: Policy) {
        self.policy = policy
        executedCounts = Array(repeating: 0, count: policy.rules.count)
        windows = Array(repeating: [], count: policy.rules.count)
    }

    /// The decision on an action the surface and sandbox accepted, before the world sees it.
    /// Consumes an approval request when the approver approves with one.
    public mutating func evaluate(type: String, args: [String: JSON], step: Int) -> PolicyRecord {
        var observed: [String] = []
        for (i, rule) in policy.rules.enumerated() where rule.matches(type: type, args: args) {
            if let max = rule.maxCount, executedCounts[i] < max { continue }
            if let rate = rule.rate {
                let floor = step - rate.perSteps
                if windows[i].lazy.filter({ $0 > floor }).count < rate.max { continue }
            }
            if !rule.after.isEmpty && rule.after.contains(where: { a in executedTypes.contains(where: { Glob.matches(a, $0) }) }) { continue }
            let onReject = rule.onReject ?? policy.onReject
            switch rule.decision {
            case .observed:
                observed.append(rule.id)
            case .approved:
                return PolicyRecord(decision: .approved, ruleID: rule.id, observed: observed, executed: true, onReject: onReject)
            case .rejected:
                return PolicyRecord(decision: .rejected, ruleID: rule.id, observed: observed, executed: false, onReject: onReject)
            case .requiresApproval:
                let approval = approve(type: type, args: args)
                return PolicyRecord(decision: .requiresApproval, ruleID: rule.id, approval: approval, observed: observed,
                                    executed: approval.approved, onReject: onReject)
            }
        }
        if let first = observed.first, policy.defaultDecision == .approved {
            return PolicyRecord(decision: .observed, ruleID: first, observed: observed, executed: true, onReject: policy.onReject)
        }
        return PolicyRecord(decision: policy.defaultDecision, ruleID: "default", observed: observed,
                            executed: policy.defaultDecision == .approved, onReject: policy.onReject)
    }

    /// Counts an action that reached the world toward every rule it matches, the sequence, and
    /// (when it is the approver's request action) the approvals.
    public mutating func recordExecuted(type: String, args: [String: JSON], step: Int) {
        for (i, rule) in policy.rules.enumerated() where (rule.maxCount != nil || rule.rate != nil) && rule.matches(type: type, args: args) {
            executedCounts[i] += 1
            if let rate = rule.rate {
                windows[i].append(step)
                // Keep only what a later window can still see.
                let floor = step - rate.perSteps
                if let keep = windows[i].firstIndex(where: { $0 > floor }), keep > 0 { windows[i].removeFirst(keep) }
            }
        }
        executedTypes.insert(type)
        if let approver = policy.approver, approver.kind == .askedFirst, type == approver.request {
            if let arg = approver.matchArg {
                if let asked = args[arg]?.stringValue { requests[asked, default: []].append(step) }
            } else {
                requests["*", default: []].append(step)
            }
        }
    }

    /// The matching actions that have reached the world, per rule id (for tests and reports).
    public func executedCount(rule id: String) -> Int? {
        policy.rules.firstIndex(where: { $0.id == id }).map { executedCounts[$0] }
    }

    private mutating func approve(type: String, args: [String: JSON]) -> ApprovalRecord {
        guard let approver = policy.approver else {
            return ApprovalRecord(approved: false, approver: "none", note: "the policy declares no approver, so nothing that requires approval can be approved")
        }
        switch approver.kind {
        case .always: return ApprovalRecord(approved: true, approver: approver.kind.rawValue, note: "approved (the approver approves everything)")
        case .never: return ApprovalRecord(approved: false, approver: approver.kind.rawValue, note: "rejected (the approver approves nothing)")
        case .askedFirst:
            let key = approver.matchArg == nil ? "*" : type
            if var pending = requests[key], !pending.isEmpty {
                let step = pending.removeFirst()
                requests[key] = pending
                return ApprovalRecord(approved: true, approver: approver.kind.rawValue, note: "approved: the agent asked with '\(approver.request)' at step \(step)")
            }
            let what = approver.matchArg.map { " with \($0) = \"\(type)\"" } ?? ""
            return ApprovalRecord(approved: false, approver: approver.kind.rawValue,
                                  note: "rejected: the agent did not ask first (no earlier '\(approver.request)'\(what) that is not used up)")
        }
    }
}
