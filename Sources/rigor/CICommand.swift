import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorServer
import RigorSpec

struct CICommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Re-run every baseline, check each artifact against the spec, and fail on any regression.",
        discussion: """
            Gates (--gate): \
            exact (default): a regression is an outcome change, an artifact hash change (the first \
            divergent step is named), budget usage above the baseline, a spec failure, or a \
            baseline whose task or agent no longer exists. \
            outcome: the outcome and the spec must hold; hash and budget changes are reported, not \
            failed (an agent that improved from 5 steps to 4 passes). \
            stats: the baselines' pairings run over their seeds and the gate fails on a \
            significant drop of a pairing's pass rate (McNemar, p < 0.05, as `rigor compare`); \
            single flips are reported. Spec failures fail every gate.

            Progress goes to stderr (a bar on a terminal, a line per tenth elsewhere); --quiet \
            prints only the baselines that regressed or changed and the verdict.

            Exit 0 the gate passed, 1 it failed, 2 bad configuration. --update re-records the \
            changed baselines (never under CI=true).
            """)

    @OptionGroup var baselinesOption: BaselinesOption
    @Option(help: ArgumentHelp("Episodes run at once (default: the number of CPUs Rigor may use).", valueName: "n")) var workers: Int?
    @Option(help: ArgumentHelp("Write JUnit XML here.", valueName: "file")) var junit: String?
    @Option(help: ArgumentHelp("Write a Markdown summary here (for CI job pages).", valueName: "file")) var summary: String?
    @Option(help: ArgumentHelp("Write a self-contained HTML report of the gate here (upload it as the job's artifact).", valueName: "file")) var report: String?
    @Option(help: ArgumentHelp("Agent isolation: none, process or namespace (default: the strongest available). Baselines reproduce at every level: the level is not part of the hash.", valueName: "level"))
    var isolation: String?
    @Option(help: ArgumentHelp("What must hold: exact, outcome or stats (see above).", valueName: "mode"))
    var gate = "exact"
    @Flag(help: "Re-record the baselines that changed (refused under CI=true).") var update = false
    @OptionGroup var modelFlags: ModelFlags
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .customLong("fork-server"), inversion: .prefixedNo,
          help: "Fork agents from a warm fork server (default: Python agents, exec'd when their server cannot start; see `rigor batch --help`); --no-fork-server execs every agent.")
    var forkServer: Bool?
    @OptionGroup var progressOptions: ProgressOptions
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        if let workers, let problem = InputRanges.workers.problem(workers) { throw ValidationError("--workers \(problem)") }
        if let isolation, IsolationLevel(rawValue: isolation) == nil {
            throw ValidationError("--isolation must be one of: none, process, namespace (got '\(isolation)')")
        }
        if CIGateMode(rawValue: gate) == nil {
            throw ValidationError("--gate must be one of: exact, outcome, stats (got '\(gate)')")
        }
    }

    /// `--models` / `--model-upstream`; nil when neither is given (each baseline's tape).
    func modelOptions() -> ModelOptions? {
        (try? modelFlags.parsed(defaultMode: .replay)) ?? nil
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace(baselines: baselinesOption.directory)
        let baselines = workspace.baselinesDirectory
        let mode = CIGateMode(rawValue: gate) ?? .exact
        if update && ProcessInfo.processInfo.environment["CI"] == "true" {
            throw Console.fail(.usage("--update is refused under CI=true: re-record baselines locally, review and commit them"))
        }
        EpisodeOptions.announce(isolation.flatMap(IsolationLevel.init(rawValue:)))
        let t0 = Date()
        let checks: [CICheck]
        do {
            let all = try Baseline.loadAll(baselines)
            if all.isEmpty { throw RunnerError.usage("no baselines in '\(baselines)'; record some with `rigor baseline record`") }
            let progress = BatchProgress(total: all.count, quiet: progressOptions.quiet, json: json)
            let fork: ForkServerUse = forkServer.map { $0 ? .always : .never } ?? .python
            checks = try CIGate.run(all, in: workspace, workers: workers ?? CPUPlacement.defaultWorkerCount,
                                    isolation: isolation.flatMap(IsolationLevel.init(rawValue:)), mode: mode, forkServer: fork,
                                    models: modelOptions(), handle: Interrupts.batchHandle()) { done, o in
                progress.report(done: done, o)
            }
            progress.finish()
        } catch let e as RunnerError { throw Console.fail(e) }
        let seconds = Date().timeIntervalSince(t0)
        do {
            if let junit { try ArtifactFile.writeAtomically(Array(CIReports.junit(checks, seconds: seconds, mode: mode).utf8), to: junit) }
            if let summary { try ArtifactFile.writeAtomically(Array(CIReports.markdown(checks, mode: mode).utf8), to: summary) }
        } catch { throw Console.fail(error) }
        let gateFails = CIGate.fails(checks, mode: mode)
        let comparison = mode == .stats ? CIGate.comparison(checks) : nil
        let gateView = CIGateView.json(checks, mode: mode)
        // Kept for the web UI's "last CI gate" and `rigor report --latest-gate`.
        do { try LastGate.save(gateView, finishedAt: Timestamp.now().rfc3339, stateDirectory: workspace.stateDirectory) } catch {
            Console.error("warning: \(error.description)")
        }
        if let report {
            let withTime: JSON = { guard case .object(var o) = gateView else { return gateView }; o["finished_at"] = .string(Timestamp.now().rfc3339); return .object(o) }()
            try ReportCommand.write(HTMLReport(subject: .gate(withTime)), workspace: workspace, to: report, quiet: json)
        }
        if json {
            Console.printJSON(gateView)
        } else {
            printTable(checks, seconds: seconds, mode: mode, comparison: comparison)
        }
        let changed = checks.filter { !$0.identical }
        if update && !changed.isEmpty {
            do {
                try BaselineWriter.update(changed, workspace: workspace) { path in if !json { print("updated \(path)") } }
            } catch { throw Console.fail(error) }
            return
        }
        if gateFails { throw CLIExit(code: .failed) }
    }

    func printTable(_ checks: [CICheck], seconds: Double, mode: CIGateMode, comparison: BatchComparison?) {
        print(Console.dim("gate: \(mode.explanation)"))
        // --quiet: only the baselines that regressed or changed, then the verdict.
        let shown = progressOptions.quiet ? checks.filter { !$0.reproduced || !$0.changes.isEmpty } : checks
        if !shown.isEmpty { print("pairing                         seed  baseline → now                                     verdict") }
        for c in shown {
            let change = "\(c.oldSummary) → \(c.newSummary)"
            let verdict = !c.reproduced ? Console.red("REGRESSION") + " " + (c.regressions.first ?? "")
                : c.changes.isEmpty ? Console.green("reproduced") : Console.yellow("changed") + " " + (c.changes.first ?? "")
            print("\(c.baseline.pairing.padding(toLength: 31, withPad: " ", startingAt: 0)) \(String(c.baseline.seed).padding(toLength: 5, withPad: " ", startingAt: 0)) \(change.padding(toLength: 50, withPad: " ", startingAt: 0)) \(verdict)")
            if !c.reproduced {
                for line in CIReports.detail(c).split(separator: "\n").dropFirst() { print("      \(line.count > 200 ? String(line.prefix(199)) + "…" : String(line))") }
            }
        }
        let failed = checks.filter { !$0.reproduced }.count
        let changed = checks.filter { $0.reproduced && !$0.identical }.count
        print("")
        if let comparison {
            for p in comparison.pairings {
                let dropped = p.counts.test.isSignificantDrop(alpha: comparison.alpha)
                print((dropped ? Console.red("DROP  ") : Console.green("holds ")) + CIReports.statsLine(p))
            }
        }
        let drops = comparison?.significantDrops.count ?? 0
        let line: String
        if failed > 0 {
            line = Console.red("\(failed) of \(checks.count) baselines regressed")
        } else if drops > 0 {
            line = Console.red("\(drops) pairing\(drops == 1 ? "" : "s") dropped significantly (McNemar p < 0.05)")
        } else if changed > 0 {
            line = Console.green("gate '\(mode.rawValue)' passed") + Console.yellow(" (\(changed) of \(checks.count) baselines changed without failing it)")
        } else {
            line = Console.green("all \(checks.count) baselines reproduced")
        }
        print(line + Console.dim(String(format: "  (%.1f s)", seconds)))
    }
}
