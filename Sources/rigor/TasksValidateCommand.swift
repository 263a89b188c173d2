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
            For every task, runs the reference agent(s) paired with it (rigor.toml, Agents/pairings.json), \
            or those given with --agent, on --seeds (default 0..99) and Agents/do_nothing.py on --null-seeds (default 0..9). \
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

    @Option(name: .customLong("agent"),
            help: ArgumentHelp("A reference agent for every task checked (repeatable), instead of the ones paired with it: for task folders no pairing names, e.g. TraceCore's own with its reference agent.", valueName: "agent"))
    var agents: [String] = []

    @Option(name: .customLong("null-agent"), help: ArgumentHelp("The do-nothing agent (default: the project's Agents/do_nothing.py, else Rigor's own copy).", valueName: "path"))
    var nullAgent: String?

    @Option(name: .customLong("determinism-seeds"),
            help: ArgumentHelp("How many of --seeds to run twice, comparing artifact hashes (0: skip; more than --seeds has: all of them).", valueName: "n"))
    var determinismSeeds = 2

    @Argument(help: ArgumentHelp("Only these tasks: refs (id@version) or ids, as --tasks.", valueName: "task"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Only these tasks (comma-separated refs, or ids for every version).", valueName: "refs"))
    var tasks: String?

    /// The tasks asked for, by --tasks and by name; nil: every task.
    var chosen: Set<String>? {
        let named = only + (tasks.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [])
        return named.isEmpty && tasks == nil ? nil : Set(named)
    }

    @Option(help: ArgumentHelp("Episodes run at once (default: the number of CPUs Rigor may use).", valueName: "n"))
    var workers: Int?

    @OptionGroup var progress: ProgressOptions
    @OptionGroup var options: EpisodeOptions
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        try options.checkInput()
        if let workers, let problem = InputRanges.workers.problem(workers) { throw ValidationError("--workers \(problem)") }
        if let problem = InputRanges.listLimit.problem(determinismSeeds) { throw ValidationError("--determinism-seeds \(problem)") }
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        options.announceChosenLevel()
        let rows: [TaskOracle.Verdict]
        do { rows = try verdicts(workspace) } catch { throw Console.fail(error) }
        if options.json { Console.printJSON(.array(rows.map(\.json))) }
        if rows.isEmpty {
            let asked = (chosen ?? []).sorted().joined(separator: ", ")
            throw Console.fail(.usage("no task matched \(asked.isEmpty ? "--tasks" : asked); `rigor tasks list` shows the known ones"))
        }
        if !options.json {
            let failing = rows.filter { !$0.ok }.count
            print(failing == 0 ? Console.green("every task passed (\(rows.count))") : Console.red("\(failing) of \(rows.count) tasks failed"))
        }
        if rows.contains(where: { !$0.ok }) { throw CLIExit(code: .failed) }
    }

    /// Every verdict, each printed as it is reached (unless --json; with --quiet only failing ones).
    func verdicts(_ workspace: Workspace) throws(RunnerError) -> [TaskOracle.Verdict] {
        var oracle = TaskOracle(
            referenceSeeds: try SeedList.parse(seeds), nullSeeds: try SeedList.parse(nullSeeds), nullAgent: nullAgent,
            determinismSeeds: determinismSeeds, tasks: chosen,
            workers: workers ?? CPUPlacement.defaultWorkerCount, isolation: options.isolationLevel,
            actTimeoutSeconds: options.actTimeout, forkServer: options.forkServerUse(default: .python))
        oracle.referenceAgents = agents
        return try oracle.run(in: workspace, handle: Interrupts.batchHandle()) { row in
            if !options.json && (!progress.quiet || !row.ok) { printRow(row) }
        }
    }

    func printRow(_ r: TaskOracle.Verdict) {
        let verdict = r.ok ? Console.green("OK  ") : Console.red("FAIL")
        let reference = r.reference.isEmpty ? Console.red("no reference agent: pair one with the task, or give --agent") : "reference \(r.solved)/\(r.attempts)"
        print("\(verdict) \(r.task.padding(toLength: 32, withPad: " ", startingAt: 0)) \(reference)   do-nothing passed \(r.nullPassed)/\(r.nullAttempts)")
        if let failure = r.firstFailure { print("     first failure: \(failure)") }
        if let drift = r.nonDeterministic { print("     " + Console.red("not deterministic") + ": \(drift)") }
        for finding in r.lint { print("     lint: \(finding)") }
    }
}
