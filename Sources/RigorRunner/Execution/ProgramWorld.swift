import Foundation
import RigorAgentHost
import RigorSpec
import RigorTasks

/// A world that runs as a separate program speaking rigor-world/1 (spec/world-protocol.md).
///
/// The runner stays the referee: it checks every action against the surface and the sandbox
/// before this world sees it, charges budgets, classifies the end and writes the artifact. The
/// program only answers: it sets itself up for a seed, executes one checked action (result and
/// io_audit), validates, and reports what observations show. Anything else it does — exit,
/// hang, garbage, an answer of the wrong shape — is a `WorldFailure` (`world_failed`).
final class ProgramWorld: TaskWorld {
    let host: WorldHost
    let taskRef: String
    private(set) var visibleState: JSON = ["files_seen": []]
    private(set) var sandboxRefusal: String?
    private(set) var verdictPayload: JSON?
    private var verdict: WorldVerdict = .pending("the agent took no action")
    /// The action surface the world reported at set-up (TraceCore tasks: introspected).
    private(set) var reportedSurface: ActionSurface?

    /// Starts the program and sets it up for `seed`. `key` never leaves the runner: the program
    /// gets `world_seed` (`WorldSeed.material`), or for a TraceCore task only the seed, since
    /// TraceCore's setup seeds itself from it (such worlds are not keyed).
    init(task: LoadedTask, program: WorldProgram, seed: Int, key: WorldKey, settings: GuardSettings) throws(WorldFailure) {
        let manifest = task.manifest
        taskRef = manifest.ref
        let launch = try ProgramWorld.launch(task: task, program: program)
        do { host = try WorldHost(launch, settings: ProgramWorld.guardSettings(settings)) } catch { throw WorldFailure(error.message) }
        do { try setUp(task: task, program: program, seed: seed, key: key) } catch {
            // What the program said before it failed is the task author's first clue.
            host.stop()
            throw WorldFailure(error.message, log: host.stderrText, launchedBy: host.launchedBy)
        }
    }

    /// Sends `setup` and reads the `ready` answer (and, for a TraceCore task, its action surface).
    private func setUp(task: LoadedTask, program: WorldProgram, seed: Int, key: WorldKey) throws(WorldFailure) {
        let manifest = task.manifest
        var setup: [String: JSON] = [
            "type": "setup", "protocol": .string(WorldProgram.protocolVersion), "seed": .int(seed),
            "task": [
                "id": .string(manifest.id), "version": .int(manifest.version), "ref": .string(manifest.ref),
                "directory": .string(ProgramWorld.directory(of: task)), "format": .string(program.format.rawValue),
                "sandbox": manifest.sandbox.json, "validator": .object(manifest.validator),
                "world_config": .object(manifest.worldConfig), "entrypoints": .object(program.entrypoints.mapValues(JSON.string)),
            ],
        ]
        if program.format == .rigor { setup["world_seed"] = .string(WorldSeed.material(taskID: manifest.id, seed: seed, key: key)) }
        let ready = try ask(.object(setup), expecting: "ready")
        if let v = ready["visible_state"] { visibleState = try ProgramWorld.object(v, "visible_state", in: "ready", taskRef) }
        if program.surfaceFromWorld {
            guard let actions = ready["actions"]?.objectValue, !actions.isEmpty else {
                throw failure("its 'ready' answer lacks the action surface ('actions': {name: {args: {...}}}) that a TraceCore task introspects")
            }
            var specs: [ActionSpec] = []
            for (name, value) in actions.sorted(by: { $0.key < $1.key }) {
                var args: [String: ArgType] = [:]
                for (arg, t) in value["args"]?.objectValue ?? [:] {
                    guard let type = t.stringValue.flatMap(ArgType.init(rawValue:)) else {
                        throw failure("its 'ready' answer gives action '\(name)' argument '\(arg)' an unknown type")
                    }
                    args[arg] = type
                }
                specs.append(ActionSpec(name: name, args: args, costsToolCall: value["tool_call"]?.boolValue ?? true))
            }
            reportedSurface = ActionSurface(specs)
        }
    }

    func execute(_ action: CheckedAction) throws(WorldFailure) -> ActionOutcome {
        let answer = try ask(["type": "execute", "action": ["type": .string(action.name), "args": .object(action.args)]], expecting: "result")
        guard let result = answer["result"], result.objectValue != nil else {
            throw failure("its 'result' answer lacks a 'result' object")
        }
        var audit: [JSON] = []
        if let entries = answer["io_audit"] {
            guard let list = entries.arrayValue else { throw failure("its 'io_audit' is not a list") }
            for entry in list {
                guard let type = entry["type"]?.stringValue, ["fs", "net", "custom"].contains(type) else {
                    throw failure("an io_audit entry is not an object with a type of fs, net or custom")
                }
                audit.append(entry)
            }
        }
        if let v = answer["visible_state"] { visibleState = try ProgramWorld.object(v, "visible_state", in: "result", taskRef) }
        sandboxRefusal = answer["sandbox_violation"]?.stringValue
        guard let v = answer["verdict"]?.objectValue, let status = v["status"]?.stringValue else {
            throw failure("its 'result' answer lacks a 'verdict' {status, message}")
        }
        let message = v["message"]?.stringValue ?? ""
        verdictPayload = v["payload"]
        switch status {
        case "pending": verdict = .pending(message)
        case "success": verdict = .success(message)
        case "failed": verdict = .failed(message)
        default: throw failure("its verdict status '\(WorldHost.clip(status))' is not pending, success or failed")
        }
        var outcome = ActionOutcome(result: result, ioAudit: audit)
        switch EvidenceCheck.list(answer["evidence"], source: "world") {
        case .success(let checks): outcome.evidence = checks
        case .failure(let problem): throw failure("its 'evidence' is wrong: \(problem)")
        }
        return outcome
    }

    func evaluate() throws(WorldFailure) -> WorldVerdict { verdict }

    /// Tells the program the episode is over and stops it.
    func finish() -> String {
        host.stop()
        return host.stderrText
    }

    private func ask(_ message: JSON, expecting type: String) throws(WorldFailure) -> [String: JSON] {
        let answer: [String: JSON]
        do { answer = try host.request(message) } catch { throw WorldFailure(error.message) }
        guard answer["type"]?.stringValue == type else {
            let got = answer["type"]?.stringValue.map { "'\(WorldHost.clip($0))'" } ?? "no type"
            throw failure("its world program answered with \(got) where rigor-world/1 expects '\(type)'")
        }
        return answer
    }

    private func failure(_ message: String) -> WorldFailure {
        host.stop()
        return WorldFailure("task \(taskRef): \(message)")
    }

    static func object(_ value: JSON, _ field: String, in message: String, _ taskRef: String) throws(WorldFailure) -> JSON {
        guard value.objectValue != nil else { throw WorldFailure("task \(taskRef): '\(field)' in its '\(message)' answer is not an object") }
        return value
    }

    /// World programs run under the agent's guard policy, with the default process limits (a
    /// task's `[limits]` are for its agent). A Python world forks from the task SDK's warm server
    /// when the episode allows fork servers at the process level; else it is exec'd.
    static func guardSettings(_ agent: GuardSettings) -> GuardSettings { agent }

    /// The task folder as an absolute path: a world runs in a directory of its own, where a
    /// folder named relative to the caller's (`--tasks-dir tasks`) would not be found.
    static func directory(of task: LoadedTask) -> String {
        guard !task.directory.hasPrefix("/") else { return task.directory }
        return ((FileManager.default.currentDirectoryPath + "/" + task.directory) as NSString).standardizingPath
    }

    /// The Python files the task SDK loads for this world (`WorldProgram.pythonEntryFiles`), as
    /// absolute paths: a warm server compiles them ahead.
    static func pythonFiles(task: LoadedTask, program: WorldProgram) -> [String] {
        let directory = directory(of: task)
        return program.pythonEntryFiles.map { "\(directory)/\($0)" }
    }

    /// The command line: a `.py` program or a TraceCore task runs through the task SDK; another
    /// program is the task folder's executable (or a system program named by its path, or by
    /// name on the pinned PATH).
    static func launch(task: LoadedTask, program: WorldProgram) throws(WorldFailure) -> WorldLaunch {
        let ref = task.manifest.ref
        let directory = directory(of: task)
        let timeout = task.manifest.worldConfig["timeout_seconds"].flatMap { v -> Double? in
            if case .int(let i) = v, i > 0 { return Double(i) }
            if case .double(let d) = v, d > 0 { return d }
            return nil
        } ?? 10
        if program.usesSDK {
            guard let sdk = task.worldSDK, let python = PythonInterpreter.path else {
                throw WorldFailure("task \(ref): its world runs through the Python task SDK, but \(task.worldSDK == nil ? "the SDK is not found" : "python3 is not found")")
            }
            let worldArgs = program.format == .tracecore ? ["--tracecore", directory]
                : ["\(directory)/\(program.command[0])"] + program.command.dropFirst()
            var launch = WorldLaunch(taskRef: ref, taskDirectory: directory, executable: python, arguments: ["-s", "-B", sdk.launcher] + worldArgs,
                                     visiblePaths: [directory, sdk.directory], isPython: true, network: program.network,
                                     answerTimeoutSeconds: timeout)
            if let agentSDK = sdk.forkServerDirectory {
                launch.forkServer = WorldForkServer(sdkDirectory: agentSDK, worldSDK: sdk.directory, python: python, arguments: worldArgs,
                                                    files: pythonFiles(task: task, program: program))
            }
            return launch
        }
        let first = program.command[0]
        let executable: String
        if first.hasPrefix("/") {
            executable = first
        } else if first.contains("/") || FileManager.default.fileExists(atPath: "\(directory)/\(first)") {
            executable = "\(directory)/\(first)"
        } else if let found = ["/usr/local/bin", "/usr/bin", "/bin"].map({ "\($0)/\(first)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            executable = found
        } else {
            throw WorldFailure("task \(ref): its world command '\(first)' is neither a file of the task folder nor a program on PATH")
        }
        let args = program.command.dropFirst().map { arg in
            FileManager.default.fileExists(atPath: "\(directory)/\(arg)") && !arg.hasPrefix("/") ? "\(directory)/\(arg)" : arg
        }
        return WorldLaunch(taskRef: ref, taskDirectory: directory, executable: executable, arguments: Array(args),
                           visiblePaths: [directory], isPython: false, network: program.network, answerTimeoutSeconds: timeout)
    }
}
