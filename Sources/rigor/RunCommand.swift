import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one agent on one task with one seed and write the artifact.",
        discussion: """
            Budgets come from the task's manifest and cannot be overridden. The artifact is written
            atomically to .rigor/runs/<run_id>.json (or --out). Exit 0 when the episode succeeded,
            1 when it failed (or, with --strict-spec, when the artifact fails a spec check), 2 on
            bad usage or input.

            Example:
              rigor run --agent Agents/toy_agent.py --task filesystem_hidden_config@1 --seed 42
            """)

    @Option(help: ArgumentHelp("The agent: a .py file (run through the Python SDK) or an executable.", valueName: "path"))
    var agent: String

    @Option(help: ArgumentHelp("The task as <id>@<version>; see `rigor tasks list`.", valueName: "ref"))
    var task: String

    @Option(help: ArgumentHelp("The seed the world is built from (use --seed=-1 for negatives).", valueName: "n"))
    var seed: Int = 0

    @Flag(name: .customLong("strict-spec"), help: "Fail unless the artifact passes every spec check (schema, metadata, taxonomy).")
    var strictSpec = false

    @Option(help: ArgumentHelp("Write the artifact here instead of .rigor/runs/<run_id>.json.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("Agent isolation: none, process or namespace (default: the strongest available).", valueName: "level"))
    var isolation: String?

    @Option(name: .customLong("act-timeout"), help: ArgumentHelp("Seconds the agent may take per action (default: the task's, else 10).", valueName: "seconds"))
    var actTimeout: Double?

    @Flag(help: "Print a JSON summary instead of the human verdict.")
    var json = false

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func validate() throws {
        if let isolation, IsolationLevel(rawValue: isolation) == nil {
            throw ValidationError("--isolation must be one of: none, process, namespace (got '\(isolation)')")
        }
    }

    func run() throws {
        let workspace = workspaceOptions.workspace
        let result: EpisodeResult
        do {
            let request = try workspace.prepare(RunOptions(
                agent: agent, task: task, seed: seed, isolation: isolation.flatMap(IsolationLevel.init(rawValue:)),
                actTimeoutSeconds: actTimeout))
            result = try Episode.run(request)
        } catch {
            throw Console.fail(error)
        }
        let path = out ?? "\(workspace.runsDirectory)/\(result.record.runID).json"
        do { try ArtifactFile.write(result.artifact, to: path) } catch { throw Console.fail(error) }
        let problems = SpecCheck.check(result.artifact)
        let passed = result.record.success && (!strictSpec || problems.isEmpty)

        if json {
            Console.printJSON(RunSummary.json(result, path: path, problems: problems, strict: strictSpec))
        } else {
            RunSummary.printHuman(result, path: path, problems: problems, strict: strictSpec)
        }
        if !passed { throw CLIExit(code: .failed) }
    }
}

/// How `rigor run` reports an episode.
enum RunSummary {
    static func json(_ r: EpisodeResult, path: String, problems: [SpecProblem], strict: Bool) -> JSON {
        let a = r.record
        return [
            "run_id": .string(a.runID),
            "agent_ref": .string(a.agentRef),
            "task_ref": .string(a.taskRef),
            "seed": .int(a.seed),
            "success": .bool(a.success),
            "termination_reason": .string(a.termination.rawValue),
            "failure_type": a.termination.failureType.map { .string($0.rawValue) } ?? .null,
            "failure_reason": a.failureReason.map(JSON.string) ?? .null,
            "steps_used": .int(a.stepsUsed),
            "tool_calls_used": .int(a.toolCallsUsed),
            "budgets": a.budgets.json,
            "artifact_hash": .string(r.artifactHash),
            "artifact_path": .string(path),
            "isolation": a.sandbox["isolation"] ?? .null,
            "spec_problems": .array(problems.map { .string($0.description) }),
            "strict_spec": .bool(strict),
        ]
    }

    static func printHuman(_ r: EpisodeResult, path: String, problems: [SpecProblem], strict: Bool) {
        let a = r.record
        let agentName = (a.agentRef as NSString).lastPathComponent
        let verdict = a.success ? Console.green("PASS") : Console.red("FAIL")
        print("\(verdict)  \(agentName) × \(a.taskRef)  seed \(a.seed)")
        if a.success {
            print("  outcome     success — \(a.validator.message)")
        } else {
            print("  outcome     \(a.termination.failureType?.rawValue ?? "?") (\(a.termination.rawValue))")
            if let reason = a.failureReason { print("  reason      \(reason)") }
        }
        print("  steps       \(a.stepsUsed) / \(a.budgets.steps)    tool calls \(a.toolCallsUsed) / \(a.budgets.toolCalls)")
        print("  artifact    \(r.artifactHash)")
        print("  written to  \(relative(path))")
        if !a.success, !r.agentLog.isEmpty {
            let tail = r.agentLog.split(separator: "\n", omittingEmptySubsequences: true).suffix(3)
            print("  agent log   " + tail.joined(separator: "\n              "))
        }
        if !problems.isEmpty {
            let label = strict ? Console.red("spec check failed") : Console.yellow("spec warnings")
            print("  \(label):")
            for p in problems { print("    - \(p)") }
        }
    }

    static func relative(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}
