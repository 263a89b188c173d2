import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

struct BatchCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a matrix of pairings × seeds in parallel and summarise it.",
        discussion: """
            Every episode's artifact is written and indexed. The summary gives pass rates per \
            pairing with 95% Wilson intervals, failures by failure_type, the first failing seeds \
            of each pairing (up to 5, with their run ids and reasons: open one with `rigor runs \
            show RUN`), and P50/P95 of wall time, steps and tool calls. Artifacts are identical \
            (artifact_hash) whatever --workers is.

            Progress goes to stderr: a bar with the time left on a terminal; elsewhere (CI logs, \
            pipes) a line per tenth of the batch. --quiet prints only the summary.

            rigor batch --pairings all --seeds 0..99
            rigor batch --pairings toy_filesystem,rate_limit_api --seeds 0..19 --json
            rigor batch --from matrix.json

            matrix.json: {"pairings": [names, or {"name", "agent", "task"}], \
            "seeds": "0..9"}.

            Shards (one batch over several machines): --shard I/N runs the I-th of N disjoint, \
            balanced parts of the pairing × seed matrix, whatever order the command line names \
            them in, and records in the store a batch_shard ledger entry with the whole batch spec \
            (task and agent hashes, budgets, seeds, world key id) and its runs. `rigor merge` \
            joins the shards' stores into one that gives what one machine would have. Every \
            shard needs the same RIGOR_WORLD_KEY. --shard-from slurm|k8s|env reads I and N from \
            the engine: Slurm arrays (SLURM_ARRAY_TASK_ID, _MIN, _COUNT), Kubernetes Indexed \
            Jobs (JOB_COMPLETION_INDEX from 0, N from --shard-count or RIGOR_SHARD_COUNT), or \
            RIGOR_SHARD_INDEX (from 1) and RIGOR_SHARD_COUNT (a CI matrix).

            rigor batch --pairings all --seeds 0..99 --shard 2/4 --state-dir shards/2
            rigor batch --pairings all --seeds 0..99 --shard-from slurm --state-dir shards/$SLURM_ARRAY_TASK_ID

            Exit 0 when every episode passed, 1 otherwise, 2 on bad usage or input.
            """)

    @Option(help: ArgumentHelp("'all' or comma-separated pairing names (see `rigor run pairing --list`).", valueName: "names"))
    var pairings: String?

    @Option(help: ArgumentHelp("Seeds: 0..99, 0..<10, 1,2,5.", valueName: "list"))
    var seeds: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("A JSON file with {\"pairings\": [...], \"seeds\": \"0..9\"}.", valueName: "file"))
    var from: String?

    @Option(help: ArgumentHelp("Episodes run at once (default: the number of CPUs Rigor may use).", valueName: "n"))
    var workers: Int?

    @Flag(name: .customLong("no-pin"), help: ArgumentHelp(
        "Let the scheduler place workers and agents (default: with a worker per CPU, each worker and the agents it starts run on a CPU of their own)."))
    var noPin = false

    @Option(help: ArgumentHelp("Run only shard I of N (1 ≤ I ≤ N) of the matrix, and record it for `rigor merge`.", valueName: "I/N"))
    var shard: String?

    @Option(name: .customLong("shard-from"), help: ArgumentHelp(
        "Take the shard from the engine's variables: slurm, k8s (with --shard-count or RIGOR_SHARD_COUNT) or env (RIGOR_SHARD_INDEX, RIGOR_SHARD_COUNT).",
        valueName: "engine"))
    var shardFrom: String?

    @Option(name: .customLong("shard-count"), help: ArgumentHelp("N for --shard-from (needed for k8s unless RIGOR_SHARD_COUNT is set).", valueName: "n"))
    var shardCount: Int?

    @OptionGroup var progress: ProgressOptions
    @OptionGroup var options: EpisodeOptions
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        try options.checkInput()
        if from == nil && (pairings == nil || seeds == nil) {
            throw ValidationError("give --pairings and --seeds, or --from FILE (e.g. rigor batch --pairings all --seeds 0..9)")
        }
        if let workers, let problem = InputRanges.workers.problem(workers) { throw ValidationError("--workers \(problem)") }
        if shard != nil && shardFrom != nil { throw ValidationError("give --shard I/N or --shard-from ENGINE, not both") }
        if shardCount != nil && shardFrom == nil { throw ValidationError("--shard-count goes with --shard-from (with --shard, write I/N)") }
        if let shardCount, !(1...Shard.maximumCount).contains(shardCount) {
            throw ValidationError("--shard-count is \(shardCount); it must be between 1 and \(Shard.maximumCount)")
        }
        if let shardFrom, ShardSource(rawValue: shardFrom) == nil {
            throw ValidationError("--shard-from '\(shardFrom)' is not an engine; use slurm, k8s or env")
        }
    }

    /// The shard asked for, if any.
    func chosenShard() throws(RunnerError) -> Shard? {
        if let shard { return try Shard.parse(shard) }
        guard let shardFrom, let source = ShardSource(rawValue: shardFrom) else { return nil }
        return try source.shard(environment: ProcessInfo.processInfo.environment, count: shardCount)
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        let batch: Batch
        var sharded: ShardedBatch?
        do {
            let matrix = try makeMatrix(workspace)
            batch = matrix.batch
            if let shard = try chosenShard() {
                sharded = try ShardedBatch(pairings: matrix.pairings, seeds: matrix.seeds, shard: shard, template: batch, in: workspace)
            }
        } catch { throw Console.fail(error) }
        options.announceChosenLevel()
        if let sharded, !progress.quiet {
            Console.note("shard \(sharded.shard): \(sharded.batch.items.count) of \(sharded.spec.cells.count) episodes, batch spec \(sharded.spec.hash.prefix(19))…")
        }
        let reporter = BatchProgress(total: sharded?.batch.items.count ?? batch.items.count, quiet: progress.quiet, json: options.json)
        let t0 = MonotonicClock.nanoseconds()
        let outcomes: [BatchOutcome]
        do {
            if let sharded {
                outcomes = try sharded.run(in: workspace, handle: Interrupts.batchHandle()) { done, outcome in reporter.report(done: done, outcome) }
            } else {
                outcomes = try batch.run(in: workspace, handle: Interrupts.batchHandle()) { done, outcome in reporter.report(done: done, outcome) }
            }
        } catch { throw Console.fail(error) }
        reporter.finish()
        let summary = BatchSummary(outcomes: outcomes, workers: batch.workers,
                                   elapsedSeconds: Double(MonotonicClock.nanoseconds() - t0) / 1e9, pinnedCPUs: batch.cpuPlan())
        var summaryView = summary.json
        if let sharded, case .object(var o) = summaryView {
            o["shard"] = ["shard": .string(sharded.shard.description), "batch_spec_hash": .string(sharded.spec.hash),
                          "matrix_episodes": .int(sharded.spec.cells.count), "store": .string(workspace.stateDirectory)]
            summaryView = .object(o)
        }
        // Kept for `rigor report --latest-batch`; a batch whose summary cannot be kept still ran.
        do { try LastBatch.save(summaryView, stateDirectory: workspace.stateDirectory) } catch { Console.error("warning: \(error.description)") }
        if options.json {
            Console.printJSON(summaryView)
        } else {
            BatchReport.print(summary)
            if let sharded {
                Console.line("")
                Console.line("shard \(sharded.shard) of batch \(sharded.spec.hash) recorded in \(workspace.stateDirectory); merge the shards with `rigor merge DIR... --into DIR`")
            }
        }
        // Leaves from here: what the batch holds (every artifact, parsed) is the system's to
        // free at exit; freeing it object by object first cost ~2 ms of a 140-episode batch.
        Interrupts.exit((summary.failed > 0 ? ExitStatusCode.failed : .success).rawValue)
    }

    func makeBatch(_ workspace: Workspace) throws(RunnerError) -> Batch { try makeMatrix(workspace).batch }

    /// The batch, and the pairings and seeds it was made of (a shard's spec is resolved from them).
    func makeMatrix(_ workspace: Workspace) throws(RunnerError) -> (batch: Batch, pairings: [Pairing], seeds: [Int]) {
        var selected: [Pairing] = []
        var seedList: [Int] = []
        if let from {
            let spec = try ArtifactFile.read(from, expected: #"a matrix file: {"pairings": [...], "seeds": "0..9"}"#)
            let catalog = try? workspace.pairings()
            for entry in spec["pairings"]?.arrayValue ?? [] {
                if let name = entry.stringValue {
                    guard let catalog else { throw .usage("'\(from)' names pairing '\(name)' but there is no pairings file") }
                    selected += try catalog.select(name)
                } else if let n = entry["name"]?.stringValue, let a = entry["agent"]?.stringValue, let t = entry["task"]?.stringValue {
                    selected.append(Pairing(name: n, agent: a, task: t))
                } else {
                    throw .usage("'\(from)': each pairing is a name or an object with name, agent and task")
                }
            }
            if let s = spec["seeds"]?.stringValue { seedList = try SeedList.parse(s) }
            else if let s = spec["seeds"]?.arrayValue {
                seedList = try s.map { (seed: JSON) throws(RunnerError) -> Int in
                    guard case .int(let n) = seed else { throw .usage("'\(from)': \"seeds\" holds \(seed.typeName) \(seed), not an integer seed") }
                    return n
                }
            }
        }
        if let pairings { selected = try workspace.pairings().select(pairings) }
        if let seeds { seedList = try SeedList.parse(seeds) }
        if selected.isEmpty { throw .usage("the batch has no pairings") }
        if seedList.isEmpty { throw .usage("the batch has no seeds") }

        let cores = CPUPlacement.defaultWorkerCount
        var batch = Batch(pairings: selected, seeds: seedList, workers: workers ?? cores,
                          isolation: options.isolationLevel, actTimeoutSeconds: options.actTimeout, strictSpec: options.strictSpec)
        batch.forkServer = options.forkServerUse(default: .python)
        batch.pinWorkers = !noPin
        batch.policyFile = options.policy
        batch.traceEndpoint = options.traceEndpoint
        batch.models = (try? options.modelOptions()) ?? ModelOptions()
        return (batch, selected, seedList)
    }
}

enum BatchReport {
    static func pct(_ x: Double) -> String { String(format: "%5.1f%%", x * 100) }

    static func print(_ s: BatchSummary) {
        Console.line("\(s.total) episodes, \(Console.green("\(s.passed) passed")), \(s.failed > 0 ? Console.red("\(s.failed) failed") : "0 failed")  "
            + Console.dim(String(format: "(%.1f s, %.1f episodes/s, %d worker", s.elapsedSeconds, s.episodesPerSecond, s.workers)
                + (s.workers == 1 ? "" : "s")
                + (s.pinnedCPUs.map { " on CPUs " + $0.map(String.init).joined(separator: ",") } ?? "") + ")"))
        if !s.failuresByType.isEmpty {
            Console.line("failed by type: " + s.failuresByType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        Console.line("")
        Console.line("pairing                          passed   rate    95% Wilson")
        for p in s.perPairing {
            let ci = p.interval
            Console.line("\(p.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(String(format: "%3d/%-3d", p.passed, p.total)) \(pct(p.rate))  [\(pct(ci.low)), \(pct(ci.high))]")
        }
        printFailingSeeds(s)
        printModelUsage(s.perPairing)
        let wall = (Statistics.percentile(s.outcomes.map(\.wallSeconds), 0.5), Statistics.percentile(s.outcomes.map(\.wallSeconds), 0.95))
        let steps = (Statistics.percentile(s.outcomes.map(\.stepsUsed), 0.5), Statistics.percentile(s.outcomes.map(\.stepsUsed), 0.95))
        let tools = (Statistics.percentile(s.outcomes.map(\.toolCallsUsed), 0.5), Statistics.percentile(s.outcomes.map(\.toolCallsUsed), 0.95))
        Console.line("")
        Console.line(String(format: "wall time  P50 %.3f s  P95 %.3f s", wall.0, wall.1))
        Console.line("steps      P50 \(steps.0)  P95 \(steps.1)")
        Console.line("tool calls P50 \(tools.0)  P95 \(tools.1)")
    }

    /// Model calls, tokens and cost per pairing (pairings that had the model gateway).
    static func printModelUsage(_ pairings: [BatchSummary.PerPairing]) {
        let rows = pairings.compactMap { p in p.models.map { (p.name, $0) } }
        guard !rows.isEmpty else { return }
        Console.line("")
        Console.line("models                           calls   tokens in / out        cost      per solved")
        for (name, m) in rows {
            let perSolved = m.costPerSolved.map { String(format: "$%.6f", $0) } ?? "(none solved)"
            Console.line("\(name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(String(format: "%5d", m.calls))   "
                + "\(String(format: "%9d / %-9d", m.inputTokens, m.outputTokens))  \(String(format: "$%.6f", m.costUSD))  \(perSolved)")
        }
    }

    /// The first failing seeds of each pairing, so a failure can be opened without a query.
    static func printFailingSeeds(_ s: BatchSummary) {
        let failing = s.perPairing.filter { !$0.firstFailures.isEmpty }
        guard !failing.isEmpty else { return }
        Console.line("")
        Console.line("first failing seeds (rigor runs show RUN)")
        let nameWidth = failing.map(\.name.count).max() ?? 0
        let seedWidth = failing.flatMap { $0.firstFailures.map { String($0.seed).count } }.max() ?? 1
        for p in failing {
            for f in p.firstFailures {
                let reason = f.reason.map { ": " + (TerminalText.escaped($0, keepLayout: false)) } ?? ""
                let line = "\(p.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  seed \(String(f.seed).padding(toLength: seedWidth, withPad: " ", startingAt: 0))  "
                    + "run \(f.runID.prefix(8))  \(f.terminationReason)\(f.failureType.map { " (\($0))" } ?? "")\(reason)"
                Console.line(line.count > 200 ? String(line.prefix(199)) + "…" : line)
            }
            let more = p.total - p.passed - p.firstFailures.count
            if more > 0 { Console.line("\(String(repeating: " ", count: nameWidth))  … and \(more) more") }
        }
    }
}
