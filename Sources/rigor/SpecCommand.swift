import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "Check artifacts against the TraceCore v1.0 artifact spec, or print the schema.",
        subcommands: [Check.self, Schema.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Schema, required-metadata and taxonomy checks (no hash check; see `rigor verify`).",
            discussion: "Exit 0 when every file passes, 1 when any has problems, 2 when a file cannot be read.")

        @Argument(help: ArgumentHelp("Artifact JSON files.", valueName: "path"))
        var paths: [String]

        @Flag(help: "Print a JSON report.")
        var json = false

        func run() throws {
            var worst = ExitStatusCode.success
            var reports: [JSON] = []
            for path in paths {
                let artifact: JSON
                do { artifact = try ArtifactFile.read(path, expected: "an artifact (.json)") } catch {
                    Console.error(error.description)
                    worst = .usage
                    reports.append(["path": .string(path), "error": .string(error.description)])
                    continue
                }
                let problems = SpecCheck.check(artifact)
                if !problems.isEmpty && worst == .success { worst = .failed }
                if json {
                    reports.append(["path": .string(path), "ok": .bool(problems.isEmpty),
                                    "problems": .array(problems.map { .string($0.description) })])
                } else {
                    print("\(problems.isEmpty ? Console.green("PASS") : Console.red("FAIL"))  \(path)")
                    for p in problems { print("      \(p)") }
                }
            }
            if json { Console.printJSON(.array(reports)) }
            if worst != .success { throw CLIExit(code: worst) }
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "schema", abstract: "Print the artifact JSON Schema Rigor checks against.")

        func run() throws {
            if let schema = try? JSON.parse(ArtifactSchema.text) { Console.printJSON(schema) } else { print(ArtifactSchema.text) }
        }
    }
}
