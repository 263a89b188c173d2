import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

/// The continuation options fork and blame share.
struct ContinuationOptions: ParsableArguments {
    @Option(name: .customLong("continue"),
            help: ArgumentHelp("What the model calls past the replaced answers get: record (the upstream; the branch's tape is kept, default), live (the upstream, nothing kept), or replay (no upstream: a call with no answer ends the episode).", valueName: "mode"))
    var mode = "record"

    @Option(name: .customLong("model-upstream"), parsing: .singleValue,
            help: ArgumentHelp("Where live calls go, PROVIDER=URL (openai or anthropic); default: rigor.toml's [models.upstreams], else the public APIs. Repeatable.", valueName: "provider=url"))
    var modelUpstream: [String] = []

    @Option(help: ArgumentHelp("The policy file the run was made with (--policy); the task's own policy comes with the task, the project's with rigor.toml.", valueName: "file"))
    var policy: String?

    func continuation() throws -> ModelFork.Continuation {
        guard let parsed = ModelMode(rawValue: mode) else { throw ValidationError("--continue must be one of: record, live, replay (got '\(mode)')") }
        var c = ModelFork.Continuation(mode: parsed)
        c.policyFile = policy
        c.upstreams = try ModelFlags.upstreams(modelUpstream)
        return c
    }
}

/// Reads a run from the store or an artifact file (as replay does).
enum RunLookup {
    static func artifact(_ ref: String, workspace: Workspace) throws(RunnerError) -> JSON {
        if FileManager.default.fileExists(atPath: ref) { return try ArtifactFile.read(ref) }
        let store = try workspace.store(create: true)
        do { return try store.artifact(try store.resolve(ref)) } catch { throw .store(error) }
    }
}

struct ForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Re-run an LLM episode with one model answer replaced, and record the branch.",
        discussion: """
            The run's model calls before the fork point are answered from its tape; the call at \
            the fork point gets the answer in --response; the calls after it go to the upstream \
            (--continue). The branch is a run of its own in the store, linked to its parent \
            (diagnostics.fork). spec/model-gateway.md §9.

              rigor fork latest --at 3 --response answer.json
              rigor fork 4f2a --call 2 --response answer.json --continue replay

            Exit 0 when the branch passed, 1 when it failed, 2 bad input.
            """)

    @Argument(help: ArgumentHelp("Run id, prefix or latest; or an artifact file.", valueName: "run"))
    var runRef: String

    @Option(name: .customLong("at"), help: ArgumentHelp("Fork at the first model call made during this step.", valueName: "step"))
    var step: Int?

    @Option(name: .customLong("call"), help: ArgumentHelp("Fork at this request on the tape (1-based: every request the agent made to the gateway, in order, as `rigor runs show` and the tape number them), instead of --at.", valueName: "n"))
    var call: Int?

    @Option(name: .customLong("response"), help: ArgumentHelp("The answer to serve at the fork point: a file holding the response body as the upstream would send it (JSON, or an SSE stream when it starts with 'event:' or 'data:').", valueName: "file"))
    var response: String?

    @Option(name: .customLong("observation"), help: ArgumentHelp("Instead of --response: change the observation of step --at with this JSON merge patch (RFC 7386), a file or inline JSON, e.g. '{\"visible_state\":{\"files_seen\":[]}}'. The agent sees, and the branch records, the patched observation.", valueName: "patch"))
    var observation: String?

    @Option(name: .customLong("status"), help: ArgumentHelp("The HTTP status of that answer (default 200).", valueName: "code"))
    var status = 200

    @OptionGroup var continuation: ContinuationOptions

    @Flag(help: "Print the branch's summary as JSON.")
    var json = false

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func validate() throws {
        if (step == nil) == (call == nil) { throw ValidationError("give exactly one of --at STEP and --call N") }
        if (response == nil) == (observation == nil) { throw ValidationError("give exactly one of --response FILE and --observation PATCH") }
        if observation != nil && step == nil { throw ValidationError("--observation changes the observation of a step: give it with --at STEP") }
        if let step, step < 0 || step > 100_000_000 { throw ValidationError("--at must be a step from 0 to 100000000") }
        if let call, call < 1 || call > 100_000_000 { throw ValidationError("--call must be from 1 to 100000000") }
        if !(100...599).contains(status) { throw ValidationError("--status must be an HTTP status from 100 to 599") }
        _ = try continuation.continuation()
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        do {
            if let observation {
                let text = FileManager.default.fileExists(atPath: observation)
                    ? String(decoding: FileManager.default.contents(atPath: observation) ?? Data(), as: UTF8.self) : observation
                let patch: JSON
                do { patch = try JSON.parse(Array(text.utf8), maxDepth: 64) } catch {
                    throw RunnerError.usage("--observation is neither a file nor valid JSON: \(error)")
                }
                let parent = try RunLookup.artifact(runRef, workspace: workspace)
                let result = try ModelFork.fork(parent, in: workspace, step: step ?? 1, observationPatch: patch,
                                                continuation: try continuation.continuation())
                try report(result, parent: parent, at: nil, workspace: workspace)
                return
            }
            guard let response else { return }
            guard let data = FileManager.default.contents(atPath: response) else {
                throw RunnerError.usage("--response: cannot read '\(PathName.shown(response))'")
            }
            guard data.count <= 64 << 20 else { throw RunnerError.usage("--response: the file is over 64 MiB") }
            let body = [UInt8](data)
            let isStream = body.starts(with: Array("event:".utf8)) || body.starts(with: Array("data:".utf8))
            let replacement = ModelResponseOverride(status: status, contentType: isStream ? "text/event-stream" : "application/json", body: body)
            let parent = try RunLookup.artifact(runRef, workspace: workspace)
            let tape = try ModelFork.tape(of: parent, in: workspace)
            let at = try call ?? ModelFork.call(atStep: step ?? 0, in: tape)
            let result = try ModelFork.fork(parent, in: workspace, call: at, response: replacement, continuation: try continuation.continuation())
            try report(result, parent: parent, at: at, workspace: workspace)
        } catch let e as RunnerError { throw Console.fail(e) }
    }

    /// Keeps the branch and prints what became of it.
    func report(_ result: EpisodeResult, parent: JSON, at: Int?, workspace: Workspace) throws {
        do {
            let store = try workspace.store(create: true)
            _ = try workspace.keep(result, store: store)
            let summary: JSON = [
                "run_id": .string(result.record.runID), "parent_run_id": parent["run_id"] ?? .null,
                "at_call": at.map(JSON.int) ?? .null, "at_step": step.map(JSON.int) ?? .null,
                "success": .bool(result.record.success), "termination_reason": .string(result.record.termination.rawValue),
                "parent_success": parent["success"] ?? .null, "artifact_hash": .string(result.artifactHash),
                "model_calls": result.record.models?["calls"] ?? .null,
                "live_calls": result.record.diagnostics["models"]?["live_calls"] ?? .null,
                "cost_usd": result.record.diagnostics["models"]?["live_cost_usd"] ?? .null,
            ]
            if json { Console.printJSON(summary) } else {
                let verdict = result.record.success ? Console.green("passed") : Console.red("failed")
                let point = at.map { "model call \($0)" } ?? "step \(step ?? 0)'s observation"
                Console.line("branch \(result.record.runID) from \(parent["run_id"]?.stringValue ?? "?") at \(point): \(verdict) "
                    + "(\(result.record.termination.rawValue)); the parent \(parent["success"]?.boolValue == true ? "passed" : "failed")")
                Console.line("  model calls: \(summary["model_calls"]?.intValue ?? 0), \(summary["live_calls"]?.intValue ?? 0) of them live, "
                    + "costing $\(String(format: "%.6f", ModelAccount.cost(["models": summary])))")
            }
            if !result.record.success { throw CLIExit(code: .failed) }
        } catch let e as RunnerError { throw Console.fail(e) }
    }
}

struct BlameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame",
        abstract: "Find the model answer that made an LLM episode fail, against a run that passed.",
        discussion: """
            Bisects over the failed run's model calls: each trial keeps the failed run's first k \
            answers and gives the rest from the passing run (then --continue). The blamed call is \
            the first whose failed answer, in place of the passing one, makes the episode fail. \
            With a live continuation each trial runs --repeat times and its pass rate is given \
            with a 95% interval. Every trial is a run in the store. spec/model-gateway.md §9.

              rigor blame 4f2a --against 9c01
              rigor blame 4f2a --against 9c01 --continue live --repeat 5

            Exit 0 when a call was blamed, 1 when none was, 2 bad input.
            """)

    @Argument(help: ArgumentHelp("The failed run: id, prefix or latest; or an artifact file.", valueName: "failed"))
    var failedRef: String

    @Option(name: .customLong("against"), help: ArgumentHelp("A passing run of the same agent, task and seed.", valueName: "passed"))
    var againstRef: String

    @Option(name: .customLong("repeat"), help: ArgumentHelp("Runs per trial (1 to 100; default 1, or 5 with --continue live).", valueName: "n"))
    var repeatCount: Int?

    @OptionGroup var continuation: ContinuationOptions

    @Flag(help: "Print the blame report as JSON.")
    var json = false

    @OptionGroup var workspaceOptions: WorkspaceOptions

    func validate() throws {
        if let repeatCount, !(1...100).contains(repeatCount) { throw ValidationError("--repeat must be from 1 to 100") }
        _ = try continuation.continuation()
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        do {
            let failed = try RunLookup.artifact(failedRef, workspace: workspace)
            let passed = try RunLookup.artifact(againstRef, workspace: workspace)
            let c = try continuation.continuation()
            let store = try workspace.store(create: true)
            let report = try ModelFork.blame(failed: failed, passed: passed, in: workspace, continuation: c,
                                             repeats: repeatCount ?? (c.mode == .replay ? 1 : (c.mode == .live ? 5 : 1))) { result throws(RunnerError) in
                _ = try workspace.keep(result, store: store)
            }
            if json { Console.printJSON(report.json) } else {
                if let call = report.call {
                    Console.line("blamed: model call \(call), made at step \(report.step ?? 0): with the failed run's answer there the episode fails, with the passing run's it passes")
                } else {
                    Console.line("no call blamed: \(report.note ?? "")")
                }
                for t in report.trials {
                    let ci = Statistics.wilson(successes: t.passes, trials: t.runs)
                    Console.line("  kept \(t.failedCallsKept) failed answer(s): \(t.passes)/\(t.runs) passed"
                        + (t.runs > 1 ? String(format: " (pass rate %.0f%%, 95%% Wilson %.0f%%–%.0f%%)", t.rate * 100, ci.low * 100, ci.high * 100) : ""))
                }
                Console.line("  cost: \(report.episodes) episodes, \(report.liveCalls) live model calls, $\(String(format: "%.6f", report.costUSD))")
            }
            if report.call == nil { throw CLIExit(code: .failed) }
        } catch let e as RunnerError { throw Console.fail(e) }
    }
}
