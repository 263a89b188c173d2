import CRigorSpawn
import Foundation
import RigorSpec

/// The agent endpoints of one session while it starts (`AgentSession.init`).
///
/// Where the agent shares the runner's network, each gets a listener on 127.0.0.1 at a free
/// port before the agent starts. In a sandbox (bwrap, its own network namespace) the agent is
/// told the service's fixed port; bwrap reports its child's pid on a pipe (fd 3) and waits on
/// another (fd 4); the runner opens the listeners inside that child's namespace, starts serving,
/// and only then lets the agent run, so its first connection already finds the endpoint.
struct OpenedEndpoints {
    var servers: [AgentEndpointServer] = []
    /// bwrap's ends, passed at 3 and 4: the write end of the report pipe, the read end of the wait pipe.
    var sandboxFDs: [Int32] = []
    /// The runner's ends: the report pipe's read end, the wait pipe's write end.
    private var runnerFDs: [Int32] = []

    /// Opens what can be opened before the agent starts; the environment that names the endpoints.
    mutating func prepare(_ endpoints: [AgentEndpointService], inSandbox: Bool) throws(AgentHostError) -> [String: String] {
        guard !endpoints.isEmpty else { return [:] }
        var environment: [String: String] = [:]
        if inSandbox {
            var report: [Int32] = [-1, -1], wait: [Int32] = [-1, -1]
            var rc = rigor_pipe(&report)
            if rc == 0 { rc = rigor_pipe(&wait) }
            for fd in report + wait where rc != 0 && fd >= 0 { Foundation.close(fd) }
            guard rc == 0 else { throw .sandboxSetupFailed(reason: "cannot make the pipes bwrap reports on: \(String(cString: strerror(rc)))") }
            sandboxFDs = [report[1], wait[0]]
            runnerFDs = [report[0], wait[1]]
            for e in endpoints { environment.merge(e.environment(url: "http://127.0.0.1:\(e.sandboxPort)")) { _, new in new } }
        } else {
            for e in endpoints {
                let listener = try AgentEndpointListener.listenHere()
                let server = try AgentEndpointServer(listener: listener, limits: e.limits, handler: e.handler)
                server.start()
                servers.append(server)
                environment.merge(e.environment(url: listener.url)) { _, new in new }
            }
        }
        return environment
    }

    /// In a sandbox: once bwrap is started, reads its child's pid, opens and serves every
    /// endpoint inside that child's network namespace, and lets the agent go.
    mutating func openInSandbox(of process: AgentProcess, endpoints: [AgentEndpointService]) throws(AgentHostError) {
        guard runnerFDs.count == 2 else { return }
        for fd in sandboxFDs { Foundation.close(fd) }
        sandboxFDs = []
        let pid = try OpenedEndpoints.readChildPID(runnerFDs[0], timeoutMilliseconds: 10_000, process: process)
        for e in endpoints {
            let listener = try AgentEndpointListener.listen(inSandboxOf: pid, port: e.sandboxPort)
            let server: AgentEndpointServer
            do { server = try AgentEndpointServer(listener: listener, limits: e.limits, handler: e.handler) } catch {
                listener.close()
                throw error
            }
            server.start()
            servers.append(server)
        }
        var go: UInt8 = 1
        let written = write(runnerFDs[1], &go, 1)
        let failure = errno
        closeRunnerFDs()
        guard written == 1 else {
            throw .sandboxSetupFailed(reason: "bwrap did not wait for its agent endpoints to open: \(String(cString: strerror(failure)))")
        }
    }

    /// bwrap's `--info-fd` report, a JSON object with `child-pid`.
    static func readChildPID(_ fd: Int32, timeoutMilliseconds: Int32, process: AgentProcess) throws(AgentHostError) -> pid_t {
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        let deadline = MonotonicClock.nanoseconds().addingClamped(UInt64(timeoutMilliseconds) * 1_000_000)
        while text.count < 4096 {
            if let value = try? JSON.parse(text), let pid = value["child-pid"]?.intValue, pid > 1, pid <= Int(Int32.max) { return pid_t(pid) }
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000 + 1)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            text += buffer[0..<n]
        }
        let log = process.stderrText.split(separator: "\n").first.map(String.init) ?? ""
        throw .sandboxSetupFailed(reason: "bwrap did not report its sandbox's process, so no agent endpoint could be opened in it"
            + (log.isEmpty ? "" : ": \(log)"))
    }

    private mutating func closeRunnerFDs() {
        for fd in runnerFDs { Foundation.close(fd) }
        runnerFDs = []
    }

    /// Undoes everything (the session failed to start).
    mutating func close() {
        for server in servers { server.stop() }
        servers = []
        for fd in sandboxFDs { Foundation.close(fd) }
        sandboxFDs = []
        closeRunnerFDs()
    }
}
