import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// The model gateway through the built `rigor` (issue 18, spec/model-gateway.md): the unmodified
/// openai and anthropic SDKs reach an offline fake upstream only through the gateway; what is
/// recorded replays with the upstream gone, from the store and from a bundle; a changed prompt
/// or a volatile field shows where the request differs, and a matcher makes the latter replay;
/// the provider key never reaches the agent or anything Rigor writes.
@Suite("Model gateway: record, replay, bundles, keys", .serialized)
struct ModelGatewayTests {
    static let keys = ["OPENAI_API_KEY": "sk-test-openai-key", "ANTHROPIC_API_KEY": "sk-test-anthropic-key"]

    /// Runs `body` for each index, two at a time (the machine has two cores; each is a process).
    static func inPairs<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let box = ResultBox<T>(count)
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for i in stride(from: lane, to: count, by: 2) { box.set(i, Result { try body(i) }) }
        }
        return box.all()
    }

    @Test("both SDKs, streamed and not, recorded through a batch at the namespace level; with the upstream gone every run replays, and every bundle replays, to the recorded artifact_hash; the artifacts pass verify --strict-spec",
          .enabled(if: Facility.needed(ModelProject.python != nil && Facility.bwrapWorks, "\(ModelProject.needsSDKs) and bwrap namespaces")))
    func aRecordedBatchReplaysOffline() throws {
        try #require(ModelProject.python != nil && Facility.bwrapWorks, "\(ModelProject.needsSDKs) and bwrap namespaces are needed")
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("batch", upstream: upstream)
        defer { project.remove() }
        let (batch, summary) = try project.json(["batch", "--pairings", "all", "--seeds", "0..3", "--models", "record", "--quiet"],
                                                environment: Self.keys)
        #expect(batch.status == 0, "\(batch.stdout) \(batch.stderr)")
        let episodes = summary["episodes"]?.arrayValue ?? []
        #expect(episodes.count == 8)
        #expect(episodes.allSatisfy { $0["passed"] == true }, "\(episodes)")

        // The upstream saw every API the agents speak, each streamed and not, with the runner's key.
        let log = upstream.log()
        let kinds = Set(log.map { "\($0["path"]?.stringValue ?? "?") stream=\($0["stream"]?.boolValue ?? false)" })
        #expect(kinds == ["/v1/chat/completions stream=false", "/v1/chat/completions stream=true", "/v1/responses stream=false",
                          "/v1/responses stream=true", "/v1/messages stream=false", "/v1/messages stream=true"])
        #expect(log.count == 24, "8 episodes of 3 model calls")
        for entry in log {
            let anthropic = entry["path"]?.stringValue == "/v1/messages"
            #expect(entry["auth"]?.stringValue == (anthropic ? "sk-test-anthropic-key" : "Bearer sk-test-openai-key"), "\(entry)")
        }
        upstream.stop()

        // What each artifact says of its model calls, and the tape behind it.
        let tapes = ModelTapeStore(stateDirectory: project.state)
        var ids: [String] = []
        var hashes: [String: String] = [:]
        for e in episodes {
            let id = try #require(e["run_id"]?.stringValue)
            let seed = e["seed"]?.intValue ?? -1
            let anthropic = e["pairing"] == "anthropic"
            let a = try project.artifact(id)
            ids.append(id)
            hashes[id] = a["artifact_hash"]?.stringValue
            #expect(a["diagnostics"]?["guard"]?["isolation"] == "namespace")
            #expect(a["models"]?["calls"] == 3)
            #expect(a["models"]?["exchanges"] == 3)
            #expect((a["models"]?["input_tokens"]?.intValue ?? 0) > 0)
            #expect((a["models"]?["output_tokens"]?.intValue ?? 0) > 0)
            #expect(a["models"]?["budgets"] == ["calls": nil, "input_tokens": nil, "output_tokens": nil])
            let tapeHash = try #require(a["models"]?["tape"]?.stringValue)
            #expect(a["determinism"]?["tooling"]?["models"] == [[
                "provider": .string(anthropic ? "anthropic" : "openai"),
                "model": .string(anthropic ? "claude-3-5-haiku-latest" : "gpt-4o-mini"), "version": .string(tapeHash)]])
            #expect(a["diagnostics"]?["models"]?["mode"] == "record")
            #expect(a["diagnostics"]?["models"]?["tape_stored"] == true)
            #expect(a["diagnostics"]?["models"]?["url"] == .string("http://127.0.0.1:\(ModelGateway.sandboxPort)"))
            #expect(ModelAccount.cost(a["diagnostics"] ?? .null) > 0, "both models are in the standard price table")
            #expect(FileManager.default.fileExists(atPath: "\(project.state)/tapes/\(tapeHash.dropFirst(7)).tape"))
            let tape = try tapes.get(tapeHash)
            let target = anthropic ? "/v1/messages" : (seed % 4 < 2 ? "/v1/chat/completions" : "/v1/responses")
            let streamed = anthropic ? seed % 2 == 1 : seed % 2 == 1
            #expect(tape.exchanges.map(\.target) == Array(repeating: target, count: 3), "seed \(seed)")
            #expect(tape.exchanges.allSatisfy { $0.streamed == streamed && $0.status == 200 }, "seed \(seed)")
            #expect(tape.exchanges.map(\.step) == [1, 2, 3])
            #expect(tape.usage.outputTokens == a["models"]?["output_tokens"]?.intValue)
        }
        let verify = try project.rigor(["verify", "--strict-spec"] + ids)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")

        // The upstream is gone: the store's tapes and the bundles' answer every call.
        let bundles = RepoPaths.temporaryDirectory("rigor-models-bundles")
        defer { try? FileManager.default.removeItem(atPath: bundles) }
        let runIDs = ids
        let reports = Self.inPairs(runIDs.count) { i -> [JSON] in
            let id = runIDs[i]
            let replay = try project.json(["replay", id]).1
            let seal = try project.rigor(["bundle", "seal", id, "--out", "\(bundles)/\(id).rigorbundle"])
            guard seal.status == 0 else { return [replay, ["seal": .string(seal.stderr)]] }
            return [replay, try project.json(["bundle", "replay", "\(bundles)/\(id).rigorbundle"]).1]
        }
        for (id, result) in zip(ids, reports) {
            let pair = try result.get()
            for report in pair {
                #expect(report["status"] == "reproduced", "\(id): \(report)")
                #expect(report["replayed_hash"]?.stringValue == hashes[id], "\(id): \(report)")
                #expect(report["recorded_hash"]?.stringValue == hashes[id])
            }
        }
    }

    @Test("a sealed bundle carries the tape: the intact one verifies; a flipped byte in its tape, a tape edited under its name, or a missing tape fail Bundle.verify and `rigor bundle verify`",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)))
    func aBundlesTapeIsVerified() throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("bundle", upstream: upstream)
        defer { project.remove() }
        let (r, a) = try project.run("anthropic", seed: 1, ["--models", "record", "--isolation", "process"], environment: Self.keys)
        #expect(r.status == 0, "\(r.stderr)")
        let id = try #require(a["run_id"]?.stringValue)
        let file = "\(project.root)/run.rigorbundle"
        let seal = try project.rigor(["bundle", "seal", id, "--out", file])
        #expect(seal.status == 0, "\(seal.stderr)")
        let bundle = try RigorRunner.Bundle.read(file)
        #expect(bundle.verify() == [])
        #expect(bundle.manifest["models"]?["tape"] == a["models"]?["tape"])
        let tapeBytes = try #require(bundle.files[RigorRunner.Bundle.tapeFile])

        func check(_ label: String, _ change: (inout RigorRunner.Bundle) throws -> Void, mentions: String) throws {
            var broken = bundle
            try change(&broken)
            let problems = broken.verify()
            #expect(problems.contains { $0.contains(mentions) }, "\(label): \(problems)")
            let path = "\(project.root)/\(label).rigorbundle"
            try Data(try broken.encoded()).write(to: URL(fileURLWithPath: path))
            let verify = try project.rigor(["bundle", "verify", path])
            #expect(verify.status == 1, "\(label): \(verify.stdout) \(verify.stderr)")
            let replay = try project.rigor(["bundle", "replay", path])
            #expect(replay.status != 0, "\(label): a damaged bundle must not replay: \(replay.stdout)")
        }
        try check("flipped", { b in
            var bytes = tapeBytes
            bytes[bytes.count / 2] ^= 0x01
            b.files[RigorRunner.Bundle.tapeFile] = bytes
        }, mentions: "model tape")
        // A tape that decompresses and parses, but is not the one the artifact names.
        try check("edited", { b in
            var tape = try ModelTape.decode(tapeBytes, expectedHash: nil, what: "tape")
            tape.exchanges[0].usage.outputTokens += 1
            b.files[RigorRunner.Bundle.tapeFile] = try tape.encoded().bytes
        }, mentions: "does not hold the tape")
        try check("missing", { b in b.files[RigorRunner.Bundle.tapeFile] = nil }, mentions: "which the bundle does not hold")
    }

    // MARK: - Requests that differ from the recording

    /// The text of `PROMPT = """…"""` in a reference agent's source.
    static func prompt(in source: String) throws -> String {
        let start = try #require(source.range(of: "PROMPT = \"\"\""), "the agent has no PROMPT")
        let end = try #require(source.range(of: "\"\"\"", range: start.upperBound..<source.endIndex))
        return String(source[start.upperBound..<end.lowerBound])
    }

    @Test("one character of the prompt changed: replay refuses without --allow-changed; with it, the replay ends model_request_unrecorded and the report names the step, the field and the character where the request differs",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)))
    func aChangedPromptIsShownWhereItDiffers() throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("prompt", upstream: upstream)
        defer { project.remove() }
        let (r, a) = try project.run("openai", seed: 0, ["--models", "record"], environment: Self.keys)
        #expect(r.status == 0, "\(r.stderr)")
        let id = try #require(a["run_id"]?.stringValue)
        upstream.stop()

        // Upper-case the first lower-case letter past the prompt's 100th character.
        let file = "\(project.root)/agents/llm_openai_agent.py"
        let source = try String(contentsOfFile: file, encoding: .utf8)
        let prompt = try Self.prompt(in: source)
        let chars = Array(prompt)
        let at = try #require((100..<chars.count).first { chars[$0].isLowercase && chars[$0].isASCII })
        var changed = chars
        changed[at] = Character(chars[at].uppercased())
        try source.replacingOccurrences(of: prompt, with: String(changed)).write(toFile: file, atomically: true, encoding: .utf8)

        let (refused, refusal) = try project.replay(id)
        #expect(refused.status == 1)
        #expect(refusal["status"] == "changed", "\(refusal)")
        #expect(refusal["replay_run_id"] == .null, "nothing ran")

        let (replayed, report) = try project.replay(id, ["--allow-changed"])
        #expect(replayed.status == 1)
        #expect(report["status"] == "non_deterministic", "\(report)")
        let failure = try #require(report["replayed_failure"]?.stringValue, "\(report)")
        #expect(failure.hasPrefix("model_request_unrecorded: step 1, model request 1 (POST /v1/chat/completions) is not on the tape"), "\(failure)")
        #expect(failure.contains("messages.0.content: at character \(at + 1): "), "\(failure)")
        #expect(failure.contains("\(chars[at])") && failure.contains("\(changed[at])"), "\(failure)")
        // The replay's own artifact says the same, and is a valid artifact.
        let replay = try project.artifact(try #require(report["replay_run_id"]?.stringValue))
        #expect(replay["termination_reason"] == "model_request_unrecorded")
        #expect(replay["failure_reason"]?.stringValue?.contains("at character \(at + 1)") == true)
        let verify = try project.rigor(["verify", "--strict-spec", replay["run_id"]?.stringValue ?? "?"])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    /// Rewrites the project's `[models]` table (before `[models.upstreams]`).
    static func setModelsTable(_ project: ModelProject, _ lines: String) throws {
        let path = "\(project.root)/rigor.toml"
        let toml = try String(contentsOfFile: path, encoding: .utf8)
        let head = try #require(toml.range(of: "\n[models]\n"))
        let next = toml.range(of: "\n[", range: head.upperBound..<toml.endIndex)?.lowerBound ?? toml.endIndex
        try (toml[..<head.upperBound] + lines + "\n" + toml[next...]).write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("a volatile request field (VOLATILE = True: openai's metadata.sent_at, anthropic's metadata.user_id) breaks replay, named in the report; an [models] ignore matcher in rigor.toml (a path, or a * path) makes the same recording reproduce",
          .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)))
    func aMatcherIgnoresAVolatileField() throws {
        try #require(ModelProject.python != nil, "\(ModelProject.needsSDKs) are needed")
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("volatile", upstream: upstream)
        defer { project.remove() }
        for (agent, field, matcher) in [("openai", "metadata.sent_at", "metadata.sent_at"), ("anthropic", "metadata.user_id", "metadata.*")] {
            let file = "\(project.root)/agents/llm_\(agent)_agent.py"
            let source = try String(contentsOfFile: file, encoding: .utf8)
            #expect(source.contains("\nVOLATILE = False\n"))
            try source.replacingOccurrences(of: "\nVOLATILE = False\n", with: "\nVOLATILE = True\n").write(toFile: file, atomically: true, encoding: .utf8)
            try Self.setModelsTable(project, "")
            let (r, a) = try project.run(agent, seed: 1, ["--models", "record", "--isolation", "process"], environment: Self.keys)
            #expect(r.status == 0, "\(agent): \(r.stderr)")
            let id = try #require(a["run_id"]?.stringValue)
            let recorded = try ModelTapeStore(stateDirectory: project.state).get(try #require(a["models"]?["tape"]?.stringValue))
            let bodies = recorded.exchanges.map { ModelMatching().normalised($0.request)?[field.components(separatedBy: ".")[0]] }
            #expect(Set(bodies.compactMap { $0 }).count == 3, "\(agent): each request carries its own \(field)")

            let (_, without) = try project.replay(id)
            #expect(without["status"] == "non_deterministic", "\(agent): \(without)")
            let failure = without["replayed_failure"]?.stringValue ?? ""
            #expect(failure.hasPrefix("model_request_unrecorded: step 1,"), "\(agent): \(failure)")
            #expect(failure.contains("differs at \(field): "), "\(agent): \(failure)")
            #expect(failure.contains("[models] ignore"), "the report says what to do: \(failure)")

            try Self.setModelsTable(project, "ignore = [\"\(matcher)\"]")
            let (replayed, with) = try project.replay(id)
            #expect(replayed.status == 0, "\(agent): \(replayed.stdout)")
            #expect(with["status"] == "reproduced", "\(agent): \(with)")
            #expect(with["replayed_hash"] == a["artifact_hash"])
        }
    }

    // MARK: - The key

    /// Dumps its environment, reads every environ file it can reach, makes a model call with the
    /// key it was given, and reports what it saw (whether a `sk-test-` key was anywhere).
    static let snoop = """
        import json, os, sys, urllib.request

        def read(path):
            try:
                with open(path, "rb") as f:
                    return f.read().decode("utf-8", "replace")
            except Exception as e:
                return "unreadable: %s" % type(e).__name__

        class Agent:
            def reset(self, task):
                self.done = False
            def observe(self, obs):
                pass
            def act(self):
                if self.done:
                    return {"type": "list_dir", "args": {"path": "/app"}}
                self.done = True
                env = dict(os.environ)
                sys.stderr.write("ENV %s\\n" % json.dumps(env, sort_keys=True))
                places = {"environ": json.dumps(env), "self": read("/proc/self/environ"), "pid1": read("/proc/1/environ"),
                          "parent": read("/proc/%d/environ" % os.getppid())}
                for name, text in places.items():
                    sys.stderr.write("PLACE %s %s\\n" % (name, text.replace("\\0", " ")))
                body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "{}"}]}).encode()
                request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
                    headers={"Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", ""), "Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=20) as r:
                    status = r.status
                    r.read()
                report = {"key": os.environ.get("OPENAI_API_KEY"), "anthropic_key": os.environ.get("ANTHROPIC_API_KEY"),
                          "parent_cmd": read("/proc/%d/cmdline" % os.getppid()).replace("\\0", " "),
                          "status": status, "hits": {k: ("sk-test-" in v) for k, v in places.items()},
                          "readable": {k: not v.startswith("unreadable") for k, v in places.items()}}
                sys.stderr.write("SNOOP %s\\n" % json.dumps(report))
                return {"type": "set_output", "args": {"key": "API_KEY", "value": "none"}}
        """

    @Test("the provider key: the agent finds only the placeholder in its environment and in every environ file it can read (the runner's own at the none level); the upstream gets the runner's key and never the agent's Authorization; no byte of the key is in the artifact, the agent's log, the tape or the store; [models.keys] names another variable",
          arguments: ["namespace", "process", "none"])
    func theKeyNeverReachesTheAgent(level: String) throws {
        if level == "namespace" && !Facility.bwrapWorks { #expect(Facility.mayLack("bwrap namespaces (the namespace level)")); return }
        let secret = "sk-test-SECRET-\(UUID().uuidString.prefix(12))"
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let project = try ModelProject.make("key", upstream: upstream, agents: ["snoop": Self.snoop])
        defer { project.remove() }

        for (variable, table) in [("OPENAI_API_KEY", ""), ("TEAM_OPENAI_KEY", "[models.keys]\nopenai = \"TEAM_OPENAI_KEY\"")] {
            // [models.keys] is a table of its own: put it after [models.upstreams].
            if !table.isEmpty {
                let path = "\(project.root)/rigor.toml"
                try (try String(contentsOfFile: path, encoding: .utf8) + "\n" + table + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            }
            let before = upstream.log().count
            let (r, a) = try project.run("snoop", seed: 1, ["--models", "record", "--isolation", level], environment: [variable: secret])
            #expect(r.status == 1, "the agent does not solve the task: \(r.stderr)")
            #expect(a["diagnostics"]?["guard"]?["isolation"] == .string(level))
            let report = try ModelProject.report(a, "SNOOP")
            #expect(report["key"] == .string(ModelGateway.placeholderKey))
            #expect(report["anthropic_key"] == .string(ModelGateway.placeholderKey))
            #expect(report["status"] == 200)
            #expect(report["hits"] == ["environ": false, "self": false, "pid1": false, "parent": false], "\(report)")
            #expect(report["readable"]?["environ"] == true && report["readable"]?["self"] == true)
            if level == "none" {
                // A plain child of the runner, as its user: the runner's environ is readable, and blank.
                #expect(report["readable"]?["parent"] == true, "\(report)")
                #expect(report["parent_cmd"]?.stringValue?.contains("rigor run --agent snoop") == true, "\(report)")
            }
            let log = ModelProject.agentLog(a)
            #expect(log.contains("ENV {") && log.contains("PLACE pid1 ") && log.contains("PLACE parent "), "the agent dumped what it could")
            #expect(log.contains(secret) == false)

            // The upstream got the runner's key, once, and nothing of the agent's.
            let calls = Array(upstream.log().dropFirst(before))
            #expect(calls.count == 1)
            for call in calls {
                #expect(call["auth"] == .string("Bearer \(secret)"), "\(call)")
                let headers = call["headers"]?.arrayValue ?? []
                #expect(headers.filter { $0.arrayValue?.first?.stringValue?.lowercased() == "authorization" }.count == 1, "\(headers)")
                #expect(!headers.contains { $0.arrayValue?.last?.stringValue?.contains(ModelGateway.placeholderKey) == true },
                        "the agent's placeholder credentials were dropped: \(headers)")
            }

            // Nothing Rigor keeps holds the key: the artifact, the run as shown, the tape, any file.
            let artifactText = String(decoding: try a.canonicalBytes(), as: UTF8.self)
            let inArtifact = (key: artifactText.contains(secret), prefix: artifactText.contains("sk-test-"),
                              scrubbed: artifactText.contains("REDACTED:\(variable)"))
            #expect(inArtifact.key == false && inArtifact.prefix == false)
            #expect(inArtifact.scrubbed == false, "nothing had to be scrubbed: the key never reached the agent to print")
            let shown = try project.rigor(["runs", "show", a["run_id"]?.stringValue ?? "?", "--json"])
            #expect(shown.status == 0 && shown.stdout.contains("PLACE pid1") && !shown.stdout.contains(secret))
            let tape = try ModelTapeStore(stateDirectory: project.state).get(try #require(a["models"]?["tape"]?.stringValue))
            #expect(!String(decoding: try tape.canonical().bytes, as: UTF8.self).contains(secret))
            let grep = try CommandLineRun.run("/usr/bin/grep", ["-rlaF", secret, project.state])
            #expect(grep.stdout.isEmpty, "the key reached \(grep.stdout)")
        }
    }
}

/// Results filled in from several threads.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<T, any Error>?]

    init(_ count: Int) { items = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<T, any Error>) {
        lock.lock()
        items[i] = result
        lock.unlock()
    }

    func all() -> [Result<T, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return items.map { $0 ?? .failure(CancellationError()) }
    }
}
