import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// `rigor runs metrics`, `runs summary` and `runs list --page` through the built binary, over a
/// store of synthetic runs: the JSON printed is the library's view, byte for byte.
@Suite("runs metrics, summary and pages")
struct RunsMetricsCommandTests {
    static func state(_ label: String, runs: Int) throws -> String {
        let state = RepoPaths.temporaryDirectory("rigor-cli-metrics-\(label)")
        let store = try RunStore.open(directory: state, create: true)
        try SyntheticRuns.fill(store, count: runs) { SyntheticRuns.mixed($0, agents: 2, tasks: 3, days: 4) }
        return state
    }

    func rigor(_ args: [String], state: String) throws -> CommandResult {
        try CommandLineRun.rigor(args + ["--state-dir", state])
    }

    @Test("runs metrics --json and runs summary --json print the library's views")
    func sameViewAsLibrary() throws {
        let state = try Self.state("views", runs: 120)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let store = try RunStore.openForReading(directory: state)
        let query = try RunQuery(parameters: ["task": "task_1@1", "since": "2025-12-02"])
        let printed = try rigor(["runs", "metrics", "--json", "--task", "task_1@1", "--since", "2025-12-02"], state: state)
        #expect(printed.status == 0)
        #expect(try JSON.parse(printed.stdout) == (try RunMetrics.compute(store, query: query)).json)
        #expect(try JSON.parse(printed.stdout)["runs"]?.intValue ?? 0 > 0)

        let summary = try rigor(["runs", "summary", "--json"], state: state)
        #expect(summary.status == 0)
        let view = try JSON.parse(summary.stdout)
        #expect(view == (try RunMetrics.compute(store)).summaryJSON(statistics: try store.statistics()))
        #expect(view["runs"] == 120)

        let human = try rigor(["runs", "metrics"], state: state)
        #expect(human.status == 0)
        #expect(human.stdout.contains("agents/agent_1.py × task_2@1"))
        #expect(human.stdout.contains("trend (runs per UTC day"))
        let humanSummary = try rigor(["runs", "summary", "--outcome", "failure"], state: state)
        #expect(humanSummary.stdout.contains("passed        0 of"))
    }

    @Test("runs list --page pages by cursor with the total; plain --json keeps its array")
    func pages() throws {
        let state = try Self.state("pages", runs: 25)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try JSON.parse(try rigor(["runs", "list", "--json", "--page", "--limit", "10"], state: state).stdout)
        #expect(first["view"] == "rigor.runs_page/1")
        #expect(first["total"] == 25)
        #expect(first["runs"]?.arrayValue?.count == 10)
        let cursor = try #require(first["next_cursor"]?.intValue)
        let second = try JSON.parse(try rigor(["runs", "list", "--json", "--page", "--limit", "10", "--cursor", String(cursor)], state: state).stdout)
        #expect(second["runs"]?.arrayValue?.first?["ledger_seq"]?.intValue == cursor - 1)
        let plain = try JSON.parse(try rigor(["runs", "list", "--json", "--limit", "3"], state: state).stdout)
        #expect(plain.arrayValue?.count == 3)
        let offset = try rigor(["runs", "list", "--offset", "24"], state: state)
        #expect(offset.stdout.split(separator: "\n").count == 2)  // header and one run
    }

    @Test("bad filters exit 2 naming the flag; a missing store says so", arguments: [
        (["runs", "metrics", "--since", "last week"], "--since must be a UTC date"),
        (["runs", "summary", "--failure-type", "nope"], "--failure-type must be one of"),
        (["runs", "metrics", "--seed", "x"], "--seed must be an integer"),
        (["runs", "list", "--cursor", "3", "--offset", "2"], "--cursor and --offset do not go together"),
        (["runs", "list", "--offset=-1"], "--offset is -1; it must be between 0 and"),
    ])
    func badInput(args: [String], message: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-cli-metrics-bad")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try rigor(args, state: state)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message))
    }

    @Test("metrics on a directory without a store fail with the store's message, not a crash")
    func noStore() throws {
        let state = RepoPaths.temporaryDirectory("rigor-cli-metrics-none")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try rigor(["runs", "metrics"], state: state + "/absent")
        #expect(r.status == 2)
        #expect(!r.stderr.isEmpty && !r.stderr.contains("Fatal"))
    }
}
