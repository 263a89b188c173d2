// The agent side of Rigor's fork-server protocol (rigor-fork/1, spec/agent-protocol.md), for
// agents written in Swift. An agent that calls `RigorForkServer.serveIfRequested` at the top of
// its main file can be run with `rigor ... --isolation process --fork-server`: Rigor then starts
// it once as `<agent> [args] --rigor-fork-server`, and for every episode the server forks a
// pristine child (nothing of one episode reaches another: the server never runs agent code
// before forking) that sets itself up exactly as an exec'd agent would be, and runs the agent.
// Starting a process costs far more than a short episode of a compiled agent; forking a warm
// one costs little.
//
// Foundation-free, like the agents that use it: the binary can be linked statically.
#if canImport(Glibc)
import Glibc
#endif
import CRigorSpawn
import RigorJSON

public enum RigorForkServer {
    /// The argument Rigor appends to the agent's command line to start it as a fork server.
    public static let flag = "--rigor-fork-server"
    /// The protocol this side speaks (announced in the hello event).
    public static let protocolName = "rigor-fork/1"

    /// When the process was started with `--rigor-fork-server`, serves episodes until the runner
    /// goes away and exits; otherwise returns at once and the agent runs as usual.
    /// `agent` runs one episode on stdin/stdout and returns the exit code.
    public static func serveIfRequested(_ agent: () -> Int32) {
        guard CommandLine.arguments.contains(flag) else { return }
        exit(serve(agent))
    }

    static func serve(_ agent: () -> Int32) -> Int32 {
        // fd 0: requests (with the child's three descriptors); fd 1: events back to the runner.
        let control = dup(0), events = dup(1)
        guard control >= 0, events >= 0 else { return 70 }
        _ = fcntl(control, F_SETFD, FD_CLOEXEC)
        _ = fcntl(events, F_SETFD, FD_CLOEXEC)
        let devnull = open("/dev/null", O_RDWR)
        if devnull >= 0 {
            _ = dup2(devnull, 0)
            _ = dup2(devnull, 1)
            close(devnull)
        }
        let children = rigor_sigchld_fd()
        guard children >= 0 else { return 71 }
        warmUp()
        send(events, ["hello": .string(protocolName), "pid": .int(Int(getpid()))])

        // Left uninitialised: a zero-filled megabyte would be 256 resident pages that every fork
        // copies the page-table entries of and every child's exit tears down again (~40 % of a
        // child's kernel time here). Untouched, only the pages a request lands on are resident.
        var buffer = [UInt8](unsafeUninitializedCapacity: 1 << 20) { _, count in count = 1 << 20 }
        while true {
            var fds = [pollfd(fd: control, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: children, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return 72
            }
            if fds[1].revents != 0 {
                rigor_drain_fd(children)
                reap(events)
            }
            guard fds[0].revents != 0 else { continue }
            var received = [Int32](repeating: -1, count: 3)
            var count: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { raw in
                received.withUnsafeMutableBufferPointer { rigor_recv_fds(control, raw.baseAddress, raw.count, $0.baseAddress, 3, &count) }
            }
            if n <= 0 { break }  // the runner is gone
            let childFDs = Array(received.prefix(Int(count)))
            var reply: JSON
            do {
                let request = try JSON.parse(Array(buffer[0..<n]))
                guard childFDs.count == 3 else { throw ForkRequestError("expected 3 file descriptors, got \(childFDs.count)") }
                guard let cwd = request["cwd"]?.stringValue else { throw ForkRequestError("the request has no cwd") }
                let pid = rigor_fork()
                if pid == 0 { runChild(request, cwd: cwd, fds: childFDs, agent: agent) }
                reply = pid > 0 ? ["pid": .int(Int(pid))] : ["error": .string("fork: \(String(cString: strerror(errno)))")]
            } catch {
                reply = ["error": .string("\(error)")]
            }
            for fd in childFDs { close(fd) }
            send(control, reply)
            reap(events)
        }
        return 0
    }

    /// Parses and writes a message shaped like the protocol's, so that the children inherit the
    /// JSON machinery ready (type metadata, allocator arenas) instead of each building it anew.
    /// Nothing of any episode is involved: every child still starts from this same state.
    private static func warmUp() {
        let sample = #"{"type":"observe","observation":{"step":1,"task":{"id":"t","version":1},"budget_remaining":{"steps":9,"tool_calls":4.5},"last_action":{"type":"list_dir","args":{"path":"/"}},"last_action_result":{"ok":true,"files":["a","b"],"value":null,"error":false},"visible_state":{"files_seen":[]}}}"#
        guard let parsed = try? JSON.parse(sample) else { return }
        var out: [UInt8] = []
        try? parsed.write(into: &out, style: .jcs)
        _ = parsed["observation"]?["last_action_result"]?["files"]?.arrayValue?.compactMap(\.stringValue)
        _ = parsed["observation"]?["budget_remaining"]?["steps"]?.intValue
    }

    /// In the forked child: becomes the agent process of one episode. Never returns.
    private static func runChild(_ request: JSON, cwd: String, fds: [Int32], agent: () -> Int32) -> Never {
        var limits = rigor_limits()
        if let l = request["limits"]?.objectValue {
            limits.cpu_seconds = Int64(l["cpu"]?.intValue ?? 0)
            limits.address_space_bytes = Int64(l["as"]?.intValue ?? 0)
            limits.file_size_bytes = Int64(l["fsize"]?.intValue ?? 0)
            limits.open_files = Int64(l["nofile"]?.intValue ?? 0)
            limits.processes = Int64(l["nproc"]?.intValue ?? 0)
        }
        limits.run_as_uid = Int64(request["uid"]?.intValue ?? 0)
        if let cpus = request["cpus"]?.arrayValue?.compactMap({ $0.intValue.map { Int32(clamping: $0) } }), !cpus.isEmpty {
            // The runner's pinned worker's CPUs (a matter of speed: a refusal is not an error).
            _ = cpus.withUnsafeBufferPointer { rigor_pin_thread($0.baseAddress, Int32($0.count)) }
        }
        let failed = fds.withUnsafeBufferPointer { f in rigor_zygote_child_setup(f.baseAddress, &limits, cwd) }
        if failed != 0 {
            var message = Array("rigor fork server: cannot set up the agent process: \(String(cString: strerror(failed)))\n".utf8)
            _ = write(2, &message, message.count)
            _exit(127)
        }
        clearenv()
        for (key, value) in request["env"]?.objectValue ?? [:] {
            if let value = value.stringValue { setenv(key, value, 1) }
        }
        exit(agent())  // exit, not _exit: buffered output is flushed as at any agent's end
    }

    /// Reports every child that has ended.
    private static func reap(_ events: Int32) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            let signaled = rigor_signaled(status) != 0
            send(events, [
                "pid": .int(Int(pid)),
                "code": signaled ? .null : .int(Int(rigor_exit_code(status))),
                "signal": signaled ? .int(Int(rigor_term_signal(status))) : .null,
            ])
        }
    }

    private static func send(_ socket: Int32, _ message: JSON) {
        guard let bytes = try? message.canonicalBytes() else { return }
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

struct ForkRequestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
