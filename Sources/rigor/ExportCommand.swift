import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec
import RigorStore

/// `rigor export`: stored runs in other tools' formats.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write stored runs in other formats: OpenTelemetry traces, IntentProof signed event chains, the versioned action-trace export.",
        subcommands: [OTLP.self, ExportIntentProofCommand.self, ExportActionsCommand.self])

    struct OTLP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "otlp",
            abstract: "Write runs as OpenTelemetry traces (OTLP/JSON): an episode span and one child span per step.",
            discussion: """
                The file is an ExportTraceServiceRequest in the OTLP/JSON encoding, as an \
                OTLP/HTTP collector accepts it (POST it to /v1/traces with \
                Content-Type: application/json). Each run is one trace; trace and span ids are \
                derived from the run, so exporting again gives the same bytes. Attributes carry \
                the action, its result, budgets and the failure type (spec/otlp.md).

                  rigor export otlp latest --out trace.json
                  rigor export otlp 3f2a9c01 7be41d22 --out traces.json

                Exit 0 written, 2 when a run is not in the store (nothing is written), 4 when the \
                store or the file cannot be read or written.
                """)
        @Argument(help: ArgumentHelp("Run ids, unique prefixes (4+ characters) or latest.", valueName: "run")) var runs: [String]
        @Option(name: [.short, .customLong("out")], help: ArgumentHelp("File to write (default: stdout).", valueName: "file")) var out: String?
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            if runs.isEmpty { throw Console.fail(.usage("name at least one run (an id, a prefix or latest); `rigor runs list` shows them")) }
            let store = try RunsCommand.openStore(workspaceOptions)
            var artifacts: [JSON] = []
            var seen: Set<String> = []
            do {
                for ref in runs {
                    let id = try store.resolve(ref)
                    if seen.insert(id).inserted { artifacts.append(try store.artifact(id)) }
                }
            } catch { throw RunsCommand.fail(error) }
            var bytes: [UInt8]
            let redactor = try workspaceOptions.workspace.redactor()
            do { bytes = try OTLPTraces.request(artifacts, redactor: redactor).canonicalBytes() } catch {
                throw Console.fail(.internal("the OTLP request could not be written: \(error)"))
            }
            bytes.append(0x0A)
            if let out {
                do { try ArtifactFile.writeAtomically(bytes, to: out) } catch { throw Console.fail(error) }
                Console.note("wrote \(artifacts.count) run\(artifacts.count == 1 ? "" : "s") as OTLP traces to \(out)")
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }
}
