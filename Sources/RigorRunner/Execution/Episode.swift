import Foundation
import RigorAgentHost
import RigorSpec
import RigorTasks

/// One pairing, resolved and frozen: which agent, which task, which seed, under which guard.
public struct EpisodeRequest: Sendable {
    public var task: LoadedTask
    public var agent: AgentCommand
    public var seed: Int
    /// The evaluator's key the world is built under (never shown to the agent).
    public var worldKey: WorldKey
    public var guardSettings: GuardSettings
    /// Record per-step runner timings (for benchmarks).
    public var collectTiming: Bool
    /// The policy the episode runs under (the task's, then the project's or the flag's;
    /// spec/policy.md); nil: none.
    public var policy: Policy?
    /// What is scrubbed from every persisted byte before the artifact is sealed (spec/policy.md §7).
    public var redactor: Redactor = Redactor()
    /// Serve the TRACE endpoint to the agent (`RIGOR_TRACE_URL`, spec/trace-endpoint.md); what it
    /// proposes lands in the artifact's `trace_actions`.
    public var traceEndpoint = false
    /// Serve the model gateway (spec/model-gateway.md): nil, no gateway.
    public var models: ModelGatewaySettings?
    /// Where a `record` gateway stores the episode's tape (nil: kept in memory only).
    public var tapeStore: ModelTapeStore?
    /// A fork's or a blame trial's link to the run it branched from (`diagnostics.fork`).
    public var forkLink: JSON?
    /// `rigor fork --observation`: the step whose observation is changed, and the JSON merge
    /// patch applied to it before the agent sees it.
    public var observationPatch: (step: Int, patch: JSON)?

    public init(task: LoadedTask, agent: AgentCommand, seed: Int, worldKey: WorldKey, guardSettings: GuardSettings,
                collectTiming: Bool = false) {
        self.task = task
        self.agent = agent
        self.seed = seed
        self.worldKey = worldKey
        self.guardSettings = guardSettings
        self.collectTiming = collectTiming
    }
}

/// Per-step time spent in the runner itself (building and sending the observation, checking,
/// executing and recording the action), apart from the time the agent takes to answer.
public struct EpisodeTiming: Sendable {
    public var runnerNanosPerStep: [UInt64] = []
    public var agentNanosPerStep: [UInt64] = []
    public var assemblyNanos: UInt64 = 0
}

/// The end of an episode: the sealed artifact and the typed record it came from.
public struct EpisodeResult: Sendable {
    public let artifact: JSON
    public let record: Artifact
    public let artifactHash: String
    public let timing: EpisodeTiming?
    /// What the agent wrote to stderr (tail), for people.
    public let agentLog: String
    /// The JCS bytes `artifact_hash` was computed over: what the store keeps as the run's stable
    /// part (`RunStore.record(contentsOf:hashedBytes:)`), so it is not serialised twice.
    public let hashedBytes: [UInt8]
}

/// The episode loop of DESIGN.md "One episode": every path through it ends in an artifact.
public enum Episode {
    public static func run(_ request: EpisodeRequest) throws(RunnerError) -> EpisodeResult {
        var manifest = request.task.manifest
        let settings = request.guardSettings
        let world: any TaskWorld
        var programWorld: ProgramWorld? = nil
        var worldFailure: WorldFailure? = nil
        let startedAt = Timestamp.now()
        switch request.task.world {
        case .builtIn:
            do {
                world = try request.task.makeWorld(seed: request.seed, key: request.worldKey)
            } catch {
                throw .task(error)
            }
        case .program(let program):
            // A world program that cannot be set up fails the task; the agent is not started.
            do {
                let started = try ProgramWorld(task: request.task, program: program, seed: request.seed, key: request.worldKey,
                                               settings: settings)
                if let surface = started.reportedSurface { manifest.surface = surface }
                programWorld = started
                world = started
            } catch {
                worldFailure = error
                world = AbsentWorld()
            }
        }
        let startNanos = MonotonicClock.nanoseconds()
        let wallDeadline = manifest.budgets.wallClockSeconds.map { startNanos.addingClamped(MonotonicClock.nanos(seconds: Double($0))) } ?? UInt64.max
        let actTimeoutNanos = MonotonicClock.nanos(seconds: settings.actTimeoutSeconds)

        var loop = EpisodeLoop(manifest: manifest, world: world, collectTiming: request.collectTiming, policy: request.policy)
        var session: AgentSession? = nil
        var trace: (endpoint: TraceEndpoint, gate: LivePolicyGate)? = nil
        if request.traceEndpoint {
            let gate = LivePolicyGate(policy: request.policy)
            trace = (TraceEndpoint(policy: request.policy, gate: gate), gate)
        }
        let gateway = request.models.map(ModelGateway.init(settings:))
        if let worldFailure {
            loop.end(.worldFailed, worldFailure.message)
        } else {
            do {
                var endpoints = trace.map { t in
                    [AgentEndpointService(environmentVariable: TraceEndpoint.environmentVariable, sandboxPort: TraceEndpoint.sandboxPort) { t.endpoint.handle($0) }]
                } ?? []
                if let gateway { endpoints.append(gateway.service) }
                session = try AgentSession(command: request.agent, seed: request.seed, settings: settings, endpoints: endpoints)
            } catch let error {
                // The machine's failings, not the agent's: the run stops and says so.
                switch error {
                case .isolationUnavailable, .noUIDAvailable, .workdirFailed, .unreachableForAgent, .sandboxSetupFailed, .agentDeclaration,
                     .secretMissing:
                    programWorld?.host.stop()
                    throw .agent(error)
                default: break
                }
                loop.end(.agentExited, "cannot start the agent: \(error)")
            }
        }

        if let session {
            session.reset(task: loop.taskSpec(seed: request.seed), seed: request.seed,
                          deadlineNanos: min(wallDeadline, MonotonicClock.nanoseconds().addingClamped(actTimeoutNanos)))
            while loop.termination == nil {
                let t0 = MonotonicClock.nanoseconds()
                if loop.checkBudgets(now: t0, wallDeadline: wallDeadline) { break }
                let step = loop.trace.count + 1
                let actDeadline = min(t0.addingClamped(actTimeoutNanos), wallDeadline)
                let deadlineIsWall = wallDeadline <= t0.addingClamped(actTimeoutNanos)
                var observation = loop.observation(step: step)
                if let (at, patch) = request.observationPatch, at == step { observation = ModelFork.mergePatch(observation, patch) }
                trace?.gate.publish(loop.policy, step: step)
                gateway?.publish(step: step)
                _ = session.observe(observation, deadlineNanos: actDeadline)
                let tSent = MonotonicClock.nanoseconds()
                let reply = session.awaitAction(step: step, deadlineNanos: actDeadline, deadlineIsWallClock: deadlineIsWall)
                let tReply = MonotonicClock.nanoseconds()
                // The gateway ended the episode while the agent was acting (a model budget, a
                // request not on the tape): the step's reply is not applied.
                if let stop = gateway?.stop {
                    loop.end(stop.reason, stop.message)
                    break
                }
                loop.apply(reply, step: step, observation: observation)
                if request.collectTiming {
                    let tDone = MonotonicClock.nanoseconds()
                    loop.timing.runnerNanosPerStep.append((tSent - t0) + (tDone - tReply))
                    loop.timing.agentNanosPerStep.append(tReply - tSent)
                }
            }
        }

        let termination = loop.termination ?? .agentExited
        let outcome: JSON = [
            "success": .bool(termination == .success), "termination_reason": .string(termination.rawValue),
            "failure_type": termination.failureType.map { .string($0.rawValue) } ?? .null,
        ]
        gateway?.cancelInFlight()
        let exit = session?.end(outcome: outcome)
        if loop.trace.count <= 1, let failure = session?.sandboxSetupFailure, termination == .agentExited {
            // bwrap (or setpriv) failed before the agent ran: the machine's failing, said as such.
            programWorld?.host.stop()
            throw .agent(.sandboxSetupFailed(reason: failure))
        }
        let worldLog = programWorld?.finish()
        let completedAt = Timestamp.now()
        let tAssemble = MonotonicClock.nanoseconds()

        // The hashed `sandbox` holds the guard's *policy* (allowlists, limits): what the episode
        // is. How this machine enforced it (level, a uid of its own) depends on the machine and
        // the user, so it goes to `diagnostics.guard`, outside the hash: the same pairing hashes
        // the same as root or not, at every level that can run it.
        var sandbox = manifest.sandbox.json.objectValue ?? [:]
        sandbox["limits"] = settings.limitsJSON
        var agentDiagnostics: [String: JSON] = [
            "exit_status": exit?.json ?? .null,
            "stderr_tail": .string(session?.stderrText ?? ""),
            "stderr_bytes_dropped": .int(session?.stderrBytesDropped ?? 0),
            "command_kind": .string(request.agent.kind.rawValue),
            "uid": session?.agentUID.map(JSON.int) ?? .null,
            "launched_by": .string(session?.launchedBy ?? "none"),
        ]
        if let problem = session?.workdirRemovalProblem { agentDiagnostics["workdir_removal"] = .string(problem) }
        if let names = session?.declaredNames, !names.isEmpty { agentDiagnostics["env_names"] = .array(names.map(JSON.string)) }
        if let python = request.agent.declaredPython { agentDiagnostics["python"] = .string(python) }
        if let note = NetworkNote.note(isolation: settings.isolation, termination: termination, agentLog: session?.stderrText ?? "") {
            agentDiagnostics["network_note"] = .string(note)
        }
        var guardDiagnostics: [String: JSON] = ["isolation": .string(settings.isolation.rawValue), "separate_uid": .bool(session?.agentUID != nil)]
        if session?.sandboxDropsUID == true { guardDiagnostics["uid_dropped_by"] = "setpriv in a bwrap started as root (agent files under a directory closed to others)" }
        if session?.filesCopied == true {
            guardDiagnostics["agent_files"] = "copied into the private directory: the agent's uid could not reach them (under a directory closed to others)"
        }
        var diagnostics: JSON = [
            "guard": .object(guardDiagnostics),
            "agent": .object(agentDiagnostics),
            // Never the values of the agent's declared env and secrets: their names are in agent.env_names.
            "environment": .object((session?.recordedEnvironment ?? [:]).mapValues(JSON.string)),
            "protocol": .string(RigorIdentity.protocolVersion),
            "cgroup": session?.cgroupFinal ?? ["used": false, "reason": "no agent process"],
            "timing": ["monotonic_elapsed_s": .double(Double(tAssemble - startNanos) / 1e9)],
        ]
        if case .program = request.task.world, case .object(var d) = diagnostics {
            // The world program's log (not hashed: a traceback holds this machine's paths).
            var world: [String: JSON] = ["stderr_tail": .string(worldLog ?? worldFailure?.log ?? ""),
                                         "launched_by": .string(programWorld?.host.launchedBy ?? worldFailure?.launchedBy ?? "none")]
            if programWorld?.host.filesCopied == true {
                world["files"] = "copied into the world's private directory: its uid could not reach the task folder (under a directory closed to others)"
            }
            d["world"] = .object(world)
            diagnostics = .object(d)
        }
        var record = Artifact(
            runID: RunID.make(), agentRef: request.agent.ref, agentHash: request.agent.agentHash,
            taskID: manifest.id, taskVersion: manifest.version, taskHash: request.task.taskHash, seed: request.seed,
            budgets: manifest.budgets, termination: termination, failureReason: loop.failureReason, trace: loop.trace,
            toolCallsUsed: loop.toolCallsUsed, validator: loop.verdict, startedAt: startedAt, completedAt: completedAt,
            sandbox: .object(sandbox), diagnostics: diagnostics, gitSHA: nil)
        record.worldKeyID = request.worldKey.id
        record.policy = request.policy?.json
        // The session has ended: its endpoints are stopped, the recording is complete.
        if let trace {
            let (hashed, ids) = TraceEndpoint.artifactParts(trace.endpoint.recorded)
            record.traceActions = hashed
            if case .object(var d) = record.diagnostics {
                d["trace_endpoint"] = ["action_ids": .array(ids.map(JSON.string)),
                                       "url": .string(session?.environment[TraceEndpoint.environmentVariable] ?? "")]
                record.diagnostics = .object(d)
            }
        }
        if let gateway {
            try ModelAccount.add(gateway, to: &record, store: request.tapeStore, agentURL: session?.environment[ModelGateway.environmentVariable])
        }
        if let link = request.forkLink, case .object(var d) = record.diagnostics {
            d["fork"] = link
            record.diagnostics = .object(d)
        }
        // Redaction before anything is written: the hash covers the redacted form.
        let agentLog = request.redactor.redact(session?.stderrText ?? "")
        request.redactor.redact(&record)
        let sealed: JSON
        let hashedBytes: [UInt8]
        do {
            (sealed, hashedBytes) = try record.sealedWithHashedBytes()
        } catch {
            throw .internal("cannot serialise the artifact canonically: \(error)")
        }
        var timing = request.collectTiming ? loop.timing : nil
        timing?.assemblyNanos = MonotonicClock.nanoseconds() - tAssemble
        return EpisodeResult(
            artifact: sealed, record: record, artifactHash: sealed["artifact_hash"]?.stringValue ?? "",
            timing: timing, agentLog: agentLog, hashedBytes: hashedBytes)
    }
}

/// Stands in for a world program that could not be set up: the episode ends before any action.
final class AbsentWorld: TaskWorld {
    var visibleState: JSON { ["files_seen": []] }
    func execute(_ action: CheckedAction) throws(WorldFailure) -> ActionOutcome { throw WorldFailure("the world is not running") }
    func evaluate() throws(WorldFailure) -> WorldVerdict { throw WorldFailure("the world is not running") }
}

/// Random 32-hex run ids (run ids are outside the hash; they only need to be unique).
public enum RunID {
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for _ in 0..<2 {
            var word = generator.next()
            for _ in 0..<16 {
                out.append(digits[Int(word & 0xF)])
                word >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What to tell a user whose agent died after the network said no, at the level where the
/// network is off by policy (spec/guard.md): outside the hash (diagnostics and the printed
/// report), since the log it reads is the agent's and the wording may change.
public enum NetworkNote {
    /// What agents' runtimes print when a connection is refused or the network is unreachable
    /// (Python's and Node's messages, errno names, resolver failures).
    static let signs = ["Connection refused", "ECONNREFUSED", "Network is unreachable", "ENETUNREACH", "EHOSTUNREACH",
                        "No route to host", "Temporary failure in name resolution", "Name or service not known", "EAI_AGAIN",
                        "getaddrinfo ENOTFOUND", "nodename nor servname"]

    public static func note(isolation: IsolationLevel, termination: TerminationReason, agentLog: String) -> String? {
        guard isolation == .namespace, [.agentExited, .agentCrashed].contains(termination),
              let sign = signs.first(where: { agentLog.contains($0) }) else { return nil }
        return "the network is off at the namespace isolation level by policy (spec/guard.md): the agent's log shows a refused or "
            + "unreachable connection ('\(sign)'); agents reach the world through actions, and the model gateway where the task offers one"
    }
}
