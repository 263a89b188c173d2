import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct ExportIntentProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intentproof",
        abstract: "Export runs as a signed, hash-chained IntentProof event file (JSON Lines).",
        discussion: """
            Each step becomes one intentproof.event.v1 ExecutionEvent (action, intent, inputs, \
            output, status, the policy's decision and evidence as attributes), and each run ends \
            with a `rigor.episode` event carrying its outcome. All events form one chain \
            (chain_position, prev_event_hash) and each is Ed25519-signed. The key is --key, else \
            the project's key, .rigor/keys/rigor-ed25519.key, made on first use (mode 600); \
            `rigor keys show` prints its public half for whoever verifies. The same runs and key \
            always give the same file. Mapping and recipe: spec/intentproof.md.

            Check a file with `rigor verify --intentproof FILE`, evaluate IntentProof policies \
            with `rigor policy check --intentproof POLICY.yaml FILE.jsonl|RUN`.

            Exit 0 when written, 2 when a run or the key cannot be found or read, 4 when the file \
            cannot be written.

            Example:
              rigor export intentproof latest --out events.jsonl
            """)

    @Argument(help: ArgumentHelp("Runs in the store (id, unique prefix or latest), artifact files or baseline files.", valueName: "run"))
    var runs: [String]

    @Option(help: ArgumentHelp("Write the events to this file (atomically); without it, print them.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("Sign with this Ed25519 private key file (64 hex digits or base64 of the 32-byte seed) instead of the project's.", valueName: "key"))
    var key: String?

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func run() throws {
        let workspace = try workspaceOptions.workspace
        let result: Workspace.IntentProofExportResult
        do { result = try workspace.intentProofExport(of: runs, keyFile: key) } catch { throw Console.fail(error) }
        if let out {
            do { try ArtifactFile.writeAtomically(result.lines, to: out) } catch { throw Console.fail(error) }
            Console.note("wrote \(result.events) event\(result.events == 1 ? "" : "s") of \(result.runs) run\(result.runs == 1 ? "" : "s") to \(out), signed by \(result.keyID)")
        } else {
            FileHandle.standardOutput.write(Data(result.lines))
        }
    }
}
