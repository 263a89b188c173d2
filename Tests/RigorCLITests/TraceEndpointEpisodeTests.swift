import Foundation
import RigorAgentHost
import RigorSpec
import RigorTestSupport
import Testing

/// The TRACE endpoint served to a real episode (`--trace-endpoint`, spec/trace-endpoint.md): the
/// unmodified `traceprotocol` 0.1.0 client inside the namespace sandbox, what lands in the
/// artifact, replay, and a hostile agent attacking the endpoint from inside the episode.
@Suite("TRACE endpoint in episodes", .serialized)
struct TraceEndpointEpisodeTests {
    static let venv = "\(RepoPaths.root)/.build-trace-venv"

    /// The venv with traceprotocol 0.1.0 (made by `make traceprotocol-venv` when missing).
    static let clientAvailable: Bool = {
        let probe = ["-c", "import importlib.metadata as m; assert m.version('traceprotocol') == '0.1.0'"]
        if let r = try? CommandLineRun.run("\(venv)/bin/python", probe), r.status == 0 { return true }
        _ = try? CommandLineRun.run("/usr/bin/make", ["-s", "traceprotocol-venv"], cwd: RepoPaths.root)
        let ok = (try? CommandLineRun.run("\(venv)/bin/python", probe))?.status == 0
        if !ok { print("TRACE client half skipped: traceprotocol 0.1.0 could not be installed from PyPI") }
        return ok
    }()

    static let namespaceWorks: Bool = {
        let r = try? CommandLineRun.run("/usr/bin/bwrap", ["--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"])
        if r?.status != 0 { print("namespace half skipped: bwrap cannot make namespaces here") }
        return r?.status == 0
    }()

    static func artifact(_ path: String) throws -> JSON {
        try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: path), "no artifact at \(path)")))
    }

    func run(_ agent: String, task: String, level: String, state: String, extra: [String] = [],
             environment: [String: String]? = nil) throws -> (CommandResult, JSON) {
        let out = "\(state)/run-\(level)-\(UUID().uuidString.prefix(6)).json"
        let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", task, "--seed", "1", "--isolation", level,
                                          "--state-dir", state, "--out", out] + extra, environment: environment)
        return (r, try Self.artifact(out))
    }

    @Test("the unmodified traceprotocol client, sandboxed at the namespace level, proposes, is answered by the task's policy, attaches evidence; all of it in the artifact, the same at the process and none levels, and replayed",
          .enabled(if: Facility.needed(namespaceWorks && clientAvailable, "bwrap namespaces and traceprotocol 0.1.0 (make traceprotocol-venv)")))
    func unmodifiedClientInTheSandbox() throws {
        try #require(Self.namespaceWorks && Self.clientAvailable, "bwrap namespaces and traceprotocol 0.1.0 are needed")
        let state = RepoPaths.temporaryDirectory("rigor-trace")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let flags = ["--python", Self.venv, "--trace-endpoint"]
        let (r, a) = try run("Agents/trace_cleanup_agent.py", task: "approval_gated_cleanup@1", level: "namespace", state: state, extra: flags)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(a["termination_reason"] == "success")
        let proposals = a["trace_actions"]?.arrayValue ?? []
        #expect(proposals.map { $0["type"]?.stringValue ?? "" } == ["read_file", "remove_path", "remove_path"])
        #expect(proposals.map { $0["decision"]?.stringValue ?? "" } == ["approved", "requires_approval", "requires_approval"])
        #expect(proposals.map { $0["rule_id"]?.stringValue ?? "" } == ["default", "cleanup.delete-needs-approval", "cleanup.delete-needs-approval"])
        #expect(proposals.map { $0["step"]?.intValue ?? 0 } == [1, 2, 3])
        #expect(proposals.map { $0["n"]?.intValue ?? 0 } == [1, 2, 3])
        #expect(proposals[2]["evidence"]?.arrayValue?.first?["name"] == "asked_before_deleting")
        #expect(proposals[2]["evidence"]?.arrayValue?.first?["source"] == "trace")
        #expect(proposals.allSatisfy { $0["id"] == nil }, "the client's random ids stay out of the hash")
        // The agent really ran in the sandbox and reached the endpoint there.
        #expect(a["diagnostics"]?["guard"]?["isolation"] == "namespace")
        #expect(a["diagnostics"]?["trace_endpoint"]?["url"] == "http://127.0.0.1:7707")
        #expect(a["diagnostics"]?["trace_endpoint"]?["action_ids"]?.arrayValue?.count == 3)
        #expect(a["diagnostics"]?["agent"]?["launched_by"] == "exec")
        let verify = try CommandLineRun.rigor(["verify", "--strict-spec", "--state-dir", state, a["run_id"]?.stringValue ?? "?"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // `runs show` sums them up, in text and JSON.
        let show = try CommandLineRun.rigor(["runs", "show", a["run_id"]?.stringValue ?? "?", "--state-dir", state])
        #expect(show.stdout.contains("3 proposals on the TRACE endpoint: approved 1, requires_approval 2"), "\(show.stdout)")
        let shown = try JSON.parse(try CommandLineRun.rigor(["runs", "show", a["run_id"]?.stringValue ?? "?", "--state-dir", state, "--json"]).stdout)
        #expect(shown["trace_endpoint"]?["count"] == 3)
        #expect(shown["trace_endpoint"]?["by_decision"] == ["approved": 1, "requires_approval": 2])

        // `export actions` carries the proposals beside the actions, and the document validates.
        let exported = "\(state)/actions.json"
        let export = try CommandLineRun.rigor(["export", "actions", a["run_id"]?.stringValue ?? "?", "--state-dir", state, "--out", exported])
        #expect(export.status == 0, "\(export.stderr)")
        let document = try Self.artifact(exported)
        #expect(ActionExport.problems(document).isEmpty, "\(ActionExport.problems(document))")
        let exportedProposals = document["runs"]?.arrayValue?.first?["proposals"]?.arrayValue ?? []
        #expect(exportedProposals.map { $0["decision"]?.stringValue ?? "" } == ["approved", "requires_approval", "requires_approval"])
        #expect(exportedProposals.map { $0["n"]?.intValue ?? 0 } == [1, 2, 3])
        #expect(exportedProposals[2]["evidence"]?.arrayValue?.first?["name"] == "asked_before_deleting")

        // The same episode at the process level (a port on the runner's loopback) hashes the same.
        let (p, b) = try run("Agents/trace_cleanup_agent.py", task: "approval_gated_cleanup@1", level: "process", state: state, extra: flags)
        #expect(p.status == 0, "\(p.stdout)\(p.stderr)")
        #expect(b["artifact_hash"] == a["artifact_hash"])
        #expect(b["diagnostics"]?["trace_endpoint"]?["url"] != "http://127.0.0.1:7707")
        #expect(b["diagnostics"]?["trace_endpoint"]?["action_ids"] != a["diagnostics"]?["trace_endpoint"]?["action_ids"],
                "the client made new random ids, and the hash did not move")

        // And at the `none` level (no guard at all): the same endpoint, the same hash.
        let (n, c) = try run("Agents/trace_cleanup_agent.py", task: "approval_gated_cleanup@1", level: "none", state: state, extra: flags)
        #expect(n.status == 0, "\(n.stdout)\(n.stderr)")
        #expect(c["diagnostics"]?["guard"]?["isolation"] == "none")
        #expect(c["trace_actions"] == a["trace_actions"])
        #expect(c["artifact_hash"] == a["artifact_hash"])

        // A replay offers the endpoint again (the recording has trace_actions) and reproduces.
        let replay = try CommandLineRun.rigor(["replay", a["run_id"]?.stringValue ?? "?", "--state-dir", state])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("reproduced"))
    }

    @Test("without --trace-endpoint the agent has no RIGOR_TRACE_URL and the artifact no trace_actions", .enabled(if: Facility.needed(clientAvailable, "traceprotocol 0.1.0 (make traceprotocol-venv)")))
    func offByDefault() throws {
        try #require(Self.clientAvailable, "traceprotocol 0.1.0 is needed")
        let state = RepoPaths.temporaryDirectory("rigor-trace")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (r, a) = try run("Agents/trace_cleanup_agent.py", task: "approval_gated_cleanup@1", level: "process", state: state,
                             extra: ["--python", Self.venv])
        #expect(r.status == 1)
        #expect(a["trace_actions"] == nil)
        #expect(a["diagnostics"]?["trace_endpoint"] == nil)
        #expect(a["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue?.contains("RIGOR_TRACE_URL") == true)
    }

    /// The hostile agent's report (one `TRACE-HOSTILE {...}` line in its log).
    static func report(_ a: JSON) throws -> JSON {
        let log = a["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue ?? ""
        let line = try #require(log.split(separator: "\n").first { $0.hasPrefix("TRACE-HOSTILE ") }, "no report in \(log)")
        return try JSON.parse(String(line.dropFirst("TRACE-HOSTILE ".count)))
    }

    static func checkHostile(_ a: JSON, level: String, sentinel: String, state: String) throws {
        let r = try report(a)
        #expect(r["error"] == nil, "\(r)")
        #expect(r["garbage"] == 400)
        #expect(r["oversized"] == 413)
        #expect(r["deep"] == 400)
        #expect(r["unknown_evidence"] == 404)
        #expect(r["too_many_checks"] == 422)
        #expect(r["secret"] == 200)
        #expect((r["flood_429"]?.intValue ?? 0) >= 200, "\(r)")
        #expect(r["neighbour_port"] == false, "nothing else listens in the agent's namespace")
        if level == "namespace" { #expect(r["host_probe"] == false, "the runner's own loopback stays out of reach") }
        // Bounded: at most 1000 proposals recorded, the rest refused; the secret is a placeholder.
        let proposals = a["trace_actions"]?.arrayValue ?? []
        #expect(proposals.count == 1_000)
        #expect(proposals.first?["params"]?["token"] == "[REDACTED:TRACE_SENTINEL]")
        #expect(a["termination_reason"] != "success")
        // Still a valid artifact, and no byte of the secret anywhere in the state directory.
        let verify = try CommandLineRun.rigor(["verify", "--strict-spec", "--state-dir", state, a["run_id"]?.stringValue ?? "?"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let grep = try CommandLineRun.run("/usr/bin/grep", ["-rlaF", sentinel, state])
        #expect(grep.stdout.isEmpty, "the secret reached \(grep.stdout)")
    }

    @Test("a hostile agent floods and garbles the endpoint from inside its episode: refused, bounded, redacted, and the episode ends in a valid artifact",
          arguments: ["process", "namespace"])
    func hostileAgent(level: String) throws {
        if level == "namespace" && !Self.namespaceWorks { return }
        let state = RepoPaths.temporaryDirectory("rigor-trace-hostile")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let host = try AgentEndpointListener.listenHere()
        defer { host.close() }
        let sentinel = "trace-sentinel-\(UUID().uuidString.prefix(12))"
        var env = ProcessInfo.processInfo.environment
        env["TRACE_SENTINEL"] = sentinel
        let (r, a) = try run("Agents/adversarial/trace_hostile_agent.py", task: "filesystem_hidden_config@1", level: level, state: state,
                             extra: ["--trace-endpoint", "--secret", "TRACE_SENTINEL", "--env", "HOST_PROBE=127.0.0.1:\(host.port)"],
                             environment: env)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(!r.signalled)
        try Self.checkHostile(a, level: level, sentinel: sentinel, state: state)
    }

    @Test("as an unprivileged user the endpoint opens inside the sandbox's own user namespace (a forked helper joins it)",
          .enabled(if: Facility.needed(namespaceWorks && WorldKeyTests.nobodyCanRun, "bwrap namespaces, root and setpriv (uid 65534)")))
    func unprivilegedRunner() throws {
        try #require(Self.namespaceWorks && WorldKeyTests.nobodyCanRun, "bwrap namespaces and a runner as uid 65534 are needed")
        let dir = RepoPaths.temporaryDirectory("rigor-trace-nobody")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = try AgentEndpointListener.listenHere()
        defer { host.close() }
        chmod(dir, 0o777)
        let sentinel = "trace-sentinel-\(UUID().uuidString.prefix(12))"
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = TestWorldKey.fixed.hex
        env["HOME"] = dir
        env["TRACE_SENTINEL"] = sentinel
        let root = RepoPaths.root
        let out = "\(dir)/nobody.json"
        let r = try CommandLineRun.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", RepoPaths.rigorBinary,
                                                           "run", "--agent", "\(root)/Agents/adversarial/trace_hostile_agent.py",
                                                           "--task", "filesystem_hidden_config@1", "--seed", "1", "--isolation", "namespace",
                                                           "--trace-endpoint", "--secret", "TRACE_SENTINEL", "--env", "HOST_PROBE=127.0.0.1:\(host.port)",
                                                           "--tasks-dir", "\(root)/Tasks", "--sdk-dir", "\(root)/Agents/sdk",
                                                           "--state-dir", "\(dir)/state", "--out", out], cwd: dir, environment: env)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let a = try Self.artifact(out)
        #expect(a["diagnostics"]?["guard"]?["separate_uid"] == false)
        #expect(a["diagnostics"]?["trace_endpoint"]?["url"] == "http://127.0.0.1:7707")
        try Self.checkHostile(a, level: "namespace", sentinel: sentinel, state: "\(dir)/state")

        // Every episode, not most: the user namespace joined is the one that owns the sandbox's
        // network (bwrap may have moved its child into a nested one by then: 1 in 5 failed so).
        let matrix = "\(dir)/matrix.json"
        try #"{"pairings": [{"name": "toy", "agent": "\#(root)/Agents/toy_agent.py", "task": "filesystem_hidden_config@1"}], "seeds": "0..15"}"#
            .write(toFile: matrix, atomically: true, encoding: .utf8)
        chmod(matrix, 0o644)
        let batch = try CommandLineRun.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", RepoPaths.rigorBinary,
                                                               "batch", "--from", matrix, "--workers", "3", "--isolation", "namespace", "--trace-endpoint",
                                                               "--tasks-dir", "\(root)/Tasks", "--sdk-dir", "\(root)/Agents/sdk", "--quiet",
                                                               "--state-dir", "\(dir)/state-batch"], cwd: dir, environment: env)
        #expect(batch.status == 0, "\(batch.stdout)\(batch.stderr)")
    }

    @Test("a baseline recorded with --trace-endpoint says so, and rigor ci offers the endpoint again and reproduces it; --policy is refused by baseline record")
    func baselinesKeepTheEndpoint() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-trace-baseline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairings = "\(dir)/pairings.json"
        try #"[{"name": "hostile", "agent": "Agents/adversarial/trace_hostile_agent.py", "task": "filesystem_hidden_config@1"}]"#
            .write(toFile: pairings, atomically: false, encoding: .utf8)
        let common = ["--pairings-file", pairings, "--state-dir", "\(dir)/state", "--isolation", "process"]
        let record = try CommandLineRun.rigor(["baseline", "record", "--pairings", "hostile", "--seeds", "0..1", "--baselines", "\(dir)/b",
                                               "--trace-endpoint", "--quiet"] + common)
        #expect(record.status == 0, "\(record.stdout)\(record.stderr)")
        let document = try Self.artifact("\(dir)/b/hostile/seed-0.json")
        #expect(document["trace_endpoint"] == true)
        let ci = try CommandLineRun.rigor(["ci", "--baselines", "\(dir)/b", "--state-dir", "\(dir)/state-ci", "--isolation", "process",
                                           "--pairings-file", pairings])
        #expect(ci.status == 0, "\(ci.stdout)\(ci.stderr)")
        let policy = try CommandLineRun.rigor(["baseline", "record", "--pairings", "hostile", "--seeds", "0", "--baselines", "\(dir)/b2",
                                               "--policy", "Tasks/approval_gated_cleanup/policy.toml"] + common)
        #expect(policy.status == 2)
        #expect(policy.stderr.contains("--policy is not recorded in baselines"), "\(policy.stderr)")
    }
}
