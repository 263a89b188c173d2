import RigorSpec

/// The JSON view of one finished episode: what `rigor run --json` prints (and `--record` adds
/// to), the summary a client needs without reading the whole artifact.
public enum EpisodeView {
    public static func json(_ r: EpisodeResult, path: String?, stateDirectory: String, problems: [SpecProblem], strict: Bool) -> JSON {
        let a = r.record
        return [
            "run_id": .string(a.runID),
            "agent_ref": .string(a.agentRef),
            "task_ref": .string(a.taskRef),
            "seed": .int(a.seed),
            "success": .bool(a.success),
            "termination_reason": .string(a.termination.rawValue),
            "failure_type": a.termination.failureType.map { .string($0.rawValue) } ?? .null,
            "failure_reason": a.failureReason.map(JSON.string) ?? .null,
            "steps_used": .int(a.stepsUsed),
            "tool_calls_used": .int(a.toolCallsUsed),
            "budgets": a.budgets.json,
            "artifact_hash": .string(r.artifactHash),
            "artifact_path": path.map(JSON.string) ?? .null,
            "state_dir": .string(stateDirectory),
            "isolation": a.sandbox["isolation"] ?? .null,
            "spec_problems": .array(problems.map { .string($0.description) }),
            "strict_spec": .bool(strict),
        ]
    }
}
