/// Step and tool-call counts: a budget, what remains of it, or what one step used.
public struct BudgetCounts: Sendable, Equatable, Codable {
    public var steps: Int
    public var toolCalls: Int

    public init(steps: Int, toolCalls: Int) {
        self.steps = steps
        self.toolCalls = toolCalls
    }

    public var json: JSON { ["steps": .int(steps), "tool_calls": .int(toolCalls)] }
}

/// The budgets an episode runs under, frozen by the task manifest.
public struct Budgets: Sendable, Equatable, Codable {
    public var steps: Int
    public var toolCalls: Int
    public var wallClockSeconds: Int?

    public init(steps: Int, toolCalls: Int, wallClockSeconds: Int?) {
        self.steps = steps
        self.toolCalls = toolCalls
        self.wallClockSeconds = wallClockSeconds
    }

    public var counts: BudgetCounts { BudgetCounts(steps: steps, toolCalls: toolCalls) }

    public var json: JSON {
        var o: [String: JSON] = ["steps": .int(steps), "tool_calls": .int(toolCalls)]
        if let w = wallClockSeconds { o["wall_clock_seconds"] = .int(w) }
        return .object(o)
    }
}

/// One entry of `action_trace`: what the agent saw, what it asked for, what happened.
public struct TraceStep: Sendable {
    public var step: Int
    public var actionTimestamp: Timestamp
    public var observation: JSON
    public var action: JSON
    public var result: JSON
    public var ioAudit: [JSON]
    public var budgetAfter: BudgetCounts
    public var budgetDelta: BudgetCounts
    public var intent: String?
    /// The policy's decision on the action (nil when the episode runs without a policy, so
    /// artifacts without one do not change). Hashed.
    public var policy: PolicyRecord?
    /// Evidence checks the world and the agent attached to this step, in that order. Hashed.
    public var evidence: [EvidenceCheck]

    public init(
        step: Int, actionTimestamp: Timestamp, observation: JSON, action: JSON, result: JSON,
        ioAudit: [JSON], budgetAfter: BudgetCounts, budgetDelta: BudgetCounts, intent: String?,
        policy: PolicyRecord? = nil, evidence: [EvidenceCheck] = []
    ) {
        self.step = step
        self.actionTimestamp = actionTimestamp
        self.observation = observation
        self.action = action
        self.result = result
        self.ioAudit = ioAudit
        self.budgetAfter = budgetAfter
        self.budgetDelta = budgetDelta
        self.intent = intent
        self.policy = policy
        self.evidence = evidence
    }

    public var json: JSON {
        var o: [String: JSON] = [
            "step": .int(step),
            "action_ts": .string(actionTimestamp.rfc3339),
            "observation": observation,
            "action": action,
            "result": result,
            "io_audit": .array(ioAudit),
            "budget_after_step": budgetAfter.json,
            "budget_delta": budgetDelta.json,
        ]
        if let intent { o["intent"] = .string(intent) }
        if let policy { o["policy"] = policy.json }
        if !evidence.isEmpty { o["evidence"] = .array(evidence.map(\.json)) }
        return .object(o)
    }
}

/// The validator's last word on an episode; always present in a Rigor artifact.
public struct ValidatorVerdict: Sendable, Equatable {
    public var success: Bool
    public var message: String
    /// True when the verdict ends the episode whatever the agent does next.
    public var terminal: Bool
    /// The step after which the validator last ran (0: it never ran).
    public var step: Int
    /// What a world program's validator returned besides its verdict (a TraceCore validator's
    /// whole answer); absent for built-in worlds, so their artifacts do not change.
    public var payload: JSON?

    public init(success: Bool, message: String, terminal: Bool, step: Int, payload: JSON? = nil) {
        self.success = success
        self.message = message
        self.terminal = terminal
        self.step = step
        self.payload = payload
    }

    public var json: JSON {
        var o: [String: JSON] = ["success": .bool(success), "message": .string(message), "terminal": .bool(terminal), "step": .int(step)]
        if let payload { o["payload"] = payload }
        return .object(o)
    }
}

/// Everything an episode's artifact records, before hashing.
///
/// `json()` builds the TraceCore-shaped object; `sealed()` adds `artifact_hash` computed with
/// the Rigor recipe. Fields that say when or how fast (timestamps, `diagnostics`) are outside
/// the hash, so the same inputs always give the same `artifact_hash`.
public struct Artifact: Sendable {
    public var runID: String
    public var agentRef: String
    public var agentHash: String
    public var taskID: String
    public var taskVersion: Int
    public var taskHash: String
    public var seed: Int
    public var budgets: Budgets
    public var termination: TerminationReason
    public var failureReason: String?
    public var trace: [TraceStep]
    public var toolCallsUsed: Int
    public var validator: ValidatorVerdict
    public var startedAt: Timestamp
    public var completedAt: Timestamp
    public var sandbox: JSON
    public var diagnostics: JSON
    public var gitSHA: String?
    /// `WorldKey.id` of the key the world was built under (hashed: a world built under another
    /// key is another episode). Nil only for artifacts of worlds that take no key.
    public var worldKeyID: String?
    /// The policy the episode ran under (`Policy.json`: its hash and layers), hashed; nil
    /// without one, so artifacts without a policy do not change.
    public var policy: JSON?
    /// What the agent proposed on the TRACE endpoint (spec/trace-endpoint.md), in order, each
    /// with its step, decision, rule and evidence; hashed. Nil when the episode offered no
    /// endpoint, so artifacts without one do not change.
    public var traceActions: [JSON]?
    /// The model gateway's account of the episode (spec/model-gateway.md §7): its budgets, the
    /// calls and tokens used, the tape's hash. Hashed; nil when the episode had no gateway.
    public var models: JSON?
    /// `determinism.tooling.models`: the (provider, model) pairs called, each with the tape's
    /// hash as `version` (empty without model calls).
    public var toolingModels: [JSON] = []

    public init(
        runID: String, agentRef: String, agentHash: String, taskID: String, taskVersion: Int, taskHash: String,
        seed: Int, budgets: Budgets, termination: TerminationReason, failureReason: String?, trace: [TraceStep],
        toolCallsUsed: Int, validator: ValidatorVerdict, startedAt: Timestamp, completedAt: Timestamp,
        sandbox: JSON, diagnostics: JSON, gitSHA: String?
    ) {
        self.runID = runID
        self.agentRef = agentRef
        self.agentHash = agentHash
        self.taskID = taskID
        self.taskVersion = taskVersion
        self.taskHash = taskHash
        self.seed = seed
        self.budgets = budgets
        self.termination = termination
        self.failureReason = failureReason
        self.trace = trace
        self.toolCallsUsed = toolCallsUsed
        self.validator = validator
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.sandbox = sandbox
        self.diagnostics = diagnostics
        self.gitSHA = gitSHA
    }

    public var taskRef: String { "\(taskID)@\(taskVersion)" }
    public var success: Bool { termination == .success }
    /// Always the trace length: a step is counted exactly when it is recorded.
    public var stepsUsed: Int { trace.count }

    public func json() -> JSON {
        guard policy != nil || traceActions != nil || models != nil || !toolingModels.isEmpty,
              case .object(var o) = baseJSON() else { return baseJSON() }
        if let policy { o["policy"] = policy }
        if let traceActions { o["trace_actions"] = .array(traceActions) }
        if let models { o["models"] = models }
        if !toolingModels.isEmpty { o["determinism"] = ["seed": .int(seed), "tooling": ["models": .array(toolingModels), "mocks": []]] }
        return .object(o)
    }

    private func baseJSON() -> JSON {
        let elapsed = completedAt.seconds(since: startedAt)
        return .object([
            "spec_version": .string(RigorIdentity.specVersion),
            "runtime_identity": [
                "name": .string(RigorIdentity.name), "version": .string(RigorIdentity.version),
                "git_sha": gitSHA.map(JSON.string) ?? .null,
            ],
            "harness_version": .string(RigorIdentity.version),
            "run_id": .string(runID),
            "trace_id": .string(runID),
            "agent_ref": .string(agentRef),
            "agent_hash": .string(agentHash),
            "task_id": .string(taskID),
            "task_ref": .string(taskRef),
            "task_hash": .string(taskHash),
            "seed": .int(seed),
            "budgets": budgets.json,
            "success": .bool(success),
            "termination_reason": .string(termination.rawValue),
            "failure_type": termination.failureType.map { .string($0.rawValue) } ?? .null,
            "failure_reason": failureReason.map(JSON.string) ?? .null,
            "steps_used": .int(stepsUsed),
            "tool_calls_used": .int(toolCallsUsed),
            "metrics": ["steps_used": .int(stepsUsed), "tool_calls_used": .int(toolCallsUsed)],
            "started_at": .string(startedAt.rfc3339),
            "completed_at": .string(completedAt.rfc3339),
            "wall_clock_elapsed_s": .double(max(0, (elapsed * 1e6).rounded() / 1e6)),
            "action_trace": .array(trace.map(\.json)),
            "validator": validator.json,
            "sandbox": sandbox,
            "determinism": ["seed": .int(seed), "tooling": ["models": [], "mocks": []]],
            "diagnostics": diagnostics,
            "world_key_id": worldKeyID.map(JSON.string) ?? .null,
        ])
    }

    /// The artifact JSON with its `artifact_hash`.
    public func sealed() throws(CanonicalJSONError) -> JSON {
        try sealedWithHashedBytes().artifact
    }

    /// `sealed()`, together with the bytes its `artifact_hash` was computed over (the JCS of
    /// its hashed part), for callers that need them again — the store keeps exactly these bytes.
    public func sealedWithHashedBytes() throws(CanonicalJSONError) -> (artifact: JSON, hashedBytes: [UInt8]) {
        guard case .object(var members) = json() else { return (json(), []) }
        let bytes = try HashRecipe.rigor.hashedBytes(of: .object(members))
        members["artifact_hash"] = .string(Digest.sha256(bytes))
        return (.object(members), bytes)
    }
}
