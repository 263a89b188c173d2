import ArgumentParser
import Foundation
import RigorRunner
import RigorServer
import RigorSpec
import RigorStore

/// `rigor report`: one self-contained HTML file (RigorServer's `HTMLReport`).
struct ReportCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report (no network, no script) about runs, a batch or the last CI gate.",
        discussion: """
            The report holds the pass rate per pairing with Wilson intervals, the failure \
            taxonomy, the runs table, and a section per failed run (every run of a small set) \
            with its failing steps and agent log; run links jump to those sections. Its data is \
            embedded as JSON (<script type="application/json" id="rigor-data">). Open it in any \
            browser; a CI job uploads it as an artifact (`rigor ci --report FILE` writes one \
            for the gate).

              rigor report latest 2b5b0c1e --out report.html
              rigor batch --pairings all --seeds 0..9 --json > batch.json && rigor report --batch batch.json --out report.html
              rigor report --latest-batch --out report.html
              rigor report --latest-gate --out report.html
            """)

    @Argument(help: ArgumentHelp("Runs: ids, prefixes or latest.", valueName: "run")) var runs: [String] = []
    @Option(help: ArgumentHelp("A batch's `rigor batch --json` output.", valueName: "file")) var batch: String?
    @Flag(name: .customLong("latest-batch"), help: "The last batch run in this workspace.") var latestBatch = false
    @Flag(name: .customLong("latest-gate"), help: "The last `rigor ci` gate run in this workspace.") var latestGate = false
    @Option(name: [.short, .customLong("out")], help: ArgumentHelp("The HTML file to write.", valueName: "file")) var out: String
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        let chosen = [!runs.isEmpty, batch != nil, latestBatch, latestGate].filter { $0 }.count
        if chosen != 1 { throw ValidationError("name what to report: runs, or --batch FILE, or --latest-batch, or --latest-gate (exactly one)") }
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        let subject: HTMLReport.Subject
        if let batch {
            let doc: JSON
            do { doc = try ArtifactFile.read(batch, expected: "a batch summary (rigor batch --json)") } catch { throw Console.fail(error) }
            guard doc["episodes"]?.arrayValue != nil else {
                throw Console.fail(.usage("'\(batch)' is not a batch summary: it has no \"episodes\" (write one with `rigor batch ... --json > FILE`)"))
            }
            subject = .batch(doc)
        } else if latestBatch {
            guard let doc = LastBatch.load(stateDirectory: workspace.stateDirectory) else {
                throw Console.fail(.usage("no batch has run in this workspace yet (\(workspace.stateDirectory)); run `rigor batch` first"))
            }
            subject = .batch(doc)
        } else if latestGate {
            guard let doc = LastGate.load(stateDirectory: workspace.stateDirectory) else {
                throw Console.fail(.usage("no CI gate has run in this workspace yet (\(workspace.stateDirectory)); run `rigor ci` first"))
            }
            subject = .gate(doc)
        } else {
            subject = .runs(runs)
        }
        try Self.write(HTMLReport(subject: subject), workspace: workspace, to: out)
    }

    /// Renders and writes `report`; prints where, and what was missing from the store.
    static func write(_ report: HTMLReport, workspace: Workspace, to out: String, quiet: Bool = false) throws {
        let opened: any RunStorage
        do { opened = try workspace.readingStore() } catch { throw Console.fail(error) }
        guard let store = opened as? RunStore else {
            throw Console.fail(RunnerError.usage("rigor report is not available on a shared PostgreSQL store yet (\(opened.location)); export the runs into an embedded store (--store DIR) and report from there"))
        }
        let rendered: (html: String, missing: [String])
        do { rendered = try report.render(store: store, generatedAt: Timestamp.now().rfc3339) } catch {
            Console.error(error.description)
            throw CLIExit(code: error.status == 503 ? .io : .usage)
        }
        do { try ArtifactFile.writeAtomically(Array(rendered.html.utf8), to: out) } catch { throw Console.fail(error) }
        if !rendered.missing.isEmpty { Console.error("not in the store, listed as missing: \(rendered.missing.joined(separator: ", "))") }
        if quiet { return }
        print("report written to \(out) (\(report.runIDs.count - rendered.missing.count) runs, \(rendered.html.utf8.count) bytes)")
    }
}
