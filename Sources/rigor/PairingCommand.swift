import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct PairingCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "pairing",
        abstract: "Run a named pairing from rigor.toml's [[pairings]] or Agents/pairings.json (or list them).",
        discussion: """
            rigor run pairing toy_filesystem --seed 42
            rigor run pairing --list
            rigor run pairing --all --seed 0    # every pairing once

            `rigor batch` runs pairings × seeds.
            """)

    @Argument(help: ArgumentHelp("The pairing's name.", valueName: "name"))
    var name: String?

    @Flag(help: "List the named pairings.")
    var list = false

    @Flag(help: "Run every pairing once with --seed.")
    var all = false

    @Option(help: ArgumentHelp("The seed.", valueName: "n"))
    var seed: Int = 0

    @OptionGroup var options: EpisodeOptions
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        try options.checkInput()
        if !list && !all && name == nil {
            throw ValidationError("name a pairing, or pass --list or --all")
        }
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        let catalog: PairingCatalog
        do { catalog = try workspace.pairings() } catch { throw Console.fail(error) }
        if list {
            if options.json {
                Console.printJSON(.array(catalog.pairings.map(\.json)))
            } else {
                for p in catalog.pairings {
                    print("\(p.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(p.agent)  ×  \(p.task)")
                }
            }
            return
        }
        let selected: [Pairing]
        do { selected = all ? catalog.pairings : try catalog.select(name ?? "") } catch { throw Console.fail(error) }
        options.announceChosenLevel()
        var allPassed = true
        for p in selected {
            var run = RunOptions(agent: p.agent, task: p.task, seed: seed, isolation: options.isolationLevel, actTimeoutSeconds: options.actTimeout)
            run.policyFile = options.policy
            run.traceEndpoint = options.traceEndpoint
            run.models = (try? options.modelOptions()) ?? ModelOptions()
            let passed = try EpisodeReport.runAndReport(run, workspace: workspace, out: nil, options: options)
            allPassed = allPassed && passed
        }
        if !allPassed { throw CLIExit(code: .failed) }
    }
}
