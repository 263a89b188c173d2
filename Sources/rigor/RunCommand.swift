import ArgumentParser
import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one episode (agent × task × seed), or a named pairing.",
        discussion: """
            rigor run --agent Agents/toy_agent.py --task filesystem_hidden_config@1 \\
                --seed 42
            rigor run pairing toy_filesystem --seed 42
            rigor run pairing --list

            `rigor run episode --help` lists the options of one run (--agent, --task, --seed, \
            --out, --record, --sign, --env, --secret, --python, --isolation, --json, ...); \
            `rigor run pairing --help` those of a named pairing.
            """,
        subcommands: [RunEpisodeCommand.self, PairingCommand.self],
        defaultSubcommand: RunEpisodeCommand.self)
}

/// Options every way of running episodes shares. \
struct EpisodeOptions: ParsableArguments {
    @Flag(name: .customLong("strict-spec"), help: "Fail unless each artifact passes every spec check (schema, metadata, taxonomy).")
    var strictSpec = false

    @Option(help: ArgumentHelp("Agent isolation: none, process or namespace (default: the strongest available).", valueName: "level"))
    var isolation: String?

    @Option(name: .customLong("act-timeout"), help: ArgumentHelp("Seconds the agent may take per action (default: the task's, else 10).", valueName: "seconds"))
    var actTimeout: Double?

    @Flag(help: "Print JSON instead of the human report.")
    var json = false

    @Option(help: ArgumentHelp("A policy file (policy.toml, spec/policy.md) applied after the task's own policy, instead of the project's ([project] policy in rigor.toml). Its rules decide, for each action that passed the action surface and the sandbox, approved, rejected, requires_approval or observed; a rejected action never reaches the world.", valueName: "file"))
    var policy: String?

    @Flag(name: .customLong("trace-endpoint"),
          help: "Serve the TRACE protocol to the agent (spec/trace-endpoint.md): its URL is in RIGOR_TRACE_URL; the agent (e.g. the traceprotocol client) proposes actions, gets the policy's decisions and attaches evidence, all recorded in the artifact's trace_actions. Works at every isolation level; at the namespace level it opens inside the agent's sandbox, whose network stays closed otherwise.")
    var traceEndpoint = false

    @OptionGroup var modelFlags: ModelFlags

    @Flag(name: .customLong("fork-server"), inversion: .prefixedNo,
          help: "Fork each episode's agent from a warm fork server instead of exec'ing it (same artifacts, several times faster). Batches do it by default for Python agents (the SDK's server; at the namespace level each child makes namespaces of its own, which needs root) and exec an agent whose server cannot start. --fork-server also forks native agents that offer a server (process level; spec/agent-protocol.md §10) and fails when a server cannot start; --no-fork-server execs every agent.")
    var forkServer: Bool?

    /// What the flags ask for, given the command's default.
    func forkServerUse(default fallback: ForkServerUse) -> ForkServerUse {
        switch forkServer {
        case true?: return .always
        case false?: return .never
        case nil: return fallback
        }
    }

    func checkInput() throws {
        if let actTimeout, let problem = InputRanges.actTimeoutSeconds.problem(actTimeout) {
            throw ValidationError("--act-timeout \(problem)")
        }
        if let isolation, IsolationLevel(rawValue: isolation) == nil {
            throw ValidationError("--isolation must be one of: none, process, namespace (got '\(isolation)')")
        }
        if forkServer == true && isolation == "none" {
            throw ValidationError("--fork-server needs --isolation process or namespace (at 'none' agents are plain children of the runner)")
        }
    }

    /// `--models` and `--model-upstream`, checked.
    func modelOptions() throws -> ModelOptions {
        try modelFlags.parsed(defaultMode: nil) ?? ModelOptions()
    }

    var isolationLevel: IsolationLevel? { isolation.flatMap(IsolationLevel.init(rawValue:)) }

    /// Says once, on stderr, what the level the user picked leaves visible to the agent (the
    /// default level is the strongest available and says nothing).
    func announceChosenLevel() {
        Self.announce(isolationLevel)
    }

    /// The same for commands that take `--isolation` without the other episode options
    /// (`ci`, `replay`): once per command, however many episodes it runs.
    static func announce(_ level: IsolationLevel?) {
        if let exposure = level?.exposure { Console.note(exposure) }
    }
}

struct RunEpisodeCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "episode",
        abstract: "Run one agent on one task with one seed and write the artifact (the default).",
        discussion: """
            Budgets come from the task's manifest and cannot be overridden. The run is kept in the
            store (`rigor runs show <run_id>`, `rigor runs export <run_id>`); --out, or
            `runs_json = true` in rigor.toml, also writes it as plain JSON. Exit 0 when the episode succeeded,
            1 when it failed (or, with --strict-spec, when the artifact fails a spec check), 2 on
            bad usage or input, 4 when the artifact or the store cannot be written (e.g. a
            read-only store).

            Example:
              rigor run --agent Agents/toy_agent.py \\
                --task filesystem_hidden_config@1 --seed 42
            """)

    @Option(help: ArgumentHelp("The agent: a name from rigor.toml's [agents], a .py file (run through the Python SDK), an executable, or a directory with an entry point (agent.py, main.py or agent), which it sees and is hashed as a whole.", valueName: "agent"))
    var agent: String

    @Option(help: ArgumentHelp("A setting for the agent, as an environment variable of its process only (repeatable). Never written anywhere; its name is recorded (diagnostics.agent.env_names).", valueName: "NAME=VALUE"))
    var env: [String] = []

    @Option(help: ArgumentHelp("A secret for the agent: the variable NAME of this environment, handed to the agent's process only (repeatable). Its value is never written to the artifact, the store, a bundle or a report; its name is recorded.", valueName: "NAME"))
    var secret: [String] = []

    @Option(help: ArgumentHelp("A Python interpreter or venv directory for a .py agent (e.g. .venv), shown to it read-only at every isolation level; not hashed.", valueName: "path"))
    var python: String?

    @Option(help: ArgumentHelp("The task as <id>@<version>; see `rigor tasks list`.", valueName: "ref"))
    var task: String

    @Option(help: ArgumentHelp("The seed the world is built from (use --seed=-1 for negatives).", valueName: "n"))
    var seed: Int = 0

    @Option(help: ArgumentHelp("Also write the artifact as plain JSON to this file (the store keeps every run).", valueName: "file"))
    var out: String?

    @Flag(help: "Run twice, require identical artifact hashes, then seal a bundle and enter it in the ledger.")
    var record = false

    @Option(help: ArgumentHelp("With --record: sign the bundle with this private key.", valueName: "keyfile"))
    var sign: String?

    @OptionGroup var options: EpisodeOptions
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        try options.checkInput()
        if sign != nil && !record { throw ValidationError("--sign only applies with --record") }
        for pair in env where !pair.contains("=") || pair.hasPrefix("=") {
            throw ValidationError("--env takes NAME=VALUE (got '\(pair.split(separator: "=").first ?? "")')")
        }
    }

    /// The run the flags ask for.
    func runOptions(forkServer: ForkServerUse) -> RunOptions {
        var run = RunOptions(agent: agent, task: task, seed: seed, isolation: options.isolationLevel, actTimeoutSeconds: options.actTimeout,
                             forkServer: forkServer)
        for pair in env {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            run.env[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        run.secrets = secret
        run.python = python
        run.policyFile = options.policy
        run.traceEndpoint = options.traceEndpoint
        run.models = (try? options.modelOptions()) ?? ModelOptions()
        return run
    }

    func run() throws {
        options.announceChosenLevel()
        if record {
            try Recording(run: runOptions(forkServer: .never),
                          workspace: try workspaceOptions.workspace, out: out, sign: sign, options: options).perform()
            return
        }
        let passed = try EpisodeReport.runAndReport(
            runOptions(forkServer: options.forkServerUse(default: .never)),
            workspace: try workspaceOptions.workspace, out: out, options: options)
        if !passed { throw CLIExit(code: .failed) }
    }
}

/// How `rigor run` runs and reports an episode.
enum EpisodeReport {
    /// Runs one episode, writes its artifact, prints the verdict; true when it passed.
    static func runAndReport(_ run: RunOptions, workspace: Workspace, out: String?, options: EpisodeOptions) throws -> Bool {
        let result: EpisodeResult
        let path: String?
        do {
            let request = try workspace.prepare(run)
            let store = try workspace.store(create: true)
            result = try RigorRunner.Episode.run(request)
            path = try workspace.keep(result, store: store, out: out)
        } catch {
            throw Console.fail(error)
        }
        let problems = SpecCheck.check(result.artifact)
        if options.json {
            Console.printJSON(json(result, path: path, workspace: workspace, problems: problems, strict: options.strictSpec))
        } else {
            printHuman(result, path: path, workspace: workspace, problems: problems, strict: options.strictSpec)
        }
        return result.record.success && (!options.strictSpec || problems.isEmpty)
    }

    static func json(_ r: EpisodeResult, path: String?, workspace: Workspace, problems: [SpecProblem], strict: Bool) -> JSON {
        EpisodeView.json(r, path: path, stateDirectory: workspace.stateDirectory, problems: problems, strict: strict)
    }

    static func printHuman(_ r: EpisodeResult, path: String?, workspace: Workspace, problems: [SpecProblem], strict: Bool) {
        let a = r.record
        let agentName = (a.agentRef as NSString).lastPathComponent
        let verdict = a.success ? Console.green("PASS") : Console.red("FAIL")
        print("\(verdict)  \(agentName) × \(a.taskRef)  seed \(a.seed)")
        if a.success {
            // A validator may say nothing more than "ok" (TraceCore's return {"ok": True}).
            print("  outcome     success" + (a.validator.message.isEmpty ? "" : " — \(a.validator.message)"))
        } else {
            print("  outcome     \(a.termination.failureType?.rawValue ?? "?") (\(a.termination.rawValue))")
            if let reason = a.failureReason { print("  reason      \(reason)") }
        }
        print("  steps       \(a.stepsUsed) / \(a.budgets.steps)    tool calls \(a.toolCallsUsed) / \(a.budgets.toolCalls)")
        if let memory = EpisodeView.memoryCoverage(r.artifact) { print("  memory      \(memory.warning ? Console.yellow(memory.text) : memory.text)") }
        if let m = r.artifact["models"] {
            let b = m["budgets"]
            func of(_ used: String, _ budget: String) -> String {
                "\(m[used]?.intValue ?? 0)" + (b?[budget]?.intValue.map { " / \($0)" } ?? "")
            }
            let mode = r.artifact["diagnostics"]?["models"]?["mode"]?.stringValue ?? "?"
            let tape = m["tape"]?.stringValue.map { "tape \($0.dropFirst(7).prefix(12))" } ?? "no calls"
            print("  models      \(of("calls", "calls")) calls, tokens \(of("input_tokens", "input_tokens")) in, \(of("output_tokens", "output_tokens")) out, "
                + String(format: "$%.6f", ModelAccount.cost(r.artifact["diagnostics"] ?? .null)) + "  (\(mode), \(tape))")
        }
        print("  artifact    \(r.artifactHash)")
        print("  stored in   \(relative(workspace.stateDirectory))  (rigor runs show \(a.runID))")
        if let path { print("  written to  \(relative(path))") }
        if !a.success, !r.agentLog.isEmpty {
            let tail = r.agentLog.split(separator: "\n", omittingEmptySubsequences: true).suffix(3)
            print("  agent log   " + tail.joined(separator: "\n              "))
        }
        if let note = r.artifact["diagnostics"]?["agent"]?["network_note"]?.stringValue { print("  " + Console.yellow("note") + "        \(note)") }
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
