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
            TraceCore hash recipe is used). Each problem is printed on its own line. Exit 0 when \
            every hash matches (spec problems are warnings unless --strict-spec), 1 otherwise, \
            2 when a file cannot be read.
            """)

    @Argument(help: ArgumentHelp("Artifact JSON files.", valueName: "path"))
    var paths: [String]

    @Flag(name: .customLong("strict-spec"), help: "Also fail on schema, metadata or taxonomy problems.")
    var strictSpec = false

    @Flag(help: "Print a JSON report.")
    var json = false

    func run() throws {
        var reports: [JSON] = []
        var worst = ExitStatusCode.success
        for path in paths {
            let artifact: JSON
            do { artifact = try ArtifactFile.read(path, expected: "an artifact (.json)") } catch {
                Console.error(error.description)
                worst = .usage
                reports.append(["path": .string(path), "error": .string(error.description)])
                continue
            }
            let report = VerificationReport(verifying: artifact)
            let ok = report.integrityProblems.isEmpty && (!strictSpec || report.specProblems.isEmpty)
            if !ok && worst == .success { worst = .failed }
            if json {
                reports.append([
                    "path": .string(path),
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
                print("\(mark)  \(path)  \(Console.dim("(\(report.recipe.rawValue) recipe)"))")
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
