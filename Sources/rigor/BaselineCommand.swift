import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record the baselines that `rigor ci` re-runs (one reviewable JSON file per pairing and seed).",
        subcommands: [Record.self, List.self],
        defaultSubcommand: List.self)

    struct Record: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(
            commandName: "record",
            abstract: "Run pairings × seeds and write Baselines/<pairing>/seed-<n>.json (+ the artifact, compressed).",
            discussion: """
                rigor baseline record --pairings all --seeds 0..4
                Refuses to overwrite existing baselines when CI=true unless --force. Each recorded \
                baseline is entered in the ledger; --quiet prints one line for them all. (--dir is \
                the old name of --baselines.) Exit 0 on success, 2 on bad input.
                """)
        @Option(help: ArgumentHelp("'all' or comma-separated pairing names.", valueName: "names")) var pairings: String
        @Option(help: ArgumentHelp("Seeds: 0..4, 1,2,5.", valueName: "list")) var seeds: String
        @OptionGroup var baselines: BaselinesOption
        @Option(help: ArgumentHelp("Episodes run at once (default: the number of CPUs Rigor may use).", valueName: "n")) var workers: Int?
        @Flag(help: "Overwrite existing baselines even when CI=true.") var force = false
        @OptionGroup var progress: ProgressOptions
        @OptionGroup var options: EpisodeOptions
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws {
            try options.checkInput()
            if let workers, let problem = InputRanges.workers.problem(workers) { throw ValidationError("--workers \(problem)") }
            if options.policy != nil {
                // `rigor ci` re-runs a baseline with the policies that come with its task and the
                // project; a flag's policy would not be there, and every re-run would differ.
                throw ValidationError("--policy is not recorded in baselines: put the policy in the task folder (policy.toml) or in rigor.toml ([project] policy), where rigor ci finds it again")
            }
        }

        func run() throws {
            let workspace = try workspaceOptions.workspace(baselines: baselines.directory)
            let directory = workspace.baselinesDirectory
            do {
                let selected = try workspace.pairings().select(pairings)
                let seedList = try SeedList.parse(seeds)
                let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
                if inCI && !force {
                    for p in selected {
                        for s in seedList {
                            let path = try Baseline.path(in: directory, pairing: p.name, seed: s)
                            if FileManager.default.fileExists(atPath: path) {
                                throw RunnerError.usage("refusing to overwrite \(path) under CI=true; record baselines locally and commit them (or pass --force)")
                            }
                        }
                    }
                }
                var batch = Batch(pairings: selected, seeds: seedList, workers: workers ?? CPUPlacement.defaultWorkerCount,
                                  isolation: options.isolationLevel, actTimeoutSeconds: options.actTimeout, strictSpec: true)
                batch.forkServer = options.forkServerUse(default: .python)
                // Recorded in each baseline (`trace_endpoint`): `rigor ci` offers it again.
                batch.traceEndpoint = options.traceEndpoint
                batch.models = (try? options.modelOptions()) ?? ModelOptions()
                // A baseline of an LLM run keeps its tape: `rigor ci` replays it offline.
                batch.models.recordWhenLive = true
                options.announceChosenLevel()
                let reporter = BatchProgress(total: batch.items.count, quiet: progress.quiet, json: options.json)
                let outcomes = try batch.run(in: workspace, handle: Interrupts.batchHandle()) { done, o in reporter.report(done: done, o) }
                reporter.finish()
                try BaselineReport.write(outcomes, directory: directory, workspace: workspace, json: options.json, quiet: progress.quiet)
            } catch let e as RunnerError { throw Console.fail(e) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the baselines in a directory.")
        @OptionGroup var baselines: BaselinesOption
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let directory = try workspaceOptions.workspace(baselines: baselines.directory).baselinesDirectory
            let all: [Baseline]
            do { all = try Baseline.loadAll(directory) } catch { throw Console.fail(error) }
            if json { Console.printJSON(.array(all.map(\.document))); return }
            for b in all {
                print("\(b.pairing.padding(toLength: 30, withPad: " ", startingAt: 0)) seed \(String(b.seed).padding(toLength: 4, withPad: " ", startingAt: 0)) \(CICheck.summary(b.document["outcome"], used: b.document["used"]).padding(toLength: 28, withPad: " ", startingAt: 0)) \(b.artifactHash ?? "")")
            }
            if all.isEmpty { print("no baselines in \(directory)") }
        }
    }
}

/// Prints what `BaselineWriter` writes (also used by `rigor ci --update`).
enum BaselineReport {
    static func write(_ outcomes: [BatchOutcome], directory: String, workspace: Workspace, json: Bool, quiet: Bool = false) throws(RunnerError) {
        let written = try BaselineWriter.write(outcomes, directory: directory, workspace: workspace) { w in
            if !json && !quiet {
                print("\(w.success ? Console.green("wrote") : Console.yellow("wrote (failing episode)")) \(w.path)")
            }
        }
        if json { Console.printJSON(.array(written.map(\.json))) }
        else if quiet {
            let failing = outcomes.filter { !$0.success }.count
            print("\(Console.green("wrote")) \(outcomes.count) baseline\(outcomes.count == 1 ? "" : "s") in \(directory)"
                + (failing > 0 ? Console.yellow(" (\(failing) of failing episodes)") : ""))
        }
    }
}

/// The baselines directory, spelled `--baselines DIR` on every command that takes one.
struct BaselinesOption: ParsableArguments {
    @Option(help: ArgumentHelp("Baselines directory (default: the project's `baselines`, else ./Baselines).", valueName: "dir"))
    var baselines: String?

    /// The old spelling on `baseline record` and `baseline list`, still accepted.
    @Option(name: .customLong("dir"), help: .hidden)
    var deprecatedDirectory: String?

    var directory: String? {
        if let deprecatedDirectory, baselines == nil {
            Console.note("--dir is deprecated; use --baselines \(deprecatedDirectory)")
            return deprecatedDirectory
        }
        return baselines
    }
}
