import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTasks

/// `rigor tasks validate`: the oracle check of every task.
struct TasksValidateCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Prove each task solvable (its reference agent passes) and not trivially passed (a do-nothing agent fails).",
        discussion: """
            For every task, runs the reference agent(s) named for it in Agents/pairings.json on \
            --seeds (default 0..99) and Agents/do_nothing.py on --null-seeds (default 0..9). \
            A task passes when every reference episode succeeds and no do-nothing episode does, \
            when the reference agents run again on the first --determinism-seeds seeds give the \
            same artifact_hash (determinism), and when its manifest has no unknown keys (lint). \
            A manifest naming an action its world lacks is refused when the task loads. \
            One line per task, then a verdict; --quiet prints only the failing tasks and the verdict. \
            Exit 0 when every task passes, 1 otherwise, 2 on bad input.
            """)

    @Option(help: ArgumentHelp("Seeds for the reference agents.", valueName: "list"))
    var seeds = "0..99"

    @Option(name: .customLong("null-seeds"), help: ArgumentHelp("Seeds for the do-nothing agent.", valueName: "list"))
    var nullSeeds = "0..9"

    @Option(name: .customLong("null-agent"), help: ArgumentHelp("The do-nothing agent (default: the project's Agents/do_nothing.py, else Rigor's own copy).", valueName: "path"))
    var nullAgent: String?

    @Option(name: .customLong("determinism-seeds"),
            help: ArgumentHelp("How many of --seeds to run twice, comparing artifact hashes (0: skip).", valueName: "n"))
    var determinismSeeds = 2

    @Option(help: ArgumentHelp("Only these tasks (comma-separated refs).", valueName: "refs"))
    var tasks: String?

    @Option(help: ArgumentHelp("Episodes run at once (default: the number of CPUs Rigor may use).", valueName: "n"))
    var workers: Int?

    @OptionGroup var progress: ProgressOptions
    @OptionGroup var options: EpisodeOptions
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        try options.checkInput()
        if let workers, let problem = InputRanges.workers.problem(workers) { throw ValidationError("--workers \(problem)") }
        if determinismSeeds < 0 { throw ValidationError("--determinism-seeds must be 0 or more") }
    }

    struct Row {
        let task: String
        let reference: [String]
        let solved: Int
        let attempts: Int
        let nullPassed: Int
        let nullAttempts: Int
        /// Why the first failing reference episode failed (`termination_reason: failure_reason`).
        var firstFailure: String?
        /// The first (pairing, seed) whose second run hashed differently, if any.
        var nonDeterministic: String?
        /// Unknown manifest keys.
        var lint: [String] = []
        var ok: Bool { !reference.isEmpty && solved == attempts && nullPassed == 0 && nonDeterministic == nil && lint.isEmpty }
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        var rows: [Row] = []
        do {
            let catalog = try workspace.pairings()
            let registry = try workspace.registry()
            let referenceSeeds = try SeedList.parse(seeds)
            let nullSeedList = try SeedList.parse(nullSeeds)
            let nullAgent = try self.nullAgent ?? DoNothingAgent.path(in: workspace)
            let wanted = tasks.map { Set($0.split(separator: ",").map(String.init)) }
            for entry in registry.loadAll() {
                let task: LoadedTask
                switch entry {
                case .success(let t): task = t
                case .failure(let e): throw RunnerError.task(e)
                }
                let ref = task.manifest.ref
                if let wanted, !wanted.contains(ref) { continue }
                let references = catalog.pairings.filter { $0.task == ref }
                let null = Pairing(name: "do_nothing", agent: nullAgent, task: ref)
                var batch = Batch(pairings: references, seeds: referenceSeeds, workers: workers ?? CPUPlacement.defaultWorkerCount,
                                  isolation: options.isolationLevel, actTimeoutSeconds: options.actTimeout, strictSpec: true)
                var nullBatch = Batch(pairings: [null], seeds: nullSeedList, workers: workers ?? CPUPlacement.defaultWorkerCount,
                                      isolation: options.isolationLevel, actTimeoutSeconds: options.actTimeout)
                batch.forkServer = options.forkServerUse(default: .python)
                nullBatch.forkServer = options.forkServerUse(default: .python)
                let solved = references.isEmpty ? [] : try batch.run(in: workspace) { _, _ in }
                let nulls = try nullBatch.run(in: workspace) { _, _ in }
                let failed = solved.first { !$0.passed }
                var again = batch
                let twice = Array(referenceSeeds.prefix(determinismSeeds))
                again.items = batch.items.filter { twice.contains($0.seed) }
                let rerun = references.isEmpty || twice.isEmpty ? [] : try again.run(in: workspace) { _, _ in }
                let firstHash = Dictionary(solved.map { ("\($0.item.pairing.name)#\($0.item.seed)", $0.artifactHash) }, uniquingKeysWith: { a, _ in a })
                let drift = rerun.first { firstHash["\($0.item.pairing.name)#\($0.item.seed)"] != $0.artifactHash }
                var row = Row(task: ref, reference: references.map(\.agent), solved: solved.filter(\.passed).count,
                              attempts: solved.count, nullPassed: nulls.filter(\.success).count, nullAttempts: nulls.count,
                              firstFailure: failed.map { f in
                                  let reason = f.artifact["failure_reason"]?.stringValue.map { ": \($0)" } ?? ""
                                  return "seed \(f.item.seed), \(f.terminationReason)\(reason)"
                              })
                row.nonDeterministic = drift.map { "\($0.item.pairing.name) seed \($0.item.seed): \(firstHash["\($0.item.pairing.name)#\($0.item.seed)"] ?? "?") then \($0.artifactHash)" }
                row.lint = ManifestLint.findings(folder: task.directory)
                rows.append(row)
                if !options.json && (!progress.quiet || !row.ok) { printRow(row) }
            }
        } catch let e as RunnerError {
            throw Console.fail(e)
        }
        if options.json {
            Console.printJSON(.array(rows.map { r in
                ["task": .string(r.task), "reference_agents": .array(r.reference.map(JSON.string)),
                 "reference_passed": .int(r.solved), "reference_total": .int(r.attempts),
                 "do_nothing_passed": .int(r.nullPassed), "do_nothing_total": .int(r.nullAttempts), "ok": .bool(r.ok),
                 "first_failure": r.firstFailure.map(JSON.string) ?? .null,
                 "non_deterministic": r.nonDeterministic.map(JSON.string) ?? .null,
                 "lint": .array(r.lint.map(JSON.string))]
            }))
        }
        if rows.isEmpty { throw Console.fail(.usage("no task matched --tasks")) }
        if !options.json {
            let failing = rows.filter { !$0.ok }.count
            print(failing == 0 ? Console.green("every task passed (\(rows.count))") : Console.red("\(failing) of \(rows.count) tasks failed"))
        }
        if rows.contains(where: { !$0.ok }) { throw CLIExit(code: .failed) }
    }

    func printRow(_ r: Row) {
        let verdict = r.ok ? Console.green("OK  ") : Console.red("FAIL")
        let reference = r.reference.isEmpty ? Console.red("no reference agent in pairings") : "reference \(r.solved)/\(r.attempts)"
        print("\(verdict) \(r.task.padding(toLength: 32, withPad: " ", startingAt: 0)) \(reference)   do-nothing passed \(r.nullPassed)/\(r.nullAttempts)")
        if let failure = r.firstFailure { print("     first failure: \(failure)") }
        if let drift = r.nonDeterministic { print("     " + Console.red("not deterministic") + ": \(drift)") }
        for finding in r.lint { print("     lint: \(finding)") }
    }
}
