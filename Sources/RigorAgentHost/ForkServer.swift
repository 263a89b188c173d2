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
public final class ForkServer: @unchecked Sendable {
    let pid: pid_t
    private let control: Int32
    private let events: Int32
    private let requestLock = NSLock()
    private let exitCondition = NSCondition()
    private var exits: [pid_t: ExitStatus] = [:]
    private var alive = true
    private var greeted = false

    nonisolated(unsafe) private static var servers: [String: ForkServer] = [:]
    private static let serversLock = NSLock()
    /// How long a server may take to say hello before it is given up on.
    static let helloTimeoutSeconds = 10.0
    /// The argument that starts a native agent as its own fork server.
    public static let nativeFlag = "--rigor-fork-server"

    /// The Python SDK's server for `sdkDirectory`, started on first use.
    public static func shared(sdkDirectory: String, python: String) throws(AgentHostError) -> ForkServer {
        let script = "\(sdkDirectory)/fork_server.py"
        guard FileManager.default.fileExists(atPath: script) else { throw .sdkMissing(path: sdkDirectory) }
        return try shared(key: "python-sdk:\(sdkDirectory)", argv: [python, "-s", "-B", script], what: script)
    }

    /// The native agent `command` serving as its own fork server, started on first use.
    public static func shared(native command: AgentCommand) throws(AgentHostError) -> ForkServer {
        let argv = [command.executable] + command.arguments + [nativeFlag]
        return try shared(key: "native:" + argv.joined(separator: "\u{0}"), argv: argv, what: command.ref)
    }

    /// Servers that would not start, so that the episodes after the first fail at once.
    nonisolated(unsafe) private static var failures: [String: AgentHostError] = [:]

    private static func shared(key: String, argv: [String], what: String) throws(AgentHostError) -> ForkServer {
        serversLock.lock(); defer { serversLock.unlock() }
        if let s = servers[key], s.isAlive { return s }
        if let failure = failures[key] { throw failure }
        do {
            let s = try ForkServer(argv: argv, what: what)
            servers[key] = s
            return s
        } catch {
            failures[key] = error
            throw error
        }
    }

    init(argv: [String], what: String) throws(AgentHostError) {
        var controlPair: [Int32] = [-1, -1], eventPair: [Int32] = [-1, -1]
        var rc = rigor_socketpair(&controlPair)
        if rc == 0 { rc = rigor_socketpair(&eventPair) }
        guard rc == 0 else { throw .spawnFailed(path: what, errno: rc) }
        let env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", "LANG=C.UTF-8", "TZ=UTC",
                   "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1"]
        var child: pid_t = 0
        rc = withCStrings(argv) { cargv in
            withCStrings(env) { envp in rigor_spawn_server(argv[0], cargv, envp, controlPair[1], eventPair[1], &child) }
        }
        close(controlPair[1])
        close(eventPair[1])
        guard rc == 0 else {
            close(controlPair[0]); close(eventPair[0])
            throw .spawnFailed(path: what, errno: rc)
        }
        pid = child
        control = controlPair[0]
        events = eventPair[0]
        let reader = Thread { [unowned self] in self.readEvents() }
        reader.start()
        // A server announces itself; a program that does not speak the protocol never does.
        let deadline = Date(timeIntervalSinceNow: ForkServer.helloTimeoutSeconds)
        exitCondition.lock()
        while !greeted && alive {
            if !exitCondition.wait(until: deadline) { break }
        }
        let ok = greeted && alive
        exitCondition.unlock()
        if !ok {
            _ = rigor_kill_group(pid, SIGKILL)
            var status: Int32 = 0
            _ = rigor_wait(pid, &status, 0)
            close(control)  // the reader sees the events socket close once the server is gone
            throw .forkServerFailed(reason: "\(what) did not start as a fork server (no rigor-fork/1 hello within "
                + "\(Int(ForkServer.helloTimeoutSeconds)) s); run it without --fork-server, or see spec/agent-protocol.md")
        }
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
                return
            }
            if let event = try? JSON.parse(Array(buffer[0..<n])) {
                if event["hello"]?.stringValue == "rigor-fork/1" {
                    greeted = true
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
    func spawn(agentFile: String, cwd: String, environment: [String: String], uid: uid_t?, limits: ProcessLimits?,
               childFDs: [Int32]) throws(AgentHostError) -> pid_t {
        var request: [String: JSON] = [
            "agent": .string(agentFile), "cwd": .string(cwd), "env": .object(environment.mapValues(JSON.string)),
            "uid": uid.map { .int(Int($0)) } ?? .null,
        ]
        if let limits {
            request["limits"] = ["cpu": .int(limits.cpuSeconds), "as": .int(limits.addressSpaceBytes),
                                 "fsize": .int(limits.fileSizeBytes), "nofile": .int(limits.openFiles), "nproc": .int(limits.processes)]
        }
        let bytes = (try? JSON.object(request).canonicalBytes()) ?? []
        requestLock.lock(); defer { requestLock.unlock() }
        let rc = bytes.withUnsafeBytes { raw in childFDs.withUnsafeBufferPointer { rigor_send_fds(control, raw.baseAddress, raw.count, $0.baseAddress, 3) } }
        guard rc == 0 else { throw .spawnFailed(path: agentFile, errno: rc) }
        var reply = [UInt8](repeating: 0, count: 4096)
        var n: Int
        repeat { n = reply.withUnsafeMutableBytes { recv(control, $0.baseAddress, $0.count, 0) } } while n < 0 && errno == EINTR
        guard n > 0, let answer = try? JSON.parse(Array(reply[0..<n])), let child = answer["pid"]?.intValue else {
            throw .forkServerFailed(reason: n > 0 ? (String(decoding: reply[0..<n], as: UTF8.self)) : "the fork server is gone")
        }
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
