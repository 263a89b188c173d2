import Foundation
import RigorAgentHost
import RigorSpec
import RigorStore

/// One episode of a batch: which pairing, which seed.
public struct BatchItem: Sendable {
    public let pairing: Pairing
    public let seed: Int

    public init(pairing: Pairing, seed: Int) {
        self.pairing = pairing
        self.seed = seed
    }
}

/// What one batch episode gave, as the summary needs it.
public struct BatchOutcome: Sendable {
    public let item: BatchItem
    public let success: Bool
    public let terminationReason: String
    public let failureType: String?
    public let stepsUsed: Int
    public let toolCallsUsed: Int
    public let wallSeconds: Double
    public let artifactHash: String
    public let artifactPath: String
    public let runID: String
    public let specProblems: [String]
    /// Success as the batch counts it (with --strict-spec, also a clean spec check).
    public let passed: Bool
    /// The sealed artifact.
    public let artifact: JSON
}

/// Runs a matrix of pairings × seeds on worker threads. Episodes share nothing: each has its
/// own world, agent process, uid and private directory, so the artifacts (their hashes) are
/// the same whatever the worker count and the order.
public struct Batch: Sendable {
    public var items: [BatchItem]
    public var workers: Int
    public var isolation: IsolationLevel?
    public var actTimeoutSeconds: Double?
    public var strictSpec: Bool
    /// Start Python agents from a fork server (process isolation only).
    public var forkServer = false

    public init(pairings: [Pairing], seeds: [Int], workers: Int, isolation: IsolationLevel? = nil,
                actTimeoutSeconds: Double? = nil, strictSpec: Bool = false) {
        // Seed-major, so every pairing advances together (progress is representative, and
        // different agents run side by side).
        self.init(items: seeds.flatMap { seed in pairings.map { BatchItem(pairing: $0, seed: seed) } }, workers: workers,
                  isolation: isolation, actTimeoutSeconds: actTimeoutSeconds, strictSpec: strictSpec)
    }

    /// A batch of exactly these episodes, in this order.
    public init(items: [BatchItem], workers: Int, isolation: IsolationLevel? = nil, actTimeoutSeconds: Double? = nil,
                strictSpec: Bool = false) {
        self.items = items
        self.workers = max(1, workers)
        self.isolation = isolation
        self.actTimeoutSeconds = actTimeoutSeconds
        self.strictSpec = strictSpec
    }

    /// Resolves every pairing first (a typo fails the batch before any episode runs), then runs.
    /// `progress` is called once per finished episode, serially, with the count done so far.
    public func run(in workspace: Workspace, progress: @escaping @Sendable (Int, BatchOutcome) -> Void) throws(RunnerError) -> [BatchOutcome] {
        let store = try workspace.store(create: true)
        var requests: [String: EpisodeRequest] = [:]
        for item in items where requests[item.pairing.name] == nil {
            requests[item.pairing.name] = try workspace.prepare(RunOptions(
                agent: item.pairing.agent, task: item.pairing.task, seed: 0, isolation: isolation,
                actTimeoutSeconds: actTimeoutSeconds, forkServer: forkServer))
        }
        let queue = WorkQueue(count: items.count)
        let results = ResultSlots<Result<BatchOutcome, RunnerError>>(count: items.count)
        let frozen = requests
        let threads = (0..<min(workers, max(1, items.count))).map { _ in
            Thread { [items, strictSpec] in
                while let i = queue.next() {
                    let item = items[i]
                    guard var request = frozen[item.pairing.name] else { continue }
                    request.seed = item.seed
                    let outcome = Result { () throws(RunnerError) -> BatchOutcome in
                        try Batch.runOne(item, request: request, workspace: workspace, store: store, strict: strictSpec)
                    }
                    results.set(i, outcome) { done in
                        if case .success(let o) = outcome { progress(done, o) }
                    }
                }
            }
        }
        for t in threads { t.stackSize = 8 << 20; t.start() }
        results.waitUntilFull()
        var out: [BatchOutcome] = []
        for r in results.values {
            switch r {
            case .success(let o)?: out.append(o)
            case .failure(let e)?: throw e
            case nil: throw .internal("a batch episode produced no result")
            }
        }
        return out
    }

    static func runOne(_ item: BatchItem, request: EpisodeRequest, workspace: Workspace, store: RunStore,
                       strict: Bool) throws(RunnerError) -> BatchOutcome {
        let t0 = MonotonicClock.nanoseconds()
        let result = try Episode.run(request)
        let wall = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let path = try workspace.keep(result, store: store)
        let problems = strict ? SpecCheck.check(result.artifact).map(\.description) : []
        let a = result.record
        return BatchOutcome(
            item: item, success: a.success, terminationReason: a.termination.rawValue,
            failureType: a.termination.failureType?.rawValue, stepsUsed: a.stepsUsed, toolCallsUsed: a.toolCallsUsed,
            wallSeconds: wall, artifactHash: result.artifactHash, artifactPath: path, runID: a.runID,
            specProblems: problems, passed: a.success && problems.isEmpty, artifact: result.artifact)
    }
}

/// Hands out indices 0..<count to worker threads.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }
}

/// Fixed slots filled by worker threads; `waitUntilFull` blocks until every slot is set.
final class ResultSlots<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [T?]
    private var filled = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// Sets slot `i` and runs `then` with the number filled, under the lock (so callers' progress
    /// reports come out one at a time).
    func set(_ i: Int, _ value: T, then: (Int) -> Void) {
        condition.lock()
        slots[i] = value
        filled += 1
        then(filled)
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilFull() {
        condition.lock()
        while filled < slots.count { condition.wait() }
        condition.unlock()
    }

    var values: [T?] {
        condition.lock(); defer { condition.unlock() }
        return slots
    }
}
