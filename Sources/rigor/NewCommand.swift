import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

/// `rigor new task|agent`: working skeletons, written into the project.
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a working skeleton of a task (with its reference agent and pairing) or an agent.",
        subcommands: [NewTaskCommand.self, NewAgentCommand.self])
}

struct NewTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Write a new task, its reference agent and their pairing; the task passes `rigor tasks validate` at once.",
        discussion: """
            Writes <tasks dir>/NAME/task.toml and README.md (and world.py with --python, world.sh with --exec), the \
            reference agent <agents dir>/NAME_agent.py, and a pairing NAME in the pairings \
            (Agents/pairings.json, or [[pairings]] in rigor.toml). The tasks dir is the project's \
            first; the agents dir is agents/ beside rigor.toml, else Agents/. Refuses, writing \
            nothing, when any file exists or the pairing name is taken. Exit 0 written, 2 refused.
            """)

    @Argument(help: ArgumentHelp("The task id (a-z, 0-9, '_', '-').", valueName: "name")) var name: String
    @Flag(help: ArgumentHelp("How the world is written: --data, a declarative world in task.toml (default); --python, world.py on the task SDK; --exec, world.sh, an executable (bash) speaking rigor-world/1 itself."))
    var kind: Scaffold.TaskKind = .data
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func run() throws {
        let report: Scaffold.Report
        do { report = try Scaffold.newTask(name, kind: kind, in: try workspaceOptions.workspace) } catch let e as RunnerError { throw Console.fail(e) }
        NewCommand.print(report, json: json, title: "new task \(name)@1 (\(kind.worldName))")
    }
}

struct NewAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Write a new agent skeleton into the project's agents directory.",
        discussion: """
            --python (default): NAME.py, a class on the Python SDK. --exec: NAME, an executable \
            speaking the agent protocol itself (Python here; rewrite it in any language). \
            --swift: NAME/, a SwiftPM package (build it with `swift build -c release`). \
            Refuses, writing nothing, when a file exists. Exit 0 written, 2 refused.
            """)

    @Argument(help: ArgumentHelp("The agent's name (letters, digits, '_', '-').", valueName: "name")) var name: String
    @Flag(help: ArgumentHelp("How the agent is written: --python, --swift or --exec."))
    var kind: Scaffold.AgentKind = .python
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func run() throws {
        let report: Scaffold.Report
        do { report = try Scaffold.newAgent(name, kind: kind, in: try workspaceOptions.workspace) } catch let e as RunnerError { throw Console.fail(e) }
        NewCommand.print(report, json: json, title: "new \(kind.rawValue) agent \(name)")
    }
}

extension Scaffold.TaskKind: EnumerableFlag {
    /// How `rigor new task` names the world it wrote.
    var worldName: String {
        switch self {
        case .data: "declarative world"
        case .python: "Python world"
        case .exec: "executable world"
        }
    }
}
extension Scaffold.AgentKind: EnumerableFlag {}

extension NewCommand {
    static func print(_ report: Scaffold.Report, json: Bool, title: String) {
        if json {
            Console.printJSON(["written": .array(report.written.map(JSON.string)),
                               "pairing_added_to": report.pairing.map(JSON.string) ?? .null,
                               "next": .array(report.next.map(JSON.string))])
            return
        }
        Swift.print(title)
        for path in report.written { Swift.print("  wrote     \(path)") }
        if let pairing = report.pairing { Swift.print("  updated   \(pairing) (pairing)") }
        Swift.print("")
        Swift.print("next:")
        for step in report.next { Swift.print("  \(step)") }
    }
}
