import ArgumentParser
import RigorRunner

/// Every command, subcommands included, names itself (`commandName`): ArgumentParser builds the
/// whole command tree on every start, and a command without a name gets one from
/// `String(describing:)` on its type, which makes the Swift runtime scan every protocol
/// conformance in the binary. Unnamed, the 16 subcommands cost 2.4 ms of each start (`rigor
/// version`: 8.6 → 6.2 ms), paid by every episode of `rigor run` and every batch.
struct RigorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rigor",
        abstract: "Run AI agents against seeded tasks under hard budgets, and verify the artifacts.",
        discussion: """
            Rigor runs an agent (any executable speaking the agent protocol, or a
            Python class through the SDK) on a task with a seed, under frozen
            budgets, and writes a hashed, schema-checked artifact anyone can verify.

            Start with:
              rigor run --agent Agents/toy_agent.py \\
                        --task filesystem_hidden_config@1 --seed 42
              rigor verify .rigor/runs/<run_id>.json
              rigor batch --pairings all --seeds 0..9
              rigor ci

            Exit codes: 0 success, 1 episode or check failed, 2 bad usage or
            input, 3 internal error, 4 a file or the store could not be read or
            written (read-only, permissions, disk full, damaged store).
            """,
        version: RigorVersion.text,
        subcommands: [RunCommand.self, BatchCommand.self, RunsCommand.self, LedgerCommand.self, ReplayCommand.self, DiffCommand.self, CompareCommand.self, BundleCommand.self, KeysCommand.self, BaselineCommand.self, CICommand.self, VerifyCommand.self, SpecCommand.self, TasksCommand.self, VersionCommand.self]
    )
}

/// Options every command that touches tasks or agents shares. \
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .customLong("tasks-dir"), help: ArgumentHelp("Directory holding one folder per task.", valueName: "dir"))
    var tasksDirectory: String?

    @Option(name: .customLong("sdk-dir"), help: ArgumentHelp("Directory of the Python agent SDK (for .py agents).", valueName: "dir"))
    var sdkDirectory: String?

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where Rigor keeps runs (default: .rigor).", valueName: "dir"))
    var stateDirectory: String?

    @Option(name: .customLong("pairings-file"), help: ArgumentHelp("The named pairings (default: Agents/pairings.json).", valueName: "file"))
    var pairingsFile: String?

    var workspace: Workspace {
        Workspace(tasksDirectory: tasksDirectory, sdkDirectory: sdkDirectory, stateDirectory: stateDirectory, pairingsFile: pairingsFile)
    }
}

/// Checks of a command's input that need its parsed values: a value out of range, options that
/// only go together. `main.swift` runs them once parsing is done, in place of ArgumentParser's
/// `validate()`, which runs before unknown options are reported: `rigor run pairing --lsit`
/// would say "name a pairing" instead of naming the typo. A `ValidationError` from here is
/// printed as ArgumentParser prints its own (the message, the command's usage), exit 2.
protocol InputChecked {
    func checkInput() throws
}
