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
            "isolation": isolation(r.artifact).map(JSON.string) ?? .null,
            "spec_problems": .array(problems.map { .string($0.description) }),
            "strict_spec": .bool(strict),
        ]
    }

    /// The level the episode ran at: `diagnostics.guard.isolation` (how this machine ran it,
    /// outside the hash since issue 17.1), else `sandbox.isolation` in artifacts from before.
    public static func isolation(_ artifact: JSON) -> String? {
        artifact["diagnostics"]?["guard"]?["isolation"]?.stringValue ?? artifact["sandbox"]?["isolation"]?.stringValue
    }

    /// What the memory limit covered, for the `memory` line of `rigor run`: the whole episode
    /// (its cgroup), each process alone (rlimits, no cgroup), or nothing at all (`none`, where
    /// no rlimit is set: spec/guard.md "What every level does"). `warning` when it is less than
    /// the whole episode. Nil when the artifact says neither the limit nor how it ran.
    public static func memoryCoverage(_ artifact: JSON) -> (text: String, warning: Bool)? {
        guard let bytes = artifact["sandbox"]?["limits"]?["address_space_bytes"]?.intValue, let level = isolation(artifact) else { return nil }
        let amount = bytes % (1 << 30) == 0 ? "\(bytes >> 30) GiB" : "\(bytes >> 20) MiB"
        if level == "none" {
            return ("no limit at --isolation none: the task's \(amount) is enforced neither per process nor for the episode", true)
        }
        guard let cgroup = artifact["diagnostics"]?["cgroup"] else { return nil }
        if cgroup["used"] == true {
            return ("\(amount) for all the episode's processes together (cgroup v\(cgroup["version"]?.intValue ?? 0)), and per process", false)
        }
        return ("\(amount) per process only, not for the episode as a whole: \(cgroup["reason"]?.stringValue ?? "no cgroup")", true)
    }
}
