import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The eleven hostile agents of Agents/adversarial/ (plus the malformed ones they share),
/// each run through the built `rigor` under the `process` and the `namespace` level.
@Suite("Hostile agents", .serialized)
struct HostileAgentTests {
    static let bwrapWorks: Bool = {
        let r = try? CommandLineRun.run("/usr/bin/bwrap", ["--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"])
        if r?.status != 0 { print("namespace level skipped: bwrap cannot run here (\(r?.stderr ?? "not installed"))") }
        return r?.status == 0
    }()

    /// "fork" is the process level with Python agents started by the fork server; "nsfork" the
    /// namespace level with them started by the jailed fork server (namespaces per child).
    static let levels: [String] = bwrapWorks ? ["process", "fork", "namespace", "nsfork"] : ["process", "fork"]

    /// The isolation level a test level runs at.
    static func isolation(_ level: String) -> String {
        switch level {
        case "fork": return "process"
        case "nsfork": return "namespace"
        default: return level
        }
    }

    struct Outcome {
        let status: Int32
        let artifact: JSON
        var reason: String? { artifact["termination_reason"]?.stringValue }
        var failureType: String? { artifact["failure_type"]?.stringValue }
        var trace: [JSON] { artifact["action_trace"]?.arrayValue ?? [] }
        func output(_ key: String) -> String? {
            trace.first { $0["action"]?["args"]?["key"]?.stringValue == key }?["action"]?["args"]?["value"]?.stringValue
        }
    }

    /// Runs one hostile agent, checks what every hostile run must satisfy, returns the outcome.
    /// `actTimeout` is generous by default: only the tests about timeouts shorten it, so a loaded
    /// machine (other suites run fork bombs too) cannot turn a slow start into a false timeout.
    func run(_ agent: String, level: String, actTimeout: String = "15", environment: [String: String]? = nil) throws -> Outcome {
        let dir = RepoPaths.temporaryDirectory("rigor-hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/artifact.json"
        let isolation = ["--isolation", Self.isolation(level)] + (level.hasSuffix("fork") ? ["--fork-server"] : [])
        let r = try CommandLineRun.rigor(
            ["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "3", "--act-timeout", actTimeout,
             "--out", out, "--state-dir", dir] + isolation, environment: environment)
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "no artifact: \(r.stderr)")))
        #expect(r.status == 1, "\(agent) under \(level): rigor exited \(r.status): \(r.stderr)")
        #expect(artifact["diagnostics"]?["guard"]?["isolation"]?.stringValue == Self.isolation(level))
        if level.hasSuffix("fork") && agent.hasSuffix(".py") {
            #expect(artifact["diagnostics"]?["agent"]?["launched_by"] == "fork_server")
        }
        #expect(SpecCheck.check(artifact).isEmpty, "\(SpecCheck.check(artifact))")
        #expect(try CommandLineRun.rigor(["spec", "check", out]).status == 0)
        // Nothing of the agent is left: no process mentioning its file, none of its uid.
        let name = (agent as NSString).lastPathComponent
        #expect(ProcessTable.pids(commandLineContaining: name).isEmpty, "\(name) still running under \(level)")
        if let uid = artifact["diagnostics"]?["agent"]?["uid"]?.intValue {
            #expect(ProcessTable.pids(ownedBy: uid).isEmpty, "processes of uid \(uid) left after \(name)")
        }
        return Outcome(status: r.status, artifact: artifact)
    }

    @Test("1. /etc/passwd and ../../etc/passwd through actions → sandbox_violation", arguments: levels)
    func fileEscape(level: String) throws {
        for agent in ["Agents/adversarial/read_etc_passwd.py", "Agents/adversarial/read_parent_escape.py"] {
            let o = try run(agent, level: level)
            #expect(o.reason == "sandbox_violation")
            #expect(o.failureType == "sandbox_violation")
            #expect(o.trace.last?["io_audit"]?.arrayValue?.first?["verdict"] == "denied")
        }
    }

    @Test("2. TCP from the agent's own process: blocked under namespace, isolation recorded", arguments: levels)
    func network(level: String) throws {
        let listener = try LoopbackListener(port: 47819)
        defer { listener.close() }
        let o = try run("Agents/adversarial/tcp_connect.py", level: level)
        #expect(o.failureType == "budget_exhausted")
        if Self.isolation(level) == "namespace" {
            #expect(o.output("NET_LOCAL") != "connected", "reached the host's loopback from the namespace")
            #expect(o.output("NET_PUBLIC") == "unreachable")
        } else {
            // The process level (with or without the fork server) does not isolate the network.
            #expect(o.output("NET_LOCAL") == "connected")
        }
    }

    @Test("3. fork bomb: contained, timed out, every child killed and reaped", arguments: levels)
    func forkBomb(level: String) throws {
        let o = try run("Agents/adversarial/fork_bomb.py", level: level, actTimeout: "2")
        #expect(o.reason == "act_timeout")
        #expect(o.failureType == "timeout")
    }

    @Test("4. unbounded memory: stopped by the limit, classified, artifact written", arguments: levels)
    func memory(level: String) throws {
        let o = try run("Agents/adversarial/memory_hog.py", level: level, actTimeout: "20")
        #expect(["agent_exited", "agent_crashed"].contains(o.reason ?? ""), "\(o.reason ?? "nil")")
        #expect(o.failureType == "invalid_action")
    }

    @Test("5. busy loop without answering → timeout", arguments: levels)
    func busyLoop(level: String) throws {
        let o = try run("Agents/adversarial/busy_loop.py", level: level, actTimeout: "1")
        #expect(o.reason == "act_timeout")
        #expect(o.failureType == "timeout")
    }

    @Test("6. ignores SIGTERM and leaves a daemonised grandchild: both gone afterwards", arguments: levels)
    func daemon(level: String) throws {
        let o = try run("Agents/adversarial/sigterm_daemon.py", level: level)
        #expect(o.failureType == "budget_exhausted")
    }

    @Test("7. 100 MB on stdout without newline, 100 MB on stderr: bounded, clear error", arguments: levels)
    func floods(level: String) throws {
        let out = try run("Agents/adversarial/flood_stdout", level: level)
        #expect(out.reason == "protocol_error")
        #expect(out.artifact["failure_reason"]?.stringValue?.contains("without a newline") == true)
        let err = try run("Agents/adversarial/flood_stderr.py", level: level)
        #expect(err.failureType == "budget_exhausted")
        let agent = err.artifact["diagnostics"]?["agent"]
        #expect((agent?["stderr_tail"]?.stringValue?.utf8.count ?? .max) <= 64 * 1024)
        #expect((agent?["stderr_bytes_dropped"]?.intValue ?? 0) >= 100 * 1024 * 1024 - 64 * 1024)
    }

    @Test("8. non-JSON, wrong shape, wrong arg types → invalid_action naming the problem", arguments: levels)
    func garbage(level: String) throws {
        let cases = [("garbage_stdout", "protocol_error", "not JSON"), ("wrong_shape", "malformed_action", "array"),
                     ("wrong_arg_types.py", "invalid_arguments", "'path'")]
        for (agent, reason, words) in cases {
            let o = try run("Agents/malformed/\(agent)", level: level)
            #expect(o.reason == reason)
            #expect(o.failureType == "invalid_action")
            #expect(o.artifact["failure_reason"]?.stringValue?.contains(words) == true, "\(o.artifact["failure_reason"] ?? .null)")
        }
    }

    @Test("9. exits at once, exits mid-episode with 0, killed by a signal → classified", arguments: levels)
    func exits(level: String) throws {
        #expect(try run("Agents/malformed/exit_immediately", level: level).reason == "agent_exited")
        let mid = try run("Agents/malformed/exit_mid_episode.py", level: level)
        #expect(mid.reason == "agent_exited")
        #expect(mid.artifact["steps_used"] == 2)
        let killed = try run("Agents/malformed/crash_signal.py", level: level)
        #expect(killed.reason == "agent_crashed")
        #expect(killed.artifact["failure_reason"]?.stringValue?.contains("signal 9") == true)
    }

    @Test("10. the runner's environment never reaches the agent or the artifact", arguments: levels)
    func environmentSecret(level: String) throws {
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_PLANTED_SECRET"] = "s3cr3t-planted-by-the-test"
        env["AWS_SECRET_ACCESS_KEY"] = "aws-planted-by-the-test"
        let o = try run("Agents/adversarial/env_exfiltrate.py", level: level, environment: env)
        let text = String(decoding: try o.artifact.canonicalBytes(), as: UTF8.self)
        #expect(!text.contains("planted-by-the-test"))
        #expect(o.output("LOOT")?.contains("RIGOR_SEED=3") == true, "the agent did report what it saw")
    }

    @Test("11. files written in the working directory are gone for the next episode", arguments: levels)
    func workdir(level: String) throws {
        let first = try run("Agents/adversarial/workdir_marker.py", level: level)
        let second = try run("Agents/adversarial/workdir_marker.py", level: level)
        #expect(first.output("MARKER") == "absent")
        #expect(second.output("MARKER") == "absent")
    }

    @Test("12. a batch at the namespace level, exec'd or forked from one jailed server: no episode sees another's files or processes",
          .enabled(if: Facility.needed(HostileAgentTests.bwrapWorks, "bwrap namespaces (and root)")))
    func namespaceBatchSharesNothing() throws {
        try #require(Self.bwrapWorks, "bwrap namespaces are needed")
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-batch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairings: JSON = [["name": "marker", "agent": "Agents/adversarial/workdir_marker.py", "task": "filesystem_hidden_config@1"]]
        try Data(try pairings.prettyBytes()).write(to: URL(fileURLWithPath: "\(dir)/pairings.json"))
        for fork in [true, false] {
            let r = try CommandLineRun.rigor(
                ["batch", "--pairings-file", "\(dir)/pairings.json", "--pairings", "all", "--seeds", "0..5", "--workers", "2",
                 "--isolation", "namespace", "--json", "--state-dir", "\(dir)/state-\(fork)"] + (fork ? ["--fork-server"] : ["--no-fork-server"]))
            let summary = try JSON.parse(r.stdout)
            let episodes = summary["episodes"]?.arrayValue ?? []
            #expect(episodes.count == 6, "\(r.stderr)")
            for e in episodes {
                let path = try #require(e["run_id"]?.stringValue)
                let artifact = try StoredRuns.artifact(path, stateDirectory: "\(dir)/state-\(fork)")
                let o = Outcome(status: r.status, artifact: artifact)
                #expect(artifact["diagnostics"]?["guard"]?["isolation"] == "namespace")
                #expect(artifact["diagnostics"]?["agent"]?["launched_by"]?.stringValue == (fork ? "fork_server" : "exec"), "\(path): \(artifact["failure_reason"] ?? .null)")
                #expect(o.output("MARKER") == "absent")
                #expect(o.output("SHARED") == "absent", "an episode saw a file another left in /tmp or /dev/shm (fork: \(fork))")
                // Its own pid namespace: itself and what it started, never the host's processes.
                let procs = try #require(Int(o.output("PROCS") ?? ""), "\(o.output("PROCS") ?? "nil")")
                #expect(procs >= 1 && procs <= 3, "saw \(procs) processes (fork: \(fork))")
                if let uid = artifact["diagnostics"]?["agent"]?["uid"]?.intValue {
                    #expect(ProcessTable.pids(ownedBy: uid).isEmpty, "processes of uid \(uid) left")
                }
            }
        }
    }

    @Test("13. no keyrings, no new privileges, no capabilities, with a uid of its own; under the jailed server, no other agent's file",
          arguments: levels)
    func privileges(level: String) throws {
        let o = try run("Agents/adversarial/privileges.py", level: level)
        #expect(o.failureType == "budget_exhausted")
        // Only a root runner hands out uids (and so these guards).
        guard geteuid() == 0 else { #expect(Facility.mayLack("root (a uid of the agent's own)")); return }
        #expect(o.output("KEYRING") == "ENOSYS", "\(level): \(o.output("KEYRING") ?? "nil")")
        #expect(o.output("NNP") == "1", "\(level)")
        #expect(o.output("CAPS") == "0", "\(level): \(o.output("CAPS") ?? "nil")")
        if Self.isolation(level) == "namespace" {
            #expect(o.output("OTHER") != "readable", "\(level): another agent's file is readable")
        }
    }

    @Test("14. the jailed server's children, next to other agents in one batch, see none of their code",
          .enabled(if: Facility.needed(HostileAgentTests.bwrapWorks && geteuid() == 0, "bwrap namespaces (and root)")))
    func jailedBatchHidesOtherAgents() throws {
        try #require(Self.bwrapWorks && geteuid() == 0, "bwrap namespaces and root are needed")
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-others")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairings: JSON = [["name": "probe", "agent": "Agents/adversarial/privileges.py", "task": "filesystem_hidden_config@1"],
                              ["name": "toy", "agent": "Agents/toy_agent.py", "task": "filesystem_hidden_config@1"]]
        try Data(try pairings.prettyBytes()).write(to: URL(fileURLWithPath: "\(dir)/pairings.json"))
        let r = try CommandLineRun.rigor(["batch", "--pairings-file", "\(dir)/pairings.json", "--pairings", "all", "--seeds", "0..1",
                                          "--isolation", "namespace", "--fork-server", "--json", "--state-dir", "\(dir)/state"])
        let episodes = try JSON.parse(r.stdout)["episodes"]?.arrayValue ?? []
        #expect(episodes.count == 4, "\(r.stderr)")
        for e in episodes where e["pairing"] == "probe" {
            let artifact = try StoredRuns.artifact(try #require(e["run_id"]?.stringValue), stateDirectory: "\(dir)/state")
            let o = Outcome(status: r.status, artifact: artifact)
            #expect(artifact["diagnostics"]?["agent"]?["launched_by"] == "fork_server")
            // Made empty; or not there at all when the repository lives under /tmp, which the
            // child covers with its own.
            #expect(["empty", "absent"].contains(o.output("OTHER") ?? ""), "\(o.output("OTHER") ?? "nil")")
            #expect(o.output("KEYRING") == "ENOSYS")
        }
        for e in episodes where e["pairing"] == "toy" { #expect(e["passed"] == true) }
    }

    @Test("15. a runner killed with SIGKILL mid-batch: the jailed server kills every agent it forked, then leaves",
          .enabled(if: Facility.needed(HostileAgentTests.bwrapWorks && geteuid() == 0, "bwrap namespaces (and root)")))
    func runnerKilled() throws {
        try #require(Self.bwrapWorks && geteuid() == 0, "bwrap namespaces and root are needed")
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-killed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A copy of the SDK: its path, in every server's and child's command line, is this test's alone.
        let sdk = "\(dir)/sdk"
        try FileManager.default.createDirectory(atPath: sdk, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: "Agents/sdk") where f.hasSuffix(".py") {
            try FileManager.default.copyItem(atPath: "Agents/sdk/\(f)", toPath: "\(sdk)/\(f)")
        }
        let pairings: JSON = [["name": "spin", "agent": "Agents/adversarial/busy_loop.py", "task": "filesystem_hidden_config@1"]]
        try Data(try pairings.prettyBytes()).write(to: URL(fileURLWithPath: "\(dir)/pairings.json"))
        let runner = Process()
        runner.executableURL = URL(fileURLWithPath: RepoPaths.rigorBinary)
        runner.currentDirectoryURL = URL(fileURLWithPath: RepoPaths.root)
        runner.arguments = ["batch", "--pairings-file", "\(dir)/pairings.json", "--pairings", "all", "--seeds", "0..1", "--workers", "2",
                            "--isolation", "namespace", "--fork-server", "--act-timeout", "60", "--sdk-dir", sdk, "--json",
                            "--state-dir", "\(dir)/state"]
        runner.standardOutput = FileHandle.nullDevice
        runner.standardError = FileHandle.nullDevice
        try runner.run()
        // Both agents spinning under the server (the server's command line, with this SDK's path).
        var spinning: [Int32] = []
        for _ in 0..<100 where spinning.count < 3 {
            usleep(100_000)
            spinning = ProcessTable.pids(commandLineContaining: "\(sdk)/fork_server.py")
        }
        #expect(spinning.count >= 3, "the server and two children should be running: \(spinning)")
        // The server itself (python, root) keeps only what it hands its children: CAP_SETGID,
        // CAP_SETUID, CAP_NET_ADMIN and CAP_SYS_ADMIN.
        for pid in spinning {
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            guard !cmdline.hasPrefix("bwrap"), !cmdline.contains("/bwrap\u{0}"),
                  status.contains("\nUid:\t0\t") else { continue }
            let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }.map { String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            #expect(effective == "00000000002010c0", "the jailed server holds \(effective ?? "?")")
        }
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        var left = ProcessTable.pids(commandLineContaining: "\(sdk)/fork_server.py")
        for _ in 0..<50 where !left.isEmpty {
            usleep(100_000)
            left = ProcessTable.pids(commandLineContaining: "\(sdk)/fork_server.py")
        }
        #expect(left.isEmpty, "left behind by the jailed server after its runner died: \(left)")
    }

    /// The kernel's pid_max: wrapping the pid counter round is quick at the default 32768, not at 4 million.
    static let pidCounterWrapsQuickly: Bool = {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8),
              let max = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return false }
        return max <= 65536
    }()

    @Test("16. a daemon started after wrapping the pid counter round (below the agent's own pid) is killed too",
          .enabled(if: geteuid() == 0 && HostileAgentTests.pidCounterWrapsQuickly),
          arguments: ["process", "nsfork"])
    func pidWrap(level: String) throws {
        guard level == "process" || Self.bwrapWorks else { #expect(Facility.mayLack("bwrap namespaces (\(level))")); return }
        let o = try run("Agents/adversarial/pid_wrap_daemon.py", level: level, actTimeout: "60")
        #expect(o.output("WRAPPED") == "yes", "the agent could not wrap the pid counter: the test proves nothing")
        #expect(o.failureType == "budget_exhausted")
        // run(...) already checked that nothing of its uid is left.
    }

    @Test("17. a tree deeper than PATH_MAX in the private directory: removed all the same, nothing left in the scratch base",
          arguments: levels)
    func deepTree(level: String) throws {
        // A scratch base of the test's own, so that what is left there is this episode's.
        let scratch = RepoPaths.temporaryDirectory("rigor-hostile-deep-scratch")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var environment = ProcessInfo.processInfo.environment
        environment["RIGOR_SCRATCH_DIR"] = scratch
        let o = try run("Agents/adversarial/deep_scratch_tree.py", level: level, environment: environment)
        #expect(o.failureType == "budget_exhausted")
        #expect(Int(o.output("DEPTH") ?? "") ?? 0 > 4096, "the agent could not build a deep tree: the test proves nothing")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        #expect(left.isEmpty, "left in the scratch base after \(level): \(left)")
        #expect(o.artifact["diagnostics"]?["agent"]?["workdir_removal"] == nil, "\(o.artifact["diagnostics"]?["agent"] ?? .null)")
    }
}
