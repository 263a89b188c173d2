import CRigorSpawn
import Foundation
import RigorSpec

#if canImport(Glibc)
import Glibc
#endif

/// A fork server (protocol rigor-fork/1, spec/agent-protocol.md), shared by every episode of
/// this runner process that asks for it (`--fork-server`, process isolation): the Python SDK's
/// (Agents/sdk/fork_server.py) for Python agents, or the agent itself for native agents that
/// serve their own (`<agent> --rigor-fork-server`, e.g. with RigorAgentKit in Swift).
///
/// The server is the agents' parent: it forks them and reports how they end on a second
/// socket, which a reader thread turns into exit statuses the episodes wait for. The runner
/// still owns everything else: the pipes, the kill (process group and uid), the timeouts.
///
/// A thread pinned to CPUs of its own (a batch's worker, `CPUPlacement`) gets servers of its
/// own, started from it: the server, its reader thread and every child it forks then run on
/// that worker's CPU, so that asking for a child and learning how it ended are hand-overs on
/// one CPU instead of wake-ups of another (each one, in a virtual machine, a trip through the
/// hypervisor).
/// What a fork server's child becomes: an agent (the SDK's `run_agent` on a file) or a world
/// program (the task SDK's `run_world` with these arguments; a `--world-sdk` server only).
public enum ForkedProgram: Sendable, Equatable {
    case agent(file: String)
    case world(arguments: [String])

    /// What error messages name: the agent file, or the world's last argument (its file or folder).
    var path: String {
        switch self {
        case .agent(let file): return file
        case .world(let arguments): return arguments.last ?? "world program"
        }
    }
}

public final class ForkServer: @unchecked Sendable {
    let pid: pid_t
    /// For a native server started while the runner is root: the uid it runs as, which its
    /// children keep (it cannot hand out others without privileges an agent must not have).
    /// Nil for the Python SDK's server, whose children each take their episode's own uid.
    let childUID: uid_t?
    /// For the Python SDK's server at the namespace level: the agent files its jail shows.
    /// Each of its children makes namespaces of its own (spec/guard.md).
    let jailedAgentFiles: Set<String>?
    var isJailed: Bool { jailedAgentFiles != nil }
    /// The Python SDK's servers (not agent code) get each child's uid lock with its request and
    /// hold it until they have reaped the child, or, when the runner is gone, swept its uid: so
    /// no other runner can take that uid while anything of the child may still run.
    let holdsUIDLocks: Bool
    private let control: Int32
    private let events: Int32
    private let requestLock = NSLock()
    private let exitCondition = NSCondition()
    private var exits: [pid_t: ExitStatus] = [:]
    private var alive = true
    private var greeted = false
    /// What a server said it cannot do, in its hello (a jail whose namespaces fail).
    private var helloError: String?
    private var stopped = false
    /// Guarded by `requestLock`: `control` is closed once, by `stop`, never reused after.
    private var controlOpen = true

    nonisolated(unsafe) private static var servers: [String: ForkServer] = [:]
    /// One lock per key, held while that key's server starts: servers for different keys (one
    /// per pinned worker) start side by side, and each key still gets a single server.
    nonisolated(unsafe) private static var startLocks: [String: NSLock] = [:]
    nonisolated(unsafe) private static var stopsAtExit = false
    private static let serversLock = NSLock()

    /// The part of a server's key that says where it runs: the calling thread's CPUs when it is
    /// pinned (`CPUPlacement.childCPUs`), else nothing (one server for the whole process).
    private static func placementKey() -> String {
        guard let cpus = CPUPlacement.childCPUs() else { return "" }
        return "cpus=" + cpus.map(String.init).joined(separator: ",") + "\u{0}"
    }
    /// How long a server may take to say hello, or to answer a request, before it is given up on.
    static let helloTimeoutSeconds = 10.0
    static let replyTimeoutMilliseconds: Int32 = 10_000
    /// The argument that starts a native agent as its own fork server.
    public static let nativeFlag = "--rigor-fork-server"

    /// The Python SDK's server for `sdkDirectory`, started on first use. The server that starts
    /// compiles `agentFiles` before its first fork (the agents of a batch); a child of any other
    /// agent compiles its own.
    public static func shared(sdkDirectory: String, python: String, agentFiles: Set<String> = []) throws(AgentHostError) -> ForkServer {
        let script = "\(sdkDirectory)/fork_server.py"
        guard FileManager.default.fileExists(atPath: script) else { throw .sdkMissing(path: sdkDirectory) }
        if let (key, argv) = agentsAndWorlds(python: python, sdkDirectory: sdkDirectory, worldSDK: nil, agentFiles: agentFiles) {
            return try shared(key: key, argv: argv, what: script, native: nil)
        }
        // The interpreter is part of the key: an agent with a venv of its own gets a server of its own.
        return try shared(key: placementKey() + "python-sdk:\(python)\u{0}\(sdkDirectory)", argv: [python, "-s", "-B", script] + agentFiles.sorted(),
                          what: script, native: nil)
    }

    /// The Python SDK's server at the namespace level, in a jail that shows `agentFiles`: an
    /// alive one that already shows them, else a new one (a batch starts one for all its agents).
    public static func sharedJailed(sdkDirectory: String, python: String, agentFiles: Set<String>) throws(AgentHostError) -> ForkServer {
        let script = "\(sdkDirectory)/fork_server.py"
        guard FileManager.default.fileExists(atPath: script) else { throw .sdkMissing(path: sdkDirectory) }
        let prefix = placementKey() + "python-sdk-jail:\(sdkDirectory)\u{0}"
        serversLock.lock()
        let covering = servers.first { key, server in
            key.hasPrefix(prefix) && server.isAlive && agentFiles.isSubset(of: server.jailedAgentFiles ?? [])
        }?.value
        serversLock.unlock()
        if let covering { return covering }
        let files = agentFiles.sorted()
        guard let argv = Bubblewrap.forkServerJail(python: python, script: script, sdkDirectory: sdkDirectory, agentFiles: files) else {
            throw .isolationUnavailable(.namespace, reason: Bubblewrap.unavailableReason ?? "bwrap is not installed")
        }
        return try shared(key: prefix + files.joined(separator: "\u{0}"), argv: argv, what: script, native: nil, jailing: agentFiles)
    }

    /// The Python SDK's server forking world programs of the task SDK in `worldSDK`
    /// (`fork_server.py --world-sdk=DIR`, process level only), started on first use. The server
    /// that starts compiles `worldFiles` ahead (`--world-file`: the worlds' Python files of a
    /// batch); a world whose files it did not compile loads them itself.
    public static func sharedWorlds(sdkDirectory: String, worldSDK: String, python: String,
                                    worldFiles: Set<String> = []) throws(AgentHostError) -> ForkServer {
        let script = "\(sdkDirectory)/fork_server.py"
        guard FileManager.default.fileExists(atPath: script) else { throw .sdkMissing(path: sdkDirectory) }
        if let (key, argv) = agentsAndWorlds(python: python, sdkDirectory: sdkDirectory, worldSDK: worldSDK, worldFiles: worldFiles) {
            return try shared(key: key, argv: argv, what: script, native: nil)
        }
        return try shared(key: placementKey() + "python-worlds:\(python)\u{0}\(sdkDirectory)\u{0}\(worldSDK)",
                          argv: [python, "-s", "-B", script, "--world-sdk=\(worldSDK)"] + worldFiles.sorted().map { "--world-file=\($0)" },
                          what: script, native: nil)
    }

    /// What one server forks for a batch at the process level whose Python agents and Python
    /// worlds run on the same interpreter and SDK (`serveAgentsAndWorlds`).
    private struct AgentsAndWorlds {
        var worldSDK: String
        var worldFiles: Set<String>
        var agentFiles: Set<String>
    }
    /// Keyed by interpreter and agent SDK; guarded by `serversLock`.
    nonisolated(unsafe) private static var agentsAndWorlds: [String: AgentsAndWorlds] = [:]

    /// From now on, the process-level server of `python` and the agent SDK in `sdkDirectory`
    /// forks the worlds of the task SDK in `worldSDK` as well as agents (one server per CPU
    /// instead of two: a Python interpreter and its imports, ~30 ms of CPU, started once less
    /// per CPU, before the batch's first episode). A batch whose agents and worlds are both
    /// Python calls this before it starts its servers; the server that starts compiles
    /// `agentFiles` and `worldFiles` ahead. Agents and worlds stay apart as before: each child
    /// is forked from the pristine server (which never runs agent or task code), as its own uid.
    public static func serveAgentsAndWorlds(python: String, sdkDirectory: String, worldSDK: String,
                                            worldFiles: Set<String>, agentFiles: Set<String>) {
        serversLock.lock(); defer { serversLock.unlock() }
        let key = "\(python)\u{0}\(sdkDirectory)"
        var entry = agentsAndWorlds[key] ?? AgentsAndWorlds(worldSDK: worldSDK, worldFiles: [], agentFiles: [])
        guard entry.worldSDK == worldSDK else { return }  // one world SDK per server; another keeps a server of its own
        entry.worldFiles.formUnion(worldFiles)
        entry.agentFiles.formUnion(agentFiles)
        agentsAndWorlds[key] = entry
    }

    /// The key and command line of the server that forks both agents and worlds for `python` and
    /// `sdkDirectory` (and `worldSDK`, when asked for a world), or nil when there is none.
    private static func agentsAndWorlds(python: String, sdkDirectory: String, worldSDK: String?,
                                        agentFiles: Set<String> = [], worldFiles: Set<String> = []) -> (key: String, argv: [String])? {
        serversLock.lock()
        let entry = agentsAndWorlds["\(python)\u{0}\(sdkDirectory)"]
        serversLock.unlock()
        guard let entry, worldSDK == nil || worldSDK == entry.worldSDK else { return nil }
        let script = "\(sdkDirectory)/fork_server.py"
        let argv = [python, "-s", "-B", script, "--world-sdk=\(entry.worldSDK)"]
            + entry.worldFiles.union(worldFiles).sorted().map { "--world-file=\($0)" } + entry.agentFiles.union(agentFiles).sorted()
        return (placementKey() + "python-agents+worlds:\(python)\u{0}\(sdkDirectory)\u{0}\(entry.worldSDK)", argv)
    }

    /// The native agent `command` serving as its own fork server, started on first use.
    ///
    /// The server *is* agent code, running before any episode: it never runs as root. When the
    /// runner is root it gets a uid of its own (held until the server stops) and the process
    /// limits but the CPU one (it lives as long as the runner), and its children keep that uid.
    public static func shared(native command: AgentCommand, limits: ProcessLimits) throws(AgentHostError) -> ForkServer {
        let argv = [command.executable] + command.arguments + [nativeFlag]
        // The file's identity is part of the key: a rebuilt agent gets a server of its own.
        return try shared(key: placementKey() + "native:\(command.fileIdentity):" + argv.joined(separator: "\u{0}"), argv: argv, what: command.ref,
                          native: limits)
    }

    /// Servers that would not start, so that the episodes after the first fail at once.
    nonisolated(unsafe) private static var failures: [String: AgentHostError] = [:]

    private static func shared(key: String, argv: [String], what: String, native: ProcessLimits?,
                               jailing: Set<String>? = nil) throws(AgentHostError) -> ForkServer {
        serversLock.lock()
        if let s = servers[key], s.isAlive {
            serversLock.unlock()
            return s
        }
        let startLock = startLocks[key] ?? NSLock()
        startLocks[key] = startLock
        serversLock.unlock()
        // Only this key's starts wait here (another thread may have started it meanwhile).
        startLock.lock(); defer { startLock.unlock() }
        serversLock.lock()
        let existing = servers[key]
        let failure = failures[key]
        if existing?.isAlive == false { servers[key] = nil }
        serversLock.unlock()
        if let existing {
            if existing.isAlive { return existing }
            existing.stop()  // it died: free what it held before starting another
        }
        if let failure { throw failure }
        do {
            let s = try ForkServer(argv: argv, what: what, native: native, jailing: jailing)
            serversLock.lock()
            if !stopsAtExit {
                stopsAtExit = true
                atexit { ForkServer.stopAll() }
            }
            servers[key] = s
            serversLock.unlock()
            return s
        } catch {
            serversLock.lock()
            failures[key] = error
            serversLock.unlock()
            throw error
        }
    }

    init(argv: [String], what: String, native: ProcessLimits?, jailing: Set<String>? = nil) throws(AgentHostError) {
        jailedAgentFiles = jailing
        holdsUIDLocks = native == nil
        var limits: rigor_limits? = nil
        var uid: uid_t? = nil
        if let native {
            var l = rigor_limits()
            l.address_space_bytes = Int64(native.addressSpaceBytes)
            l.file_size_bytes = Int64(native.fileSizeBytes)
            l.open_files = Int64(native.openFiles)
            l.processes = Int64(native.processes)
            if geteuid() == 0 {
                guard let u = LiveAgents.allocateUID() else {
                    throw .forkServerFailed(reason: "no free uid to run \(what)'s fork server as")
                }
                uid = u
                l.run_as_uid = Int64(u)
            }
            limits = l
        }
        childUID = uid
        var controlPair: [Int32] = [-1, -1], eventPair: [Int32] = [-1, -1]
        var rc = rigor_socketpair(&controlPair)
        if rc == 0 { rc = rigor_socketpair(&eventPair) }
        guard rc == 0 else {
            for fd in controlPair + eventPair where fd >= 0 { close(fd) }
            if let uid { LiveAgents.releaseUID(uid) }
            throw .spawnFailed(path: what, errno: rc)
        }
        let env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", "LANG=C.UTF-8", "TZ=UTC",
                   "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1"]
        var child: pid_t = 0
        rc = withCStrings(argv) { cargv in
            withCStrings(env) { envp in
                if var l = limits {
                    return rigor_spawn_server(argv[0], cargv, envp, controlPair[1], eventPair[1], &l, &child)
                }
                return rigor_spawn_server(argv[0], cargv, envp, controlPair[1], eventPair[1], nil, &child)
            }
        }
        close(controlPair[1])
        close(eventPair[1])
        guard rc == 0 else {
            close(controlPair[0]); close(eventPair[0])
            if let uid { LiveAgents.releaseUID(uid) }
            throw .spawnFailed(path: what, errno: rc)
        }
        pid = child
        control = controlPair[0]
        events = eventPair[0]
        let reader = Thread { [self] in self.readEvents() }
        reader.start()
        // A server announces itself; a program that does not speak the protocol never does.
        let deadline = Date(timeIntervalSinceNow: ForkServer.helloTimeoutSeconds)
        exitCondition.lock()
        while !greeted && alive {
            if !exitCondition.wait(until: deadline) { break }
        }
        let ok = greeted && alive
        let refusal = helloError
        exitCondition.unlock()
        if ok, let refusal {
            stop()
            throw .forkServerFailed(reason: "\(what) cannot serve here: \(refusal) (a jailed server could not make an "
                + "episode's namespaces); run with --no-fork-server, or at --isolation process")
        }
        if !ok {
            stop()
            throw .forkServerFailed(reason: "\(what) did not start as a fork server (no rigor-fork/1 hello within "
                + "\(Int(ForkServer.helloTimeoutSeconds)) s); run it without --fork-server, or see spec/agent-protocol.md")
        }
    }

    /// Whether children of a jailed server can make namespaces: the server must keep root's
    /// capabilities, so the runner must be root and bwrap must work.
    static var canJail: Bool { geteuid() == 0 && Bubblewrap.unavailableReason == nil }

    /// Stops every server this process started (at exit, and on interrupts). The Python SDK's
    /// servers are killed, not waited for: the process is leaving, and whoever inherits a
    /// killed server reaps it (waiting for its teardown cost every batch ~1.4 ms). A native
    /// server is reaped first, so that the sweep of its uid finds nothing of it left.
    public static func stopAll() {
        serversLock.lock()
        let all = Array(servers.values)
        servers.removeAll()
        serversLock.unlock()
        for s in all { s.stop(reap: s.childUID != nil) }
    }

    /// Ends the server: its control socket closes (a server exits at end of file), its process
    /// group is killed and reaped, and, for a native server with a uid of its own, every process
    /// of that uid — whatever its children left behind — is killed before the uid is given back.
    func stop(reap: Bool = true) {
        exitCondition.lock()
        if stopped {
            exitCondition.unlock()
            return
        }
        stopped = true
        exitCondition.unlock()
        requestLock.lock()
        if controlOpen {
            close(control)
            controlOpen = false
        }
        requestLock.unlock()
        _ = rigor_kill_group(pid, SIGKILL)
        if reap {
            var status: Int32 = 0
            _ = rigor_wait(pid, &status, 0)
        }
        if let uid = childUID {
            _ = rigor_kill_uid(uid, 50)
            LiveAgents.releaseUID(uid)
        }
        LiveAgents.reapOrphans()
    }

    var isAlive: Bool {
        exitCondition.lock(); defer { exitCondition.unlock() }
        return alive
    }

    private func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(events, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            exitCondition.lock()
            if n <= 0 {
                alive = false
                exitCondition.broadcast()
                exitCondition.unlock()
                close(events)  // the reader's own socket; `stop` closes the other
                return
            }
            if let event = try? JSON.parse(Array(buffer[0..<n])) {
                if event["hello"]?.stringValue == "rigor-fork/1" {
                    greeted = true
                    helloError = event["error"]?.stringValue
                    exitCondition.broadcast()
                } else if let p = event["pid"]?.intValue {
                    exits[pid_t(p)] = ExitStatus(code: event["code"]?.intValue, signal: event["signal"]?.intValue)
                    exitCondition.broadcast()
                }
            }
            exitCondition.unlock()
        }
    }

    /// Forks an agent child wired to the given pipe ends; returns its pid.
    func spawn(_ program: ForkedProgram, cwd: String, environment: [String: String], uid: uid_t?, limits: ProcessLimits?,
               childFDs: [Int32]) throws(AgentHostError) -> pid_t {
        var request: [String: JSON] = [
            "cwd": .string(cwd), "env": .object(environment.mapValues(JSON.string)), "uid": uid.map { .int(Int($0)) } ?? .null,
        ]
        let agentFile = program.path
        switch program {
        case .agent(let file): request["agent"] = .string(file)
        case .world(let arguments): request["world"] = .array(arguments.map(JSON.string))
        }
        if let visible = jailedAgentFiles {
            // The jail shows every agent of the batch; the child hides all but its own.
            request["jail"] = ["home": .string(cwd), "hide": .array(visible.subtracting([agentFile]).sorted().map(JSON.string))]
        }
        if let cpus = CPUPlacement.childCPUs() {
            // A pinned worker's agent runs on its CPU, as an exec'd one would (CPUPlacement).
            request["cpus"] = .array(cpus.map { .int($0) })
        }
        if let limits {
            request["limits"] = ["cpu": .int(limits.cpuSeconds), "as": .int(limits.addressSpaceBytes),
                                 "fsize": .int(limits.fileSizeBytes), "nofile": .int(limits.openFiles), "nproc": .int(limits.processes)]
        }
        let bytes = (try? JSON.object(request).canonicalBytes()) ?? []
        // The exchange, under the request lock; nil when the server did not answer in time.
        var fds = childFDs
        if holdsUIDLocks, let uid, let lockFD = LiveAgents.lockDescriptor(for: uid) { fds.append(lockFD) }
        let exchanged = { () -> (sent: Int32, reply: [UInt8])? in
            self.requestLock.lock(); defer { self.requestLock.unlock() }
            guard self.controlOpen else { return (0, []) }
            let rc = bytes.withUnsafeBytes { raw in
                fds.withUnsafeBufferPointer { rigor_send_fds(self.control, raw.baseAddress, raw.count, $0.baseAddress, Int32($0.count)) }
            }
            guard rc == 0 else { return (rc, []) }
            var ready = [pollfd(fd: self.control, events: Int16(POLLIN), revents: 0)]
            var polled: Int32
            repeat { polled = poll(&ready, 1, ForkServer.replyTimeoutMilliseconds) } while polled < 0 && errno == EINTR
            guard polled > 0 else { return nil }
            var reply = [UInt8](repeating: 0, count: 4096)
            var n: Int
            repeat { n = reply.withUnsafeMutableBytes { recv(self.control, $0.baseAddress, $0.count, 0) } } while n < 0 && errno == EINTR
            return (0, Array(reply[0..<max(0, n)]))
        }()
        guard let exchanged else {
            // A server that never answers must not hang the batch: it is given up on.
            stop()
            throw .forkServerFailed(reason: "the fork server did not answer within \(ForkServer.replyTimeoutMilliseconds / 1000) s")
        }
        guard exchanged.sent == 0 else { throw .spawnFailed(path: agentFile, errno: exchanged.sent) }
        let reply = exchanged.reply
        guard !reply.isEmpty, let answer = try? JSON.parse(reply), let child = answer["pid"]?.intValue, child > 1 else {
            throw .forkServerFailed(reason: !reply.isEmpty ? String(decoding: reply, as: UTF8.self) : "the fork server is gone")
        }
        // An exit recorded for an earlier process with this pid (pids are reused) is not this one's.
        exitCondition.lock()
        exits.removeValue(forKey: pid_t(child))
        exitCondition.unlock()
        return pid_t(child)
    }

    /// How `pid` ended, waiting up to `timeoutNanos` (0: just look).
    func exitStatus(of pid: pid_t, timeoutNanos: UInt64) -> ExitStatus? {
        let deadline = Date(timeIntervalSinceNow: Double(timeoutNanos) / 1e9)
        exitCondition.lock(); defer { exitCondition.unlock() }
        while exits[pid] == nil && alive {
            if timeoutNanos == 0 || !exitCondition.wait(until: deadline) { break }
        }
        return exits.removeValue(forKey: pid)
    }
}
