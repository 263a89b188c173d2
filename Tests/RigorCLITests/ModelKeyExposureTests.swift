import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// Where an agent could find the runner's model key or a secret it sent, beyond its own
/// environment (spec/model-gateway.md §10): the runner's environment block at the `none` level,
/// where the agent runs as the runner's own user, and the tape that is stored and bundled.
@Suite("Model keys and secrets stay out of the agent's reach and out of tapes")
struct ModelKeyExposureTests {
    static let key = "sk-exposure-probe-0123456789"

    /// An agent (standard library only) that looks for `needle` in every /proc/<pid>/environ it
    /// can read, and says on stderr where it found it.
    static func peekingAgent(needle: String) -> String {
        """
        import os, sys
        class Agent:
            def reset(self, task_spec): pass
            def observe(self, observation): pass
            def act(self):
                found = []
                for p in os.listdir("/proc"):
                    if p.isdigit():
                        try:
                            if b"\(needle)" in open("/proc/%s/environ" % p, "rb").read(): found.append(p)
                        except Exception:
                            pass
                print("PROBE found=%d" % len(found), file=sys.stderr)
                return {"type": "list_dir", "args": {"path": "/app"}}
        """
    }

    func probe(_ environment: [String: String], dir: String, needle: String = ModelKeyExposureTests.key) throws -> Int? {
        let agent = "\(dir)/peek_agent.py"
        try Self.peekingAgent(needle: needle).write(toFile: agent, atomically: true, encoding: .utf8)
        let out = "\(dir)/run-\(UUID().uuidString.prefix(6)).json"
        let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "1", "--isolation", "none",
                                          "--models", "replay", "--state-dir", "\(dir)/.rigor", "--out", out],
                                         environment: environment)
        #expect(r.status == 0 || r.status == 1, "rigor run: \(r.stderr)")
        let artifact = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        let log = artifact["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue ?? ""
        guard let line = log.split(separator: "\n").first(where: { $0.hasPrefix("PROBE found=") }) else { return nil }
        return Int(line.dropFirst("PROBE found=".count))
    }

    @Test("At --isolation none the runner's environment block no longer holds OPENAI_API_KEY (a variable not scrubbed is found: the probe works)")
    func keyNotInRunnerEnvironment() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-key-exposure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var base = ProcessInfo.processInfo.environment
        base.removeValue(forKey: "OPENAI_API_KEY")
        base.removeValue(forKey: "ANTHROPIC_API_KEY")
        // Control: the same value under a name Rigor does not scrub is visible to the agent.
        var control = base
        control["RIGOR_TEST_NOT_A_KEY"] = Self.key
        let seen = try probe(control, dir: dir)
        #expect(seen ?? 0 >= 1, "the probe must find the value in the runner's environ when it is not scrubbed (found \(String(describing: seen)))")
        var withKey = base
        withKey["OPENAI_API_KEY"] = Self.key
        withKey["ANTHROPIC_API_KEY"] = Self.key
        #expect(try probe(withKey, dir: dir) == 0)
    }

    @Test("At --isolation none the runner's environment block no longer holds RIGOR_WORLD_KEY (which would let the agent rebuild the hidden world)")
    func worldKeyNotInRunnerEnvironment() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-worldkey-exposure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hex = String(repeating: "5a", count: 32)
        var control = ProcessInfo.processInfo.environment
        control["RIGOR_WORLD_KEY"] = TestWorldKey.fixed.hex
        control["RIGOR_TEST_NOT_A_KEY"] = hex
        #expect(try probe(control, dir: dir, needle: hex) ?? 0 >= 1, "the probe finds the value under a name Rigor does not blank")
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = hex
        #expect(try probe(env, dir: dir, needle: hex) == 0)
    }

    /// An agent that sends one chat request whose prompt holds an OpenAI-style key, then submits.
    static let leakyAgent = """
        import json, os, urllib.request
        class Agent:
            def reset(self, task_spec): self.sent = False
            def observe(self, observation): pass
            def act(self):
                if not self.sent:
                    self.sent = True
                    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "my key is sk-proj-LEAKLEAKLEAKLEAKLEAKLEAK42"}]}
                    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=json.dumps(body).encode(),
                                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
                    urllib.request.urlopen(req).read()
                return {"type": "list_dir", "args": {"path": "/app"}}
        """

    @Test("A secret in a model request is redacted from the stored tape and its bundle, and the run still replays")
    func tapeIsRedacted() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-tape-redaction")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let upstream = try FakeModelUpstream(directory: dir)
        defer { upstream.stop() }
        try Self.leakyAgent.write(toFile: "\(dir)/leaky_agent.py", atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "OPENAI_API_KEY")
        let state = "\(dir)/.rigor"
        let r = try CommandLineRun.rigor(["run", "--agent", "\(dir)/leaky_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "3",
                                          "--isolation", "process", "--models", "record", "--model-upstream", "openai=\(upstream.url)",
                                          "--state-dir", state, "--json"], environment: env)
        #expect(r.status == 1, "the agent never solves the task: \(r.stderr)")
        // The upstream got the secret (the agent sent it); nothing Rigor stored holds it.
        #expect(upstream.log().count == 1)
        let tapes = try FileManager.default.contentsOfDirectory(atPath: "\(state)/tapes")
        #expect(tapes.count == 1)
        let stored = try Data(contentsOf: URL(fileURLWithPath: "\(state)/tapes/\(tapes[0])"))
        let tape = try ModelTapeStore(stateDirectory: state).get("sha256:" + tapes[0].replacingOccurrences(of: ".tape", with: ""))
        let text = tape.exchanges.map { String(decoding: $0.request + $0.response, as: UTF8.self) }.joined()
        #expect(!stored.isEmpty)
        #expect(!String(decoding: stored, as: UTF8.self).contains("LEAKLEAKLEAK"))
        #expect(text.contains("my key is"), "the tape holds the request")
        #expect(!text.contains("LEAKLEAKLEAK"), "the tape must not hold the secret")
        upstream.stop()
        let replay = try CommandLineRun.rigor(["replay", "latest", "--isolation", "process", "--state-dir", state], environment: env)
        #expect(replay.status == 0, "replay: \(replay.stdout) \(replay.stderr)")
        #expect(replay.stdout.contains("reproduced"))
    }
}
