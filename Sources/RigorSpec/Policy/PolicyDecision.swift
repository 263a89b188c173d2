/// A decision from the TRACE protocol's vocabulary (spec/policy.md §2).
///
/// - `approved`: the action goes to the world.
/// - `rejected`: it never reaches the world; the episode ends `policy_denied` or goes on, as
///   the policy says.
/// - `requires_approval`: the task's approver decides (deterministically, from the episode so
///   far) whether it is approved or rejected.
/// - `observed`: recorded only; the action goes on to the next rule.
public enum PolicyDecision: String, Sendable, CaseIterable, Equatable, Hashable {
    case approved
    case rejected
    case requiresApproval = "requires_approval"
    case observed
}

/// What a rejected action does to the episode.
public enum RejectionEffect: String, Sendable, CaseIterable, Equatable {
    /// The episode ends with `policy_denied` (the default).
    case end
    /// The step is recorded with an `ok: false, error: policy_denied` result and the agent goes on.
    case `continue`
}

/// The approver's answer to a `requires_approval` decision.
public struct ApprovalRecord: Sendable, Equatable {
    public var approved: Bool
    /// The approver's kind (`asked_first`, `always`, `never`, `none`).
    public var approver: String
    /// Why, in words (which request approved it, or what was missing).
    public var note: String

    public init(approved: Bool, approver: String, note: String) {
        self.approved = approved
        self.approver = approver
        self.note = note
    }

    public var json: JSON { ["approved": .bool(approved), "approver": .string(approver), "note": .string(note)] }
}

/// The policy's verdict on one action, as the step records it under `policy` (spec/policy.md §4).
///
/// `ruleID` names the rule that decided (`default` when none matched); `observed` lists every
/// `observed` rule that matched on the way; `executed` says whether the action reached the world.
public struct PolicyRecord: Sendable, Equatable {
    public var decision: PolicyDecision
    public var ruleID: String
    public var approval: ApprovalRecord?
    public var observed: [String]
    /// Whether the action went on to the world (approved, observed, or approved by the approver).
    public var executed: Bool
    /// What a rejection does (meaningful only when `executed` is false).
    public var onReject: RejectionEffect

    public init(decision: PolicyDecision, ruleID: String, approval: ApprovalRecord? = nil, observed: [String] = [],
                executed: Bool, onReject: RejectionEffect = .end) {
        self.decision = decision
        self.ruleID = ruleID
        self.approval = approval
        self.observed = observed
        self.executed = executed
        self.onReject = onReject
    }

    public var json: JSON {
        var o: [String: JSON] = [
            "decision": .string(decision.rawValue), "rule_id": .string(ruleID),
            "outcome": .string(executed ? "executed" : "denied"),
        ]
        if let approval { o["approval"] = approval.json }
        if !observed.isEmpty { o["observed"] = .array(observed.map(JSON.string)) }
        return .object(o)
    }
}
