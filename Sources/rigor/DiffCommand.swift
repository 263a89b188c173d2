import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

/// The report formats of `rigor diff`.
enum DiffFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown, html
}

struct DiffCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show where two episodes part ways: the first divergent step side by side, outcome, budgets, IO.",
        discussion: """
            A and B are each an artifact file (Rigor's or TraceCore's), a baseline file \
            (Baselines/<pairing>/seed-<n>.json, whose "artifact_file" beside it is read, or any \
            JSON object holding the artifact as "artifact"), or a run in the store: a full run \
            id, a unique prefix of at least 4 characters, or 'latest'.

              rigor diff <run_a> <run_b>
              rigor diff artifact-a.json artifact-b.json
              rigor diff Baselines/toy_filesystem/seed-0.json latest
              rigor diff 2b5b latest --format html --out diff.html

            The report says whether both record the same pairing (agent_ref, task_ref, seed, and \
            task_hash and agent_hash when both carry them); how success, termination_reason, \
            failure_type and failure_reason changed; the steps and tool calls each side used, with \
            their budgets and B−A; the io_audit paths and hosts that only one whole trace touched; \
            and the first step whose observation, action, intent, result or io_audit differ, \
            with both sides' observation, action and result in two columns (| changed, < only in \
            A, > only in B; red and green on a terminal unless NO_COLOR is set).

            Each side's artifact_hash is recomputed from its content (never trusted from the \
            file); a side whose content no longer matches its artifact_hash was edited after it \
            was written, and the report says so.

            SAME means both contents recompute to one artifact_hash and neither side was \
            edited: the verdict `rigor replay` (reproduced) and `rigor ci` (exact) give the same \
            pair. Identical steps with a differing hash are DIFFERENT, and the report names the \
            hashed fields that differ ("other hashed fields differ: sandbox").

            Exit 0 when the two are the same, 1 when they differ or either side was edited (as \
            replay and ci exit 1 on a difference), 2 when they cannot be compared (one is not an \
            artifact) or an argument cannot be read.
            """)

    @Argument(help: ArgumentHelp("The old side: an artifact file, a baseline file, or a run id / prefix / 'latest'.", valueName: "A"))
    var a: String

    @Argument(help: ArgumentHelp("The new side, in any of the same forms.", valueName: "B"))
    var b: String

    @Option(help: ArgumentHelp("text (two columns), json, markdown (for PR comments) or html (one self-contained page).", valueName: "format"))
    var format: DiffFormat = .text

    @Option(name: [.short, .customLong("out")], help: ArgumentHelp("Write the report to this file (atomically) and print only the verdict.", valueName: "file"))
    var out: String?

    @Option(name: .customLong("output"), help: .hidden)
    var deprecatedOutput: String?

    @Option(help: ArgumentHelp("Line width of the text format, 60 to 1000 (default: COLUMNS or the terminal's width, clamped to 60...1000; else 120).", valueName: "columns"))
    var width: Int?

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        if let width, let problem = InputRanges.diffWidth.problem(width) { throw ValidationError("--width \(problem)") }
    }

    func run() throws {
        let output = out ?? deprecatedOutput
        let workspace = try workspaceOptions.workspace
        var locator = ArtifactLocator(stateDirectory: workspace.stateDirectory, storeLocation: workspace.storeOverride)
        let left: ArtifactLocator.Located, right: ArtifactLocator.Located
        do {
            left = try locator.locate(a)
            right = try locator.locate(b)
        } catch {
            throw Console.fail(error)
        }
        let diff = ArtifactDiff(left.artifact, right.artifact, labelA: left.label, labelB: right.label)
        let report: String
        switch format {
        case .text:
            let toTerminal = output == nil
            report = diff.text(width: width ?? (toTerminal ? TerminalWidth.columns : 120), colour: toTerminal && Console.colour)
        case .json:
            report = String(decoding: (try? diff.json.prettyBytes()) ?? Array("{}\n".utf8), as: UTF8.self)
        case .markdown:
            report = diff.markdown
        case .html:
            report = diff.html
        }
        if let output {
            do { try ArtifactFile.writeAtomically(Array(report.utf8), to: output) } catch { throw Console.fail(error) }
            print(diff.summary)
            print("report written to \(output)")
        } else if format == .text {
            FileHandle.standardOutput.write(Data(report.utf8))  // escaped by `text` already
        } else {
            Console.write(report)
        }
        switch diff.verdict {
        case .same: return
        case .different: throw CLIExit(code: .failed)
        case .notComparable: throw CLIExit(code: .usage)
        }
    }
}

/// The width of the terminal on standard output, for laying out the two columns.
///
/// `COLUMNS` and the tty's size are hints from the surroundings, not a request: a value outside
/// `--width`'s range is clamped into it (a narrow terminal still gets a 60-column report;
/// `COLUMNS=9223372036854775807` used to make the padding allocate without bound and trap).
/// A `COLUMNS` that is not a positive integer is ignored.
enum TerminalWidth {
    static var columns: Int {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(text.trimmingCharacters(in: .whitespaces)), n > 0 {
            return InputRanges.diffWidth.clamped(n)
        }
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return InputRanges.diffWidth.clamped(Int(size.ws_col)) }
        return 120
    }
}
