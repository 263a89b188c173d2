import RigorSpec
import RigorStore

/// What `rigor runs show` (and the web UI) says about one stored run beyond its index row: the
/// end of the agent's log and the step that failed it.
///
/// A failed episode is read backwards: first *why* it ended (`termination_reason`,
/// `failure_reason`), then the step that decided it, then what the agent said on stderr just
/// before. Both come from the artifact alone, so a run imported from elsewhere reads the same;
/// an artifact without Rigor's `diagnostics` (TraceCore's) simply has no log.
public struct RunReadout: Sendable {
    /// The agent's stderr as the artifact keeps it (`diagnostics.agent.stderr_tail`): the runner
    /// keeps at most `sandbox.limits.max_stderr_bytes` and counts the older bytes it dropped.
    public struct AgentLog: Sendable, Equatable {
        /// The kept text, whole.
        public let text: String
        /// Bytes the runner dropped before `text` (`diagnostics.agent.stderr_bytes_dropped`).
        public let bytesDroppedByRunner: Int

        /// The kept text's lines (a final newline does not make an empty last line).
        public var lines: [Substring] {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }
            return lines
        }

        /// The last `count` lines (0: all), with how many lines and bytes of the kept text lie
        /// before them and are not shown.
        public func tail(lines count: Int) -> (lines: [Substring], hiddenLines: Int, hiddenBytes: Int) {
            let all = lines
            guard count > 0, all.count > count else { return (all, 0, 0) }
            let shown = Array(all.suffix(count))
            let hidden = all.dropLast(count)
            // Each hidden line was followed by a newline.
            return (shown, hidden.count, hidden.reduce(0) { $0 + $1.utf8.count + 1 })
        }

        public var json: JSON {
            ["tail": .string(text), "bytes_dropped": .int(bytesDroppedByRunner), "lines": .int(lines.count)]
        }
    }

    /// The step that decided a failed episode.
    public struct FailingStep: Sendable, Equatable {
        /// Why this step was chosen.
        public enum Choice: String, Sendable {
            /// The validator ran after this step and failed the episode for good.
            case validator
            /// The episode ended after (or while the agent answered) its last recorded step.
            case lastStep = "last_step"

            public var explanation: String {
                switch self {
                case .validator: "the validator failed the episode after this step"
                case .lastStep: "the last recorded step before the episode ended"
                }
            }
        }

        public let step: Int
        public let choice: Choice
        public let action: JSON
        public let intent: String?
        public let result: JSON

        public var json: JSON {
            ["step": .int(step), "chosen_as": .string(choice.rawValue), "action": action,
             "intent": intent.map(JSON.string) ?? .null, "result": result]
        }
    }

    public let agentLog: AgentLog?
    /// Nil for a successful episode, and for a failed one that recorded no step (the agent
    /// exited or sent garbage before its first action: `failure_reason` says so).
    public let failingStep: FailingStep?

    /// What the agent proposed on the TRACE endpoint (nil when the episode offered none).
    public struct TraceProposals: Sendable, Equatable {
        public let count: Int
        /// Decision → how many, in the TRACE vocabulary's order.
        public let byDecision: [(decision: String, count: Int)]
        /// The proposals recorded under the failing step (at most 5), for the readout.
        public let atFailingStep: [JSON]

        public static func == (a: Self, b: Self) -> Bool {
            a.count == b.count && a.atFailingStep == b.atFailingStep && a.byDecision.elementsEqual(b.byDecision) { $0 == $1 }
        }

        /// "3 proposals on the TRACE endpoint: approved 1, requires_approval 2".
        public var summary: String {
            "\(count) proposal\(count == 1 ? "" : "s") on the TRACE endpoint"
                + (byDecision.isEmpty ? "" : ": " + byDecision.map { "\($0.decision) \($0.count)" }.joined(separator: ", "))
        }

        public var json: JSON {
            ["count": .int(count), "by_decision": .object(Dictionary(uniqueKeysWithValues: byDecision.map { ($0.decision, JSON.int($0.count)) })),
             "at_failing_step": .array(atFailingStep)]
        }
    }

    public let traceProposals: TraceProposals?

    public init(artifact: JSON) {
        if let agent = artifact["diagnostics"]?["agent"], let text = agent["stderr_tail"]?.stringValue {
            agentLog = AgentLog(text: text, bytesDroppedByRunner: max(0, agent["stderr_bytes_dropped"]?.intValue ?? 0))
        } else {
            agentLog = nil
        }
        failingStep = Self.failingStep(artifact)
        if let proposals = artifact["trace_actions"]?.arrayValue {
            var counts: [String: Int] = [:]
            for p in proposals { counts[p["decision"]?.stringValue ?? "?", default: 0] += 1 }
            let order = ["approved", "observed", "requires_approval", "rejected"]
            let byDecision = order.compactMap { d in counts[d].map { (d, $0) } }
                + counts.keys.filter { !order.contains($0) }.sorted().map { ($0, counts[$0] ?? 0) }
            let failing = failingStep?.step
            traceProposals = TraceProposals(count: proposals.count, byDecision: byDecision,
                                            atFailingStep: failing.map { n in Array(proposals.filter { $0["step"]?.intValue == n }.prefix(5)) } ?? [])
        } else {
            traceProposals = nil
        }
    }

    static func failingStep(_ artifact: JSON) -> FailingStep? {
        guard artifact["success"]?.boolValue != true, let trace = artifact["action_trace"]?.arrayValue, let last = trace.last else { return nil }
        var chosen = last
        var choice = FailingStep.Choice.lastStep
        let validator = artifact["validator"]
        if validator?["terminal"]?.boolValue == true, validator?["success"]?.boolValue == false,
           let n = validator?["step"]?.intValue, n > 0, let entry = trace.last(where: { $0["step"]?.intValue == n }) {
            chosen = entry
            choice = .validator
        }
        return FailingStep(step: chosen["step"]?.intValue ?? trace.count, choice: choice, action: chosen["action"] ?? .null,
                           intent: chosen["intent"]?.stringValue, result: chosen["result"] ?? .null)
    }

    /// The view `runs show --json` prints: the run's index row, why it ended, the failing step,
    /// the agent's log, and the whole artifact under `artifact` (`runs export` writes it alone).
    public static func json(summary: RunSummary, artifact: JSON) -> JSON {
        let readout = RunReadout(artifact: artifact)
        guard case .object(var view) = summary.json else { return .null }
        view["failure_reason"] = artifact["failure_reason"] ?? .null
        view["budget_steps"] = summary.budgetSteps.map(JSON.int) ?? .null
        view["budget_tool_calls"] = summary.budgetToolCalls.map(JSON.int) ?? .null
        view["failing_step"] = readout.failingStep?.json ?? .null
        view["agent_log"] = readout.agentLog?.json ?? .null
        view["network_note"] = artifact["diagnostics"]?["agent"]?["network_note"] ?? .null
        view["trace_endpoint"] = readout.traceProposals?.json ?? .null
        view["artifact"] = artifact
        return .object(view)
    }
}

extension RunSummary {
    /// A run's index row as `runs list --json` prints it.
    public var json: JSON {
        [
            "run_id": .string(runID), "agent_ref": agentRef.map(JSON.string) ?? .null,
            "task_ref": taskRef.map(JSON.string) ?? .null, "seed": seed.map(JSON.int) ?? .null,
            "success": success.map(JSON.bool) ?? .null, "failure_type": failureType.map(JSON.string) ?? .null,
            "termination_reason": terminationReason.map(JSON.string) ?? .null,
            "steps_used": stepsUsed.map(JSON.int) ?? .null, "tool_calls_used": toolCallsUsed.map(JSON.int) ?? .null,
            "artifact_hash": artifactHash.map(JSON.string) ?? .null, "runtime": runtimeName.map(JSON.string) ?? .null,
            "started_at": startedAt.map(JSON.string) ?? .null, "recorded_at": .string(recordedAt),
        ]
    }
}
