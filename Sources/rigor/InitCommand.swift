import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a project: rigor.toml, an example task, agent and pairing, .gitignore, a CI workflow.",
        discussion: """
            Writes into DIR (default: the working directory; made when missing):
              rigor.toml                       the project file (spec/project.md)
              Tasks/filesystem_hidden_config/  an example task (a built-in world)
              agents/example_agent.py          an example agent (Python SDK)
              .github/workflows/rigor.yml      CI: install rigor, run `rigor ci`
              .gitignore                       with .rigor/ (appended if it exists)
            and names the commands to run next. Refuses, writing nothing, when any of these
            files exists (each is named). Exit 0 written, 2 refused, 4 a file could not be written.
            """)

    @Argument(help: ArgumentHelp("The project's directory.", valueName: "dir")) var directory = "."
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let target = ((directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory) as NSString).standardizingPath
        let written: [ProjectScaffold.Written]
        do { written = try ProjectScaffold.write(into: target) } catch { throw Console.fail(error) }
        if json {
            Console.printJSON(["directory": .string(target),
                               "files": .array(written.map { ["path": .string($0.path), "action": .string($0.action)] }),
                               "next": .array(ProjectScaffold.nextSteps.map(JSON.string))])
            return
        }
        print("initialised a Rigor project in \(EpisodeReport.relative(target) == "" ? "." : EpisodeReport.relative(target))")
        for file in written where file.action != "kept" { print("  \(file.action.padding(toLength: 11, withPad: " ", startingAt: 0)) \(file.path)") }
        print("")
        print("next:")
        if directory != "." { print("  cd \(directory)") }
        for step in ProjectScaffold.nextSteps { print("  \(step)") }
        print("then commit rigor.toml, Tasks/, agents/, Baselines/ and .github/; CI runs `rigor ci` on every push")
    }
}
