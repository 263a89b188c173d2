import RigorSpec
import RigorStore

/// Rigor-shaped artifacts made directly as JSON, with every field the runs index reads chosen by
/// the caller, and stores of many of them: for the metrics tests and the metrics benchmarks
/// (100,000 runs are recorded in seconds, not run as episodes).
///
/// `artifact_hash` is computed by the real recipe, so two runs of the same (agent, task, seed,
/// outcome, steps, trace) hash the same whatever their run ids and times: what a reproduced run
/// looks like. `variant` changes the trace, hence the hash: what a non-deterministic run looks like.
public enum SyntheticRuns {
    public struct Spec: Sendable {
        public var agent = "agents/agent_a.py"
        public var task = "task_a@1"
        public var seed = 0
        public var success = true
        public var failureType: String?
        public var terminationReason = "success"
        public var steps = 3
        public var toolCalls = 2
        /// Microseconds since 1970 of `started_at`.
        public var startedAt: Int64 = 1_764_547_200_000_000  // 2025-12-01T00:00:00Z
        public var wallMicroseconds: Int64 = 1_500_000
        /// Changes the trace (and so the artifact hash) without changing any index column.
        public var variant = 0
        /// Agent-controlled text put into the step's action and result (for hostile-input tests).
        public var agentText = "ok"
        /// How many trace entries the artifact holds; nil: `steps` (benchmarks keep it at 1 so
        /// that filling 100,000 runs measures the index, not trace building).
        public var traceSteps: Int?

        public init() {}
    }

    static func rfc3339(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000
        return Timestamp(seconds: Int(seconds), nanoseconds: Int(micros - seconds * 1_000_000) * 1000).rfc3339
    }

    /// A 32-hex-digit run id for label `index` (unique per index).
    public static func runID(_ index: Int, salt: String = "synthetic") -> String {
        String(Digest.sha256Hex(Array("\(salt)|\(index)".utf8)).prefix(32))
    }

    /// One artifact as `spec` describes it, under `runID`.
    public static func artifact(_ spec: Spec, runID: String) throws -> JSON {
        let started = rfc3339(spec.startedAt)
        let trace: [JSON] = (1...max(1, spec.traceSteps ?? spec.steps)).map { i in
            ["step": .int(i), "action_ts": .string(started),
             "observation": ["step": .int(i), "task": ["id": .string(spec.task)], "visible_state": ["files_seen": []]],
             "action": ["type": "read_file", "args": ["path": .string("/app/\(i).txt")], "intent": .string(spec.agentText)],
             "result": ["ok": .bool(i % 2 == 1), "content": .string(spec.agentText), "variant": .int(spec.variant)],
             "io_audit": [["type": "fs", "op": "read_file", "path": .string("/app/\(i).txt")]],
             "budget_after_step": ["steps": .int(100 - i), "tool_calls": .int(100 - i)],
             "budget_delta": ["steps": 1, "tool_calls": 1]]
        }
        let parts = spec.task.split(separator: "@")
        var members: [String: JSON] = [
            "spec_version": "tracecore-spec-v1.0",
            "runtime_identity": ["name": "rigor", "version": "0.1.0", "git_sha": nil],
            "run_id": .string(runID), "trace_id": .string(runID),
            "agent_ref": .string(spec.agent), "agent_hash": .string(Digest.sha256(Array(spec.agent.utf8))),
            "task_id": .string(String(parts.first ?? "task")), "task_ref": .string(spec.task),
            "task_hash": .string(Digest.sha256(Array(spec.task.utf8))),
            "seed": .int(spec.seed), "budgets": ["steps": 100, "tool_calls": 100, "wall_clock_seconds": 60],
            "success": .bool(spec.success), "termination_reason": .string(spec.terminationReason),
            "failure_type": spec.failureType.map(JSON.string) ?? .null, "failure_reason": spec.success ? .null : "synthetic failure",
            "steps_used": .int(spec.steps), "tool_calls_used": .int(spec.toolCalls),
            "started_at": .string(started), "completed_at": .string(rfc3339(spec.startedAt + spec.wallMicroseconds)),
            "wall_clock_elapsed_s": .double(Double(spec.wallMicroseconds) / 1e6), "harness_version": "0.1.0",
            "action_trace": .array(trace),
            "validator": ["success": .bool(spec.success), "message": "synthetic", "terminal": true],
        ]
        members["artifact_hash"] = .string(try HashRecipe.rigor.hash(.object(members)))
        return .object(members)
    }

    /// Records `count` runs into `store`, `perTransaction` at a time; `spec(i)` describes run i.
    public static func fill(_ store: RunStore, count: Int, perTransaction: Int = 500, salt: String = "synthetic",
                            _ spec: (Int) -> Spec) throws {
        var start = 0
        while start < count {
            let end = min(count, start + perTransaction)
            try store.record(contentsOf: try (start..<end).map { try artifact(spec($0), runID: runID($0, salt: salt)) })
            start = end
        }
    }

    /// A mix like a real store's: `agents` × `tasks` pairings over seeds, a pass rate that differs
    /// per pairing, the failure taxonomy, runs spread over `days` days, and every seed run twice
    /// (one in 50 of the repeats differing).
    public static func mixed(_ i: Int, agents: Int = 5, tasks: Int = 8, days: Int = 30) -> Spec {
        var s = Spec()
        let pairing = i % (agents * tasks)
        s.agent = "agents/agent_\(pairing % agents).py"
        s.task = "task_\(pairing / agents)@1"
        let round = i / (agents * tasks)
        s.seed = round / 2
        let h = Int(truncatingIfNeeded: (UInt64(s.seed) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(pairing)) >> 33)
        s.success = h % 100 < 40 + pairing
        if !s.success {
            let kinds: [(String, String)] = [("budget_exhausted", "steps_exhausted"), ("logic_failure", "validator_failed"),
                                             ("invalid_action", "invalid_action"), ("timeout", "wall_clock_exhausted")]
            (s.failureType, s.terminationReason) = kinds[h % kinds.count]
        }
        s.steps = 1 + h % 40
        s.toolCalls = h % 30
        s.startedAt += Int64(i % days) * 86_400_000_000 + Int64(i % 997) * 1_000_000
        s.wallMicroseconds = Int64(50_000 + (h % 5000) * 200)
        s.variant = round % 2 == 1 && h % 50 == 0 ? 1 : 0
        return s
    }
}
