import Foundation
import RigorSpec

/// `rigor fork` and `rigor blame` (spec/model-gateway.md §9): re-running a recorded LLM episode
/// with some model answers put in place of others.
public enum ModelFork {
    /// What the calls after the replaced ones get: the upstream (`live`, `record`: the
    /// branch's tape is kept), or nothing (`replay`: a call past the tape ends the episode).
    public struct Continuation: Sendable {
        public var mode: ModelMode
        public var upstreams: [String: String]
        /// The `--policy` the parent was made with (the task's and project's come with them).
        public var policyFile: String?

        public init(mode: ModelMode = .record, upstreams: [String: String] = [:]) {
            self.mode = mode
            self.upstreams = upstreams
        }
    }

    /// The tape an artifact names, from `workspace`'s store.
    public static func tape(of artifact: JSON, in workspace: Workspace) throws(RunnerError) -> ModelTape {
        guard artifact["models"] != nil else {
            throw .usage("run \(artifact["run_id"]?.stringValue ?? "?") had no model gateway: there are no model calls to fork at")
        }
        guard let hash = ModelOptions.tapeHash(of: artifact) else {
            throw .usage("run \(artifact["run_id"]?.stringValue ?? "?") made no model call: there is nothing to fork at")
        }
        return try ModelTapeStore(stateDirectory: workspace.stateDirectory).get(hash)
    }

    /// The number (1-based) of the first model call made at `step`.
    public static func call(atStep step: Int, in tape: ModelTape) throws(RunnerError) -> Int {
        guard let index = tape.exchanges.firstIndex(where: { $0.step == step }) else {
            let steps = Set(tape.exchanges.map(\.step)).sorted().map(String.init).joined(separator: ", ")
            throw .usage("no model call was made at step \(step); the run made calls at steps \(steps.isEmpty ? "(none)" : steps)")
        }
        return index + 1
    }

    /// Runs the episode of `artifact` again: calls before `call` are served from the parent's
    /// tape, `call` gets `response`, the calls after it go on as `continuation` says.
    public static func fork(_ artifact: JSON, in workspace: Workspace, call: Int, response: ModelResponseOverride,
                            continuation: Continuation) throws(RunnerError) -> EpisodeResult {
        let parent = try tape(of: artifact, in: workspace)
        guard call >= 1, call <= parent.exchanges.count + 1 else {
            throw .usage("the run made \(parent.exchanges.count) model calls: fork at call 1 to \(parent.exchanges.count + 1)")
        }
        var options = ModelOptions(mode: continuation.mode)
        options.tape = ModelTape(exchanges: Array(parent.exchanges.prefix(call - 1)))
        options.overrides = [call: response]
        options.beyondTape = continuation.mode == .replay ? nil : continuation.mode
        options.upstreams = continuation.upstreams
        return try run(artifact, in: workspace, models: options, policyFile: continuation.policyFile, link: ["parent_run_id": artifact["run_id"] ?? .null,
                                                                        "parent_artifact_hash": artifact["artifact_hash"] ?? .null,
                                                                        "at_call": .int(call), "mutation": "response"])
    }

    /// Runs the episode of `artifact` again with the observation of `step` changed by `patch`
    /// (a JSON merge patch, RFC 7386): the agent sees, and the artifact records, the patched
    /// observation. Model calls are answered from the parent's tape while they match it, then
    /// go on as `continuation` says.
    public static func fork(_ artifact: JSON, in workspace: Workspace, step: Int, observationPatch patch: JSON,
                            continuation: Continuation) throws(RunnerError) -> EpisodeResult {
        let steps = artifact["action_trace"]?.arrayValue?.count ?? 0
        guard step >= 1, step <= steps else { throw .usage("the run has steps 1 to \(steps): fork at one of them") }
        var options = ModelOptions(mode: continuation.mode)
        options.tape = artifact["models"] != nil && ModelOptions.tapeHash(of: artifact) != nil ? try tape(of: artifact, in: workspace) : ModelTape()
        options.beyondTape = continuation.mode == .replay ? nil : continuation.mode
        options.upstreams = continuation.upstreams
        return try run(artifact, in: workspace, models: options, policyFile: continuation.policyFile, observationPatch: (step, patch),
                       link: ["parent_run_id": artifact["run_id"] ?? .null, "parent_artifact_hash": artifact["artifact_hash"] ?? .null,
                              "at_step": .int(step), "mutation": "observation"])
    }

    static func run(_ artifact: JSON, in workspace: Workspace, models: ModelOptions, policyFile: String?,
                    observationPatch: (Int, JSON)? = nil, link: JSON) throws(RunnerError) -> EpisodeResult {
        var (request, changes) = try Replay.plan(artifact, in: workspace, policyFile: policyFile, models: models)
        if !changes.isEmpty {
            throw .usage("the run cannot be forked as it was made: \(changes.joined(separator: "; "))")
        }
        request.forkLink = link
        request.observationPatch = observationPatch
        return try Episode.run(request)
    }

    /// RFC 7386: members of an object patch replace (null removes) members of the target,
    /// recursively; any other patch replaces the target.
    public static func mergePatch(_ target: JSON, _ patch: JSON) -> JSON {
        guard case .object(let changes) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in changes {
            if value == .null { result.removeValue(forKey: key) } else { result[key] = mergePatch(result[key] ?? .null, value) }
        }
        return .object(result)
    }

    // MARK: - Blame

    /// One trial of a bisection: the first `k` calls answered as in the failed run, call k + 1
    /// as in the passing run, the rest as in the passing run (replay) or by the upstream (live).
    public struct Trial: Sendable {
        public let failedCallsKept: Int
        public let runs: Int
        public let passes: Int
        public let runIDs: [String]

        public var rate: Double { runs == 0 ? 0 : Double(passes) / Double(runs) }
        public var passed: Bool { passes * 2 > runs }

        public var json: JSON {
            let (low, high) = Statistics.wilson(successes: passes, trials: runs)
            return ["failed_calls_kept": .int(failedCallsKept), "runs": .int(runs), "passes": .int(passes),
                    "pass_rate": .double(rate), "pass_rate_ci95": [.double(low), .double(high)],
                    "run_ids": .array(runIDs.map(JSON.string))]
        }
    }

    public struct BlameReport: Sendable {
        /// The call (1-based) whose answer in the failed run, in place of the passing run's,
        /// makes the episode fail; nil when none was found.
        public let call: Int?
        /// The step during which the failed run made that call.
        public let step: Int?
        public let trials: [Trial]
        public let note: String?
        public let liveCalls: Int
        public let costUSD: Double

        public var episodes: Int { trials.reduce(0) { $0 + $1.runs } }

        public var json: JSON {
            ["call": call.map(JSON.int) ?? .null, "step": step.map(JSON.int) ?? .null, "episodes": .int(episodes),
             "live_calls": .int(liveCalls), "cost_usd": .double(costUSD), "note": note.map(JSON.string) ?? .null,
             "trials": .array(trials.map(\.json))]
        }
    }

    /// Finds the earliest model answer of `failed` that, taken from `passed` instead, flips
    /// the outcome: a bisection over k = how many of the failed run's answers are kept before
    /// the passing run's take over (k = 0 should pass, k = all should fail). Each trial runs
    /// `repeats` times (a live continuation is stochastic); a trial passes when most of its
    /// runs do, and its pass rate is reported with a 95% Wilson interval.
    public static func blame(failed: JSON, passed: JSON, in workspace: Workspace, continuation: Continuation,
                             repeats: Int, keep: ((EpisodeResult) throws(RunnerError) -> Void)? = nil) throws(RunnerError) -> BlameReport {
        guard failed["task_ref"] == passed["task_ref"], failed["agent_ref"] == passed["agent_ref"] else {
            throw .usage("blame compares two runs of one agent on one task: the failed run is \(failed["agent_ref"]?.stringValue ?? "?") on "
                + "\(failed["task_ref"]?.stringValue ?? "?"), the passing one \(passed["agent_ref"]?.stringValue ?? "?") on \(passed["task_ref"]?.stringValue ?? "?")")
        }
        guard failed["seed"] == passed["seed"] else {
            throw .usage("blame compares two runs of one seed: the failed run has seed \(failed["seed"]?.intValue ?? 0), the passing one \(passed["seed"]?.intValue ?? 0)")
        }
        guard passed["success"]?.boolValue == true else { throw .usage("the run given with --against did not pass") }
        let failedTape = try tape(of: failed, in: workspace)
        let passedTape = try tape(of: passed, in: workspace)
        var trials: [Trial] = []
        var liveCalls = 0
        var cost = 0.0
        var cache: [Int: Trial] = [:]
        func trial(_ k: Int) throws(RunnerError) -> Trial {
            if let t = cache[k] { return t }
            var options = ModelOptions(mode: continuation.mode)
            options.tape = ModelTape(exchanges: Array(failedTape.exchanges.prefix(k)))
            // Replay: every later answer is the passing run's (by call number), offline. Live or
            // record: only call k + 1 gets the passing run's answer; the model answers the rest.
            for (i, e) in passedTape.exchanges.enumerated() where i >= k && (continuation.mode == .replay || i == k) {
                options.overrides[i + 1] = ModelResponseOverride(status: e.status, contentType: e.contentType, body: e.response)
            }
            options.beyondTape = continuation.mode == .replay ? nil : continuation.mode
            options.upstreams = continuation.upstreams
            var passes = 0
            var ids: [String] = []
            for _ in 0..<max(1, repeats) {
                let result = try run(failed, in: workspace, models: options, policyFile: continuation.policyFile,
                                     link: ["parent_run_id": failed["run_id"] ?? .null, "against_run_id": passed["run_id"] ?? .null,
                                            "failed_calls_kept": .int(k), "mutation": "blame"])
                try keep?(result)
                if result.record.success { passes += 1 }
                ids.append(result.record.runID)
                liveCalls += result.record.diagnostics["models"]?["live_calls"]?.intValue ?? 0
                cost += ModelAccount.cost(result.record.diagnostics, liveOnly: true)
            }
            let t = Trial(failedCallsKept: k, runs: max(1, repeats), passes: passes, runIDs: ids)
            cache[k] = t
            trials.append(t)
            return t
        }
        let n = failedTape.exchanges.count
        let allPassing = try trial(0)
        guard allPassing.passed else {
            return BlameReport(call: nil, step: nil, trials: trials,
                               note: "with every answer taken from the passing run the episode still fails: its outcome is not decided by the model's answers",
                               liveCalls: liveCalls, costUSD: cost)
        }
        let allFailing = try trial(n)
        guard !allFailing.passed else {
            return BlameReport(call: nil, step: nil, trials: trials,
                               note: "with all of the failed run's \(n) answers kept the episode passes: the failure did not come from the model's answers",
                               liveCalls: liveCalls, costUSD: cost)
        }
        var lo = 0, hi = n
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try trial(mid).passed { lo = mid } else { hi = mid }
        }
        return BlameReport(call: hi, step: failedTape.exchanges[hi - 1].step, trials: trials.sorted { $0.failedCallsKept < $1.failedCallsKept },
                           note: nil, liveCalls: liveCalls, costUSD: cost)
    }
}
