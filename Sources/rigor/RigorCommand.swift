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
              rigor init my-agents && cd my-agents     # a project: rigor.toml, a task, an agent
              rigor run pairing example --seed 42
              rigor runs show latest
              rigor batch --pairings all --seeds 0..9
              rigor baseline record --pairings all --seeds 0..4 && rigor ci

            Every command finds the project's rigor.toml by walking up from the
            working directory; without one, paths are relative to it (Tasks/,
            Agents/pairings.json, .rigor/, Baselines/).

            Exit codes: 0 success, 1 episode or check failed, 2 bad usage or
            input, 3 internal error, 4 a file or the store could not be read or
            written (read-only, permissions, disk full, damaged store).
            """,
        version: RigorVersion.text,
        subcommands: [InitCommand.self, NewCommand.self, RunCommand.self, BatchCommand.self, MergeCommand.self, RunsCommand.self, LedgerCommand.self, ReplayCommand.self, ForkCommand.self, BlameCommand.self, DiffCommand.self, CompareCommand.self, BundleCommand.self, KeysCommand.self, BaselineCommand.self, CICommand.self, ServeCommand.self, ReportCommand.self, ExportCommand.self, PolicyCommand.self, VerifyCommand.self, SpecCommand.self, TasksCommand.self, VersionCommand.self]
    )
}

/// Options every command that touches tasks or agents shares. Each overrides the project file
/// (`rigor.toml`, found by walking up from the working directory); without one, the defaults
/// are relative to the working directory. \
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .customLong("tasks-dir"), help: ArgumentHelp("Directory holding one folder per task (default: the project's `tasks`, else ./Tasks).", valueName: "dir"))
    var tasksDirectory: String?

    @Option(name: .customLong("sdk-dir"), help: ArgumentHelp("Directory of the Python agent SDK, for .py agents (default: the one installed beside rigor).", valueName: "dir"))
    var sdkDirectory: String?

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where Rigor keeps its store (default: the project's `state`, else ./.rigor).", valueName: "dir"))
    var stateDirectory: String?

    @Option(name: .customLong("pairings-file"), help: ArgumentHelp("The named pairings as JSON (default: the project's [[pairings]], else Agents/pairings.json).", valueName: "file"))
    var pairingsFile: String?

    @Option(name: .customLong("store"), help: ArgumentHelp(
        "Where runs are stored: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE for a store shared by several machines, or a directory for an embedded one (default: $RIGOR_STORE, else the project's `store`, else rigor.db in the state directory).",
        valueName: "url|dir"))
    var store: String?

    /// The workspace of the project around the working directory, with these flags on top.
    var workspace: Workspace {
        get throws { try workspace(baselines: nil) }
    }

    /// As `workspace`, with a command's own baselines directory flag.
    func workspace(baselines: String?) throws -> Workspace {
        let overrides = WorkspaceOverrides(tasksDirectory: tasksDirectory, sdkDirectory: sdkDirectory, stateDirectory: stateDirectory,
                                           pairingsFile: pairingsFile, baselinesDirectory: baselines, store: store)
        do { return try Workspace.discover(overrides: overrides) } catch { throw Console.fail(error) }
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
