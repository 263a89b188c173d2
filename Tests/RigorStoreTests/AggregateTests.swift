import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// `RunStore.aggregates` and `RunStore.runsPage`: the numbers SQLite computes are checked
/// against the same numbers computed in Swift from the runs as they were generated.
@Suite("aggregates and pages")
struct AggregateTests {
    typealias Spec = SyntheticRuns.Spec

    static func spec(_ agent: String, _ task: String, seed: Int, success: Bool, steps: Int, tools: Int = 1,
                     day: Int = 0, wall: Int64 = 1_000_000, variant: Int = 0) -> Spec {
        var s = Spec()
        s.agent = agent
        s.task = task
        s.seed = seed
        s.success = success
        if !success { s.failureType = "budget_exhausted"; s.terminationReason = "steps_exhausted" }
        s.steps = steps
        s.toolCalls = tools
        s.startedAt += Int64(day) * 86_400_000_000
        s.wallMicroseconds = wall
        s.variant = variant
        return s
    }

    /// Nearest rank: the value at rank ceil(p·n) of the sorted values.
    static func nearestRank(_ values: [Int], _ p: Int) -> Int? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[(sorted.count * p + 99) / 100 - 1]
    }

    @Test("counts, nearest-rank percentiles, failures, reproducibility and days agree with a direct computation")
    func agreesWithDirectComputation() throws {
        let (store, _) = try Fixtures.store("aggregates")
        let specs = (0..<400).map { SyntheticRuns.mixed($0, agents: 3, tasks: 4, days: 9) }
        try SyntheticRuns.fill(store, count: specs.count, perTransaction: 97) { specs[$0] }
        let a = try store.aggregates()

        #expect(a.runs == 400)
        #expect(a.passed == specs.filter(\.success).count)
        #expect(a.unknownOutcome == 0)
        #expect(a.steps == .init(count: 400, p50: Self.nearestRank(specs.map(\.steps), 50),
                                 p95: Self.nearestRank(specs.map(\.steps), 95), max: specs.map(\.steps).max()))
        #expect(a.wallMicroseconds.p95 == Self.nearestRank(specs.map { Int($0.wallMicroseconds) }, 95))

        let groups = Dictionary(grouping: specs) { "\($0.agent)|\($0.task)" }
        #expect(a.pairings.count == groups.count)
        for p in a.pairings {
            let mine = try #require(groups["\(p.agentRef ?? "")|\(p.taskRef ?? "")"])
            #expect(p.runs == mine.count)
            #expect(p.passed == mine.filter(\.success).count)
            #expect(p.toolCalls.p50 == Self.nearestRank(mine.map(\.toolCalls), 50))
            #expect(p.toolCalls.p95 == Self.nearestRank(mine.map(\.toolCalls), 95))
            #expect(p.steps.max == mine.map(\.steps).max())
        }
        #expect(a.pairings.map { "\($0.agentRef ?? "")|\($0.taskRef ?? "")" } == groups.keys.sorted())

        let failures = Dictionary(grouping: specs.filter { !$0.success }) { "\($0.failureType ?? "")|\($0.terminationReason)" }
        #expect(a.failures.count == failures.count)
        #expect(a.failures.map(\.count) == a.failures.map(\.count).sorted(by: >))
        for f in a.failures { #expect(f.count == failures["\(f.failureType ?? "")|\(f.terminationReason ?? "")"]?.count) }

        // Every (pairing, seed) ran twice; a repeat whose variant differs broke reproducibility.
        let bySeed = Dictionary(grouping: specs) { "\($0.agent)|\($0.task)|\($0.seed)" }.values.filter { $0.count > 1 }
        #expect(a.repeatedGroups == bySeed.count)
        #expect(a.reproducibleGroups == bySeed.filter { Set($0.map(\.variant)).count == 1 }.count)
        #expect(a.reproducibleGroups < a.repeatedGroups)

        let days = Dictionary(grouping: specs) { $0.startedAt / 86_400_000_000 }
        #expect(a.days.count == days.count)
        #expect(a.days.first?.day == "2025-12-01")
        #expect(a.days.last?.day == "2025-12-09")
        #expect(a.days.map(\.runs).reduce(0, +) == 400)
        #expect(a.runsWithoutTime == 0)
    }

    @Test("filters narrow every aggregate: task, agent, outcome, failure type, seed, time range")
    func filtered() throws {
        let (store, _) = try Fixtures.store("aggregates-filter")
        let specs = [
            Self.spec("agents/a.py", "t@1", seed: 1, success: true, steps: 4, day: 0),
            Self.spec("agents/a.py", "t@1", seed: 1, success: true, steps: 4, day: 1),
            Self.spec("agents/a.py", "t@1", seed: 2, success: false, steps: 9, day: 1),
            Self.spec("agents/b.py", "t@1", seed: 1, success: false, steps: 7, day: 2),
            Self.spec("agents/b.py", "u@1", seed: 3, success: true, steps: 2, day: 3),
        ]
        try SyntheticRuns.fill(store, count: specs.count) { specs[$0] }
        let day1 = specs[0].startedAt + 86_400_000_000
        #expect(try store.aggregates(filter: RunFilter(taskRef: "t@1")).runs == 4)
        #expect(try store.aggregates(filter: RunFilter(agent: .contains("b.py"))).runs == 2)
        #expect(try store.aggregates(filter: RunFilter(outcome: .failure)).runs == 2)
        #expect(try store.aggregates(filter: RunFilter(failureType: "budget_exhausted")).passed == 0)
        #expect(try store.aggregates(filter: RunFilter(seed: 1)).runs == 3)
        let ranged = try store.aggregates(filter: RunFilter(since: day1, until: day1 + 2 * 86_400_000_000))
        #expect(ranged.runs == 3)
        #expect(ranged.days.map(\.day) == ["2025-12-02", "2025-12-03"])
        // The one repeated group (a.py, t@1, seed 1) reproduced.
        let all = try store.aggregates()
        #expect(all.repeatedGroups == 1 && all.reproducibleGroups == 1)
        #expect(try store.aggregates(filter: RunFilter(taskRef: "nope@1")) == RunAggregates())
    }

    @Test("an empty store has empty aggregates and an empty first page")
    func empty() throws {
        let (store, _) = try Fixtures.store("aggregates-empty")
        #expect(try store.aggregates() == RunAggregates())
        #expect(try store.runsPage() == RunPage(runs: [], total: 0, nextCursor: nil))
    }

    @Test("pages by cursor cover every matching run once, newest first, with the total on each page")
    func cursorPages() throws {
        let (store, _) = try Fixtures.store("pages")
        try SyntheticRuns.fill(store, count: 53) { i in Self.spec("agents/a.py", i % 2 == 0 ? "even@1" : "odd@1", seed: i, success: i % 3 != 0, steps: 1) }
        var seen: [Int] = []
        var cursor: Int? = nil
        var pages = 0
        repeat {
            let page = try store.runsPage(filter: RunFilter(taskRef: "even@1"), limit: 10, cursor: cursor)
            #expect(page.total == 27)
            seen += page.runs.map(\.ledgerSeq)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen.count == 27 && Set(seen).count == 27)
        #expect(seen == seen.sorted(by: >))
        #expect(try store.runs(filter: RunFilter(taskRef: "even@1"), limit: 0).map(\.ledgerSeq) == seen)

        let byOffset = try store.runsPage(filter: RunFilter(taskRef: "even@1"), limit: 10, offset: 20)
        #expect(byOffset.runs.map(\.ledgerSeq) == Array(seen[20...]))
        #expect(byOffset.nextCursor == nil)
        // Out-of-range requests are clamped, never an error.
        #expect(try store.runsPage(limit: -5).runs.count == 1)
        #expect(try store.runsPage(limit: 1_000_000).runs.count == 53)
        #expect(try store.runsPage(offset: 10_000).runs.isEmpty)
        #expect(try store.runsPage(cursor: Int.min).runs.isEmpty)
    }
}
