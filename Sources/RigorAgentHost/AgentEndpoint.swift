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

    public func close() {
        _ = Foundation.close(fd)
    }
}
