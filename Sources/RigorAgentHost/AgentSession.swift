import CRigorSpawn
import Foundation
import RigorSpec

/// What the agent answered to one observation.
public enum AgentReply: Sendable {
    /// `evidence`: the checks the agent attached to the action (spec/agent-protocol.md §3).
    case action(type: String, args: [String: JSON], intent: String?, raw: JSON, evidence: [EvidenceCheck] = [])
    /// The exchange failed; the episode ends with this reason.
    case failure(TerminationReason, String)
}

/// The agent protocol (spec/agent-protocol.md) spoken with one agent process.
///
/// It turns protocol messages into lines and lines back into actions, and maps every way an
/// agent can misbehave (garbage, wrong shape, silence, early exit, signals) to a termination
/// reason with a message that names the problem.
public final class AgentSession {
    public let command: AgentCommand
    public let settings: GuardSettings
    let process: AgentProcess
    public private(set) var exitStatus: ExitStatus?

    /// The pinned environment: nothing of the caller's variables.
    public static func environment(home: String, seed: Int) -> [String: String] {
        [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": home,
            "LC_ALL": "C.UTF-8",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "RIGOR_SEED": String(seed),
            "RIGOR_PROTOCOL": RigorIdentity.protocolVersion,
        ]
    }

    /// The agent's whole environment: the pinned one, what the runner adds for its kind, and
    /// what it declared (`env`, `secrets`).
    static func environment(home: String, seed: Int, command: AgentCommand) -> [String: String] {
        var env = environment(home: home, seed: seed)
        env.merge(command.runnerEnvironment) { pinned, _ in pinned }
        env.merge(command.declaredEnvironment.values) { pinned, _ in pinned }
        return env
    }

    /// bwrap was started as root and dropped to the agent's uid itself (`Bubblewrap.wrap(dropTo:)`).
    public private(set) var sandboxDropsUID = false
    /// The agent ran copies of its files, made in its private directory, because its uid could
    /// not reach the originals (`AgentFilesCopy`; process level, runner root).
    public private(set) var filesCopied = false

    /// `endpoints`: services the agent reaches over HTTP (the TRACE endpoint), each named in its
    /// environment variable; at the namespace level they are opened inside the agent's sandbox
    /// before its first instruction, and such an agent is exec'd, not forked from a jailed server.
    public init(command original: AgentCommand, seed: Int, settings: GuardSettings,
                endpoints: [AgentEndpointService] = []) throws(AgentHostError) {
        var command = original
        if settings.isolation == .namespace, let reason = Bubblewrap.unavailableReason {
            throw .isolationUnavailable(.namespace, reason: reason)
        }
        // A uid of its own sees the host as any other user does: files under a directory closed
        // to others (a project in `mktemp -d`) are out of its reach. bwrap started as root shows
        // them; at the process level the agent runs copies made in its private directory.
        var sandboxDropsUID = false
        // At the process level: the paths to copy into the private directory (`AgentFilesCopy`).
        var toCopy: [String] = []
        if settings.isolation == .process && geteuid() == 0 && command.kind == .executable {
            // The kernel opens a script's `#!` interpreter as the agent's uid, by the path the
            // script names: a copy cannot help, so one out of its reach is said as such.
            for path in Shebang.interpreterChain(of: command.agentFile) {
                if let blocker = Bubblewrap.closedToOthers(path) { throw .unreachableForAgent(path: path, blocker: blocker, level: settings.isolation) }
            }
        }
        if settings.isolation >= .process && geteuid() == 0 {
            let needed = command.visiblePaths + [command.executable] + (command.workingDirectory.map { [$0] } ?? [])
            if let (path, blocker) = needed.lazy.compactMap({ p in Bubblewrap.closedToOthers(p).map { (p, $0) } }).first {
                if settings.isolation != .namespace {
                    // Nothing can show the originals to the agent's uid at this level: it runs
                    // copies, made by root in its private directory.
                    toCopy = needed.filter { Bubblewrap.closedToOthers($0) != nil }
                    if toCopy.isEmpty { throw .unreachableForAgent(path: path, blocker: blocker, level: settings.isolation) }
                } else {
                    guard FileManager.default.isExecutableFile(atPath: Bubblewrap.setpriv) else {
                        throw .sandboxSetupFailed(reason: "'\(path)' lies under '\(blocker)', closed to other users, and showing it to the agent's "
                            + "uid needs \(Bubblewrap.setpriv) (Debian package util-linux); install it, or `chmod o+x \(blocker)`")
                    }
                    sandboxDropsUID = true
                }
            }
        }
        let workdir = try ScratchDirectory.make()
        let server: ForkServer?
        do {
            if !toCopy.isEmpty {
                // Copies are exec'd (a fork server would run the originals).
                command = command.relocated(try AgentFilesCopy.copy(toCopy, into: workdir))
                self.filesCopied = true
            }
            // Endpoints inside a sandbox are opened while bwrap holds the agent back, which a
            // jailed fork server's child does not offer: such an agent is exec'd.
            let endpointsInSandbox = !endpoints.isEmpty && settings.isolation == .namespace
            server = toCopy.isEmpty && !endpointsInSandbox ? try AgentSession.forkServer(for: command, settings: settings) : nil
        } catch {
            ScratchDirectory.remove(workdir)
            throw error
        }
        // A native fork server's children keep its uid (spec/guard.md); every other agent gets
        // a uid of its own.
        let sharedUID = server?.childUID
        let uid = settings.isolation >= .process ? (sharedUID ?? LiveAgents.allocateUID()) : nil
        if uid == nil && settings.isolation >= .process && geteuid() == 0 {
            // Never the runner's own root: no uid, no agent.
            ScratchDirectory.remove(workdir)
            throw .noUIDAvailable(reason: LiveAgents.uidLockProblem)
        }
        if let uid { ScratchDirectory.handOver(workdir, to: uid) }
        // Under bwrap the private directory is always seen at the same path, so an agent that
        // writes its HOME into an action still produces the same artifact. A jailed fork
        // server's child mounts a fresh one there itself.
        var launch = command
        var execHome = workdir
        var execCwd = command.workingDirectory
        var sandboxed = false
        if settings.isolation == .namespace,
           let (bwrap, args) = Bubblewrap.wrap(command, workdir: workdir, home: Bubblewrap.agentHome,
                                                 dropTo: sandboxDropsUID ? uid : nil, reportsAndWaits: !endpoints.isEmpty) {
            execHome = Bubblewrap.agentHome
            execCwd = nil  // bwrap enters it inside the sandbox
            sandboxed = true
            launch = command.launched(by: bwrap, arguments: args)
        }
        let dropsUID = sandboxDropsUID && settings.isolation == .namespace
        self.sandboxDropsUID = dropsUID
        self.command = command
        self.settings = settings
        // The whole episode's memory and processes, where the machine gives a cgroup.
        var cgroup: EpisodeCgroup? = nil
        if settings.isolation >= .process {
            switch EpisodeCgroup.make(memoryBytes: settings.limits.addressSpaceBytes, processes: settings.limits.processes) {
            case .success(let group): cgroup = group
            case .failure(let unavailable): cgroupUnavailable = unavailable.reason
            }
        } else {
            cgroupUnavailable = "isolation level none"
        }
        self.cgroup = cgroup
        var opened = OpenedEndpoints()
        do throws(AgentHostError) {
            let endpointEnvironment = try opened.prepare(endpoints, inSandbox: sandboxed && server == nil)
            var forked: AgentProcess? = nil
            if let server {
                let home = server.isJailed ? Bubblewrap.agentHome : workdir
                do throws(AgentHostError) {
                    forked = try AgentProcess(forkServer: server, program: .agent(file: command.agentFile),
                                              environment: AgentSession.environment(home: home, seed: seed, command: command)
                                                .merging(endpointEnvironment) { _, endpoint in endpoint },
                                              workdir: workdir, cwd: home, settings: settings, uid: uid, uidIsShared: sharedUID != nil,
                                              cgroup: cgroup)
                } catch {
                    // A server the user did not ask for that fails to fork: exec'd instead.
                    guard settings.forkServer == .python, sharedUID == nil else { throw error }
                }
            }
            if let forked {
                process = forked
                launchedBy = "fork_server"
            } else {
                let started = try AgentProcess(command: launch, environment: AgentSession.environment(home: execHome, seed: seed, command: command)
                                                .merging(endpointEnvironment) { _, endpoint in endpoint },
                                               workdir: workdir, cwd: execCwd, settings: settings, uid: uid, cgroup: cgroup,
                                               sandboxDropsUID: dropsUID, passFDs: opened.sandboxFDs)
                do throws(AgentHostError) {
                    try opened.openInSandbox(of: started, endpoints: endpoints)
                } catch {
                    _ = started.terminate(graceSeconds: 0)
                    throw error
                }
                process = started
            }
            endpointServers = opened.servers
        } catch {
            opened.close()
            cgroup?.remove()
            if let uid, sharedUID == nil { LiveAgents.releaseUID(uid) }
            ScratchDirectory.remove(workdir)
            throw error
        }
    }

    /// The episode's cgroup, when the machine gave one (see `EpisodeCgroup`).
    let cgroup: EpisodeCgroup?
    /// Why there is none.
    private var cgroupUnavailable: String?

    /// What bounded the episode as a whole, for the artifact's diagnostics (outside the hash):
    /// the cgroup and its memory bound, or why there was none (then the limits were per process).
    public var cgroupDiagnostics: JSON {
        guard let cgroup else {
            if settings.isolation == .none {
                return ["used": false, "reason": .string(cgroupUnavailable ?? "none"),
                        "covers": "nothing: at isolation level none no limit applies, per process or for the episode"]
            }
            return ["used": false, "reason": .string(cgroupUnavailable ?? "none"),
                    "covers": "each process separately (rlimits); no bound on the episode's processes together"]
        }
        var d = cgroup.diagnostics.objectValue ?? [:]
        d["covers"] = process.server == nil ? "every process of the episode, from before the agent's first instruction"
            : "every process the fork server's child starts after it was moved in (at once, before its first message)"
        if process.cgroupMoveFailed { d["used"] = false; d["reason"] = "the fork server's child could not be moved into the cgroup" }
        return .object(d)
    }

    /// Starts, in the background, the fork servers that episodes of `commands` under `settings`
    /// will use (if they use any), so that their start-up overlaps the caller's other
    /// preparations instead of delaying the first episodes. At the namespace level one jailed
    /// server shows every Python agent of the batch. Errors surface when an episode asks.
    /// `cpus`: the CPUs the batch's workers are pinned to, one each; every one of them gets
    /// servers of its own, started from a thread pinned there (see `ForkServer`).
    public static func prestartForkServers(commands: [AgentCommand], settings: GuardSettings, cpus: [Int]? = nil) {
        guard settings.forkServer != .never else { return }
        var starts: [@Sendable () -> Void] = []
        var sdkDone = false
        let jailed = settings.isolation == .namespace
        let pythonFiles = Set(commands.filter { $0.kind == .pythonSDK && (!jailed || $0.fitsJailedForkServer) }.map(\.agentFile))
        for command in commands where command.offersForkServer && (!jailed || command.kind != .pythonSDK || command.fitsJailedForkServer) {
            if command.kind == .pythonSDK {
                if sdkDone { continue }
                sdkDone = true
                starts.append { _ = try? AgentSession.forkServer(for: command, settings: settings, pythonAgents: pythonFiles) }
            } else {
                starts.append { _ = try? AgentSession.forkServer(for: command, settings: settings) }
            }
        }
        for cpu in cpus ?? [-1] {
            for start in starts {
                Thread {
                    if cpu >= 0 { CPUPlacement.pinCurrentThread(to: [cpu]) }
                    start()
                }.start()
            }
        }
    }

    /// The fork server episodes of `command` start from under `settings`, or nil when they are
    /// exec'd: never asked for, an agent that has none, a native agent unless `--fork-server`
    /// asked at the process level (at the namespace level each gets a sandbox of its own), or a
    /// server that cannot start when the user did not ask for one (`ForkServerUse.python`).
    /// `pythonAgents`: the batch's Python agent files, which a server that starts shows (namespace
    /// level) or compiles ahead (process level).
    static func forkServer(for command: AgentCommand, settings: GuardSettings,
                           pythonAgents: Set<String> = []) throws(AgentHostError) -> ForkServer? {
        guard settings.forkServer != .never && command.offersForkServer else { return nil }
        do throws(AgentHostError) {
            switch (settings.isolation, command.kind) {
            case (.process, .pythonSDK):
                guard let sdk = command.sdkDirectory else { return nil }
                return try ForkServer.shared(sdkDirectory: sdk, python: command.executable,
                                             agentFiles: pythonAgents.union([command.agentFile]))
            case (.process, .executable):
                guard settings.forkServer == .always else { return nil }
                return try ForkServer.shared(native: command, limits: settings.limits)
            case (.namespace, .pythonSDK):
                // The jail shows single agent files and hides the others one by one: a directory
                // agent, declared files or a declared interpreter get a bwrap of their own.
                guard command.fitsJailedForkServer, let sdk = command.sdkDirectory else { return nil }
                guard ForkServer.canJail else {
                    throw AgentHostError.forkServerFailed(reason: "at the namespace level the fork server makes each child's "
                        + "namespaces, which needs the runner to be root; run as root, at --isolation process, or with --no-fork-server")
                }
                return try ForkServer.sharedJailed(sdkDirectory: sdk, python: command.executable,
                                                   agentFiles: pythonAgents.union([command.agentFile]))
            default:
                return nil
            }
        } catch {
            // Asked for by default, not by the user: the agent is exec'd instead.
            if settings.forkServer == .always { throw error }
            return nil
        }
    }

    deinit { finish() }

    public var environment: [String: String] { process.environment }
    /// The environment as it may be recorded: without the values the agent declared (`env`,
    /// `secrets`), which are never written anywhere (their names are, in `declaredNames`).
    public var recordedEnvironment: [String: String] {
        process.environment.filter { command.declaredEnvironment.values[$0.key] == nil }
    }
    public var declaredNames: [String] { command.declaredEnvironment.names }

    /// When the agent never wrote a byte and its log starts with the sandbox tool's own
    /// complaint (`bwrap: Can't find source path …`, `setpriv: …`), the sandbox failed before
    /// the agent ran: that first line, for an error that does not blame the agent.
    public var sandboxSetupFailure: String? {
        guard settings.isolation == .namespace, launchedBy == "exec", process.stdoutBytes == 0 else { return nil }
        let text = process.stderrText
        guard text.hasPrefix("bwrap: ") || (sandboxDropsUID && text.hasPrefix("setpriv: ")) else { return nil }
        return String(text.split(separator: "\n", maxSplits: 1).first ?? "")
    }
    /// How the agent process was started: "exec" or "fork_server".
    public private(set) var launchedBy = "exec"
    /// The uid the agent ran as (nil: the runner's own, when not root).
    public var agentUID: Int? { process.uid.map { Int($0) } }
    public var stderrText: String { process.stderrText }
    public var stderrBytesDropped: Int { process.totalStderrDropped }

    func send(_ message: JSON, deadlineNanos: UInt64) -> Bool {
        guard let bytes = try? message.canonicalBytes(style: .jcs) else { return false }
        return process.send(bytes, deadlineNanos: deadlineNanos)
    }

    /// Sends `reset`. A failure here shows up at the first observation.
    public func reset(task: JSON, seed: Int, deadlineNanos: UInt64) {
        _ = send(["type": "reset", "protocol": .string(RigorIdentity.protocolVersion), "seed": .int(seed), "task": task],
                 deadlineNanos: deadlineNanos)
    }

    /// Sends one observation. False when the agent is gone or the deadline passed; the reason
    /// comes from `awaitAction`, which then reports it.
    public func observe(_ observation: JSON, deadlineNanos: UInt64) -> Bool {
        sendFailed = !send(["type": "observe", "observation": observation], deadlineNanos: deadlineNanos)
        return !sendFailed
    }

    private var sendFailed = false

    /// Waits for the action answering the last observation, until `deadlineNanos`.
    /// `deadlineIsWallClock` says which budget the deadline stands for.
    public func awaitAction(step: Int, deadlineNanos: UInt64, deadlineIsWallClock: Bool) -> AgentReply {
        let reply = receiveAction(step: step, deadlineNanos: deadlineNanos, deadlineIsWallClock: deadlineIsWallClock)
        if case .failure(let reason, _) = reply, [.actTimeout, .wallClockExhausted, .protocolError, .actionTooDeep, .actionVolumeExceeded].contains(reason) {
            // It is not listening: `end` gets no grace period.
            responsive = false
        }
        return reply
    }

    /// False once the agent stopped answering or spoke garbage.
    private var responsive = true
    /// Bytes of action lines read so far in the episode (`GuardSettings.maxActionBytesPerEpisode`).
    private var actionBytes = 0

    private func receiveAction(step: Int, deadlineNanos: UInt64, deadlineIsWallClock: Bool) -> AgentReply {
        if sendFailed {
            return deadlinePassed(deadlineNanos) ? timeout(step: step, wallClock: deadlineIsWallClock) : gone(step: step)
        }
        switch process.receiveLine(deadlineNanos: deadlineNanos) {
        case .line(let bytes):
            actionBytes += bytes.count
            if actionBytes > settings.maxActionBytesPerEpisode {
                return .failure(.actionVolumeExceeded, "the agent's action lines add up to more than "
                    + "\(settings.maxActionBytesPerEpisode) bytes by step \(step); an episode's actions are limited to that "
                    + "so that its artifact stays readable")
            }
            return AgentLine.decode(bytes, step: step)
        case .timedOut:
            return timeout(step: step, wallClock: deadlineIsWallClock)
        case .closed:
            return gone(step: step)
        case .tooLong(let n):
            return .failure(.protocolError, "agent wrote \(n) bytes without a newline at step \(step); lines are limited to \(settings.maxLineBytes) bytes")
        }
    }

    func deadlinePassed(_ deadline: UInt64) -> Bool { MonotonicClock.nanoseconds() >= deadline }

    func timeout(step: Int, wallClock: Bool) -> AgentReply {
        if wallClock {
            return .failure(.wallClockExhausted, "the task's wall-clock budget ran out while waiting for the action of step \(step)")
        }
        return .failure(.actTimeout, "agent did not answer the observation of step \(step) within \(settings.actTimeoutSeconds) s")
    }

    /// The agent closed stdout or its stdin: it is gone or going. Reap it and say how it ended.
    func gone(step: Int) -> AgentReply {
        let status = reported(process.terminate(graceSeconds: 0.5))
        exitStatus = status
        if let signal = status.signal {
            return .failure(.agentCrashed, "agent was \(ExitStatus(code: nil, signal: signal).summary) before step \(step) completed")
        }
        return .failure(.agentExited, "agent exited with code \(status.code ?? -1) before the episode ended (at step \(step))")
    }

    /// Under the namespace level the direct child is bwrap, which exits with 128 + N when the
    /// agent dies of signal N; report that as the signal.
    func reported(_ status: ExitStatus) -> ExitStatus {
        if settings.isolation == .namespace, let code = status.code, code > 128, code < 128 + 65 {
            return ExitStatus(code: nil, signal: code - 128)
        }
        return status
    }

    /// Sends `end`, lets the agent exit, kills whatever is left of its process group, and
    /// removes its private directory.
    @discardableResult
    public func end(outcome: JSON) -> ExitStatus {
        if exitStatus == nil {
            let graceSeconds = responsive ? settings.endGraceSeconds : 0
            if responsive {
                let grace = MonotonicClock.nanos(seconds: graceSeconds)
                _ = send(["type": "end", "outcome": outcome], deadlineNanos: MonotonicClock.nanoseconds().addingClamped(grace / 4))
            }
            exitStatus = reported(process.terminate(graceSeconds: graceSeconds))
        }
        finish()
        return exitStatus ?? ExitStatus(code: nil, signal: nil)
    }

    private var finished = false
    /// The servers of the episode's agent endpoints, stopped when it ends.
    private var endpointServers: [AgentEndpointServer] = []

    func finish() {
        guard !finished else { return }
        finished = true
        if exitStatus == nil { exitStatus = process.terminate(graceSeconds: 0) }
        // After the agent: nothing reaches an endpoint once its recording is read.
        for server in endpointServers { server.stop() }
        endpointServers = []
        cgroupFinal = cgroupDiagnostics
        cgroup?.remove()
        workdirRemovalProblem = ScratchDirectory.remove(process.workdir)
    }

    /// Why the agent's private directory could not be removed, when it could not (said on
    /// stderr too, and recorded in the artifact's diagnostics).
    public private(set) var workdirRemovalProblem: String?
    /// `cgroupDiagnostics` as they were before the group was removed (its OOM kills).
    public private(set) var cgroupFinal: JSON?
}
