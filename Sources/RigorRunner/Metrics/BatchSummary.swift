import Foundation
import RigorSpec

/// The aggregate of a batch: pass rates with intervals, failures by type, percentiles.
public struct BatchSummary: Sendable {
    public struct PerPairing: Sendable {
        public let name: String
        public let agent: String
        public let task: String
        public let passed: Int
        public let total: Int
        /// The first failing seeds, in seed order, at most `BatchSummary.failingSeedsShown`.
        public let firstFailures: [FailingSeed]
        /// Model calls, tokens and cost of the pairing's episodes; nil without a model gateway.
        public var models: ModelTotals? = nil
        public var rate: Double { total == 0 ? 0 : Double(passed) / Double(total) }
        public var interval: (low: Double, high: Double) { Statistics.wilson(successes: passed, trials: total) }
    }

    /// One failed episode of a pairing, named so it can be opened (`rigor runs show RUN`).
    public struct FailingSeed: Sendable {
        public let seed: Int
        public let runID: String
        public let terminationReason: String
        public let failureType: String?
        /// The artifact's `failure_reason`; for an episode that succeeded but failed the spec
        /// check (`--strict-spec`), its first spec problem.
        public let reason: String?

        init(_ o: BatchOutcome) {
            seed = o.item.seed
            runID = o.runID
            terminationReason = o.success ? "spec_check" : o.terminationReason
            failureType = o.failureType
            reason = o.success ? o.specProblems.first : o.artifact["failure_reason"]?.stringValue
        }

        public var json: JSON {
            ["seed": .int(seed), "run_id": .string(runID), "termination_reason": .string(terminationReason),
             "failure_type": failureType.map(JSON.string) ?? .null, "failure_reason": reason.map(JSON.string) ?? .null]
        }
    }

    /// What a set of episodes spent on models (spec/model-gateway.md §5).
    public struct ModelTotals: Sendable, Equatable {
        public var calls = 0
        public var inputTokens = 0
        public var outputTokens = 0
        public var costUSD = 0.0
        public var solved = 0

        /// The cost per solved episode (nil when none was solved).
        public var costPerSolved: Double? { solved == 0 ? nil : costUSD / Double(solved) }

        /// The totals of `artifacts` (those without `models` add nothing); nil when none had a gateway.
        public static func of(_ artifacts: [JSON]) -> ModelTotals? {
            var t = ModelTotals()
            var any = false
            for a in artifacts {
                guard let m = a["models"] else { continue }
                any = true
                t.calls += m["calls"]?.intValue ?? 0
                t.inputTokens += m["input_tokens"]?.intValue ?? 0
                t.outputTokens += m["output_tokens"]?.intValue ?? 0
                t.costUSD += ModelAccount.cost(a["diagnostics"] ?? .null)
                if a["success"]?.boolValue == true { t.solved += 1 }
            }
            return any ? t : nil
        }

        public var json: JSON {
            ["calls": .int(calls), "input_tokens": .int(inputTokens), "output_tokens": .int(outputTokens),
             "cost_usd": .double((costUSD * 1e6).rounded() / 1e6),
             "cost_per_solved_usd": costPerSolved.map { .double(($0 * 1e6).rounded() / 1e6) } ?? .null]
        }
    }

    /// How many failing seeds each pairing lists.
    public static let failingSeedsShown = 5

    public let outcomes: [BatchOutcome]
    public let workers: Int
    public let elapsedSeconds: Double
    /// The CPU each worker was pinned to (`Batch.cpuPlan`), or nil.
    public let pinnedCPUs: [Int]?

    public init(outcomes: [BatchOutcome], workers: Int, elapsedSeconds: Double, pinnedCPUs: [Int]? = nil) {
        self.outcomes = outcomes
        self.workers = workers
        self.elapsedSeconds = elapsedSeconds
        self.pinnedCPUs = pinnedCPUs
    }

    public var total: Int { outcomes.count }
    public var passed: Int { outcomes.filter(\.passed).count }
    public var failed: Int { total - passed }

    public var failuresByType: [String: Int] {
        var d: [String: Int] = [:]
        for o in outcomes where !o.passed { d[o.failureType ?? (o.specProblems.isEmpty ? "none" : "spec_check"), default: 0] += 1 }
        return d
    }

    public var perPairing: [PerPairing] {
        var order: [String] = []
        var groups: [String: [BatchOutcome]] = [:]
        for o in outcomes {
            if groups[o.item.pairing.name] == nil { order.append(o.item.pairing.name) }
            groups[o.item.pairing.name, default: []].append(o)
        }
        return order.compactMap { name in
            guard let g = groups[name], let p = g.first?.item.pairing else { return nil }
            let failures = g.filter { !$0.passed }.sorted { $0.item.seed < $1.item.seed }.prefix(Self.failingSeedsShown)
            var row = PerPairing(name: name, agent: p.agent, task: p.task, passed: g.filter(\.passed).count, total: g.count,
                                 firstFailures: failures.map(FailingSeed.init))
            row.models = ModelTotals.of(g.map(\.artifact))
            return row
        }
    }

    public var episodesPerSecond: Double { elapsedSeconds > 0 ? Double(total) / elapsedSeconds : 0 }

    func percentiles<T: Comparable & Numeric>(_ values: [T]) -> (T, T) {
        (Statistics.percentile(values, 0.5), Statistics.percentile(values, 0.95))
    }

    public var json: JSON {
        let wall = percentiles(outcomes.map(\.wallSeconds))
        let steps = percentiles(outcomes.map(\.stepsUsed))
        let tools = percentiles(outcomes.map(\.toolCallsUsed))
        return [
            "total": .int(total), "passed": .int(passed), "failed": .int(failed),
            "failed_by_type": .object(failuresByType.mapValues(JSON.int)),
            "workers": .int(workers),
            "pinned_cpus": pinnedCPUs.map { .array($0.map(JSON.int)) } ?? .null,
            "elapsed_s": .double((elapsedSeconds * 1000).rounded() / 1000),
            "episodes_per_second": .double((episodesPerSecond * 10).rounded() / 10),
            "wall_s": ["p50": .double(wall.0), "p95": .double(wall.1)],
            "steps": ["p50": .int(steps.0), "p95": .int(steps.1)],
            "tool_calls": ["p50": .int(tools.0), "p95": .int(tools.1)],
            "pairings": .array(perPairing.map { p in
                let ci = p.interval
                var row: JSON = [
                    "name": .string(p.name), "agent": .string(p.agent), "task": .string(p.task),
                    "passed": .int(p.passed), "total": .int(p.total), "pass_rate": .double(p.rate),
                    "wilson_95": [.double((ci.low * 1e4).rounded() / 1e4), .double((ci.high * 1e4).rounded() / 1e4)],
                    "first_failures": .array(p.firstFailures.map(\.json)),
                ]
                if let m = p.models, case .object(var o) = row {
                    o["models"] = m.json
                    row = .object(o)
                }
                return row
            }),
            "episodes": .array(outcomes.map { o in
                [
                    "pairing": .string(o.item.pairing.name), "seed": .int(o.item.seed), "success": .bool(o.success),
                    "passed": .bool(o.passed), "termination_reason": .string(o.terminationReason),
                    "failure_type": o.failureType.map(JSON.string) ?? .null, "steps_used": .int(o.stepsUsed),
                    "tool_calls_used": .int(o.toolCallsUsed), "artifact_hash": .string(o.artifactHash),
                    "run_id": .string(o.runID), "artifact_path": o.artifactPath.map(JSON.string) ?? .null,
                    "spec_problems": .array(o.specProblems.map(JSON.string)),
                ]
            }),
        ]
    }
}
