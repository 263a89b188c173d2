/// The failure types of TraceCore's artifact schema v1.0, the only values `failure_type` may take
/// besides null.
public enum FailureType: String, Sendable, CaseIterable, Codable {
    case budgetExhausted = "budget_exhausted"
    case invalidAction = "invalid_action"
    case sandboxViolation = "sandbox_violation"
    case logicFailure = "logic_failure"
    case timeout = "timeout"
    case nonTermination = "non_termination"
}

/// Why an episode ended. The raw values are stable: tools and baselines match on them, and
/// `spec/runtime.md` lists them. Each maps to exactly one failure type (nil for success).
public enum TerminationReason: String, Sendable, CaseIterable, Codable {
    case success
    case stepsExhausted = "steps_exhausted"
    case toolCallsExhausted = "tool_calls_exhausted"
    case wallClockExhausted = "wall_clock_exhausted"
    case actTimeout = "act_timeout"
    case unknownAction = "unknown_action"
    case invalidArguments = "invalid_arguments"
    case malformedAction = "malformed_action"
    case protocolError = "protocol_error"
    /// The action line nests deeper than `ArtifactLimits.agentLineDepth`: its artifact could
    /// not be read back.
    case actionTooDeep = "action_too_deep"
    /// The agent's action lines add up to more than `ArtifactLimits.actionBytesPerEpisode`.
    case actionVolumeExceeded = "action_volume_exceeded"
    case agentExited = "agent_exited"
    case agentCrashed = "agent_crashed"
    case sandboxViolation = "sandbox_violation"
    case validatorFailed = "validator_failed"
    /// The task's world program failed (crashed, hung, answered garbage, broke rigor-world/1):
    /// the task is at fault, not the agent (spec/world-protocol.md §6).
    case worldFailed = "world_failed"
    /// The episode's policy rejected an action (a `rejected` rule, or `requires_approval` the
    /// approver did not approve) and the policy ends the episode on a rejection (spec/policy.md).
    /// The action never reached the world. Maps to `sandbox_violation`: the policy is an
    /// allowlist over actions, as the sandbox is over paths and hosts.
    case policyDenied = "policy_denied"
    /// The model gateway's call budget (`[models] calls`) was spent and the agent asked again
    /// (spec/model-gateway.md §5).
    case modelCallsExhausted = "model_calls_exhausted"
    /// The model gateway's input or output token budget was spent (spec/model-gateway.md §5).
    case modelTokensExhausted = "model_tokens_exhausted"
    /// In replay, the agent sent a model request the tape does not hold (spec/model-gateway.md §3).
    case modelRequestUnrecorded = "model_request_unrecorded"

    public var failureType: FailureType? {
        switch self {
        case .success: return nil
        case .stepsExhausted, .toolCallsExhausted, .modelCallsExhausted, .modelTokensExhausted: return .budgetExhausted
        case .wallClockExhausted, .actTimeout: return .timeout
        case .unknownAction, .invalidArguments, .malformedAction, .protocolError, .actionTooDeep, .actionVolumeExceeded,
             .agentExited, .agentCrashed, .modelRequestUnrecorded:
            return .invalidAction
        case .sandboxViolation, .policyDenied: return .sandboxViolation
        case .validatorFailed, .worldFailed: return .logicFailure
        }
    }
}

/// Identity strings every Rigor artifact carries.
public enum RigorIdentity {
    public static let name = "rigor"
    public static let version = "0.1.0"
    public static let specVersion = "tracecore-spec-v1.0"
    public static let protocolVersion = "rigor-agent/1"
}
