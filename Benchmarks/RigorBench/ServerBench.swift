import Foundation
import RigorRunner
import RigorServer
import RigorSpec
import RigorStore

/// The web UI and the report at scale (issue 19): server time of the runs page and `/api/runs`
/// on stores of 1k, 10k and 100k runs (target p95 < 50 ms at 100k), a 10,000-step run's page
/// (< 300 ms), and the report of a real 1,100-episode batch (size < 3 MB, and time to write).
/// Server time is `Dashboard.respond` (routing, store query, view, HTML), what a request costs
/// the server apart from the socket.
func runServerBench(root: String, tmp: String, longRun: JSON, batch: (state: String, summary: JSON)) throws {
    print("")
    print("Web UI and report (server time per request: Dashboard.respond)")
    print("")
    func timed(_ n: Int, _ body: () -> Void) -> (p50: Double, p95: Double) {
        var samples: [UInt64] = []
        body()  // warm the page cache and the statement cache once
        for _ in 0..<n {
            let t = MonotonicClock.nanoseconds()
            body()
            samples.append(MonotonicClock.nanoseconds() - t)
        }
        samples.sort()
        return (percentile(samples, 0.5) / 1e6, percentile(samples, 0.95) / 1e6)
    }
    func ms(_ v: Double) -> String { String(format: "%.2f ms", v) }

    // Synthetic stores: copies of a real artifact from the batch, varied in agent, task, seed
    // and outcome so the filters select something.
    let batchStore = try RunStore.open(directory: batch.state, create: false)
    guard let firstID = batch.summary["episodes"]?.arrayValue?.first?["run_id"]?.stringValue,
          case .object(var base) = try batchStore.artifact(firstID) else {
        print("skipped: the batch recorded no run")
        return
    }
    print("| runs in store | GET /runs p50 | p95 | GET /api/runs p50 | p95 | /runs?outcome=failure&task=… p95 | /metrics p95 |")
    print("|---|---|---|---|---|---|---|")
    var recorded = 0
    let state = "\(tmp)/server-store"
    let store = try RunStore.open(directory: state, create: true)
    let workspace = Workspace(root: root, stateDirectory: state)
    let dashboard = Dashboard(views: DashboardViews(workspace: workspace, store: store))
    let failureTypes = ["budget_exhausted", "invalid_action", "logic_failure", "timeout"]
    for target in [1_000, 10_000, 100_000] {
        var chunk: [JSON] = []
        while recorded < target {
            let i = recorded
            base["run_id"] = .string(String(format: "%032x", i + 1))
            base["seed"] = .int(i % 100)
            base["agent_ref"] = .string("agents/agent_\(i % 7).py")
            base["task_ref"] = .string("task_\(i % 5)@1")
            let ok = i % 3 != 0
            base["success"] = .bool(ok)
            base["failure_type"] = ok ? .null : .string(failureTypes[i % failureTypes.count])
            chunk.append(.object(base))
            recorded += 1
            if chunk.count == 10_000 { try store.record(contentsOf: chunk); chunk = [] }
        }
        if !chunk.isEmpty { try store.record(contentsOf: chunk) }
        let page = timed(100) { _ = dashboard.respond(method: "GET", path: "/runs", query: nil) }
        let api = timed(100) { _ = dashboard.respond(method: "GET", path: "/api/runs", query: nil) }
        let filtered = timed(100) { _ = dashboard.respond(method: "GET", path: "/runs", query: "outcome=failure&task=task_3%401") }
        let metrics = timed(10) { _ = dashboard.respond(method: "GET", path: "/metrics", query: nil) }
        print("| \(target) | \(ms(page.p50)) | \(ms(page.p95)) | \(ms(api.p50)) | \(ms(api.p95)) | \(ms(filtered.p95)) | \(ms(metrics.p95)) |")
    }

    // The 10,000-step episode of the runner benchmark above.
    if case .object = longRun {
        let runID = try store.record(longRun).runID
        let steps = longRun["action_trace"]?.arrayValue?.count ?? 0
        let first = timed(20) { _ = dashboard.respond(method: "GET", path: "/runs/\(runID)", query: nil) }
        let deep = timed(20) { _ = dashboard.respond(method: "GET", path: "/runs/\(runID)", query: "from=9001") }
        let api = timed(20) { _ = dashboard.respond(method: "GET", path: "/api/runs/\(runID)", query: nil) }
        let bytes = dashboard.respond(method: "GET", path: "/runs/\(runID)", query: nil).body.count
        print("")
        print("| \(steps)-step run | p50 | p95 | page size |")
        print("|---|---|---|---|")
        print("| GET /runs/ID (first 100 steps) | \(ms(first.p50)) | \(ms(first.p95)) | \(bytes / 1024) KiB |")
        print("| GET /runs/ID?from=9001 | \(ms(deep.p50)) | \(ms(deep.p95)) | |")
        print("| GET /api/runs/ID (whole artifact) | \(ms(api.p50)) | \(ms(api.p95)) | |")
    }

    // The report of a real batch, cut to its first 1,100 episodes, then the whole batch.
    print("")
    print("| report of a real batch | episodes | failed | size | render + write |")
    print("|---|---|---|---|---|")
    let episodes = batch.summary["episodes"]?.arrayValue ?? []
    for count in [1_100, episodes.count] where count <= episodes.count {
        guard case .object(var summary) = batch.summary else { break }
        summary["episodes"] = .array(Array(episodes.prefix(count)))
        summary["total"] = .int(count)
        let out = "\(tmp)/report-\(count).html"
        let t = MonotonicClock.nanoseconds()
        let (html, _) = try HTMLReport(subject: .batch(.object(summary))).render(store: batchStore, generatedAt: Timestamp.now().rfc3339)
        try ArtifactFile.writeAtomically(Array(html.utf8), to: out)
        let seconds = Double(MonotonicClock.nanoseconds() - t) / 1e9
        let failed = episodes.prefix(count).filter { $0["success"]?.boolValue != true }.count
        print("| `--pairings all --seeds 0..99`, first \(count) | \(count) | \(failed) | \(String(format: "%.2f MB", Double(html.utf8.count) / 1_048_576)) | \(String(format: "%.0f ms", seconds * 1000)) |")
    }
}
