import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

/// `rigor export actions`: the versioned action-trace export (spec/action-export.md).
struct ExportActionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "Export the action trace of runs: each action, the policy's decision and rule, the outcome, the evidence.",
        discussion: """
            The format is export_version 1 (spec/action-export.md, schema spec/action-export-v1.json): \
            one JSON document with a `runs` list. Consumers must ignore keys they do not know. It is \
            derived only from redacted data: the stored runs (redacted before they were sealed), \
            redacted again with this project's secrets and patterns. Exit 0 when written, 2 when a \
            run cannot be found, 4 when the file cannot be written.

            Example:
              rigor export actions latest --out actions.json
            """)

    @Argument(help: ArgumentHelp("Runs in the store (id, unique prefix or latest), or artifact files.", valueName: "run"))
    var runs: [String]

    @Option(help: ArgumentHelp("Write the export to this file (atomically); without it, print it.", valueName: "file"))
    var out: String?

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func run() throws {
        let workspace = try workspaceOptions.workspace
        let document: JSON
        do { document = try workspace.actionExport(of: runs) } catch { throw Console.fail(error) }
        let bytes: [UInt8]
        do { bytes = try document.prettyBytes() } catch { throw Console.fail(.internal("cannot serialise the export: \(error)")) }
        if let out {
            do { try ArtifactFile.writeAtomically(bytes + [0x0A], to: out) } catch { throw Console.fail(error) }
            let count = document["runs"]?.arrayValue?.count ?? 0
            Console.note("wrote \(count) run\(count == 1 ? "" : "s") to \(out) (export_version \(ActionExport.version))")
        } else {
            FileHandle.standardOutput.write(Data(bytes + [0x0A]))
        }
    }
}
