import Crypto
import Foundation
import RigorRunner
import RigorSpec

/// `rigor run --record`, printed: the work is `EpisodeRecording`'s.
struct Recording {
    let run: RunOptions
    let workspace: Workspace
    let out: String?
    let sign: String?
    let options: EpisodeOptions

    func perform() throws {
        do {
            var key: Curve25519.Signing.PrivateKey? = nil
            if let sign { key = try SigningKeys.privateKey(sign) }
            switch try EpisodeRecording.record(run, workspace: workspace, out: out, signingKey: key) {
            case .refused(let first, let path, let report):
                if options.json {
                    Console.printJSON(["recorded": false, "reason": "non_deterministic", "artifact_path": path.map(JSON.string) ?? .null, "replay": report.json])
                } else {
                    EpisodeReport.printHuman(first, path: path, workspace: workspace, problems: SpecCheck.check(first.artifact), strict: options.strictSpec)
                    print(Console.red("refused: two runs of the same pairing and seed differ; a record must reproduce"))
                    ReplayPrinter.print(report)
                }
                throw CLIExit(code: .failed)
            case .recorded(let first, let path, let sealed):
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
            }
        } catch let e as RunnerError { throw Console.fail(e) }
    }
}
