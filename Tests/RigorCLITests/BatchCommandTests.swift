import Foundation
import RigorAgentHost
import RigorSpec
import RigorTestSupport
import Testing

@Suite("rigor batch")
struct BatchCommandTests {
    func pairingsFile(_ entries: [(String, String)], in dir: String) throws -> String {
        let list: JSON = .array(entries.map { ["name": .string($0.0), "agent": .string($0.1), "task": "filesystem_hidden_config@1"] })
        let path = "\(dir)/pairings.json"
        try Data(try list.prettyBytes()).write(to: URL(fileURLWithPath: path))
        return path
    }

    func batch(_ args: [String], dir: String) throws -> (CommandResult, JSON) {
        let r = try CommandLineRun.rigor(["batch", "--json", "--state-dir", "\(dir)/state"] + args)
        return (r, try JSON.parse(r.stdout))
    }

    /// An episode's artifact, from the store of `batch(_:dir:)` (runs are not written as files).
    func stored(_ episode: JSON, dir: String) throws -> JSON {
        try StoredRuns.artifact(try #require(episode["run_id"]?.stringValue), stateDirectory: "\(dir)/state")
    }

    func hashes(_ summary: JSON) -> [String: String] {
        var out: [String: String] = [:]
        for e in summary["episodes"]?.arrayValue ?? [] {
            out["\(e["pairing"]?.stringValue ?? "")#\(e["seed"]?.intValue ?? -1)"] = e["artifact_hash"]?.stringValue
        }
        return out
    }

    @Test("a batch's artifacts are identical whatever the worker count; the summary has intervals and percentiles")
    func workersDoNotMatter() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try pairingsFile([("toy", "Agents/toy_agent.py"), ("swift", RepoPaths.swiftAgent)], in: dir)
        let (r1, one) = try batch(["--pairings", "all", "--seeds", "0..7", "--workers", "1", "--pairings-file", file], dir: dir)
        let (r2, two) = try batch(["--pairings", "all", "--seeds", "0..7", "--workers", "2", "--pairings-file", file, "--strict-spec"], dir: dir)
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(one["total"] == 16 && one["passed"] == 16)
        #expect(hashes(one).count == 16)
        #expect(hashes(one) == hashes(two))
        let p = try #require(two["pairings"]?.arrayValue?.first)
        #expect(p["passed"] == 8 && p["total"] == 8)
        let ci = try #require(p["wilson_95"]?.arrayValue)
        #expect(ci.count == 2 && (ci[0].asDouble ?? 1) < 1 && ci[1].asDouble == 1)
        #expect(two["steps"]?["p50"] == 4)
        #expect(two["wall_s"]?["p95"] != nil)
        // Every episode is in the store, and no plain JSON file was written (runs_json is opt-in).
        for e in two["episodes"]?.arrayValue ?? [] {
            #expect(e["artifact_path"] == .null)
            #expect(try stored(e, dir: dir)["artifact_hash"] == e["artifact_hash"])
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/state/runs"))
    }

    @Test("fork bombs and memory hogs in the same batch leave a clean agent's artifacts unchanged")
    func noCrossEpisodeEffects() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The clean agent is the Swift one: it needs a millisecond of CPU where Python needs
        // tens, so a machine loaded by the rest of the suite (and the bombs) cannot turn its
        // start into an act timeout and fail the test for the wrong reason.
        let clean = try pairingsFile([("toy", RepoPaths.swiftAgent)], in: dir)
        let (_, reference) = try batch(["--pairings", "all", "--seeds", "0..16", "--workers", "2", "--act-timeout", "4", "--pairings-file", clean], dir: dir)
        // Copies under names of their own: the hostile-agent suite, running alongside, checks that
        // nothing mentioning fork_bomb.py or memory_hog.py outlives its own runs (and the fork
        // servers of this batch name their agents on their command lines).
        let bomb = "\(dir)/batch_bomb.py", hog = "\(dir)/batch_hog.py"
        try FileManager.default.copyItem(atPath: "\(RepoPaths.agents)/adversarial/fork_bomb.py", toPath: bomb)
        try FileManager.default.copyItem(atPath: "\(RepoPaths.agents)/adversarial/memory_hog.py", toPath: hog)
        let mixed = try pairingsFile([("toy", RepoPaths.swiftAgent), ("bomb", bomb), ("hog", hog)], in: dir)
        let (r, hostile) = try batch(["--pairings", "all", "--seeds", "0..16", "--workers", "2", "--act-timeout", "4",
                                      "--pairings-file", mixed], dir: dir)
        #expect(r.status == 1)
        #expect(hostile["total"] == 51)
        let toyHashes = hashes(hostile).filter { $0.key.hasPrefix("toy#") }
        #expect(toyHashes.count == 17)
        let toyFailures = (hostile["episodes"]?.arrayValue ?? []).filter { $0["pairing"] == "toy" && $0["success"] != true }
            .map { "seed \($0["seed"]?.intValue ?? -1): \($0["termination_reason"]?.stringValue ?? "?")" }
        #expect(toyHashes == hashes(reference), "toy episodes that failed: \(toyFailures)")
        #expect(hostile["pairings"]?.arrayValue?.first { $0["name"] == "toy" }?["passed"] == 17)
        #expect(ProcessTable.pids(commandLineContaining: "batch_bomb.py").isEmpty)
        #expect(ProcessTable.pids(commandLineContaining: "batch_hog.py").isEmpty)
    }

    /// A Python agent whose first action's intent names the CPUs it may run on, then its parent.
    static let cpuReporter = """
        import os

        class Agent:
            def reset(self, task):
                pass

            def observe(self, observation):
                pass

            def act(self):
                cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
                return {"type": "set_output", "args": {"key": "cpus", "value": cpus},
                        "intent": "cpus=%s parent=%d" % (cpus, os.getppid())}
        """

    @Test("with a worker per CPU, each worker and every agent it starts (exec'd or forked from a server of its own) runs on a CPU of its own; --no-pin, or fewer workers, leaves them anywhere",
          .enabled(if: (2...8).contains(CPUPlacement.allowedCPUs().count), "needs 2 to 8 CPUs"))
    func workersArePinned() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch-pin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agent = "\(dir)/cpu_reporter.py"
        try Data(BatchCommandTests.cpuReporter.utf8).write(to: URL(fileURLWithPath: agent))
        let file = try pairingsFile([("cpus", agent)], in: dir)
        let allowed = CPUPlacement.allowedCPUs()
        /// The summary, and each episode's "cpus=… parent=…".
        func agentCPUs(_ extra: [String]) throws -> (summary: JSON, seen: [String]) {
            let (r, summary) = try batch(["--pairings", "all", "--seeds", "0..7", "--workers", "\(allowed.count)", "--pairings-file", file] + extra, dir: dir)
            #expect(r.status == 1, "the agent's answer is wrong on purpose: \(r.stderr)")
            var seen: [String] = []
            for e in summary["episodes"]?.arrayValue ?? [] {
                let artifact = try stored(e, dir: dir)
                seen.append(artifact["action_trace"]?.arrayValue?.first?["intent"]?.stringValue ?? "no intent")
            }
            #expect(seen.count == 8, "\(summary)")
            return (summary, seen)
        }
        let plan = allowed
        func cpus(_ seen: [String]) -> Set<String> { Set(seen.map { String($0.split(separator: " ")[0]) }) }
        for launch in [[], ["--isolation", "process"], ["--isolation", "process", "--no-fork-server"]] {
            let (summary, seen) = try agentCPUs(launch)
            #expect(summary["pinned_cpus"] == .array(plan.map(JSON.int)), "\(launch)")
            // Every agent ran on one worker's CPU (on two CPUs, each worker's had agents).
            #expect(cpus(seen).isSubset(of: Set(plan.map { "cpus=\($0)" })), "\(launch): \(seen)")
            if plan.count == 2 { #expect(cpus(seen).count == 2, "\(launch): \(seen)") }
            if launch == ["--isolation", "process"] {
                // Forked: each worker's agents come from a server of its own (on its CPU).
                let parents = Set(seen.map { $0.split(separator: " ").last.map(String.init) ?? "" })
                #expect(parents.count == cpus(seen).count && Set(seen).count == parents.count, "one server per worker: \(seen)")
            }
        }
        let (free, seen) = try agentCPUs(["--no-pin"])
        #expect(free["pinned_cpus"] == .null)
        #expect(cpus(seen) == ["cpus=" + allowed.map(String.init).joined(separator: ",")], "\(seen)")
        // Fewer workers than CPUs, or more: the scheduler places them.
        let (_, fewer) = try batch(["--pairings", "all", "--seeds", "0..3", "--workers", "\(allowed.count - 1)", "--pairings-file", file], dir: dir)
        #expect(fewer["pinned_cpus"] == .null)
        let (_, crowded) = try batch(["--pairings", "all", "--seeds", "0..\(allowed.count + 1)", "--workers", "\(allowed.count + 1)", "--pairings-file", file], dir: dir)
        #expect(crowded["pinned_cpus"] == .null)
    }

    @Test("a native agent that is its own fork server gives the same artifacts as exec'd, and its children are reaped")
    func nativeForkServer() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch-native-fork")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try pairingsFile([("swift", RepoPaths.swiftAgent)], in: dir)
        let common = ["--pairings", "all", "--seeds", "0..11", "--workers", "2", "--isolation", "process", "--pairings-file", file]
        let (r1, exec) = try batch(common, dir: dir)
        let (r2, forked) = try batch(common + ["--fork-server"], dir: dir)
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(hashes(forked).count == 12)
        #expect(hashes(forked) == hashes(exec))
        var uids: Set<Int> = []
        for e in forked["episodes"]?.arrayValue ?? [] {
            let artifact = try stored(e, dir: dir)
            #expect(artifact["diagnostics"]?["agent"]?["launched_by"] == "fork_server")
            #expect(artifact["diagnostics"]?["agent"]?["exit_status"]?["code"] == 0)
            if let uid = artifact["diagnostics"]?["agent"]?["uid"]?.intValue { uids.insert(uid) }
        }
        // The server is agent code: as root, Rigor runs it (and so its children) under a uid of
        // its own, never as root; nothing of that uid outlives the runner. A batch that pins its
        // workers starts a server for each.
        if geteuid() == 0 {
            let servers = forked["pinned_cpus"]?.arrayValue?.count ?? 1
            #expect((1...servers).contains(uids.count) && !uids.contains(0), "\(uids)")
            for uid in uids { #expect(ProcessTable.pids(ownedBy: uid).isEmpty) }
        }
        // The server leaves with the runner (it ends when its control socket closes).
        var left = ProcessTable.pids(commandLineContaining: "--rigor-fork-server")
        for _ in 0..<40 where !left.isEmpty {
            usleep(50_000)
            left = ProcessTable.pids(commandLineContaining: "--rigor-fork-server")
        }
        #expect(left.isEmpty)
    }

    @Test("--fork-server with a program that does not speak the protocol fails fast and says so")
    func nativeForkServerRefused() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch-no-fork")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // It mentions the flag (so Rigor tries it as a fork server) but exits at once, no hello.
        let script = "\(dir)/pretender.sh"
        try "#!/bin/sh\n# claims --rigor-fork-server but does not speak rigor-fork/1\nexit 0\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        // And a program that never mentions it runs exec'd as usual, --fork-server or not.
        let file = try pairingsFile([("pretender", script), ("plain", "Agents/adversarial/flood_stdout")], in: dir)
        // Timed alone (the flooding agent's episodes take what a loaded machine gives them): four
        // episodes of it, where even one wait for the 10 s hello timeout would show.
        let started = Date()
        let (alone, _) = try batch(["--pairings", "pretender", "--seeds", "0..3", "--isolation", "process", "--fork-server",
                                    "--pairings-file", file], dir: "\(dir)/alone")
        #expect(Date().timeIntervalSince(started) < 8, "a refused server must not cost its hello timeout per episode")
        #expect(alone.status == 1)
        let (r, summary) = try batch(["--pairings", "all", "--seeds", "0..3", "--isolation", "process", "--fork-server",
                                      "--pairings-file", file], dir: dir)
        #expect(r.status == 1)
        #expect(summary["passed"] == 0)
        #expect(summary["total"] == 8)
        for e in summary["episodes"]?.arrayValue ?? [] {
            let artifact = try stored(e, dir: dir)
            if e["pairing"] == "pretender" {
                #expect(artifact["termination_reason"] == "agent_exited")
                #expect(artifact["failure_reason"]?.stringValue?.contains("did not start as a fork server") == true,
                        "\(artifact["failure_reason"] ?? .null)")
            } else {
                #expect(artifact["termination_reason"] == "protocol_error")
                #expect(artifact["diagnostics"]?["agent"]?["launched_by"] == "exec")
            }
        }
    }

    @Test("a fork server that cannot jail its children: batches exec the agents instead; --fork-server says why")
    func jailRefusedFallsBack() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch-jail-refused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An SDK whose fork server says, in its hello, that it cannot make namespaces.
        let sdk = "\(dir)/sdk"
        try FileManager.default.createDirectory(atPath: sdk, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: "Agents/sdk") where f.hasSuffix(".py") && f != "fork_server.py" {
            try FileManager.default.copyItem(atPath: "Agents/sdk/\(f)", toPath: "\(sdk)/\(f)")
        }
        try """
            import json, os, socket
            events = socket.socket(fileno=1)
            events.send(json.dumps({"hello": "rigor-fork/1", "pid": os.getpid(), "error": "PermissionError: simulated"}).encode())
            while os.read(0, 4096):
                pass
            """.write(toFile: "\(sdk)/fork_server.py", atomically: true, encoding: .utf8)
        let file = try pairingsFile([("toy", "Agents/toy_agent.py")], in: dir)
        let level = HostileAgentTests.bwrapWorks ? "namespace" : "process"
        let common = ["--pairings", "all", "--seeds", "0..3", "--isolation", level, "--sdk-dir", sdk, "--pairings-file", file]
        let (r1, fallback) = try batch(common, dir: dir)
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(fallback["passed"] == 4)
        for e in fallback["episodes"]?.arrayValue ?? [] {
            let artifact = try stored(e, dir: dir)
            #expect(artifact["diagnostics"]?["agent"]?["launched_by"] == "exec")
        }
        let (r2, forced) = try batch(common + ["--fork-server"], dir: "\(dir)/forced")
        #expect(r2.status == 1)
        for e in forced["episodes"]?.arrayValue ?? [] {
            let artifact = try stored(e, dir: "\(dir)/forced")
            #expect(artifact["failure_reason"]?.stringValue?.contains("cannot serve here: PermissionError: simulated") == true,
                    "\(artifact["failure_reason"] ?? .null)")
        }
    }

    @Test("bad batch input exits 2 and says what to do", arguments: [
        (["batch", "--pairings", "nope", "--seeds", "0..3"], "no pairing named 'nope'"),
        (["batch", "--pairings", "all", "--seeds", "3..1"], "0..99"),
        (["batch", "--pairings", "all"], "--seeds"),
        (["batch", "--pairings", "all", "--seeds", "x"], "not an integer"),
        (["batch", "--pairings", "all", "--seeds", "0..2", "--workers", "0"], "--workers"),
        (["batch"], "give --pairings and --seeds, or --from FILE"),
    ])
    func badInput(args: [String], message: String) throws {
        let r = try CommandLineRun.rigor(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }
}

extension JSON {
    var asDouble: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
}

@Suite("Batch determinism over the whole suite")
struct SuiteDeterminismTests {
    /// The failed episodes with their reasons, for messages.
    static func failures(_ episodes: [JSON], state: String) -> [String] {
        episodes.filter { $0["passed"] != true }.map { e in
            let artifact = e["run_id"]?.stringValue.flatMap { try? StoredRuns.artifact($0, stateDirectory: state) }
            return "\(e["pairing"]?.stringValue ?? "?")#\(e["seed"]?.intValue ?? -1): \(e["termination_reason"]?.stringValue ?? "?") "
                + "\(artifact?["failure_reason"]?.stringValue ?? "") \(artifact?["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue.map { String($0.suffix(300)) } ?? "")"
        }
    }

    // A generous act timeout: the rest of the suite (fork bombs included) runs alongside.
    @Test("every pairing: the same artifacts with 1 worker and with 2 (and so in any order)")
    func allPairingsAnyWorkers() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-batch-all")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func hashes(_ workers: String, _ extra: [String] = []) throws -> [String: String] {
            let state = "\(dir)/state-\(workers)-\(extra.count)"
            let r = try CommandLineRun.rigor(["batch", "--pairings", "all", "--seeds", "0..2", "--workers", workers, "--json",
                                              "--act-timeout", "30", "--state-dir", state] + extra)
            #expect(r.status == 0, "\(extra): \(SuiteDeterminismTests.failures((try? JSON.parse(r.stdout))?["episodes"]?.arrayValue ?? [], state: state)) \(r.stderr)")
            var out: [String: String] = [:]
            for e in try JSON.parse(r.stdout)["episodes"]?.arrayValue ?? [] {
                out["\(e["pairing"]?.stringValue ?? "")#\(e["seed"]?.intValue ?? -1)"] = e["artifact_hash"]?.stringValue
            }
            return out
        }
        let one = try hashes("1")
        let two = try hashes("2")
        #expect(one.count >= 33)
        #expect(one == two)
        // Batches fork Python agents from the SDK's server by default (at the namespace level a
        // jailed one, namespaces per child): the same artifacts as starting each in bwrap.
        #expect(one == (try hashes("2", ["--no-fork-server"])))
        // Where workers and agents run is a matter of speed only.
        #expect(one == (try hashes("2", ["--no-pin"])))
        // The fork server is only a faster way to start the same agent: same artifacts as exec.
        func processHashes(_ extra: [String]) throws -> [String: String] {
            let state = "\(dir)/state-p\(extra.joined())"
            let r = try CommandLineRun.rigor(["batch", "--pairings", "all", "--seeds", "0..2", "--json", "--isolation", "process",
                                              "--act-timeout", "30", "--state-dir", state] + extra)
            let episodes = try JSON.parse(r.stdout)["episodes"]?.arrayValue ?? []
            #expect(r.status == 0, "\(extra): \(SuiteDeterminismTests.failures(episodes, state: state)) \(r.stderr)")
            var out: [String: String] = [:]
            for e in episodes {
                out["\(e["pairing"]?.stringValue ?? "")#\(e["seed"]?.intValue ?? -1)"] = e["artifact_hash"]?.stringValue
            }
            return out
        }
        let exec = try processHashes(["--no-fork-server"])
        #expect(exec.count == one.count)
        #expect(exec == (try processHashes([])))
        #expect(exec == (try processHashes(["--fork-server"])))
    }
}
