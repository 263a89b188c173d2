import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

struct CICommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Re-run every baseline, check each artifact against the spec, and fail on any regression.",
        discussion: """
            A regression: the outcome changed, the artifact hash changed (the first divergent step \
            is named), budget usage rose above the baseline, the artifact fails a spec check, or a \
            baseline's task or agent no longer exists. Exit 0 all reproduced, 1 any regression, \
            2 bad configuration. --update re-records the changed baselines (never under CI=true).
            """)

    @Option(help: ArgumentHelp("Baselines directory.", valueName: "dir")) var baselines = "Baselines"
    @Option(help: ArgumentHelp("Episodes run at once (default: the number of CPUs Rigor may use).", valueName: "n")) var workers: Int?
    @Option(help: ArgumentHelp("Write JUnit XML here.", valueName: "file")) var junit: String?
    @Option(help: ArgumentHelp("Write a Markdown summary here (for CI job pages).", valueName: "file")) var summary: String?
    @Flag(help: "Re-record the baselines that changed (refused under CI=true).") var update = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .customLong("fork-server"), inversion: .prefixedNo,
          help: "Fork agents from a warm fork server (default: Python agents, exec'd when their server cannot start; see `rigor batch --help`); --no-fork-server execs every agent.")
    var forkServer: Bool?
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        if let workers, let problem = InputRanges.workers.problem(workers) { throw ValidationError("--workers \(problem)") }
    }

    func run() throws {
        let workspace = workspaceOptions.workspace
        if update && ProcessInfo.processInfo.environment["CI"] == "true" {
            throw Console.fail(.usage("--update is refused under CI=true: re-record baselines locally, review and commit them"))
        }
        let t0 = Date()
        let checks: [CICheck]
        do {
            let all = try Baseline.loadAll(baselines)
            if all.isEmpty { throw RunnerError.usage("no baselines in '\(baselines)'; record some with `rigor baseline record`") }
            let progress = BatchProgress(total: all.count, quiet: json)
            let fork: ForkServerUse = forkServer.map { $0 ? .always : .never } ?? .python
            checks = try CIGate.run(all, in: workspace, workers: workers ?? CPUPlacement.defaultWorkerCount,
                                    forkServer: fork) { done, o in
                progress.report(done: done, o)
            }
            progress.finish()
        } catch let e as RunnerError { throw Console.fail(e) }
        let seconds = Date().timeIntervalSince(t0)
        do {
            if let junit { try ArtifactFile.writeAtomically(Array(CIReports.junit(checks, seconds: seconds).utf8), to: junit) }
            if let summary { try ArtifactFile.writeAtomically(Array(CIReports.markdown(checks).utf8), to: summary) }
        } catch { throw Console.fail(error) }
        let failed = checks.filter { !$0.reproduced }
        if json {
            Console.printJSON(["total": .int(checks.count), "regressions": .int(failed.count), "checks": .array(checks.map { c in
                ["pairing": .string(c.baseline.pairing), "seed": .int(c.baseline.seed), "reproduced": .bool(c.reproduced),
                 "regressions": .array(c.regressions.map(JSON.string)),
                 "first_divergent_step": c.firstDivergentStep.map(JSON.int) ?? .null,
                 "divergence": c.divergence?.json ?? .null, "run_id": c.newRunID.map(JSON.string) ?? .null]
            })])
        } else {
            printTable(checks, seconds: seconds)
        }
        if update && !failed.isEmpty {
            let outcomes = failed.compactMap { c -> (CICheck, JSON)? in c.newArtifact.map { (c, $0) } }
            do {
                for (c, artifact) in outcomes {
                    guard let path = c.baseline.path else { continue }
                    try Baseline(pairing: c.baseline.pairing, artifact: artifact).write(to: path, artifact: artifact)
                    if !json { print("updated \(path)") }
                }
            } catch { throw Console.fail(error) }
            return
        }
        if !failed.isEmpty { throw CLIExit(code: .failed) }
    }

    func printTable(_ checks: [CICheck], seconds: Double) {
        print("pairing                         seed  baseline → now                                     verdict")
        for c in checks {
            let change = "\(c.oldSummary) → \(c.newSummary)"
            let verdict = c.reproduced ? Console.green("reproduced") : Console.red("REGRESSION") + " " + (c.regressions.first ?? "")
            print("\(c.baseline.pairing.padding(toLength: 31, withPad: " ", startingAt: 0)) \(String(c.baseline.seed).padding(toLength: 5, withPad: " ", startingAt: 0)) \(change.padding(toLength: 50, withPad: " ", startingAt: 0)) \(verdict)")
            if !c.reproduced {
                for line in CIReports.detail(c).split(separator: "\n").dropFirst() { print("      \(line.count > 200 ? String(line.prefix(199)) + "…" : String(line))") }
            }
        }
        let failed = checks.filter { !$0.reproduced }.count
        print("")
        print(failed == 0 ? Console.green("all \(checks.count) baselines reproduced") : Console.red("\(failed) of \(checks.count) baselines regressed")
              + Console.dim(String(format: "  (%.1f s)", seconds)))
    }
}
