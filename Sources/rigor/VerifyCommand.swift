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

            With --intentproof FILE, checks an IntentProof event file (from `rigor export \
            intentproof`) instead: every line validates against intentproof.event.v1, the chain \
            (chain_position, prev_event_hash) is unbroken and every signature verifies with \
            --pubkey (default: the project's key). The first bad event is named by its position, \
            line and event_id. Exit 0 when all verify, 1 when one does not.
            """)

    @Argument(help: ArgumentHelp("Artifact JSON files, or runs in the store (id, prefix or latest).", valueName: "artifact"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("Verify this IntentProof event file (JSON Lines) instead of artifacts.", valueName: "file"))
    var intentproof: String?

    @Option(help: ArgumentHelp("With --intentproof: the signer's Ed25519 public key, or a file holding it (hex or base64; default: the project's key).", valueName: "pub"))
    var pubkey: String?

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
        let workspace = try workspaceOptions.workspace
        var found = locator ?? ArtifactLocator(stateDirectory: workspace.stateDirectory, storeLocation: workspace.storeOverride)
        defer { locator = found }
        let located = try found.locate(path)
        return (located.label, located.artifact)
    }

    func run() throws {
        if let intentproof { return try verifyIntentProof(intentproof) }
        if pubkey != nil { throw Console.fail(.usage("--pubkey goes with --intentproof FILE")) }
        if paths.isEmpty { throw Console.fail(.usage("name an artifact file or a run (id, prefix, latest), or pass --intentproof FILE")) }
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

extension VerifyCommand {
    func verifyIntentProof(_ file: String) throws {
        if !paths.isEmpty { throw Console.fail(.usage("--intentproof checks one event file; artifacts are verified without it")) }
        let workspace = try workspaceOptions.workspace
        let report: IntentProofChainCheck.Report
        do { report = try workspace.verifyIntentProof(file: file, publicKey: pubkey) } catch { throw Console.fail(error) }
        if json {
            var bad = JSON.null
            if let p = report.problem {
                bad = ["position": .int(p.position), "line": .int(p.line), "message": .string(p.message),
                       "event_id": p.eventID.map(JSON.string) ?? .null]
            }
            let head: JSON = report.head.map(JSON.string) ?? .null
            Console.printJSON(["path": .string(file), "ok": .bool(report.ok), "events_verified": .int(report.eventsVerified),
                               "head": head, "first_bad_event": bad])
        } else if let problem = report.problem {
            Console.line("\(Console.red("FAIL"))  \(file)  \(report.eventsVerified) event\(report.eventsVerified == 1 ? "" : "s") verified before the first bad one")
            Console.line("      \(Console.red("error")): \(problem)")
        } else {
            Console.line("\(Console.green("OK  "))  \(file)  \(report.eventsVerified) event\(report.eventsVerified == 1 ? "" : "s"): chain and signatures verify")
            Console.line("      head: \(report.head ?? "")")
        }
        if !report.ok { throw CLIExit(code: .failed) }
    }
}
