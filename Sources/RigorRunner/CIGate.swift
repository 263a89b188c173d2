import Foundation
import RigorAgentHost
import RigorSpec

/// The verdict on one baseline in `rigor ci`.
public struct CICheck: Sendable {
    public let baseline: Baseline
    /// Why this is a regression; empty when the baseline reproduced.
    public let regressions: [String]
    public let newArtifact: JSON?
    /// The first step whose digest differs from the baseline's chain (1-based).
    public let firstDivergentStep: Int?
    /// The old and new step there, and what differs, when the old artifact is at hand.
    public let divergence: Divergence?
    public let newRunID: String?

    public var reproduced: Bool { regressions.isEmpty }

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
    public static func run(_ baselines: [Baseline], in workspace: Workspace, workers: Int, forkServer: ForkServerUse = .python,
                           progress: @escaping @Sendable (Int, BatchOutcome) -> Void) throws(RunnerError) -> [CICheck] {
        var checks: [Int: CICheck] = [:]
        // Group runnable baselines by the guard they were recorded under; refuse missing pairings.
        var groups: [String: [(Int, BatchItem)]] = [:]
        var guards: [String: (IsolationLevel?, Double?)] = [:]
        for (i, b) in baselines.enumerated() {
            let isolation = b.document["isolation"]?.stringValue.flatMap(IsolationLevel.init(rawValue:))
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
                _ = try workspace.prepare(RunOptions(agent: b.agentRef, task: b.taskRef, seed: b.seed, isolation: isolation, actTimeoutSeconds: act))
            } catch {
                if case .agent(.isolationUnavailable) = error { throw error }
                checks[i] = CICheck(baseline: b, regressions: ["its task or agent no longer exists: \(error)"], newArtifact: nil,
                                    firstDivergentStep: nil, divergence: nil, newRunID: nil)
                continue
            }
            let key = "\(isolation?.rawValue ?? "default")|\(act.map { String($0) } ?? "default")"
            guards[key] = (isolation, act)
            groups[key, default: []].append((i, BatchItem(pairing: Pairing(name: b.pairing, agent: b.agentRef, task: b.taskRef), seed: b.seed)))
        }
        for (key, members) in groups.sorted(by: { $0.key < $1.key }) {
            let (isolation, act) = guards[key] ?? (nil, nil)
            var batch = Batch(items: members.map(\.1), workers: workers, isolation: isolation, actTimeoutSeconds: act, strictSpec: true)
            batch.forkServer = forkServer
            let outcomes = try batch.run(in: workspace, progress: progress)
            for ((i, _), outcome) in zip(members, outcomes) {
                checks[i] = compare(baselines[i], outcome)
            }
        }
        return baselines.indices.compactMap { checks[$0] }
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
            if let stored = b.storedArtifact() { divergence = Divergence(stored, now) }
            if let step = firstStep {
                let parts = divergence?.parts.joined(separator: ", ") ?? "content"
                regressions.append("artifact_hash changed: first divergent step \(step) (\(parts))")
            } else {
                var fields: [String] = []
                if let stored = b.storedArtifact(), let x = HashRecipe.rigor.hashedPart(of: stored).objectValue,
                   let y = HashRecipe.rigor.hashedPart(of: now).objectValue {
                    fields = Set(x.keys).union(y.keys).subtracting(["action_trace"]).sorted().filter { !Divergence.sameValue(x[$0], y[$0]) }
                }
                regressions.append("artifact_hash changed with the same steps\(fields.isEmpty ? "" : " (in \(fields.joined(separator: ", ")))")")
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
