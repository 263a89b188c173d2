import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

struct ReplayCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run a recorded run (same agent, task, seed, budgets, guard) and compare it step by step.",
        discussion: """
            "reproduced" when the trace and the artifact_hash are the same; otherwise a replay \
            report with status non_deterministic, the first divergent step and what differs. \
            When the task or the agent changed since the recording (hash mismatch), nothing runs \
            unless --allow-changed. Exit 0 reproduced, 1 non_deterministic or changed, 2 bad input.
            """)

    @Argument(help: ArgumentHelp("Run id, prefix or latest; or an artifact file.", valueName: "run"))
    var runRef: String

    @Flag(name: .customLong("allow-changed"), help: "Replay even when the task or agent files changed since the recording.")
    var allowChanged = false

    @Flag(help: "Print the replay report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Agent isolation: none, process or namespace (default: the strongest available). The level is not part of the hash: a run reproduces at every level that can run it.", valueName: "level"))
    var isolation: String?

    @Option(help: ArgumentHelp("The policy file the run was made with (--policy); the task's own policy comes with the task, the project's with rigor.toml. A different policy is reported as a change (spec/policy.md §4).", valueName: "file"))
    var policy: String?

    @OptionGroup var modelFlags: ModelFlags

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        if let isolation, IsolationLevel(rawValue: isolation) == nil {
            throw ValidationError("--isolation must be one of: none, process, namespace (got '\(isolation)')")
        }
    }

    /// `--models` / `--model-upstream`; nil when neither is given (the run's own: its tape).
    func modelOptions() throws -> ModelOptions? {
        try modelFlags.parsed(defaultMode: .replay)
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        EpisodeOptions.announce(isolation.flatMap(IsolationLevel.init(rawValue:)))
        let report: ReplayReport
        do {
            let store = try workspace.store(create: true)
            let artifact: JSON
            if FileManager.default.fileExists(atPath: runRef) {
                artifact = try ArtifactFile.read(runRef)
            } else {
                do { artifact = try store.artifact(try store.resolve(runRef)) } catch { throw RunnerError.store(error) }
            }
            report = try Replay.run(artifact, in: workspace, allowChanged: allowChanged,
                                    isolation: isolation.flatMap(IsolationLevel.init(rawValue:)), policyFile: policy,
                                    models: try? modelOptions()) { result throws(RunnerError) in
                _ = try workspace.keep(result, store: store)
            }
        } catch let e as RunnerError { throw Console.fail(e) }
        if json { Console.printJSON(report.json) } else { ReplayPrinter.print(report) }
        if report.status != .reproduced { throw CLIExit(code: .failed) }
    }
}

enum ReplayPrinter {
    static func print(_ r: ReplayReport) {
        switch r.status {
        case .reproduced:
            Console.line("\(Console.green("reproduced"))  \(r.replayedHash ?? "")")
        case .changed:
            Console.line("\(Console.red("changed"))  nothing was run:")
            for c in r.changes { Console.line("  - \(c)") }
            Console.line("  (pass --allow-changed to replay anyway)")
        case .nonDeterministic:
            Console.line("\(Console.red("non_deterministic"))  recorded \(r.recordedHash ?? "?")  replayed \(r.replayedHash ?? "?")")
            for c in r.changes { Console.line("  changed: \(c)") }
            if let why = r.replayedFailure { Console.line("  the replay ended: \(TerminalText.escaped(why))") }
            if let d = r.divergence {
                Console.line("  \(d.summary)")
                if let step = d.firstStep {
                    for part in d.parts where part != "missing" {
                        let a = d.left[part].flatMap { try? $0.canonicalString() } ?? "(none)"
                        let b = d.right[part].flatMap { try? $0.canonicalString() } ?? "(none)"
                        Console.line("  step \(step) \(part):")
                        Console.line("    recorded: \(clip(a))")
                        Console.line("    replayed: \(clip(b))")
                    }
                }
            }
            if !r.otherChanges.isEmpty { Console.line("  other hashed fields differ: \(r.otherChanges.joined(separator: ", "))") }
        }
    }

    static func clip(_ s: String) -> String { s.count > 160 ? String(s.prefix(159)) + "…" : s }
}
