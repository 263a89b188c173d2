import Foundation
import CRigorSpawn
import RigorAgentHost
import RigorSpec
import RigorStore
import RigorTasks

/// One episode of a batch: which pairing, which seed.
public struct BatchItem: Sendable {
    public let pairing: Pairing
    public let seed: Int
    /// The tape this episode's model calls are answered from (`rigor ci` replaying a baseline).
    public var tape: ModelTape? = nil

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
    /// The plain JSON file written for the run, when the workspace writes them
    /// (`writesRunFiles`); the store holds every run either way.
    public let artifactPath: String?
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
    /// When agents are forked from a warm server: by default, Python agents (from the SDK's
    /// server, which a batch starts before anything else).
    public var forkServer = ForkServerUse.python
    /// The world key every episode is built under; nil: the workspace's (`WorldKeyFile`).
    public var worldKey: WorldKey?
    /// Whether each worker, and the agents it starts, may be pinned to a CPU of its own
    /// (`cpuPlan`); false keeps every thread and agent where the scheduler puts it.
    public var pinWorkers = true
    /// `--policy FILE`: layered after each task's own policy, instead of the project's (spec/policy.md).
    public var policyFile: String?
    /// Serve the TRACE endpoint to every episode's agent (spec/trace-endpoint.md).
    public var traceEndpoint = false
    /// The model gateway for every episode (`--models`, `--model-upstream`).
    public var models = ModelOptions()

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

    /// The CPU each worker is pinned to, in worker order, or nil when the batch does not pin.
    /// It pins when it has a worker for every CPU this process may use (the default
    /// `--workers`): it then has the machine to itself, and batches that run side by side each
    /// spread over all of it. With fewer workers, or more, or a single CPU, or when asked not
    /// to, the scheduler places them (two batches of 2 workers on 16 CPUs must not both sit on
    /// the first two). See `CPUPlacement`.
    public func cpuPlan() -> [Int]? {
        guard pinWorkers else { return nil }
        let cpus = CPUPlacement.allowedCPUs()
        guard cpus.count > 1, workers == cpus.count else { return nil }
        return Array(cpus.prefix(min(workers, max(1, items.count))))
    }

    /// The warm servers the batch's Python worlds (through the task SDK) fork from: one per
    /// interpreter, agent SDK and task SDK, with the worlds' files each compiles ahead.
    private static func worldServers(_ tasks: [LoadedTask]) -> [(spec: WorldForkServer, files: Set<String>)] {
        var servers: [String: (spec: WorldForkServer, files: Set<String>)] = [:]
        for task in tasks {
            guard case .program(let program) = task.world, program.usesSDK,
                  let spec = try? ProgramWorld.launch(task: task, program: program).forkServer else { continue }
            let key = "\(spec.python)\u{0}\(spec.sdkDirectory)\u{0}\(spec.worldSDK)"
            servers[key] = (spec, (servers[key]?.files ?? []).union(spec.files))
        }
        return servers.keys.sorted().compactMap { servers[$0] }
    }

    /// When a world server runs on the interpreter and agent SDK of some of the batch's Python
    /// agents, one server per CPU forks both (`ForkServer.serveAgentsAndWorlds`): two
    /// interpreters fewer to start before the first episodes.
    private static func serveAgentsAndWorlds(agents: [AgentCommand], worlds: [(spec: WorldForkServer, files: Set<String>)]) {
        for (spec, files) in worlds {
            let sharing = agents.filter { $0.executable == spec.python && $0.sdkDirectory == spec.sdkDirectory }
            guard !sharing.isEmpty else { continue }
            ForkServer.serveAgentsAndWorlds(python: spec.python, sdkDirectory: spec.sdkDirectory, worldSDK: spec.worldSDK,
                                            worldFiles: files, agentFiles: Set(sharing.map(\.agentFile)))
        }
    }

    /// Starts, in the background, the world servers, one per worker CPU as the workers will ask
    /// for them: their start (an interpreter and the task SDK's imports) overlaps the store's
    /// set-up instead of delaying each worker's first episode. A server that cannot start is
    /// reported by the episode that asks for it, as without this.
    private static func prestartWorldServers(_ worlds: [(spec: WorldForkServer, files: Set<String>)], cpus: [Int]?) {
        for (spec, files) in worlds {
            for cpu in cpus ?? [-1] {
                Thread {
                    if cpu >= 0 { CPUPlacement.pinCurrentThread(to: [cpu]) }
                    _ = try? ForkServer.sharedWorlds(sdkDirectory: spec.sdkDirectory, worldSDK: spec.worldSDK, python: spec.python,
                                                     worldFiles: files)
                }.start()
            }
        }
    }

    /// Resolves every pairing first (a typo fails the batch before any episode runs), then runs.
    /// `progress` is called once per finished episode, serially, with the count done so far.
    public func run(in workspace: Workspace, progress: @escaping @Sendable (Int, BatchOutcome) -> Void) throws(RunnerError) -> [BatchOutcome] {
        try run(in: workspace, handle: BatchHandle(), progress: progress)
    }

    /// Runs under `handle`, which hears of every recorded episode (as `progress` does) and can
    /// cancel this batch (`BatchHandle`). Returns the outcomes of the episodes recorded, in
    /// `items` order: all of them, or, when the handle was cancelled, those recorded before the
    /// batch stopped (the caller asks `handle.isCancelled`).
    public func run(in workspace: Workspace, handle: BatchHandle,
                    progress: @escaping @Sendable (Int, BatchOutcome) -> Void = { _, _ in }) throws(RunnerError) -> [BatchOutcome] {
        if handle.isCancelled { return [] }
        // Each agent resolved once (a missing one is reported when its pairing is prepared).
        var agents: [String: AgentCommand] = [:]
        for agent in Set(items.map(\.pairing.agent)).sorted() {
            agents[agent] = try? workspace.agentCommand(for: agent)
        }
        let plan = cpuPlan()
        // Each task resolved once, from one registry (a missing one is reported when its pairing is prepared).
        var tasks: [String: LoadedTask] = [:]
        if let registry = try? workspace.registry() {
            for ref in Set(items.map(\.pairing.task)).sorted() { tasks[ref] = try? registry.resolve(ref) }
        }
        var settings = GuardSettings(isolation: isolation ?? workspace.defaultIsolation ?? Bubblewrap.strongestAvailable)
        settings.forkServer = forkServer
        let python = agents.keys.sorted().compactMap { agents[$0] }.filter { $0.kind == .pythonSDK }
        // Python worlds fork from warm servers at the process level, when fork servers are allowed.
        let worlds = forkServer != .never && settings.isolation == .process ? Self.worldServers(Array(tasks.values)) : []
        Self.serveAgentsAndWorlds(agents: python, worlds: worlds)
        if forkServer != .never {
            // The Python agents' fork server takes the longest to start and needs nothing of
            // the tasks: it starts first, showing (at the namespace level) every Python agent.
            AgentSession.prestartForkServers(commands: python, settings: settings, cpus: plan)
        }
        var requests: [String: EpisodeRequest] = [:]
        let worldKey: WorldKey
        if let chosen = self.worldKey { worldKey = chosen } else { worldKey = try workspace.worldKey() }
        for item in items where requests[item.pairing.name] == nil {
            var options = RunOptions(
                agent: item.pairing.agent, task: item.pairing.task, seed: 0, isolation: isolation,
                actTimeoutSeconds: actTimeoutSeconds, forkServer: forkServer, worldKey: worldKey)
            options.policyFile = policyFile
            options.traceEndpoint = traceEndpoint
            options.models = models
            let request = try workspace.prepare(options, resolvedAgent: agents[item.pairing.agent], resolvedTask: tasks[item.pairing.task])
            if request.agent.kind == .executable && !requests.values.contains(where: { $0.agent.agentFile == request.agent.agentFile }) {
                // Native servers take the task's process limits: started once the first is known.
                AgentSession.prestartForkServers(commands: [request.agent], settings: request.guardSettings, cpus: plan)
            }
            requests[item.pairing.name] = request
        }
        Self.prestartWorldServers(worlds, cpus: plan)
        let store = try workspace.store(create: true)
        let queue = WorkQueue(count: items.count)
        let results = ResultSlots<Result<BatchOutcome, RunnerError>>(count: items.count)
        let recorder = Recorder()
        let frozen = requests
        // Workers run episodes; one recorder thread writes the artifact files and indexes them
        // in the store, several runs per transaction. One writer means no two threads contend
        // for the runs directory or the store's write lock, and a transaction's fixed cost is
        // shared by the runs it holds.
        let workerCount = min(workers, max(1, items.count))
        recorder.expectWorkers(workerCount)
        let threads = (0..<workerCount).map { worker in
            Thread { [items, strictSpec] in
                if let plan { CPUPlacement.pinCurrentThread(to: [plan[worker]]) }
                // The last worker to run out of episodes closes the recorder: it stops lingering.
                defer { recorder.workerFinished() }
                while let i = queue.next() {
                    let item = items[i]
                    guard var request = frozen[item.pairing.name] else { continue }
                    request.seed = item.seed
                    if let tape = item.tape, request.models?.mode == .replay { request.models?.tape = tape }
                    let t0 = MonotonicClock.nanoseconds()
                    do throws(RunnerError) {
                        let result = try Episode.run(request)
                        let wall = Double(MonotonicClock.nanoseconds() - t0) / 1e9
                        let problems = strictSpec ? SpecCheck.check(result.artifact).map(\.description) : []
                        recorder.submit(.init(index: i, item: item, result: result, wallSeconds: wall, specProblems: problems))
                    } catch {
                        results.set(i, .failure(error)) { _ in }
                    }
                }
            }
        }
        guard handle.attach(queue: queue, recorder: recorder, total: items.count) else { return [] }
        defer { handle.detach() }
        let writer = Thread {
            // At the workers' priority. Pinned workers and their agents keep their CPUs busy;
            // a writer at a lower one (it once ran at nice 19) fell behind until the last
            // episode, and the batch then waited for its backlog on one CPU: 3% (Python) to
            // 9% (Swift agent) slower, medians of 10-14 interleaved pairs.
            defer { recorder.markFinished() }
            recorder.drain { jobs in
                for (job, outcome) in Batch.keep(jobs, workspace: workspace, store: store) {
                    results.set(job.index, outcome) { done in
                        if case .success(let o) = outcome {
                            handle.recorded(o)
                            progress(done, o)
                        }
                    }
                }
            }
        }
        writer.stackSize = 8 << 20
        writer.start()
        for t in threads { t.stackSize = 8 << 20; t.start() }
        // The writer ends once every worker has run out of episodes (all ran, or the queue was
        // cancelled) and what they finished is written down.
        recorder.waitFinished()
        // Artifacts were written without a flush each; one flush makes them all durable.
        if workspace.writesRunFiles { ArtifactFile.flush(workspace.runsDirectory) }
        let cancelled = handle.isCancelled
        var out: [BatchOutcome] = []
        for r in results.values {
            switch r {
            case .success(let o)?: out.append(o)
            case .failure(let e)?: throw e
            case nil: if !cancelled { throw .internal("a batch episode produced no result") }
            }
        }
        return out
    }

    /// Writes the artifact files of finished episodes and records them in the store, in one
    /// transaction when it can (if that fails, one by one, so each error lands on its episode).
    static func keep(_ jobs: [Recorder.Job], workspace: Workspace, store: any RunStorage) -> [(Recorder.Job, Result<BatchOutcome, RunnerError>)] {
        var written: [(Recorder.Job, String?)] = []
        var out: [(Recorder.Job, Result<BatchOutcome, RunnerError>)] = []
        for job in jobs {
            do throws(RunnerError) {
                guard workspace.writesRunFiles else { written.append((job, nil)); continue }
                let path = try workspace.artifactPath(runID: job.result.record.runID)
                try ArtifactFile.write(job.result.artifact, to: path, durable: false)
                written.append((job, path))
            } catch {
                out.append((job, .failure(error)))
            }
        }
        var recordedTogether = false
        if written.count > 1 {
            do {
                try store.record(contentsOf: written.map(\.0.result.artifact), hashedBytes: written.map(\.0.result.hashedBytes))
                recordedTogether = true
            } catch {
                recordedTogether = false
            }
        }
        for (job, path) in written {
            if !recordedTogether {
                do {
                    try store.record(contentsOf: [job.result.artifact], hashedBytes: [job.result.hashedBytes])
                } catch {
                    out.append((job, .failure(.store(error))))
                    continue
                }
            }
            out.append((job, .success(job.outcome(path: path))))
        }
        return out
    }
}

/// Finished episodes on their way from the workers to the one thread that writes them down.
/// Bounded: a worker waits when the writer is this far behind, so memory stays flat.
final class Recorder: @unchecked Sendable {
    struct Job {
        let index: Int
        let item: BatchItem
        let result: EpisodeResult
        let wallSeconds: Double
        let specProblems: [String]

        func outcome(path: String?) -> BatchOutcome {
            let a = result.record
            return BatchOutcome(
                item: item, success: a.success, terminationReason: a.termination.rawValue,
                failureType: a.termination.failureType?.rawValue, stepsUsed: a.stepsUsed, toolCallsUsed: a.toolCallsUsed,
                wallSeconds: wallSeconds, artifactHash: result.artifactHash, artifactPath: path, runID: a.runID,
                specProblems: specProblems, passed: a.success && specProblems.isEmpty, artifact: result.artifact)
        }
    }

    private let condition = NSCondition()
    private var pending: [Job] = []
    private var closed = false
    /// After an interrupt: episodes that end now ended because their agents were killed, and
    /// are not results; they are dropped instead of recorded.
    private var intakeStopped = false
    private var finished = false
    private let limit = 64
    /// Runs the writer waits for before recording, unless `lingerSeconds` pass first.
    static let transactionSize = 16
    static let lingerSeconds = 0.025
    /// Whether the writer sleeps for want of jobs, and how many workers sleep for want of room:
    /// a signal goes only to someone who waits (each wake-up is a context switch).
    private var writerWaiting = false
    private var workersWaiting = 0

    func submit(_ job: Job) {
        condition.lock()
        if intakeStopped {
            condition.unlock()
            return
        }
        while pending.count >= limit && !closed {
            workersWaiting += 1
            condition.wait()
            workersWaiting -= 1
        }
        if intakeStopped {  // interrupted while waiting for room
            condition.unlock()
            return
        }
        pending.append(job)
        // The writer wakes for the first job (to start lingering) and for a full transaction.
        if writerWaiting && (pending.count == 1 || pending.count >= Self.transactionSize) { condition.broadcast() }
        condition.unlock()
    }

    // MARK: Cancellation (BatchHandle)

    func stopIntake() {
        condition.lock()
        intakeStopped = true
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func markFinished() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func waitFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    func waitFinished(until deadline: Date) {
        condition.lock()
        while !finished {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private var workersLeft = 0

    func expectWorkers(_ count: Int) {
        condition.lock(); workersLeft = count; condition.unlock()
    }

    /// A worker has no more episodes to run; after the last one, no job will come.
    func workerFinished() {
        condition.lock()
        workersLeft -= 1
        if workersLeft <= 0 {
            closed = true
            condition.broadcast()
        }
        condition.unlock()
    }

    /// No more jobs will come; `drain` returns once the last is handled.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Hands every job to `handle`, as many at a time as have queued up, until closed.
    func drain(_ handle: ([Job]) -> Void) {
        while true {
            condition.lock()
            while pending.isEmpty && !closed {
                writerWaiting = true
                condition.wait()
                writerWaiting = false
            }
            if pending.isEmpty && closed {
                condition.unlock()
                return
            }
            // Linger for a few more: a transaction's fixed cost (its commit above all) is
            // shared by the runs it holds, and a batch's episodes end every few milliseconds.
            let deadline = Date(timeIntervalSinceNow: Self.lingerSeconds)
            while pending.count < Self.transactionSize && !closed {
                writerWaiting = true
                let woken = condition.wait(until: deadline)
                writerWaiting = false
                if !woken { break }
            }
            let jobs = pending
            pending.removeAll(keepingCapacity: true)
            if workersWaiting > 0 { condition.broadcast() }
            condition.unlock()
            handle(jobs)
        }
    }
}

/// Hands out indices 0..<count to worker threads.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var cancelled = false
    private let count: Int

    init(count: Int) { self.count = count }

    /// No index is handed out any more.
    func cancel() {
        lock.lock(); cancelled = true; lock.unlock()
    }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard !cancelled, nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }
}

/// Fixed slots filled by worker threads (a slot stays nil when its episode never ran).
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
        // Only the last slot can end a wait: waking the waiter for every episode costs a
        // context switch each.
        if filled == slots.count { condition.broadcast() }
        condition.unlock()
    }

    var values: [T?] {
        condition.lock(); defer { condition.unlock() }
        return slots
    }
}
