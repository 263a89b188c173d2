import Foundation
import RigorSpec

#if canImport(Glibc)
import Glibc
#endif

/// How to start one task's world program (spec/world-protocol.md), resolved by the runner.
public struct WorldLaunch: Sendable {
    /// The task, as messages name it (`<id>@<version>`).
    public var taskRef: String
    /// The task folder, visible read-only to the program (at the namespace level, the only
    /// task files it can see).
    public var taskDirectory: String
    public var executable: String
    public var arguments: [String]
    /// Files the program needs besides system paths (the task folder, the task SDK).
    public var visiblePaths: [String]
    /// Runs through the Python task SDK (the interpreter's prefix is made visible).
    public var isPython: Bool
    public var network: Bool
    /// Longest wait for one answer (set-up included).
    public var answerTimeoutSeconds: Double
    /// For a Python world: where it can be forked from a warm interpreter instead of exec'd
    /// (process level, when the episode's guard settings allow fork servers).
    public var forkServer: WorldForkServer?

    public init(taskRef: String, taskDirectory: String, executable: String, arguments: [String], visiblePaths: [String],
                isPython: Bool, network: Bool, answerTimeoutSeconds: Double) {
        self.taskRef = taskRef
        self.taskDirectory = taskDirectory
        self.executable = executable
        self.arguments = arguments
        self.visiblePaths = visiblePaths
        self.isPython = isPython
        self.network = network
        self.answerTimeoutSeconds = answerTimeoutSeconds
    }
}

extension WorldLaunch {
    /// The launch with every path under an original of `mapping` moved to its copy
    /// (`AgentFilesCopy`): the program, its arguments, the task folder, the forked world's
    /// arguments. The files a server compiles ahead keep their paths (a copy is loaded anew).
    func relocated(_ mapping: [(String, String)]) -> WorldLaunch {
        func move(_ path: String) -> String { AgentFilesCopy.move(path, by: mapping) }
        var moved = self
        moved.taskDirectory = move(taskDirectory)
        moved.executable = move(executable)
        moved.arguments = arguments.map(move)
        moved.visiblePaths = visiblePaths.map(move)
        moved.forkServer?.arguments = forkServer?.arguments.map(move) ?? []
        return moved
    }
}

/// A Python world's fork server: the agent SDK holding `fork_server.py`, the task SDK it
/// imports once, the interpreter, and the world's arguments to the task SDK's `run_world.py`.
/// `files`: the world's Python files (a TraceCore task's setup, actions and validate files; a
/// world module), which a server that starts compiles ahead (compiled, never run, in the server).
public struct WorldForkServer: Sendable {
    public var sdkDirectory: String
    public var worldSDK: String
    public var python: String
    public var arguments: [String]
    public var files: [String]

    public init(sdkDirectory: String, worldSDK: String, python: String, arguments: [String], files: [String] = []) {
        self.sdkDirectory = sdkDirectory
        self.worldSDK = worldSDK
        self.python = python
        self.arguments = arguments
        self.files = files
    }
}

/// Why a world program failed: the task's fault, never the agent's (`world_failed`).
public struct WorldHostFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One running world program and the request/answer exchange with it.
///
/// Guarded like an agent (spec/guard.md): its own private directory (its working directory and
/// HOME), the pinned environment and nothing of the caller's, its own session and process
/// group, rlimits, a uid of its own when the runner is root, bubblewrap at the namespace level
/// (no network unless the task asks; the system, the task folder and the SDK read-only). Every
/// answer has a deadline and a size limit; stderr is drained and bounded. Any way the program
/// misbehaves becomes a `WorldHostFailure` whose message names the task.
public final class WorldHost {
    public let launch: WorldLaunch
    let process: AgentProcess
    private var failed: WorldHostFailure?

    /// The pinned environment of a world program: an agent's, minus the seed (the world gets it
    /// in `setup`), with the world protocol's name and the task folder.
    public static func environment(home: String, taskDirectory: String) -> [String: String] {
        [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
            "TZ": "UTC", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "RIGOR_PROTOCOL": "rigor-world/1", "RIGOR_TASK_DIR": taskDirectory,
        ]
    }

    public init(_ given: WorldLaunch, settings: GuardSettings) throws(WorldHostFailure) {
        var launch = given
        self.launch = given
        if settings.isolation == .namespace, let reason = Bubblewrap.unavailableReason {
            throw WorldHostFailure("task \(launch.taskRef): cannot isolate its world program: \(reason)")
        }
        // A uid of its own sees the host as any other user does: a task folder (or SDK) under a
        // directory closed to others (a project in `mktemp -d`, in root's 0700 home) is out of its
        // reach. As for agents (AgentSession): bwrap started as root shows it, then drops the uid;
        // at the process level the world runs copies made by root in its private directory.
        let closed = settings.isolation >= .process && geteuid() == 0
            ? Array(Set((launch.visiblePaths + [launch.taskDirectory, launch.executable]).filter { Bubblewrap.closedToOthers($0) != nil })).sorted()
            : []
        let sandboxDropsUID = settings.isolation == .namespace && !closed.isEmpty
        if sandboxDropsUID && !FileManager.default.isExecutableFile(atPath: Bubblewrap.setpriv) {
            throw WorldHostFailure("task \(launch.taskRef): '\(closed[0])' lies under '\(Bubblewrap.closedToOthers(closed[0]) ?? closed[0])', closed to "
                + "other users, and showing it to the world program's uid needs \(Bubblewrap.setpriv) (Debian package util-linux); "
                + "install it, or open the directory to others (chmod o+x)")
        }
        let workdir: String
        do { workdir = try ScratchDirectory.make() } catch {
            throw WorldHostFailure("task \(launch.taskRef): cannot make the world program's directory: \(error)")
        }
        if !closed.isEmpty && !sandboxDropsUID {
            do {
                launch = launch.relocated(try AgentFilesCopy.copy(closed, into: workdir))
            } catch {
                ScratchDirectory.remove(workdir)
                throw WorldHostFailure("task \(launch.taskRef): cannot copy its files for the world program's uid: \(error)")
            }
            filesCopied = true
        }
        let uid = settings.isolation >= .process ? LiveAgents.allocateUID() : nil
        if uid == nil && settings.isolation >= .process && geteuid() == 0 {
            ScratchDirectory.remove(workdir)
            throw WorldHostFailure("task \(launch.taskRef): no uid free for the world program: \(LiveAgents.uidLockProblem ?? "every uid is in use")")
        }
        if let uid { ScratchDirectory.handOver(workdir, to: uid) }
        var command = AgentCommand(kind: launch.isPython ? .pythonSDK : .executable, ref: launch.taskRef,
                                   agentFile: launch.taskDirectory, executable: launch.executable, arguments: launch.arguments,
                                   visiblePaths: launch.visiblePaths, agentHash: "")
        var home = workdir
        if settings.isolation == .namespace,
           let (bwrap, args) = Bubblewrap.wrap(command, workdir: workdir, home: Bubblewrap.agentHome, dropTo: sandboxDropsUID ? uid : nil,
                                                 shareNetwork: launch.network) {
            home = Bubblewrap.agentHome
            command = command.launched(by: bwrap, arguments: args)
        }
        let environment = WorldHost.environment(home: home, taskDirectory: launch.taskDirectory)
        do {
            if let forked = WorldHost.forked(launch, environment: environment, workdir: workdir, settings: settings, uid: uid) {
                process = forked
                launchedBy = "fork_server"
            } else {
                process = try AgentProcess(command: command, environment: environment, workdir: workdir, settings: settings, uid: uid,
                                           sandboxDropsUID: sandboxDropsUID)
            }
        } catch {
            if let uid { LiveAgents.releaseUID(uid) }
            ScratchDirectory.remove(workdir)
            throw WorldHostFailure("task \(launch.taskRef): cannot start its world program \(launch.executable): \(error)")
        }
    }

    deinit { stop() }

    /// How the program was started: "exec" or "fork_server".
    public private(set) var launchedBy = "exec"
    /// Whether it runs copies of its task folder (or SDK) made for its uid (process level, a
    /// folder closed to others).
    public private(set) var filesCopied = false

    /// The world forked from the warm server, or nil to exec it: not a Python world, not the
    /// process level, fork servers not allowed, or a server that cannot start or fork (the
    /// program is then exec'd, which behaves the same, only slower).
    static func forked(_ launch: WorldLaunch, environment: [String: String], workdir: String, settings: GuardSettings,
                       uid: uid_t?) -> AgentProcess? {
        guard let spec = launch.forkServer, settings.forkServer != .never, settings.isolation == .process,
              let server = try? ForkServer.sharedWorlds(sdkDirectory: spec.sdkDirectory, worldSDK: spec.worldSDK, python: spec.python,
                                                        worldFiles: Set(spec.files))
        else { return nil }
        return try? AgentProcess(forkServer: server, program: .world(arguments: spec.arguments), environment: environment,
                                 workdir: workdir, settings: settings, uid: uid)
    }

    /// Sends one request and waits for its answer, a JSON object. After the first failure every
    /// request fails the same way (the program is stopped).
    public func request(_ message: JSON) throws(WorldHostFailure) -> [String: JSON] {
        if let failed { throw failed }
        let deadline = MonotonicClock.nanoseconds() + UInt64(launch.answerTimeoutSeconds * 1e9)
        let what = message["type"]?.stringValue ?? "request"
        do {
            let bytes = try message.canonicalBytes()
            guard process.send(bytes, deadlineNanos: deadline) else {
                throw fail("its world program stopped reading before '\(what)' (\(exitSummary()))")
            }
        } catch let error as WorldHostFailure {
            throw error
        } catch {
            throw fail("cannot encode the '\(what)' request: \(error)")
        }
        switch process.receiveLine(deadlineNanos: deadline) {
        case .line(let line):
            guard let value = try? JSON.parse(line) else {
                throw fail("its world program answered '\(what)' with a line that is not JSON: \(WorldHost.excerpt(line))")
            }
            guard let object = value.objectValue else {
                throw fail("its world program answered '\(what)' with JSON that is not an object: \(WorldHost.excerpt(line))")
            }
            if object["type"]?.stringValue == "error" {
                let m = object["message"]?.stringValue ?? "(no message)"
                throw fail("its world program reported an error on '\(what)': \(WorldHost.clip(m))")
            }
            return object
        case .timedOut:
            throw fail("its world program did not answer '\(what)' within \(WorldHost.seconds(launch.answerTimeoutSeconds)) s")
        case .closed:
            throw fail("its world program exited before answering '\(what)' (\(exitSummary()))")
        case .tooLong(let n):
            throw fail("its world program sent more than \(n) bytes without a newline in answer to '\(what)' (limit 1 MiB per line)")
        }
    }

    private func fail(_ message: String) -> WorldHostFailure {
        // No stderr here: the message is hashed (failure_reason), and a traceback holds paths of
        // this machine. The stderr tail goes to the artifact's diagnostics instead.
        let failure = WorldHostFailure("task \(launch.taskRef): \(message)")
        failed = failure
        stop()
        return failure
    }

    private func exitSummary() -> String {
        process.terminate(graceSeconds: 0.2).summary
    }

    private var stopped = false

    /// Ends the program (stdin closed, a short grace, then its group killed) and removes its
    /// directory. Idempotent.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.terminate(graceSeconds: 0.5)
        ScratchDirectory.remove(process.workdir)
    }

    /// The last of the program's stderr (not hashed; for diagnostics).
    public var stderrText: String { process.stderrText }

    static func excerpt(_ bytes: [UInt8]) -> String {
        let head = String(decoding: bytes.prefix(80), as: UTF8.self)
        return "\"" + head + (bytes.count > 80 ? "…\"" : "\"")
    }

    static func seconds(_ d: Double) -> String { d.rounded() == d && d < 1e9 ? String(Int(d)) : String(d) }

    public static func clip(_ s: String) -> String { s.count > 300 ? String(s.prefix(300)) + "…" : s }
}
