import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec
import RigorStore

extension RunsCommand {
    /// `rigor runs show RUN`: one run read the way a failure is read — why it ended, the step
    /// that decided it, the agent's last words on stderr (`RunReadout`).
    struct Show: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one run: outcome, the failing step, the agent's log tail (and with --trace, every step).",
            discussion: """
                For a failed run, the failing step is the step after which the validator failed \
                the episode, else the last recorded step; its action and result are printed. The \
                agent's log is the end of its stderr as the artifact keeps it (the runner keeps \
                the last 64 KiB and counts what it dropped); --log-lines sets how many lines are \
                printed. Everything an agent wrote is printed escaped.

                --json prints the same (run, failure_reason, failing_step, agent_log with the \
                whole kept tail) with the whole artifact under "artifact"; `rigor runs export` \
                writes the artifact alone.
                """)
        @Argument(help: ArgumentHelp("Run id, prefix or latest.", valueName: "run")) var runRef: String
        @Flag(help: "Also print every step: action, result, budget left.") var trace = false
        @Option(name: .customLong("log-lines"), help: ArgumentHelp("Lines of the agent's log to print (0, or more than were kept: all that was kept).", valueName: "n"))
        var logLines = 20
        @Flag(help: "Print the run, its failing step and agent log, and the artifact, as JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws {
            if let problem = InputRanges.listLimit.problem(logLines) { throw ValidationError("--log-lines \(problem) (0: all)") }
        }

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let artifact: JSON
            let summary: RunSummary
            do {
                let id = try store.resolve(runRef)
                summary = try store.summary(id)
                artifact = try store.artifact(id)
            } catch { throw RunsCommand.fail(error) }
            if json { Console.printJSON(RunReadout.json(summary: summary, artifact: artifact)); return }
            let readout = RunReadout(artifact: artifact)
            let ok = summary.success == true
            print("\(ok ? Console.green("PASS") : Console.red("FAIL"))  run \(summary.runID)")
            print("  pairing     \(summary.agentRef ?? "?") × \(summary.taskRef ?? "?")  seed \(summary.seed.map(String.init) ?? "?")")
            print("  outcome     \(summary.terminationReason ?? "?")\(summary.failureType.map { " (\($0))" } ?? "")")
            if let reason = artifact["failure_reason"]?.stringValue { print("  reason      \(oneLine(reason))") }
            if let note = artifact["diagnostics"]?["agent"]?["network_note"]?.stringValue { print("  " + Console.yellow("note") + "        \(note)") }
            print("  steps       \(summary.stepsUsed ?? 0) / \(summary.budgetSteps ?? 0)    tool calls \(summary.toolCallsUsed ?? 0) / \(summary.budgetToolCalls ?? 0)")
            print("  artifact    \(summary.artifactHash ?? "?")")
            print("  runtime     \(summary.runtimeName ?? "?")   started \(summary.startedAt ?? "?")")
            if let proposals = readout.traceProposals { print("  trace       \(proposals.summary)") }
            if let step = readout.failingStep { printFailingStep(step, proposals: readout.traceProposals?.atFailingStep ?? []) }
            else if !ok && (artifact["action_trace"]?.arrayValue ?? []).isEmpty { print("  failing step  none: the episode ended before the agent's first action") }
            if let log = readout.agentLog { printLog(log) }
            if trace { printTrace(artifact) }
        }

        func printFailingStep(_ step: RunReadout.FailingStep, proposals: [JSON]) {
            print("  failing step \(step.step)  \(Console.dim("(\(step.choice.explanation))"))")
            for p in proposals {
                let what = "\(p["type"]?.stringValue ?? "?") \(truncate(p["params"]?.canonicalText ?? "null", 120))"
                print("    proposed  \(oneLine(what)) → \(p["decision"]?.stringValue ?? "?") (rule \(oneLine(p["rule_id"]?.stringValue ?? "?")))")
            }
            print("    action    \(truncate(step.action.canonicalText, 300))")
            if let intent = step.intent { print("    intent    \(truncate(oneLine(intent), 300))") }
            print("    result    \(truncate(step.result.canonicalText, 300))")
        }

        func printLog(_ log: RunReadout.AgentLog) {
            let (lines, hiddenLines, hiddenBytes) = log.tail(lines: logLines)
            guard !lines.isEmpty || log.bytesDroppedByRunner > 0 else {
                print("  agent log   (empty: the agent wrote nothing on stderr)")
                return
            }
            var dropped: [String] = []
            if hiddenLines > 0 { dropped.append("\(hiddenLines) earlier lines (\(hiddenBytes) bytes) not shown: --log-lines 0 shows them") }
            if log.bytesDroppedByRunner > 0 { dropped.append("\(log.bytesDroppedByRunner) bytes dropped before those by the runner's stderr limit") }
            print("  agent log   last \(lines.count) line\(lines.count == 1 ? "" : "s") of stderr" + (dropped.isEmpty ? ", nothing dropped" : "; " + dropped.joined(separator: "; ")))
            // Each line escaped on its own (a tab or a carriage return in the log stays visible).
            for line in lines { print("    " + Console.dim("|") + " " + TerminalText.escaped(String(line), keepLayout: false)) }
        }

        func printTrace(_ artifact: JSON) {
            for step in artifact["action_trace"]?.arrayValue ?? [] {
                let action = step["action"]?.canonicalText ?? "?"
                let result = step["result"]?.canonicalText ?? "?"
                let left = step["budget_after_step"].map { "\($0["steps"]?.intValue ?? 0)/\($0["tool_calls"]?.intValue ?? 0)" } ?? "?"
                print("  \(String(step["step"]?.intValue ?? 0).padding(toLength: 4, withPad: " ", startingAt: 0)) \(truncate(action, 70))")
                print("       → \(truncate(result, 90))  \(Console.dim("left \(left)"))")
            }
        }

        func oneLine(_ s: String) -> String { TerminalText.escaped(s, keepLayout: false) }
        func truncate(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }
    }
}

extension JSON {
    /// One line of canonical JSON, for a report.
    fileprivate var canonicalText: String { (try? canonicalString()) ?? "?" }
}
