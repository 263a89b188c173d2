import CRigorSpawn
import Foundation
import RigorSpec

#if canImport(Glibc)
import Glibc
#endif

/// One Python fork server (Agents/sdk/fork_server.py) per SDK directory, shared by every
/// episode of this runner process that asks for it (`--fork-server`, process isolation).
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

    nonisolated(unsafe) private static var servers: [String: ForkServer] = [:]
    private static let serversLock = NSLock()

    /// The server for `sdkDirectory`, started on first use.
    public static func shared(sdkDirectory: String, python: String) throws(AgentHostError) -> ForkServer {
        serversLock.lock(); defer { serversLock.unlock() }
        if let s = servers[sdkDirectory], s.isAlive { return s }
        let s = try ForkServer(sdkDirectory: sdkDirectory, python: python)
        servers[sdkDirectory] = s
        return s
    }

    init(sdkDirectory: String, python: String) throws(AgentHostError) {
        let script = "\(sdkDirectory)/fork_server.py"
        guard FileManager.default.fileExists(atPath: script) else { throw .sdkMissing(path: sdkDirectory) }
        var controlPair: [Int32] = [-1, -1], eventPair: [Int32] = [-1, -1]
        var rc = rigor_socketpair(&controlPair)
        if rc == 0 { rc = rigor_socketpair(&eventPair) }
        guard rc == 0 else { throw .spawnFailed(path: script, errno: rc) }
        let env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", "LANG=C.UTF-8", "TZ=UTC",
                   "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1"]
        var child: pid_t = 0
        rc = withCStrings([python, "-s", "-B", script]) { argv in
            withCStrings(env) { envp in rigor_spawn_server(python, argv, envp, controlPair[1], eventPair[1], &child) }
        }
        close(controlPair[1])
        close(eventPair[1])
        guard rc == 0 else {
            close(controlPair[0]); close(eventPair[0])
            throw .spawnFailed(path: script, errno: rc)
        }
        pid = child
        control = controlPair[0]
        events = eventPair[0]
        let reader = Thread { [unowned self] in self.readEvents() }
        reader.start()
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
            if let event = try? JSON.parse(Array(buffer[0..<n])), let p = event["pid"]?.intValue {
                exits[pid_t(p)] = ExitStatus(code: event["code"]?.intValue, signal: event["signal"]?.intValue)
                exitCondition.broadcast()
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
