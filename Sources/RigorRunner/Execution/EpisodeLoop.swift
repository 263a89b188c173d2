import RigorAgentHost
import RigorSpec
import RigorTasks

/// The state of one episode between steps: budgets left, the trace so far, the last action,
/// the validator's verdict, and how it ended. The world is passed in and owned by the runner.
struct EpisodeLoop {
    let manifest: TaskManifest
    let world: any TaskWorld
    let taskObservation: JSON
    var remaining: BudgetCounts
    var trace: [TraceStep] = []
    var toolCallsUsed = 0
    var lastAction: JSON = .null
    var lastResult: JSON = .null
    var verdict: ValidatorVerdict
    var termination: TerminationReason?
    var failureReason: String?
    var timing = EpisodeTiming()
    /// The policy gate (spec/policy.md), after the surface and the sandbox; nil: no policy.
    var policy: PolicyState?
    /// Evidence names `[validator] require_evidence` asks for → whether the latest check passed.
    var requiredEvidence: [String: Bool]

    init(manifest: TaskManifest, world: any TaskWorld, collectTiming: Bool, policy: Policy? = nil) {
        self.manifest = manifest
        self.world = world
        self.policy = policy.map(PolicyState.init(policy:))
        var required: [String: Bool] = [:]
        for name in manifest.requiredEvidence { required[name] = false }
        requiredEvidence = required
        taskObservation = ["id": .string(manifest.id), "description": .string(manifest.description)]
        remaining = manifest.budgets.counts
        verdict = ValidatorVerdict(success: false, message: "the agent took no action", terminal: false, step: 0)
        trace.reserveCapacity(min(manifest.budgets.steps, 1 << 16))
        if collectTiming {
            timing.runnerNanosPerStep.reserveCapacity(manifest.budgets.steps)
            timing.agentNanosPerStep.reserveCapacity(manifest.budgets.steps)
        }
    }

    /// The task as `reset` describes it to the agent.
    func taskSpec(seed: Int) -> JSON {
        [
            "id": .string(manifest.id), "version": .int(manifest.version), "ref": .string(manifest.ref),
            "suite": .string(manifest.suite), "description": .string(manifest.description),
            "budgets": manifest.budgets.json, "actions": manifest.surface.json, "sandbox": manifest.sandbox.json,
        ]
    }

    func observation(step: Int) -> JSON {
        [
            "step": .int(step),
            "task": taskObservation,
            "last_action": lastAction,
            "last_action_result": lastResult,
            "visible_state": world.visibleState,
            "budget_remaining": remaining.json,
        ]
    }

    mutating func end(_ reason: TerminationReason, _ message: String?) {
        termination = reason
        failureReason = message
    }

    /// Ends the episode when a budget is spent; budgets are checked before every action.
    mutating func checkBudgets(now: UInt64, wallDeadline: UInt64) -> Bool {
        if remaining.steps <= 0 {
            end(.stepsExhausted, "the step budget (\(manifest.budgets.steps)) ran out before the task was solved")
        } else if remaining.toolCalls <= 0 {
            end(.toolCallsExhausted, "the tool-call budget (\(manifest.budgets.toolCalls)) ran out before the task was solved")
        } else if now >= wallDeadline {
            end(.wallClockExhausted, "the wall-clock budget (\(manifest.budgets.wallClockSeconds ?? 0) s) ran out before the task was solved")
        }
        return termination != nil
    }

    mutating func apply(_ reply: AgentReply, step: Int, observation: JSON) {
        switch reply {
        case .failure(let reason, let message):
            end(reason, message)
        case .action(let type, let args, let intent, let raw, let agentEvidence):
            switch manifest.surface.check(type: type, args: args) {
            case .failure(let rejection):
                let (reason, message): (TerminationReason, String) = switch rejection {
                case .unknownAction(let m): (.unknownAction, m)
                case .invalidArguments(let m): (.invalidArguments, m)
                }
                record(step: step, observation: observation, action: raw, intent: intent,
                       result: ["ok": false, "error": .string(reason.rawValue), "message": .string(message)],
                       audit: [], toolCall: false, evidence: agentEvidence)
                end(reason, message)
            case .success(let checked):
                let decision = manifest.sandbox.authorize(checked)
                if let violation = decision.violation {
                    record(step: step, observation: observation, action: raw, intent: intent,
                           result: ["ok": false, "error": "sandbox_violation", "message": .string(violation)],
                           audit: decision.audit, toolCall: false, evidence: agentEvidence)
                    end(.sandboxViolation, violation)
                    return
                }
                // The policy gate: a denied action never reaches the world.
                var ruling: PolicyRecord? = nil
                if policy != nil {
                    let r = policy!.evaluate(type: checked.name, args: decision.action.args, step: step)
                    ruling = r
                    if !r.executed {
                        let message = PolicyDenial.message(r, action: checked.name, policy: policy!.policy)
                        var result: [String: JSON] = ["ok": false, "error": "policy_denied", "rule_id": .string(r.ruleID), "message": .string(message)]
                        if let a = r.approval { result["approval"] = a.json }
                        record(step: step, observation: observation, action: raw, intent: intent, result: .object(result),
                               audit: [], toolCall: false, policy: r, evidence: agentEvidence)
                        if r.onReject == .end { end(.policyDenied, message) }
                        return
                    }
                }
                let outcome: ActionOutcome
                var judged: WorldVerdict
                do {
                    outcome = try world.execute(decision.action)
                    // A world program's own environment refused a path its action touched.
                    if let refusal = world.sandboxRefusal {
                        record(step: step, observation: observation, action: raw, intent: intent, result: outcome.result,
                               audit: outcome.ioAudit, toolCall: false, policy: ruling, evidence: outcome.evidence + agentEvidence)
                        end(.sandboxViolation, refusal)
                        return
                    }
                    judged = try world.evaluate()
                } catch {
                    // The task failed, not the agent: no result to record for this step.
                    end(.worldFailed, error.message)
                    return
                }
                policy?.recordExecuted(type: checked.name, args: decision.action.args, step: step)
                let evidence = outcome.evidence + agentEvidence
                record(step: step, observation: observation, action: raw, intent: intent, result: outcome.result,
                       audit: outcome.ioAudit, toolCall: checked.spec.costsToolCall, policy: ruling, evidence: evidence)
                for check in evidence where requiredEvidence[check.name] != nil { requiredEvidence[check.name] = check.pass }
                let payload = world.verdictPayload
                if case .success = judged, let missing = requiredEvidence.keys.sorted().first(where: { requiredEvidence[$0] != true }) {
                    judged = .failed("the world's validator passed, but the required evidence '\(missing)' has not passed ([validator] require_evidence)")
                }
                switch judged {
                case .pending(let m):
                    verdict = ValidatorVerdict(success: false, message: m, terminal: false, step: step, payload: payload)
                case .success(let m):
                    verdict = ValidatorVerdict(success: true, message: m, terminal: true, step: step, payload: payload)
                    end(.success, nil)
                case .failed(let m):
                    verdict = ValidatorVerdict(success: false, message: m, terminal: true, step: step, payload: payload)
                    end(.validatorFailed, m)
                }
            }
        }
    }

    mutating func record(step: Int, observation: JSON, action: JSON, intent: String?, result: JSON, audit: [JSON], toolCall: Bool,
                         policy: PolicyRecord? = nil, evidence: [EvidenceCheck] = []) {
        // A world's result and audit obey the payload depth too, or an artifact could be written
        // that no reader accepts (`ArtifactLimits`). Built-in worlds never come near it.
        var result = result
        var audit = audit
        if result.nestingDepth > ArtifactLimits.payloadDepth || audit.contains(where: { $0.nestingDepth > ArtifactLimits.payloadDepth }) {
            result = ["ok": false, "error": "result_too_deep",
                      "message": .string("the world's result nests deeper than \(ArtifactLimits.payloadDepth) levels and was not recorded")]
            audit = []
        }
        let delta = BudgetCounts(steps: 1, toolCalls: toolCall ? 1 : 0)
        remaining.steps -= delta.steps
        remaining.toolCalls -= delta.toolCalls
        toolCallsUsed += delta.toolCalls
        trace.append(TraceStep(
            step: step, actionTimestamp: Timestamp.now(), observation: observation, action: action, result: result,
            ioAudit: audit, budgetAfter: remaining, budgetDelta: delta, intent: intent, policy: policy, evidence: evidence))
        lastAction = action
        lastResult = result
    }
}

/// What a denied agent is told (in the step's result) and what the artifact's `failure_reason` says.
enum PolicyDenial {
    static func message(_ r: PolicyRecord, action: String, policy: Policy) -> String {
        let rule = policy.rules.first(where: { $0.id == r.ruleID })
        var text: String
        switch r.decision {
        case .requiresApproval:
            text = "the policy requires approval for '\(action)' (rule '\(r.ruleID)') and it was not given: \(r.approval?.note ?? "no approver")"
        default:
            text = r.ruleID == "default"
                ? "the policy rejects '\(action)': no rule allows it and the policy's default is rejected"
                : "the policy rejects '\(action)' (rule '\(r.ruleID)')"
        }
        if let note = rule?.note { text += ": \(note)" }
        return text
    }
}
