import Foundation
import RigorAgentHost
import RigorSpec
import RigorStore
import RigorTasks

/// The verdict of re-running a recorded episode.
public struct ReplayReport: Sendable {
    public enum Status: String, Sendable {
        /// Same trace, same outcome, same artifact_hash.
        case reproduced
        /// The re-run went another way (the first divergent step says where).
        case nonDeterministic = "non_deterministic"
        /// The task or the agent changed since the recording; nothing was run.
        case changed
    }

    public let status: Status
    public let recordedHash: String?
    public let replayedHash: String?
    public let changes: [String]
    public let divergence: Divergence?
    public let replayRunID: String?
    /// Hashed top-level fields that differ besides the trace (e.g. sandbox limits, versions).
    public var otherChanges: [String] = []
    /// Why the replayed episode ended, when it did not reproduce and ended otherwise than the
    /// recording (e.g. `model_request_unrecorded: step 2, model request 2 … differs at …`).
    public var replayedFailure: String?

    public var json: JSON {
        [
            "status": .string(status.rawValue),
            "recorded_hash": recordedHash.map(JSON.string) ?? .null,
            "replayed_hash": replayedHash.map(JSON.string) ?? .null,
            "changes": .array(changes.map(JSON.string)),
            "divergence": divergence?.json ?? .null,
            "replay_run_id": replayRunID.map(JSON.string) ?? .null,
            "other_changes": .array(otherChanges.map(JSON.string)),
            "replayed_failure": replayedFailure.map(JSON.string) ?? .null,
        ]
    }
}

/// Re-runs a recorded episode (agent, task, seed, budgets and guard as recorded) and compares it
/// step by step with the recording.
public enum Replay {
    /// The request that reproduces `artifact`, and what changed since it was recorded (task or
    /// agent content, by hash).
    /// `worldKey`: the key the recording was made under when the caller holds it (a bundle's or
    /// a baseline's); nil: this workspace's key, which must be the recording's.
    /// `isolation`: the level to run at (nil: this machine's strongest; not part of the hash).
    /// `policyFile`: the `--policy` the recording ran with (the task's own policy comes with the
    /// task, the project's with the project).
    public static func plan(_ artifact: JSON, in workspace: Workspace, worldKey: WorldKey? = nil,
                            isolation: IsolationLevel? = nil, policyFile: String? = nil,
                            models: ModelOptions? = nil) throws(RunnerError) -> (EpisodeRequest, [String]) {
        try planFromFile(artifact, agentFile: nil, agentRef: nil, worldKey: worldKey, isolation: isolation, policyFile: policyFile,
                         models: models, in: workspace)
    }

    /// As `plan`, running `agentFile` (an unpacked copy) under the recorded `agentRef`.
    /// `resolvedAgent`: the agent already resolved (a bundle's declared agent, `BundledAgent`).
    static func planFromFile(_ artifact: JSON, agentFile: String?, agentRef: String?, worldKey: WorldKey? = nil,
                             isolation: IsolationLevel? = nil, policyFile: String? = nil, resolvedAgent: AgentCommand? = nil,
                             models: ModelOptions? = nil, in workspace: Workspace) throws(RunnerError) -> (EpisodeRequest, [String]) {
        guard let agent = artifact["agent_ref"]?.stringValue, let task = artifact["task_ref"]?.stringValue,
              let seed = artifact["seed"]?.intValue else {
            throw .usage("the recording lacks agent_ref, task_ref or seed; it cannot be replayed")
        }
        // The level the recording ran at is not part of what the episode is (it is outside the
        // hash): a replay runs at this machine's default, and must reproduce all the same.
        let key: WorldKey
        if let worldKey { key = worldKey } else { key = try workspace.worldKey() }
        if let recordedKey = artifact["world_key_id"]?.stringValue, recordedKey != key.id {
            throw .usage("this run's world was built under world key \(recordedKey), not under this workspace's (\(key.id)): "
                + "replay it from its bundle (rigor bundle replay) or baseline, which carry their key, or set "
                + "\(WorldKeyFile.environmentVariable) to the key it was recorded with")
        }
        let actTimeout: Double? = switch artifact["sandbox"]?["limits"]?["act_timeout_seconds"] {
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: nil
        }
        if let actTimeout, let problem = InputRanges.actTimeoutSeconds.problem(actTimeout) {
            throw .usage("the recording's sandbox.limits.act_timeout_seconds \(problem); it cannot be replayed")
        }
        var options = RunOptions(agent: agentRef ?? agent, task: task, seed: seed, isolation: isolation,
                                 actTimeoutSeconds: actTimeout, agentFile: agentFile, worldKey: key)
        options.policyFile = policyFile
        // An episode that offered the TRACE endpoint recorded what was proposed on it (even
        // nothing): the replay offers it again.
        options.traceEndpoint = artifact["trace_actions"] != nil
        // An episode that had the model gateway is replayed from its tape, never live unless
        // asked (`models`: the caller's mode, e.g. `--models live`).
        if artifact["models"] != nil || models?.requested == true {
            var m = models ?? ModelOptions()
            if m.tape == nil, m.tapeHash == nil { m.tapeHash = ModelOptions.tapeHash(of: artifact) }
            if m.mode == nil { m.mode = .replay }
            options.models = m
        }
        // The interpreter a Python agent ran under (`--python`), when this machine has it.
        if let python = artifact["diagnostics"]?["agent"]?["python"]?.stringValue, python.hasPrefix("/"),
           FileManager.default.fileExists(atPath: python) {
            options.python = python
        }
        let request = try workspace.prepare(options, resolvedAgent: resolvedAgent)
        var changes: [String] = []
        if artifact["world_key_id"]?.stringValue == nil {
            changes.append("the recording has no world_key_id (made before keyed worlds, or by another runtime): its world cannot be rebuilt")
        }
        if let recorded = artifact["task_hash"]?.stringValue, recorded != request.task.taskHash {
            changes.append("task \(task) changed since the recording: task_hash was \(recorded), is now \(request.task.taskHash)")
        }
        if let recorded = artifact["agent_hash"]?.stringValue, recorded != request.agent.agentHash {
            changes.append("agent \(agent) changed since the recording: agent_hash was \(recorded), is now \(request.agent.agentHash)")
        }
        let recordedPolicy = artifact["policy"]?["hash"]?.stringValue
        if recordedPolicy != request.policy?.hash {
            let was = recordedPolicy.map { "\($0) (layers: \((artifact["policy"]?["layers"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")))" } ?? "none"
            changes.append("the policy differs from the recording's: it was \(was), is now \(request.policy.map { "\($0.hash) (layers: \($0.layers.joined(separator: ", ")))" } ?? "none"); pass the --policy the run was made with")
        }
        if let budgets = artifact["budgets"], budgets != request.task.manifest.budgets.json {
            changes.append("the task's budgets changed since the recording")
        }
        return (request, changes)
    }

    /// Replays `artifact`. With changes and without `allowChanged`, nothing runs.
    public static func run(_ artifact: JSON, in workspace: Workspace, allowChanged: Bool, worldKey: WorldKey? = nil,
                           isolation: IsolationLevel? = nil, policyFile: String? = nil, models: ModelOptions? = nil,
                           keep: ((EpisodeResult) throws(RunnerError) -> Void)? = nil) throws(RunnerError) -> ReplayReport {
        let (request, changes) = try plan(artifact, in: workspace, worldKey: worldKey, isolation: isolation, policyFile: policyFile,
                                          models: models)
        let recorded = artifact["artifact_hash"]?.stringValue
        if !changes.isEmpty && !allowChanged {
            return ReplayReport(status: .changed, recordedHash: recorded, replayedHash: nil, changes: changes, divergence: nil, replayRunID: nil)
        }
        let result = try Episode.run(request)
        try keep?(result)
        return compare(recorded: artifact, replayed: result, changes: changes)
    }

    /// The verdict `rigor diff` and `rigor ci` give the same pair (`HashedComparison`):
    /// reproduced exactly when both recompute to one artifact_hash, which the recording carries
    /// (an edited recording never reproduces).
    public static func compare(recorded: JSON, replayed: EpisodeResult, changes: [String] = []) -> ReplayReport {
        let comparison = HashedComparison(recorded, replayed.artifact)
        let recordedHash = recorded["artifact_hash"]?.stringValue
        let same = comparison.same && recordedHash == comparison.hashA
        var report = ReplayReport(status: same ? .reproduced : .nonDeterministic, recordedHash: recordedHash,
                                  replayedHash: replayed.artifactHash, changes: changes, divergence: comparison.divergence,
                                  replayRunID: replayed.record.runID)
        if !same {
            report.otherChanges = comparison.hashedFields
            let ended = replayed.record.termination.rawValue
            if ended != recorded["termination_reason"]?.stringValue || replayed.record.failureReason != recorded["failure_reason"]?.stringValue {
                report.replayedFailure = ended + (replayed.record.failureReason.map { ": \($0)" } ?? "")
            }
        }
        return report
    }
}
