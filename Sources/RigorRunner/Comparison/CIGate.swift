import Foundation
import RigorAgentHost
import RigorSpec
import RigorTasks

/// What `rigor ci` holds a re-run to (`--gate`).
public enum CIGateMode: String, Sendable, CaseIterable {
    /// Every baseline reproduces exactly: same outcome, same artifact_hash, no more budget used.
    case exact
    /// The outcome and the spec must hold; a changed hash or budget use is reported, not failed
    /// (an agent that now solves a task in fewer steps passes).
    case outcome
    /// The pass rate must not drop significantly: McNemar's test per pairing over the
    /// baselines' seeds, as `rigor compare` does; single flips are reported, not failed.
    case stats

    /// What the Markdown summary and the report say about the mode.
    public var explanation: String {
        switch self {
        case .exact: return "exact: every baseline must reproduce its artifact_hash, outcome and budget use"
        case .outcome: return "outcome: every baseline's outcome must hold and every artifact pass the spec; hash and budget changes are reported, not failed"
        case .stats: return "stats: no pairing's pass rate may drop significantly over the baselines' seeds (McNemar, p < 0.05); spec failures still fail"
        }
    }
}

/// The verdict on one baseline in `rigor ci`.
public struct CICheck: Sendable {
    public let baseline: Baseline
    /// Why this is a regression; empty when the baseline reproduced (or, under the outcome and
    /// stats gates, when what changed does not fail the gate).
    public let regressions: [String]
    /// What changed without failing the gate (outcome and stats gates).
    public var changes: [String] = []
    public let newArtifact: JSON?
    /// The first step whose digest differs from the baseline's chain (1-based).
    public let firstDivergentStep: Int?
    /// The old and new step there, and what differs, when the old artifact is at hand.
    public let divergence: Divergence?
    public let newRunID: String?

    public var reproduced: Bool { regressions.isEmpty }
    /// Reproduced exactly: nothing failed and nothing changed.
    public var identical: Bool { regressions.isEmpty && changes.isEmpty }

    public var oldSummary: String { CICheck.summary(baseline.document["outcome"], used: baseline.document["used"]) }
    public var newSummary: String {
        guard let a = newArtifact else { return "not run" }
        return CICheck.summary(["success": a["success"] ?? .null, "termination_reason": a["termination_reason"] ?? .null],
                               used: ["steps": a["steps_used"] ?? .null, "tool_calls": a["tool_calls_used"] ?? .null])
    }

    public static func summary(_ outcome: JSON?, used: JSON?) -> String {
        let reason = outcome?["termination_reason"]?.stringValue ?? "?"
        return "\(reason) \(used?["steps"]?.intValue ?? 0)st/\(used?["tool_calls"]?.intValue ?? 0)tc"
    }
}

/// `rigor ci`: re-run every baseline, check each artifact against the spec, compare it with its
/// baseline. A regression is an outcome change, an artifact hash change (with the first
/// divergent step), budget usage above the baseline, a spec failure, or a baseline whose task or
/// agent no longer exists.
public enum CIGate {
    public static func run(_ baselines: [Baseline], in workspace: Workspace, workers: Int, isolation: IsolationLevel? = nil,
                           mode: CIGateMode = .exact, forkServer: ForkServerUse = .python,
                           models: ModelOptions? = nil, handle: BatchHandle? = nil,
                           progress: @escaping @Sendable (Int, BatchOutcome) -> Void) throws(RunnerError) -> [CICheck] {
        var checks: [Int: CICheck] = [:]
        // Group runnable baselines by the world key and act timeout they were recorded under
        // (the level this machine isolates at is not part of what an episode is: every baseline
        // runs at the default, or `isolation`); refuse missing pairings.
        var groups: [String: [(Int, BatchItem)]] = [:]
        var guards: [String: (WorldKey, Double?, Bool)] = [:]
        for (i, b) in baselines.enumerated() {
            guard let worldKey = b.worldKey else {
                checks[i] = CICheck(baseline: b, regressions: ["the baseline has no world_key (recorded before keyed worlds): re-record it with rigor baseline record"],
                                    newArtifact: nil, firstDivergentStep: nil, divergence: nil, newRunID: nil)
                continue
            }
            let act: Double? = switch b.document["act_timeout_seconds"] {
            case .int(let v)?: Double(v)
            case .double(let v)?: v
            default: nil
            }
            if let act, let problem = InputRanges.actTimeoutSeconds.problem(act) {
                checks[i] = CICheck(baseline: b, regressions: ["its act_timeout_seconds \(problem)"], newArtifact: nil,
                                    firstDivergentStep: nil, divergence: nil, newRunID: nil)
                continue
            }
            do {
                _ = try workspace.prepare(RunOptions(agent: b.agentRef, task: b.taskRef, seed: b.seed, isolation: isolation,
                                                     actTimeoutSeconds: act, worldKey: worldKey))
            } catch {
                if case .agent(.isolationUnavailable) = error { throw error }
                checks[i] = CICheck(baseline: b, regressions: ["its task or agent no longer exists: \(error)"], newArtifact: nil,
                                    firstDivergentStep: nil, divergence: nil, newRunID: nil)
                continue
            }
            let key = "\(worldKey.hex)|\(act.map { String($0) } ?? "default")|\(b.traceEndpoint ? "trace" : "-")|\(b.hasModels ? "models" : "-")"
            guards[key] = (worldKey, act, b.traceEndpoint)
            var item = BatchItem(pairing: Pairing(name: b.pairing, agent: b.agentRef, task: b.taskRef), seed: b.seed)
            do { item.tape = try b.tape() } catch {
                checks[i] = CICheck(baseline: b, regressions: ["its model tape cannot be read: \(error)"], newArtifact: nil,
                                    firstDivergentStep: nil, divergence: nil, newRunID: nil)
                continue
            }
            groups[key, default: []].append((i, item))
        }
        for (key, members) in groups.sorted(by: { $0.key < $1.key }) {
            guard let (worldKey, act, traceEndpoint) = guards[key] else { continue }
            var batch = Batch(items: members.map(\.1), workers: workers, isolation: isolation, actTimeoutSeconds: act, strictSpec: true)
            batch.forkServer = forkServer
            batch.worldKey = worldKey
            batch.traceEndpoint = traceEndpoint
            // Baselines of LLM runs are replayed from their tapes, offline (spec/model-gateway.md §2).
            // `--models live|record` re-asks the model instead (the gate then measures the model too).
            if key.hasSuffix("|models") {
                batch.models = models ?? ModelOptions(mode: .replay)
                if batch.models.mode != .replay { for i in batch.items.indices { batch.items[i].tape = nil } }
            }
            let outcomes = try batch.run(in: workspace, handle: handle ?? BatchHandle(), progress: progress)
            // Cancelled: some baselines did not run, and a partial gate is no verdict.
            if handle?.isCancelled == true { throw .usage("the CI gate was cancelled before every baseline ran") }
            for ((i, _), outcome) in zip(members, outcomes) {
                checks[i] = compare(baselines[i], outcome, mode: mode)
            }
        }
        return baselines.indices.compactMap { checks[$0] }
    }

    /// The gate's verdict over all checks: under `stats`, McNemar's test per pairing on the
    /// baselines' outcomes against the re-run's (the comparison `rigor compare` makes).
    public static func comparison(_ checks: [CICheck]) -> BatchComparison {
        var before: [BatchComparison.Episode] = []
        var after: [BatchComparison.Episode] = []
        for c in checks {
            guard let now = c.newArtifact else { continue }
            before.append(.init(pairing: c.baseline.pairing, seed: c.baseline.seed, passed: c.baseline.document["outcome"]?["success"]?.boolValue == true))
            after.append(.init(pairing: c.baseline.pairing, seed: c.baseline.seed, passed: now["success"]?.boolValue == true))
        }
        return BatchComparison(before: before, after: after)
    }

    /// Whether the gate fails: any check's regression, and under `stats` a significant drop.
    public static func fails(_ checks: [CICheck], mode: CIGateMode) -> Bool {
        if checks.contains(where: { !$0.reproduced }) { return true }
        return mode == .stats && comparison(checks).hasSignificantDrop
    }

    /// Sorts what differs from the baseline into what fails `mode` and what is only reported.
    static func compare(_ b: Baseline, _ o: BatchOutcome, mode: CIGateMode) -> CICheck {
        let exact = compare(b, o)
        guard mode != .exact else { return exact }
        var failing: [String] = []
        var reported: [String] = []
        for r in exact.regressions {
            let isSpec = r.hasPrefix("spec: ")
            let isOutcome = r.hasPrefix("outcome changed")
            if isSpec || (mode == .outcome && isOutcome) { failing.append(r) } else { reported.append(r) }
        }
        var check = CICheck(baseline: b, regressions: failing, newArtifact: exact.newArtifact, firstDivergentStep: exact.firstDivergentStep,
                            divergence: exact.divergence, newRunID: exact.newRunID)
        check.changes = reported
        return check
    }

    static func compare(_ b: Baseline, _ o: BatchOutcome) -> CICheck {
        let now = o.artifact
        var regressions: [String] = []
        let old = b.document["outcome"]
        for field in ["success", "termination_reason", "failure_type"] where !Divergence.sameValue(old?[field], now[field]) {
            let was = old?[field].flatMap { try? $0.canonicalString() } ?? "null"
            let isNow = now[field].flatMap { try? $0.canonicalString() } ?? "null"
            regressions.append("outcome changed: \(field) \(was) → \(isNow)")
        }
        var firstStep: Int? = nil
        var divergence: Divergence? = nil
        if o.artifactHash != b.artifactHash {
            let oldChain = b.stepDigests, newChain = Baseline.stepDigests(now)
            firstStep = zip(oldChain, newChain).enumerated().first { $0.element.0 != $0.element.1 }.map { $0.offset + 1 }
                ?? (oldChain.count != newChain.count ? min(oldChain.count, newChain.count) + 1 : nil)
            // The comparison diff and replay make of the same pair (`HashedComparison`).
            let comparison = b.storedArtifact().map { HashedComparison($0, now) }
            divergence = comparison?.divergence
            if let step = firstStep {
                let parts = divergence?.parts.joined(separator: ", ") ?? "content"
                regressions.append("artifact_hash changed: first divergent step \(step) (\(parts))")
            } else {
                let fields = comparison?.hashedFields ?? []
                regressions.append("artifact_hash changed with the same steps\(fields.isEmpty ? "" : "; hashed fields differ: \(fields.joined(separator: ", "))")")
            }
        }
        let used = b.document["used"]
        if let s = used?["steps"]?.intValue, o.stepsUsed > s { regressions.append("budget: steps used \(s) → \(o.stepsUsed)") }
        if let t = used?["tool_calls"]?.intValue, o.toolCallsUsed > t { regressions.append("budget: tool calls used \(t) → \(o.toolCallsUsed)") }
        regressions += o.specProblems.map { "spec: \($0)" }
        return CICheck(baseline: b, regressions: regressions, newArtifact: now, firstDivergentStep: firstStep,
                       divergence: divergence, newRunID: o.runID)
    }
}
