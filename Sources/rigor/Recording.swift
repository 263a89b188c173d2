import Crypto
import Foundation
import RigorRunner
import RigorSpec

/// `rigor run --record`: the episode must reproduce before it is kept as a record. It runs
/// twice; only identical artifact hashes are sealed into a bundle and entered in the ledger.
struct Recording {
    let run: RunOptions
    let workspace: Workspace
    let out: String?
    let sign: String?
    let options: EpisodeOptions

    func perform() throws {
        do {
            var key: Curve25519.Signing.PrivateKey? = nil
            if let sign { key = try Keys.privateKey(sign) }
            let request = try workspace.prepare(run)
            let store = try workspace.store(create: true)
            let first = try Episode.run(request)
            let path = try workspace.keep(first, store: store, out: out)
            let second = try Episode.run(request)
            try workspace.keep(second, store: store)
            let report = Replay.compare(recorded: first.artifact, replayed: second)
            guard report.status == .reproduced else {
                if options.json {
                    Console.printJSON(["recorded": false, "reason": "non_deterministic", "artifact_path": path.map(JSON.string) ?? .null, "replay": report.json])
                } else {
                    EpisodeReport.printHuman(first, path: path, workspace: workspace, problems: SpecCheck.check(first.artifact), strict: options.strictSpec)
                    print(Console.red("refused: two runs of the same pairing and seed differ; a record must reproduce"))
                    ReplayPrinter.print(report)
                }
                throw CLIExit(code: .failed)
            }
            let sealed = try RigorRunner.Bundle.sealToFile(first.artifact, workspace: workspace, store: store, signingKey: key, output: nil)
            let problems = SpecCheck.check(first.artifact)
            if options.json {
                var summary = EpisodeReport.json(first, path: path, workspace: workspace, problems: problems, strict: options.strictSpec).objectValue ?? [:]
                summary["recorded"] = true
                summary["bundle"] = .string(sealed.path)
                summary["bundle_sha256"] = .string(sealed.sha256)
                summary["signed"] = .bool(key != nil)
                Console.printJSON(.object(summary))
            } else {
                EpisodeReport.printHuman(first, path: path, workspace: workspace, problems: problems, strict: options.strictSpec)
                print("  recorded    reproduced twice; bundle \(EpisodeReport.relative(sealed.path))\(key != nil ? " (signed)" : "")")
            }
            if !first.record.success || (options.strictSpec && !problems.isEmpty) { throw CLIExit(code: .failed) }
        } catch let e as RunnerError { throw Console.fail(e) }
    }
}
