import CRigorSpawn
import Foundation
import RigorSpec

#if canImport(Glibc)
import Glibc
#endif

/// How an agent process ended.
public struct ExitStatus: Sendable, Equatable {
    public var code: Int?
    public var signal: Int?

    public var json: JSON {
        ["code": code.map(JSON.int) ?? .null, "signal": signal.map(JSON.int) ?? .null]
    }

    public var summary: String {
        if let signal { return "killed by signal \(signal) (\(String(cString: strsignal(Int32(signal)))))" }
        return "exited with code \(code ?? -1)"
    }
}

extension ExitStatus {
    /// From a wait(2) status.
    init(waitStatus status: Int32) {
        if rigor_signaled(status) != 0 {
            self.init(code: nil, signal: Int(rigor_term_signal(status)))
        } else {
            self.init(code: Int(rigor_exit_code(status)), signal: nil)
        }
    }
}

/// What waiting for the agent's next line gave.
public enum ReceivedLine: Sendable {
    case line([UInt8])
    /// The deadline passed with no complete line.
    case timedOut
    /// stdout closed (the agent exited or closed it).
    case closed
    /// More than the allowed bytes arrived without a newline.
    case tooLong(Int)
}

/// One running agent process and the pipes to it.
///
/// The host owns the process: it alone writes to stdin, reads stdout and stderr, and reaps it.
/// Its life is a state machine with one place for each transition: `running` until stdout
/// closes or the episode ends, then `reaped` once the whole process group is killed and the
/// leader waited for. All I/O is non-blocking under `poll`, with deadlines, and stderr is
/// drained whenever the host waits, so an agent can never block the runner by filling a pipe.
public final class AgentProcess {
    enum State {
        case running
        case reaped(ExitStatus)
    }

    public let pid: Int32
    /// Who waits for the agent's exit: this process (it spawned it) or the fork server.
    let server: ForkServer?
    /// The uid is the server's, shared with its other children: no per-episode uid sweep.
    let uidIsShared: Bool
    /// A fork server's child that could not be moved into the episode's cgroup.
    public private(set) var cgroupMoveFailed = false
    /// The uid the agent runs as, when the runner is root (see `LiveAgents.allocateUID`).
    public let uid: uid_t?
    public let workdir: String
    public let environment: [String: String]
    let settings: GuardSettings
    private var state: State = .running
    private let stdinFD: Int32
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private var stdinOpen = true
    private var stdoutOpen = true
    private var stderrOpen = true
    private var outBuffer: [UInt8] = []
    private var outStart = 0
    private var scanned = 0
    private var stderrTail: [UInt8] = []
    public private(set) var stderrBytesDropped = 0
    /// How many bytes the agent wrote to stdout in all.
    public private(set) var stdoutBytes = 0
    /// Read buffer; left uninitialised (read(2) fills what it returns), so an episode that reads
    /// a few hundred bytes touches a page or two of it, not 64 KiB.
    private var chunk = [UInt8](unsafeUninitializedCapacity: 65536) { _, count in count = 65536 }

    /// Starts the agent. The environment is exactly `environment`: nothing of the caller's leaks.
    /// `cwd`: where it starts (default `workdir`). `sandboxDropsUID`: the process is started as
    /// root (locked down: no new privileges, the keyring filter) and the sandbox it starts
    /// (bwrap, `Bubblewrap.wrap(dropTo:)`) takes `uid` itself.
    /// `passFDs`: at most two descriptors the process gets at 3 and 4 (a sandbox's report and
    /// wait pipes); every other one is closed.
    public init(command: AgentCommand, environment: [String: String], workdir: String, cwd: String? = nil, settings: GuardSettings, uid: uid_t?,
                cgroup: EpisodeCgroup? = nil, sandboxDropsUID: Bool = false, passFDs: [Int32] = []) throws(AgentHostError) {
        AgentProcess.ignoreSIGPIPE
        self.server = nil
        self.uidIsShared = false
        self.uid = settings.isolation >= .process ? uid : nil
        self.settings = settings
        self.workdir = workdir
        self.environment = environment
        let argv = [command.executable] + command.arguments
        let env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var limits = rigor_limits()
        if settings.isolation >= .process {
            limits.cpu_seconds = Int64(settings.limits.cpuSeconds)
            limits.address_space_bytes = Int64(settings.limits.addressSpaceBytes)
            limits.file_size_bytes = Int64(settings.limits.fileSizeBytes)
            limits.open_files = Int64(settings.limits.openFiles)
            limits.processes = Int64(settings.limits.processes)
            limits.run_as_uid = sandboxDropsUID ? 0 : Int64(self.uid ?? 0)
            limits.lock_down_as_root = sandboxDropsUID ? 1 : 0
            cgroup?.attach(to: &limits)
        }
        let passFDs = Array(passFDs.prefix(2))
        limits.pass_fd_count = Int32(passFDs.count)
        if passFDs.count > 0 { limits.pass_fds.0 = passFDs[0] }
        if passFDs.count > 1 { limits.pass_fds.1 = passFDs[1] }
        var child = rigor_child()
        let rc = withCStrings(argv) { cargv in
            withCStrings(env) { cenv in
                rigor_spawn(command.executable, cargv, cenv, cwd ?? workdir, &limits, &child)
            }
        }
        guard rc == 0 else { throw .spawnFailed(path: command.ref, errno: rc) }
        pid = child.pid
        LiveAgents.register(pid: child.pid, uid: self.uid)
        stdinFD = child.stdin_fd
        stdoutFD = child.stdout_fd
        stderrFD = child.stderr_fd
    }

    /// Starts the agent as a child of the fork server (Python agents, `--fork-server`).
    ///
    /// `uidIsShared`: the agent runs as its (native) server's uid, not one of its own: the server
    /// keeps it, and what the agent leaves behind under it is killed when the server stops.
    /// `cwd`: where the agent starts, as it sees it (`workdir`, or the jail's home for a jailed
    /// server's child, which mounts its own there).
    public init(forkServer: ForkServer, program: ForkedProgram, environment: [String: String], workdir: String, cwd: String? = nil,
                settings: GuardSettings, uid: uid_t?, uidIsShared: Bool = false, cgroup: EpisodeCgroup? = nil) throws(AgentHostError) {
        AgentProcess.ignoreSIGPIPE
        self.uidIsShared = uidIsShared
        self.server = forkServer
        self.settings = settings
        self.workdir = workdir
        self.environment = environment
        self.uid = settings.isolation >= .process ? uid : nil
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        var rc = rigor_pipe(&inPipe)
        if rc == 0 { rc = rigor_pipe(&outPipe) }
        if rc == 0 { rc = rigor_pipe(&errPipe) }
        guard rc == 0 else {
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            throw .spawnFailed(path: program.path, errno: rc)
        }
        let childEnds = [inPipe[0], outPipe[1], errPipe[1]]
        defer { for fd in childEnds { close(fd) } }
        do {
            pid = try forkServer.spawn(program, cwd: cwd ?? workdir, environment: environment, uid: uidIsShared ? nil : self.uid,
                                       limits: settings.isolation >= .process ? settings.limits : nil, childFDs: childEnds)
        } catch {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw error
        }
        // The SDK's server (whose files are part of agent_hash) knows nothing of cgroups: the
        // child is moved in as soon as the server names it, before it has read its first
        // message; what it forked before that (at its module's top level, within the same
        // millisecond) stays outside (spec/guard.md).
        if settings.isolation >= .process, let cgroup { cgroupMoveFailed = !cgroup.move(pid) }
        LiveAgents.register(pid: pid, uid: self.uid)
        stdinFD = inPipe[1]
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
        for fd in [stdinFD, stdoutFD, stderrFD] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        _ = terminate(graceSeconds: 0)
    }

    /// How the leader ended, if it has; `wait` blocks until it does (bounded for the server).
    private func leaderExit(wait: Bool) -> ExitStatus? {
        if let server {
            return server.exitStatus(of: pid, timeoutNanos: wait ? 5_000_000_000 : 0)
        }
        var status: Int32 = 0
        guard rigor_wait(pid, &status, wait ? 0 : 1) == pid else { return nil }
        return ExitStatus(waitStatus: status)
    }

    /// Waits until `deadline` at most for the leader to exit (it is reaped if it does).
    private func leaderExit(before deadline: UInt64) -> ExitStatus? {
        let now = MonotonicClock.nanoseconds()
        guard now < deadline else { return leaderExit(wait: false) }
        if let server {
            return server.exitStatus(of: pid, timeoutNanos: deadline - now)
        }
        var status: Int32 = 0
        let ms = Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
        guard rigor_wait_timeout(pid, &status, ms) == pid else { return nil }
        return ExitStatus(waitStatus: status)
    }

    static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

    /// Writes one line (the bytes must not contain a newline; one is added).
    /// Returns false when the agent is gone or the deadline passed.
    public func send(_ line: [UInt8], deadlineNanos: UInt64) -> Bool {
        guard stdinOpen else { return false }
        var bytes = line
        bytes.append(10)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                write(stdinFD, raw.baseAddress! + offset, raw.count - offset)
            }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !waitForIO(wantWrite: true, deadlineNanos: deadlineNanos) { return false }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            closeStdin()
            return false
        }
        return true
    }

    /// Reads until a complete line is buffered, stdout closes, or the deadline passes.
    public func receiveLine(deadlineNanos: UInt64) -> ReceivedLine {
        while true {
            if let line = takeLine() { return .line(line) }
            let pending = outBuffer.count - outStart
            if pending > settings.maxLineBytes { return .tooLong(pending) }
            if !stdoutOpen { return .closed }
            if !waitForIO(wantWrite: false, deadlineNanos: deadlineNanos) {
                if let line = takeLine() { return .line(line) }
                return stdoutOpen ? .timedOut : .closed
            }
        }
    }

    private func takeLine() -> [UInt8]? {
        var i = max(outStart, scanned)
        let end = outBuffer.count
        while i < end {
            if outBuffer[i] == 10 {
                let line = Array(outBuffer[outStart..<i])
                outStart = i + 1
                scanned = outStart
                if outStart > 65536 && outStart * 2 > outBuffer.count {
                    outBuffer.removeFirst(outStart)
                    outStart = 0
                    scanned = 0
                }
                return line
            }
            i += 1
        }
        scanned = end
        return nil
    }

    /// Polls stdout, stderr and (optionally) stdin once; drains what is readable.
    /// Returns false when the deadline passed or nothing more can happen.
    private func waitForIO(wantWrite: Bool, deadlineNanos: UInt64) -> Bool {
        var fds: [pollfd] = []
        if stdoutOpen { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrOpen { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        if wantWrite && stdinOpen { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
        if fds.isEmpty { return false }
        let now = MonotonicClock.nanoseconds()
        if now >= deadlineNanos { return false }
        let remainingMs = Int32(min((deadlineNanos - now + 999_999) / 1_000_000, 60_000))
        let r = poll(&fds, nfds_t(fds.count), remainingMs)
        if r < 0 { return errno == EINTR }
        if r == 0 { return MonotonicClock.nanoseconds() < deadlineNanos }
        for p in fds where p.revents != 0 {
            if p.fd == stdoutFD { drainStdout() }
            else if p.fd == stderrFD { drainStderr() }
            else if p.fd == stdinFD && (p.revents & Int16(POLLERR | POLLHUP)) != 0 { closeStdin() }
        }
        return true
    }

    private func drainStdout() {
        while stdoutOpen {
            let n = chunk.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress!, $0.count) }
            if n > 0 {
                stdoutBytes += n
                outBuffer.append(contentsOf: chunk[0..<n])
                // Stop buffering beyond the line limit: the caller reports tooLong.
                if outBuffer.count - outStart > settings.maxLineBytes + 1 { return }
                continue
            }
            if n == 0 { close(stdoutFD); stdoutOpen = false; return }
            if errno == EINTR { continue }
            if errno != EAGAIN && errno != EWOULDBLOCK { close(stdoutFD); stdoutOpen = false }
            return
        }
    }

    private func drainStderr() {
        while stderrOpen {
            let n = chunk.withUnsafeMutableBytes { read(stderrFD, $0.baseAddress!, $0.count) }
            if n > 0 {
                stderrTail.append(contentsOf: chunk[0..<n])
                let excess = stderrTail.count - settings.maxStderrBytes
                if excess > settings.maxStderrBytes {
                    stderrTail.removeFirst(excess)
                    stderrBytesDropped += excess
                }
                continue
            }
            if n == 0 { close(stderrFD); stderrOpen = false; return }
            if errno == EINTR { continue }
            if errno != EAGAIN && errno != EWOULDBLOCK { close(stderrFD); stderrOpen = false }
            return
        }
    }

    private func closePipes() {
        closeStdin()
        drainStderr()
        if stdoutOpen { close(stdoutFD); stdoutOpen = false }
        if stderrOpen { close(stderrFD); stderrOpen = false }
    }

    private func closeStdin() {
        if stdinOpen { close(stdinFD); stdinOpen = false }
    }

    /// The last `maxStderrBytes` of the agent's stderr, as text.
    public var stderrText: String {
        let excess = max(0, stderrTail.count - settings.maxStderrBytes)
        return String(decoding: stderrTail[excess...], as: UTF8.self)
    }

    public var totalStderrDropped: Int { stderrBytesDropped + max(0, stderrTail.count - settings.maxStderrBytes) }

    /// Ends the process: closes stdin, gives it `graceSeconds` to exit, then kills its whole
    /// process group and reaps it. Idempotent; returns how the leader ended.
    @discardableResult
    public func terminate(graceSeconds: Double) -> ExitStatus {
        // Once reaped, the pid and the uid may already belong to someone else: never signal again.
        if case .reaped(let status) = state {
            closePipes()
            return status
        }
        closeStdin()
        var exit: ExitStatus? = nil
        let deadline = MonotonicClock.nanoseconds().addingClamped(MonotonicClock.nanos(seconds: graceSeconds))
        while true {
            if let e = leaderExit(wait: false) { exit = e; break }
            if MonotonicClock.nanoseconds() >= deadline { break }
            if !stdoutOpen && !stderrOpen {
                // Nothing left to drain: sleep until the leader exits or the grace is over.
                exit = leaderExit(before: deadline)
                break
            }
            // Keep the pipes drained so a chatty agent can still exit.
            if !waitForIO(wantWrite: false, deadlineNanos: min(deadline, MonotonicClock.nanoseconds() + 2_000_000)) {
                usleep(200)
            }
        }
        // Kill the group whether or not the leader exited: its children may linger. A child
        // forked by a server may not have made its group yet: then the process itself.
        if rigor_kill_group(pid, SIGKILL) == ESRCH && exit == nil { _ = kill(pid, SIGKILL) }
        if exit == nil { exit = leaderExit(wait: true) }
        sweep()
        closePipes()
        let final = exit ?? ExitStatus(code: nil, signal: Int(SIGKILL))
        state = .reaped(final)
        return final
    }

    /// Kills whatever the agent left behind outside its process group (daemonised children,
    /// by uid) and reaps orphans, then forgets the agent.
    private var swept = false

    private func sweep() {
        guard !swept else { return }
        swept = true
        if let uid, !uidIsShared {
            _ = rigor_kill_uid(uid, 50)
            LiveAgents.releaseUID(uid)
        }
        LiveAgents.unregister(pid: pid)
        LiveAgents.reapOrphans()
    }
}

/// Runs `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
