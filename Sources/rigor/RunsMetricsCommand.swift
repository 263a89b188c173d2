import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec
import RigorStore

/// The filters `runs list`, `runs metrics` and `runs summary` share; they parse through
/// `RunQuery`, as the web UI's query parameters do.
struct RunQueryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only runs whose agent_ref contains this text.", valueName: "text")) var agent: String?
    @Option(help: ArgumentHelp("Only runs of this task ref (id@version).", valueName: "ref")) var task: String?
    @Option(help: ArgumentHelp("success or failure.", valueName: "outcome")) var outcome: String?
    @Option(name: .customLong("failure-type"), help: ArgumentHelp("Only runs that failed with this failure_type.", valueName: "type")) var failureType: String?
    @Option(help: ArgumentHelp("Only runs of this seed.", valueName: "n")) var seed: String?
    @Option(help: ArgumentHelp("Only runs that started at or after this UTC date or time (2026-12-01, 2026-12-01T09:30:00Z).", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Only runs that started before this UTC date or time.", valueName: "time")) var until: String?

    /// The query, or a usage error naming the flag.
    func query() throws -> RunQuery {
        var parameters: [String: String] = [:]
        parameters["agent"] = agent
        parameters["task"] = task
        parameters["outcome"] = outcome
        parameters["failure_type"] = failureType
        parameters["seed"] = seed
        parameters["since"] = since
        parameters["until"] = until
        do { return try RunQuery(parameters: parameters) } catch {
            throw ValidationError("--\(error.parameter.replacingOccurrences(of: "_", with: "-")) must be \(error.expected) (got '\(error.value)')")
        }
    }
}

extension RunsCommand {
    struct Metrics: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(
            commandName: "metrics",
            abstract: "Pass rates with 95% Wilson intervals, P50/P95 of steps, tool calls and wall time, failures, reproducibility, trend.",
            discussion: """
                Computed over the runs index of the store (no artifact is read), for the runs the \
                filters select. A pairing is an (agent_ref, task_ref). Reproducibility: of the \
                (agent, task, seed) groups run more than once (same agent_hash and task_hash), \
                the share whose artifact_hash always agreed. The trend counts runs per UTC day of \
                their start. --json prints the view the web UI serves at /api/metrics \
                (spec/views.md). Exit 0, 2 on bad input, 4 when the store cannot be read.
                """)
        @OptionGroup var filters: RunQueryOptions
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws { _ = try filters.query() }

        func run() throws {
            let query = try filters.query()
            let store = try RunsCommand.openEmbeddedStore(workspaceOptions, feature: "rigor runs metrics")
            let metrics: RunMetrics
            do { metrics = try RunMetrics.compute(store, query: query) } catch { throw Console.fail(error) }
            if json { Console.printJSON(metrics.json); return }
            MetricsPrinter.print(metrics)
        }
    }

    struct Summary: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(
            commandName: "summary",
            abstract: "How many runs, how many passed, failures by type, reproducibility: the headline of `runs metrics`.",
            discussion: "--json prints the view the web UI serves at /api/summary (spec/views.md). Exit 0, 2 on bad input, 4 when the store cannot be read.")
        @OptionGroup var filters: RunQueryOptions
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws { _ = try filters.query() }

        func run() throws {
            let query = try filters.query()
            let store = try RunsCommand.openEmbeddedStore(workspaceOptions, feature: "rigor runs summary")
            let metrics: RunMetrics
            let statistics: StoreStatistics
            do {
                metrics = try RunMetrics.compute(store, query: query)
                statistics = try store.statistics()
            } catch let e as RunnerError { throw Console.fail(e) } catch let e as StoreError { throw RunsCommand.fail(e) }
            if json { Console.printJSON(metrics.summaryJSON(statistics: statistics)); return }
            MetricsPrinter.printSummary(metrics, statistics: statistics)
        }
    }
}

/// The human rendering of `RunMetrics`.
enum MetricsPrinter {
    static func percent(_ passed: Int, _ total: Int) -> String {
        guard total > 0 else { return "-" }
        return String(format: "%.1f%%", 100 * Double(passed) / Double(total))
    }

    static func interval(_ passed: Int, _ total: Int) -> String {
        guard total > 0 else { return "" }
        let ci = Statistics.wilson(successes: passed, trials: total)
        return String(format: "[%.1f, %.1f]", 100 * ci.low, 100 * ci.high)
    }

    static func pair(_ p: RunAggregates.Percentiles, seconds: Bool = false) -> String {
        func v(_ x: Int?) -> String {
            guard let x else { return "-" }
            return seconds ? String(format: "%.2f", Double(x) / 1e6) : String(x)
        }
        return "\(v(p.p50))/\(v(p.p95))"
    }

    static func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
    static func left(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }

    static func print(_ m: RunMetrics) {
        let a = m.aggregates
        guard a.runs > 0 else { Swift.print("no runs match"); return }
        printSummary(m, statistics: nil)
        let names = a.pairings.map { "\($0.agentRef ?? "?") × \($0.taskRef ?? "?")" }
        let w = max("pairing".count, names.map(\.count).max() ?? 0)
        Console.line("")
        Console.line("\(pad("pairing", w))  \(left("runs", 6))  \(left("pass", 7))  \(pad("wilson 95%", 14))  steps p50/p95  tools p50/p95  wall s p50/p95")
        for (p, name) in zip(a.pairings, names) {
            Console.line("\(pad(name, w))  \(left(String(p.runs), 6))  \(left(percent(p.passed, p.runs), 7))  \(pad(interval(p.passed, p.runs), 14))  "
                + "\(pad(pair(p.steps), 13))  \(pad(pair(p.toolCalls), 13))  \(pair(p.wallMicroseconds, seconds: true))")
        }
        Console.line("\(pad("all", w))  \(left(String(a.runs), 6))  \(left(percent(a.passed, a.runs - a.unknownOutcome), 7))  "
            + "\(pad(interval(a.passed, a.runs - a.unknownOutcome), 14))  \(pad(pair(a.steps), 13))  \(pad(pair(a.toolCalls), 13))  \(pair(a.wallMicroseconds, seconds: true))")
        if !a.failures.isEmpty {
            Console.line("")
            Console.line("failures")
            for f in a.failures {
                Console.line("  \(left(String(f.count), 7))  \(pad(f.failureType ?? "none", 18))  \(f.terminationReason ?? "?")")
            }
        }
        if !a.days.isEmpty {
            Console.line("")
            Console.line("trend (runs per UTC day, pass rate)")
            let widest = a.days.map(\.runs).max() ?? 1
            for d in a.days.suffix(30) {
                let bar = String(repeating: "#", count: max(1, d.runs * 30 / max(1, widest)))
                Console.line("  \(d.day)  \(left(String(d.runs), 7))  \(left(percent(d.passed, d.runs), 6))  \(bar)")
            }
            if a.days.count > 30 { Console.line(Console.dim("  (the last 30 of \(a.days.count) days; --json has them all)")) }
        }
    }

    static func printSummary(_ m: RunMetrics, statistics: StoreStatistics?) {
        let a = m.aggregates
        guard a.runs > 0 else { Swift.print("no runs match"); return }
        let known = a.runs - a.unknownOutcome
        Console.line("runs          \(a.runs) (\(a.pairings.count) pairing\(a.pairings.count == 1 ? "" : "s"))")
        Console.line("passed        \(a.passed) of \(known): \(percent(a.passed, known)) \(interval(a.passed, known))"
            + (a.unknownOutcome > 0 ? "; \(a.unknownOutcome) without an outcome" : ""))
        if m.failed > 0 {
            var counts: [String: Int] = [:]
            for f in a.failures { counts[f.failureType ?? "none", default: 0] += f.count }
            Console.line("failed        \(m.failed): " + counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let rate = m.reproducibilityRate {
            Console.line(String(format: "reproducible  %.1f%%", rate * 100) + " (\(a.reproducibleGroups) of \(a.repeatedGroups) agent × task × seed run more than once)")
        } else {
            Console.line("reproducible  - (no agent × task × seed ran twice)")
        }
        if let first = a.days.first, let last = a.days.last {
            Console.line("days          \(first.day == last.day ? first.day : "\(first.day) … \(last.day)")")
        }
        if let statistics {
            Console.line(Console.dim("store         \(statistics.runs) runs, \(statistics.blobs) blobs, \(statistics.ledgerEntries) ledger entries, \(statistics.databaseBytes) bytes"))
        }
    }
}
