import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute an artifact's hash and check it against the spec.",
        discussion: """
            Works on any artifact file, Rigor's or TraceCore's (for runtime 'tracecore' the \
            TraceCore hash recipe is used), and on a run in the store: a run id, a unique prefix \
            of at least 4 characters, or `latest` (rigor verify latest). Each problem is printed on its own line. Exit 0 when \
            every hash matches (spec problems are warnings unless --strict-spec), 1 otherwise, \
            2 when a file cannot be read.
            """)

    @Argument(help: ArgumentHelp("Artifact JSON files, or runs in the store (id, prefix or latest).", valueName: "artifact"))
    var paths: [String]

    @Flag(name: .customLong("strict-spec"), help: "Also fail on schema, metadata or taxonomy problems.")
    var strictSpec = false

    @Flag(help: "Print a JSON report.")
    var json = false

    @OptionGroup var workspaceOptions: WorkspaceOptions

    /// An existing file is read as an artifact (whatever it holds: verify says what is wrong
    /// with it); anything else names a run in the store.
    func artifact(_ path: String, locator: inout ArtifactLocator?) throws -> (label: String, artifact: JSON) {
        if FileManager.default.fileExists(atPath: path) || path.contains("/") || path.hasSuffix(".json") {
            return (path, try ArtifactFile.read(path, expected: "an artifact (.json)"))
        }
        var found = try locator ?? ArtifactLocator(stateDirectory: workspaceOptions.workspace.stateDirectory)
        defer { locator = found }
        let located = try found.locate(path)
        return (located.label, located.artifact)
    }

    func run() throws {
        var reports: [JSON] = []
        var worst = ExitStatusCode.success
        var locator: ArtifactLocator?
        for path in paths {
            let artifact: JSON, label: String
            do { (label, artifact) = try self.artifact(path, locator: &locator) } catch let error as RunnerError {
                Console.error(error.description)
                let code = ExitStatusCode.forError(error)
                if worst != .io { worst = code == .io ? .io : .usage }
                reports.append(["path": .string(path), "error": .string(error.description)])
                continue
            }
            let report = VerificationReport(verifying: artifact)
            let ok = report.integrityProblems.isEmpty && (!strictSpec || report.specProblems.isEmpty)
            if !ok && worst == .success { worst = .failed }
            if json {
                reports.append([
                    "path": .string(path), "source": .string(label),
                    "ok": .bool(ok),
                    "recipe": .string(report.recipe.rawValue),
                    "artifact_hash": report.recordedHash.map(JSON.string) ?? .null,
                    "recomputed_hash": report.recomputedHash.map(JSON.string) ?? .null,
                    "hash_ok": .bool(report.hashMatches),
                    "problems": .array(report.integrityProblems.map { .string($0.description) }),
                    "spec_problems": .array(report.specProblems.map { .string($0.description) }),
                ])
            } else {
                let mark = ok ? Console.green("OK  ") : Console.red("FAIL")
                print("\(mark)  \(label)  \(Console.dim("(\(report.recipe.rawValue) recipe)"))")
                if report.hashMatches { print("      hash matches: \(report.recordedHash ?? "")") }
                for p in report.integrityProblems { print("      \(Console.red("error")): \(p)") }
                for p in report.specProblems {
                    print("      \(strictSpec ? Console.red("error") : Console.yellow("warning")): \(p)")
                }
            }
        }
        if json { Console.printJSON(.array(reports)) }
        if worst != .success { throw CLIExit(code: worst) }
    }
}
