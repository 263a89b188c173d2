import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport

/// `RunMetrics` and the runs page query (what `rigor runs metrics` and the web UI's `/api/metrics`
/// and `/api/runs` run) on stores of 1,000, 10,000 and 100,000 synthetic runs: 40 pairings,
/// the failure taxonomy, 30 days, every seed run twice. Library time, in process, warm cache;
/// `RIGOR_BENCH_METRICS_SIZES=1000,10000` picks the sizes.
func runMetricsBench(tmp: String) throws {
    let sizes = ProcessInfo.processInfo.environment["RIGOR_BENCH_METRICS_SIZES"]?
        .split(separator: ",").compactMap { Int($0) } ?? [1_000, 10_000, 100_000]
    print("")
    print("Metrics and the runs page over stored runs (in process, release build; p50/p95 of repeated calls)")
    print("")
    print("| runs    | fill      | metrics (all)     | metrics (1 task)  | summary + stats   | page 1 (50)       | page at cursor mid | page offset mid   | page (task+outcome) |")
    print("|---------|-----------|-------------------|-------------------|-------------------|-------------------|--------------------|-------------------|---------------------|")
    for n in sizes {
        let state = "\(tmp)/metrics-\(n)"
        try? FileManager.default.removeItem(atPath: state)
        let store = try RunStore.open(directory: state, create: true)
        let t0 = MonotonicClock.nanoseconds()
        try SyntheticRuns.fill(store, count: n, perTransaction: 1000) { i in
            var spec = SyntheticRuns.mixed(i)
            spec.traceSteps = 1
            return spec
        }
        let fill = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let repeats = n >= 100_000 ? 10 : 30
        func measure(_ body: () throws -> Void) rethrows -> String {
            var times: [Double] = []
            for _ in 0..<repeats {
                let t = MonotonicClock.nanoseconds()
                try body()
                times.append(Double(MonotonicClock.nanoseconds() - t) / 1e6)
            }
            times.sort()
            let p50 = times[(times.count * 50 + 99) / 100 - 1], p95 = times[(times.count * 95 + 99) / 100 - 1]
            return String(format: "%7.2f / %7.2f", p50, p95)
        }
        let all = try measure { _ = try RunMetrics.compute(store).json }
        let oneTask = try RunQuery(parameters: ["task": "task_3@1"])
        let task = try measure { _ = try RunMetrics.compute(store, query: oneTask).json }
        let summary = try measure { _ = try RunMetrics.compute(store).summaryJSON(statistics: try store.statistics()) }
        let first = try measure { _ = try store.runsPage(limit: 50) }
        let middle = try store.runsPage(limit: 1, offset: n / 2).runs.first?.ledgerSeq
        let cursor = try measure { _ = try store.runsPage(limit: 50, cursor: middle) }
        let offset = try measure { _ = try store.runsPage(limit: 50, offset: n / 2) }
        let filtered = try measure { _ = try store.runsPage(filter: RunFilter(taskRef: "task_3@1", outcome: .failure), limit: 50) }
        func cell(_ s: String, _ w: Int) -> String { s.padding(toLength: w, withPad: " ", startingAt: 0) }
        print("| \(cell(String(n), 7)) | \(cell(String(format: "%6.1f s", fill), 9)) | \(cell(all, 17)) | \(cell(task, 17)) | \(cell(summary, 17)) | \(cell(first, 17)) | \(cell(cursor, 18)) | \(cell(offset, 17)) | \(cell(filtered, 19)) |")
        if ProcessInfo.processInfo.environment["RIGOR_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: state) } else { print(state) }
    }
    print("(times in ms: p50 / p95)")
}
