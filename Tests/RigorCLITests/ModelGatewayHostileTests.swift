import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// Agents and upstreams that attack or fail the model gateway (spec/model-gateway.md §5, §10):
/// the sandbox keeps the upstream out of reach, oversized bodies, floods and slow senders are
/// refused or cut off by the episode's own limits, budgets end the episode with their own
/// reasons, a replay without a tape reaches nothing, an upstream's failure reaches the agent as
/// such, and bad flags are usage errors that say what is wrong.
@Suite("Model gateway: hostile agents, failing upstreams, bad flags", .serialized)
struct ModelGatewayHostileTests {
    /// What every hostile agent shares: one attack at its first act(), reported on a line
    /// `<MARKER> {json}`; then harmless list_dir actions until the episode ends.
    static func agent(_ marker: String, attack: String) -> String {
        """
        import http.client, json, os, socket, sys, time, urllib.parse

        GATEWAY = urllib.parse.urlparse(os.environ.get("RIGOR_MODEL_URL", "http://127.0.0.1:1"))

        def call(conn, body, path="/v1/chat/completions"):
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            try:
                kind = json.loads(data).get("error", {}).get("type")
            except Exception:
                kind = None
            return r.status, kind

        def connect():
            return http.client.HTTPConnection(GATEWAY.hostname, GATEWAY.port, timeout=30)

        def attack():
        \(attack.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }.joined(separator: "\n"))

        class Agent:
            def reset(self, task):
                self.done = False
            def observe(self, obs):
                pass
            def act(self):
                if not self.done:
                    self.done = True
                    report = attack()
                    sys.stderr.write("\(marker) %s\\n" % json.dumps(report))
                    sys.stderr.flush()
                return {"type": "list_dir", "args": {"path": "/app"}}
        """
    }

    static let smallCall = #"json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})"#

    // MARK: - Reach

    @Test("at the namespace level the agent reaches the gateway and not the upstream's port on the host (at the process level, where the host's loopback is shared, the same probe reaches it)",
          arguments: ["namespace", "process"])
    func onlyTheGatewayIsReachable(level: String) throws {
        if level == "namespace" && !Facility.bwrapWorks { #expect(Facility.mayLack("bwrap namespaces (the namespace level)")); return }
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let probe = Self.agent("REACH", attack: """
            out = {}
            try:
                socket.create_connection(("127.0.0.1", \(upstream.port)), timeout=2).close()
                out["upstream"] = "reached"
            except OSError as e:
                out["upstream"] = "blocked: %s" % e
            out["gateway"] = call(connect(), \(Self.smallCall))[0]
            return out
            """)
        let project = try ModelProject.make("reach", upstream: upstream, agents: ["probe": probe])
        defer { project.remove() }
        let (_, a) = try project.run("probe", seed: 1, ["--models", "live", "--isolation", level])
        let report = try ModelProject.report(a, "REACH")
        #expect(report["gateway"] == 200, "\(report)")
        if level == "namespace" {
            #expect(report["upstream"]?.stringValue?.hasPrefix("blocked") == true, "\(report)")
        } else {
            #expect(report["upstream"] == "reached", "the probe works: \(report)")
        }
        #expect(upstream.log().count == 1, "the gateway's call only")
    }

    // MARK: - Size, floods, slow senders

    @Test("a body of exactly 8 MiB is forwarded; one byte more is refused 413 before it is read, and the gateway answers the next call")
    func anOversizedBodyIsRefused() throws {
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let big = Self.agent("SIZE", attack: """
            limit = 8 << 20
            def body(size):
                head = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "'
                tail = '"}]}'
                # "~" starts no secret or pattern hint: the redactor's scan of the tape stays cheap.
                return (head + "~" * (size - len(head) - len(tail)) + tail).encode()
            out = {"exact": call(connect(), body(limit))[0]}
            s = socket.create_connection((GATEWAY.hostname, GATEWAY.port), timeout=10)
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % (limit + 1))
            s.settimeout(10)
            out["over"] = s.recv(64).decode("latin-1").split("\\r\\n")[0]
            s.close()
            out["after"] = call(connect(), \(Self.smallCall))[0]
            return out
            """)
        let project = try ModelProject.make("size", upstream: upstream, agents: ["big": big])
        defer { project.remove() }
        let (_, a) = try project.run("big", seed: 1, ["--models", "record", "--act-timeout", "60"])
        let report = try ModelProject.report(a, "SIZE")
        #expect(report["exact"] == 200, "\(report)")
        #expect(report["over"] == "HTTP/1.1 413 Payload Too Large", "\(report)")
        #expect(report["after"] == 200, "\(report)")
        #expect(a["models"]?["calls"] == 2, "the refused request is no call")
        #expect(upstream.log().map { $0["body_bytes"]?.intValue ?? 0 }.max() == 8 << 20)
        let verify = try project.rigor(["verify", "--strict-spec", a["run_id"]?.stringValue ?? "?"])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    static func flood(_ count: Int) -> String {
        agent("FLOOD", attack: """
            counts, kinds, conn = {}, [], connect()
            started = time.time()
            body = \(smallCall)
            for i in range(\(count)):
                try:
                    status, kind = call(conn, body)
                except Exception as e:
                    status, kind, conn = type(e).__name__, None, connect()
                counts[str(status)] = counts.get(str(status), 0) + 1
                if status != 200 and kind not in kinds:
                    kinds.append(kind)
            return {"counts": counts, "kinds": kinds, "seconds": time.time() - started}
            """)
    }

    @Test("10,000 calls against [models] calls = 50: 50 reach the upstream, every later one is refused 429 at once, and the episode ends model_calls_exhausted (budget_exhausted)")
    func aCallBudgetStopsAFlood() throws {
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("flood", upstream: upstream, agents: ["flood": Self.flood(10_000)], taskModels: "calls = 50")
        defer { project.remove() }
        let started = Date()
        let (_, a) = try project.run("flood", seed: 1, ["--models", "record", "--act-timeout", "60"])
        let elapsed = Date().timeIntervalSince(started)
        let report = try ModelProject.report(a, "FLOOD")
        #expect(report["counts"] == ["200": 50, "429": 9_950], "\(report)")
        #expect(report["kinds"] == ["budget_exhausted", "rigor_episode_over"], "the 51st call is the one refused for the budget: \(report)")
        #expect(a["termination_reason"] == "model_calls_exhausted")
        #expect(a["failure_type"] == "budget_exhausted")
        #expect(a["failure_reason"]?.stringValue?.contains("model-call budget (50)") == true, "\(a["failure_reason"] ?? .null)")
        #expect(a["models"]?["calls"] == 50)
        #expect(a["models"]?["budgets"]?["calls"] == 50)
        #expect(upstream.log().count == 50)
        #expect(elapsed < 30, "\(elapsed) s")
        let verify = try project.rigor(["verify", "--strict-spec", a["run_id"]?.stringValue ?? "?"])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("1,000 calls with no budget: all answered, the episode ends by its own budgets, the artifact is valid and the 1,000-call tape replays")
    func anUnbudgetedFloodLeavesTheRunnerWhole() throws {
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("flood2", upstream: upstream, agents: ["flood": Self.flood(1_000)])
        defer { project.remove() }
        let (_, a) = try project.run("flood", seed: 1, ["--models", "record", "--act-timeout", "60"])
        let report = try ModelProject.report(a, "FLOOD")
        #expect(report["counts"] == ["200": 1_000], "\(report)")
        #expect(a["termination_reason"] == "tool_calls_exhausted")
        #expect(a["models"]?["calls"] == 1_000)
        #expect(a["models"]?["exchanges"] == 1_000)
        let id = a["run_id"]?.stringValue ?? "?"
        let verify = try project.rigor(["verify", "--strict-spec", id])
        #expect(verify.status == 0, "\(verify.stdout)")
        upstream.stop()
        let (_, replay) = try project.replay(id)
        #expect(replay["status"] == "reproduced", "\(replay)")
    }

    /// A task of filesystem_hidden_config@1 with a 3-second wall clock.
    static let shortWallClock = 3

    @Test("a slowloris agent (one byte a second to the gateway) does not keep the episode past its wall-clock budget")
    func aSlowSenderDoesNotOutliveTheWallClock() throws {
        let slow = Self.agent("SLOW", attack: """
            s = socket.create_connection((GATEWAY.hostname, GATEWAY.port), timeout=5)
            request = b"POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 100000\\r\\n\\r\\n" + b"x" * 100000
            for i in range(len(request)):
                s.sendall(request[i:i + 1])
                time.sleep(1)
            return {"finished": True}
            """)
        let project = try ModelProject.make("slowloris", upstream: nil, agents: ["slow": slow], wallClockSeconds: Self.shortWallClock)
        defer { project.remove() }
        let started = Date()
        let (_, a) = try project.run("slow", seed: 1, ["--models", "live", "--act-timeout", "60"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(a["termination_reason"] == "wall_clock_exhausted")
        #expect(elapsed < Double(Self.shortWallClock) + 7, "\(elapsed) s")
        #expect(a["models"]?["calls"] == 0)
    }

    @Test("an upstream that does not answer (slow:1:60000) does not keep the episode past its wall-clock budget; the cut call is counted as an upstream failure",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)))
    func aSilentUpstreamDoesNotOutliveTheWallClock() throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream(faults: ["slow:1:60000"])
        defer { upstream.stop() }
        let project = try ModelProject.make("silent", upstream: upstream, wallClockSeconds: Self.shortWallClock)
        defer { project.remove() }
        let started = Date()
        let (_, a) = try project.run("openai", seed: 0, ["--models", "record", "--act-timeout", "60"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(a["termination_reason"] == "wall_clock_exhausted")
        #expect(elapsed < Double(Self.shortWallClock) + 7, "\(elapsed) s")
        #expect(a["diagnostics"]?["models"]?["upstream_failures"] == 1)
        let verify = try project.rigor(["verify", "--strict-spec", a["run_id"]?.stringValue ?? "?"])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    // MARK: - Budgets, replay without a tape, upstream faults

    @Test("a token budget in the task's [models] ends the episode model_tokens_exhausted (budget_exhausted) at the call that crossed it",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)),
          arguments: ["output_tokens = 5", "input_tokens = 100"])
    func aTokenBudgetEndsTheEpisode(budget: String) throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("tokens", upstream: upstream, taskModels: budget)
        defer { project.remove() }
        let (r, a) = try project.run("openai", seed: 0, ["--models", "record"])
        #expect(r.status == 1)
        let (key, limit) = (String(budget.split(separator: " ")[0]), Int(budget.split(separator: " ")[2]) ?? 0)
        #expect(a["termination_reason"] == "model_tokens_exhausted", "\(a["failure_reason"] ?? .null)")
        #expect(a["failure_type"] == "budget_exhausted")
        #expect(a["models"]?["budgets"]?[key] == .int(limit))
        #expect((a["models"]?[key]?.intValue ?? 0) > limit)
        #expect(a["models"]?["calls"] == 1, "the first call crossed it")
        #expect(a["steps_used"] == 0, "the step whose call crossed it is not applied")
        // The recording replays to the same end (once is enough).
        if key == "output_tokens" {
            let (_, replay) = try project.replay(a["run_id"]?.stringValue ?? "?")
            #expect(replay["status"] == "reproduced", "\(replay)")
        }
    }

    @Test("--models replay with no tape: the agent's first call ends the episode model_request_unrecorded, and the upstream named in rigor.toml is never reached",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)))
    func replayWithoutATapeReachesNothing() throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("notape", upstream: upstream)
        defer { project.remove() }
        let (r, a) = try project.run("anthropic", seed: 0, ["--models", "replay"], environment: ["ANTHROPIC_API_KEY": "sk-test-x"])
        #expect(r.status == 1)
        #expect(a["termination_reason"] == "model_request_unrecorded")
        #expect(a["failure_reason"]?.stringValue?.contains("step 1: the agent made a model call (POST /v1/messages) in replay, and the run has no tape") == true,
                "\(a["failure_reason"] ?? .null)")
        #expect(a["models"]?["tape"] == .null)
        #expect(a["diagnostics"]?["models"]?["mode"] == "replay")
        #expect(upstream.log().isEmpty)
    }

    @Test("an upstream fault reaches the agent as it came: a 500 as the provider's error (the SDK raises, the agent exits), an answer cut halfway (plain or streamed) or garbled as received; each run ends in a valid artifact and replays from its tape",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)),
          arguments: [("status:2:500", 0), ("drop:2", 0), ("drop:2", 1), ("garbage:2", 2)])
    func anUpstreamFaultReachesTheAgent(fault: String, seed: Int) throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream(faults: [fault])
        defer { upstream.stop() }
        let project = try ModelProject.make("fault", upstream: upstream)
        defer { project.remove() }
        let (_, a) = try project.run("openai", seed: seed, ["--models", "record"])
        let tape = try ModelTapeStore(stateDirectory: project.state).get(try #require(a["models"]?["tape"]?.stringValue))
        #expect(tape.exchanges.count >= 2)
        #expect(a["diagnostics"]?["models"]?["upstream_failures"] == 0, "an answer came (its head did): no transport failure")
        let second = try #require(tape.exchanges.dropFirst().first)
        let text = String(decoding: second.response, as: UTF8.self)
        switch fault {
        case "status:2:500":
            #expect(a["termination_reason"] == "agent_exited")
            #expect(ModelProject.agentLog(a).contains("InternalServerError: Error code: 500"), "\(ModelProject.agentLog(a).suffix(800))")
            #expect(tape.exchanges.map(\.status) == [200, 500])
        case "drop:2" where seed == 0:
            #expect(a["termination_reason"] == "agent_exited", "the SDK cannot read half a JSON answer")
            #expect(second.status == 200 && (try? JSON.parse(second.response)) == nil, "taped as received: \(text)")
        case "drop:2":
            // Half a stream, passed on as it came: the agent reads no action in it and goes on.
            #expect(second.streamed)
            #expect(text.hasPrefix("data: {") && !text.contains("[DONE]"), "taped as received: \(text)")
        default:
            #expect(a["termination_reason"] == "agent_exited", "the SDK cannot read a garbled answer")
            #expect(text.contains("<not json"), "taped as received: \(text)")
        }
        let id = a["run_id"]?.stringValue ?? "?"
        let verify = try project.rigor(["verify", "--strict-spec", id])
        #expect(verify.status == 0, "\(verify.stdout)")
        upstream.stop()
        let (_, replay) = try project.replay(id)
        #expect(replay["status"] == "reproduced", "\(replay)")
    }

    // MARK: - Flags and rigor.toml

    @Test("bad --models, --model-upstream and --continue values, and a bad [models] table, are usage errors (exit 2) that name what is wrong",
          arguments: [
            (["run", "--agent", "x.py", "--task", "filesystem_hidden_config@1", "--models", "banana"], "--models must be one of: live, record, replay (got 'banana')"),
            (["run", "--agent", "x.py", "--task", "filesystem_hidden_config@1", "--model-upstream", "foo=bar"], "'foo' is no provider Rigor knows; use anthropic or openai"),
            (["run", "--agent", "x.py", "--task", "filesystem_hidden_config@1", "--model-upstream", "openai=bar"], "--model-upstream openai: 'bar' is not an http:// or https:// URL with a host"),
            (["run", "--agent", "x.py", "--task", "filesystem_hidden_config@1", "--model-upstream", "openai"], "--model-upstream takes PROVIDER=URL"),
            (["run", "--agent", "x.py", "--task", "filesystem_hidden_config@1", "--model-upstream", "openai=http://h/v1?x=1"], "must not carry a query or a fragment"),
            (["run", "--agent", "x.py", "--task", "filesystem_hidden_config@1", "--model-upstream", "openai=http://user:sk-test-x@127.0.0.1:1"],
             "must not carry credentials"),
            (["batch", "--pairings", "all", "--seeds", "0", "--models", "banana"], "--models must be one of: live, record, replay (got 'banana')"),
            (["replay", "latest", "--models", "banana"], "--models must be one of: live, record, replay (got 'banana')"),
            (["replay", "latest", "--model-upstream", "foo=http://h"], "'foo' is no provider Rigor knows"),
            (["fork", "latest", "--call", "1", "--response", "x", "--continue", "banana"], "--continue must be one of: record, live, replay (got 'banana')"),
            (["blame", "latest", "--against", "x", "--model-upstream", "foo=bar"], "'foo' is no provider Rigor knows"),
            (["fork", "latest", "--response", "x"], "give exactly one of --at STEP and --call N"),
          ])
    func badFlagsAreUsageErrors(arguments: [String], message: String) throws {
        let r = try CommandLineRun.rigor(arguments + ["--state-dir", NSTemporaryDirectory() + "rigor-models-flags-\(UUID().uuidString.prefix(6))"])
        #expect(r.status == 2, "\(arguments): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        #expect(!r.stderr.contains("sk-test-x"), "a credential is not repeated: \(r.stderr)")
    }

    @Test("a [models] table with a bad mode, an unknown provider, a bad URL, a key given in place of its variable, or a bad matcher is refused naming the key",
          arguments: [
            ("[models]\nmode = \"banana\"", "models.mode"),
            ("[models.upstreams]\nfoo = \"http://127.0.0.1:1\"", "models.upstreams.foo"),
            ("[models.upstreams]\nopenai = \"ftp://x\"", "models.upstreams.openai"),
            ("[models.keys]\nopenai = \"\"", "models.keys.openai"),
            ("[models]\nignore = [\"metadata..x\"]", "models.ignore"),
            ("[models]\nbanana = 1", "banana"),
            ("[models.upstreams]\nopenai = \"https://user:sk-test-x@proxy.example\"", "models.upstreams.openai"),
          ])
    func aBadModelsTableIsRefused(table: String, key: String) throws {
        let root = RepoPaths.temporaryDirectory("rigor-models-toml")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "[project]\nformat = \"rigor-project/1\"\ntasks = \"\(RepoPaths.tasks)\"\n\n\(table)\n".write(toFile: "\(root)/rigor.toml", atomically: true, encoding: .utf8)
        let r = try CommandLineRun.run(RepoPaths.rigorBinary, ["run", "--agent", "\(RepoPaths.agents)/toy_agent.py", "--task", "filesystem_hidden_config@1"],
                                       cwd: root, environment: ModelProject.environment())
        #expect(r.status == 2, "\(table): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(key) && r.stderr.contains("rigor.toml"), "\(table): \(r.stderr)")
        #expect(!r.stderr.contains("sk-test-x"), "a credential is not repeated: \(r.stderr)")
    }
}
