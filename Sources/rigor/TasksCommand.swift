import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec
import RigorTasks

struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List and validate the tasks under Tasks/.",
        subcommands: [List.self, TasksValidateCommand.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List tasks with their suite, budgets and hash.")

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let registry: TaskRegistry
            let workspace = try workspaceOptions.workspace
            do { registry = try workspace.registry() } catch { throw Console.fail(error) }
            let all = registry.loadAll()
            var rows: [JSON] = []
            var broken = false
            for entry in all {
                switch entry {
                case .success(let t):
                    let m = t.manifest
                    if json {
                        rows.append(TaskView.json(t))
                    } else {
                        let wall = m.budgets.wallClockSeconds.map { " / \($0) s" } ?? ""
                        print("\(m.ref.padding(toLength: 34, withPad: " ", startingAt: 0)) \(m.suite.padding(toLength: 12, withPad: " ", startingAt: 0)) \(m.budgets.steps) steps / \(m.budgets.toolCalls) tool calls\(wall)")
                        print("    \(Console.dim(m.description))")
                    }
                case .failure(let error):
                    broken = true
                    if json { rows.append(TaskView.json(error)) } else { print(Console.red("broken: ") + error.description) }
                }
            }
            if json { Console.printJSON(.array(rows)) } else if all.isEmpty { print("no tasks in \(registry.directories.joined(separator: ", "))") }
            if broken { throw CLIExit(code: .usage) }
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Rigor's version, spec version and protocol version.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        if json {
            Console.printJSON(["name": .string(RigorIdentity.name), "version": .string(RigorIdentity.version),
                               "spec_version": .string(RigorIdentity.specVersion), "protocol": .string(RigorIdentity.protocolVersion)])
        } else {
            print(RigorVersion.text)
        }
    }
}
