import CRigorSpawn
import Foundation

/// A runner-served TCP listener an agent can reach: an *agent endpoint* (the TRACE endpoint,
/// the model gateway), named to the agent by an environment variable such as
/// `RIGOR_TRACE_URL=http://127.0.0.1:<port>`.
///
/// Where the agent shares the runner's network (the process and fork levels), the listener is an
/// ordinary socket on 127.0.0.1. At the namespace level the agent runs under `bwrap
/// --unshare-net`, where the runner's loopback does not exist; the listener is then made
/// *inside the agent's network namespace* (`listen(inNetworkNamespaceOf:)`: a short-lived
/// thread joins it with `setns`, binds, and leaves), so the agent connects to its own
/// 127.0.0.1 and nothing else opens up: the namespace still has no route out, and no other
/// process on the machine can connect to the endpoint.
///
/// The endpoint owns its file descriptor: `close()` it when the episode ends.
public struct AgentEndpointListener: Sendable {
    /// The listening socket (close-on-exec), accepted on by the runner.
    public let fd: Int32
    /// The port on 127.0.0.1, in the namespace where the socket was made.
    public let port: UInt16

    /// `http://127.0.0.1:<port>`: what the agent is told.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// A listener on 127.0.0.1 in the runner's own network namespace (0: any free port).
    public static func listenHere(port: UInt16 = 0) throws(AgentHostError) -> AgentEndpointListener {
        var bound: Int32 = 0
        let fd = rigor_listen_loopback(Int32(port), &bound)
        guard fd >= 0 else {
            throw .sandboxSetupFailed(reason: "cannot listen on 127.0.0.1:\(port) for an agent endpoint: \(String(cString: strerror(errno)))")
        }
        return AgentEndpointListener(fd: fd, port: UInt16(truncatingIfNeeded: bound))
    }

    /// A listener on 127.0.0.1 inside the network namespace of process `pid` (the sandboxed
    /// agent's, e.g. bwrap's child as `--info-fd` reports it). Needs the right to join that
    /// namespace (CAP_SYS_ADMIN over it: root, or the owner of its user namespace).
    public static func listen(inNetworkNamespaceOf pid: pid_t, port: UInt16 = 0) throws(AgentHostError) -> AgentEndpointListener {
        var bound: Int32 = 0
        let fd = rigor_listen_in_netns(pid, Int32(port), &bound)
        guard fd >= 0 else {
            throw .sandboxSetupFailed(reason: "cannot open an agent endpoint in the network namespace of process \(pid): \(String(cString: strerror(errno)))")
        }
        return AgentEndpointListener(fd: fd, port: UInt16(truncatingIfNeeded: bound))
    }

    /// A listener on 127.0.0.1 inside the sandbox of process `pid` (bwrap's child, as
    /// `--info-fd` reports it), waiting up to `waitMilliseconds` for the sandbox's loopback to
    /// come up. Root joins the network namespace directly; another user first joins the
    /// sandbox's user namespace, which bwrap made under that user's uid.
    public static func listen(inSandboxOf pid: pid_t, port: UInt16, waitMilliseconds: Int32 = 5_000) throws(AgentHostError) -> AgentEndpointListener {
        var bound: Int32 = 0
        let fd = rigor_listen_in_sandbox(pid, Int32(port), waitMilliseconds, &bound)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .sandboxSetupFailed(reason: "cannot open an agent endpoint on 127.0.0.1:\(port) inside the agent's sandbox (process \(pid)): \(reason)"
                + (geteuid() == 0 ? "" : "; as a user other than root this needs the sandbox's own user namespace (bwrap --unshare-user)"))
        }
        return AgentEndpointListener(fd: fd, port: UInt16(truncatingIfNeeded: bound))
    }

    public func close() {
        _ = Foundation.close(fd)
    }
}

/// A service the runner offers an agent over HTTP for one episode (the TRACE endpoint, the model
/// gateway): `AgentSession` opens a listener where the agent can reach it, names it in
/// `environmentVariable` (`http://127.0.0.1:<port>`), serves `handler` on it until the episode
/// ends.
public struct AgentEndpointService: Sendable {
    /// E.g. `RIGOR_TRACE_URL`.
    public let environmentVariable: String
    /// The port inside a sandbox (namespace level), where the network namespace is new and every
    /// port is free, so the agent's environment is the same on every run. Elsewhere any free port.
    public let sandboxPort: UInt16
    public let handler: @Sendable (EndpointRequest) -> EndpointResponse
    public let limits: AgentEndpointServer.Limits
    /// Further variables naming the same endpoint, as `name → suffix` appended to the URL
    /// (the model gateway: `OPENAI_BASE_URL` → `/v1`, `ANTHROPIC_BASE_URL` → ``).
    public var aliases: [String: String] = [:]
    /// Variables set to fixed values alongside (placeholders an SDK insists on, e.g. an API key
    /// the gateway replaces).
    public var fixed: [String: String] = [:]

    public init(environmentVariable: String, sandboxPort: UInt16, limits: AgentEndpointServer.Limits = .init(),
                handler: @escaping @Sendable (EndpointRequest) -> EndpointResponse) {
        self.environmentVariable = environmentVariable
        self.sandboxPort = sandboxPort
        self.limits = limits
        self.handler = handler
    }

    /// The variables that tell the agent where the endpoint is, for the endpoint at `url`.
    public func environment(url: String) -> [String: String] {
        var out = fixed
        for (name, suffix) in aliases { out[name] = url + suffix }
        out[environmentVariable] = url
        return out
    }
}
