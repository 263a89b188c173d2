import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The two other limits that keep every artifact readable (spec/runtime.md §6, `ArtifactLimits`):
/// a world result nested deeper than the payload limit is recorded as `result_too_deep` (the
/// episode goes on), and an agent whose action lines add up to more than 128 MiB in one episode
/// ends it as `action_volume_exceeded`. Both end with an artifact every reader accepts.
@Suite("Result depth and action volume")
struct PayloadLimitTests {
    /// A world whose every result nests `depth.txt` levels deep (the result object is level 1).
    static let deepWorld = #"""
        #!/usr/bin/env python3
        import json, os, sys
        depth = int(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "depth.txt")).read())
        deep = []
        for _ in range(depth - 2):
            deep = [deep]
        def say(o):
            sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
        for line in sys.stdin:
            m = json.loads(line)
            if m["type"] == "setup":
                say({"type": "ready", "visible_state": {"files_seen": []}}); continue
            say({"type": "result", "result": {"ok": True, "deep": deep}, "io_audit": [{"type": "custom", "op": "deep"}],
                 "verdict": {"status": "pending", "message": ""}})
        """#

    static func manifest(id: String, world: String, steps: Int) -> String {
        """
        id = "\(id)"
        version = 1
        suite = "test"
        description = "a payload limit"
        \(world)
        [budgets]
        steps = \(steps)
        tool_calls = \(steps)
        wall_clock_seconds = 120
        [sandbox]
        filesystem_roots = ["/app"]
        [actions.list_dir]
        args = { path = "path" }
        """
    }

    /// Lists /app every step.
    static let listingAgent = #"""
        #!/usr/bin/env python3
        import json, sys
        for line in sys.stdin:
            m = json.loads(line)
            if m["type"] == "observe":
                sys.stdout.write('{"type":"action","action":{"type":"list_dir","args":{"path":"/app"}}}\n'); sys.stdout.flush()
            elif m["type"] == "end":
                break
        """#

    /// Every action padded with whitespace to 1,000,000 bytes: a small action in the artifact,
    /// a large line on the pipe, so the volume limit is reached after 134 steps without an
    /// artifact of 128 MiB.
    static let paddedAgent = #"""
        #!/usr/bin/env python3
        import sys
        action = b'{"type":"action","action":{"type":"list_dir","args":{"path":"/app"}}}'
        line = action + b" " * (1000000 - len(action)) + b"\n"
        for raw in sys.stdin.buffer:
            if b'"observe"' in raw:
                sys.stdout.buffer.write(line); sys.stdout.buffer.flush()
            elif b'"end"' in raw:
                break
        """#

    func run(agent: String, task: String, files: [String: String], dir: String) throws -> (CommandResult, JSON) {
        let folder = "\(dir)/tasks/\(task)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8) }
        try agent.write(toFile: "\(dir)/agent", atomically: true, encoding: .utf8)
        chmod("\(dir)/agent", 0o755)
        let out = "\(dir)/artifact.json"
        let r = try CommandLineRun.rigor(["run", "--agent", "\(dir)/agent", "--task", "\(task)@1", "--tasks-dir", "\(dir)/tasks",
                                          "--isolation", "process", "--act-timeout", "30", "--out", out, "--state-dir", "\(dir)/state"])
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "no artifact: \(r.stderr)")))
        return (r, artifact)
    }

    /// Every reader of artifacts takes it.
    func readable(_ out: String, state: String) throws {
        #expect(try CommandLineRun.rigor(["verify", "--strict-spec", out]).status == 0)
        let check = try CommandLineRun.rigor(["runs", "verify", "--state-dir", state])
        #expect(check.status == 0, "runs verify: \(check.stdout)")
    }

    @Test("a world result deeper than 64 levels is recorded as result_too_deep and the episode goes on; 64 is recorded as it is",
          arguments: [64, 65, 300])
    func deepResult(depth: Int) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-deep-result")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, artifact) = try run(agent: Self.listingAgent, task: "deep_world", files: [
            "task.toml": Self.manifest(id: "deep_world", world: "[world]\ncommand = [\"python3\", \"world.py\"]", steps: 3),
            "world.py": Self.deepWorld, "depth.txt": String(depth),
        ], dir: dir)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(artifact["termination_reason"] == "steps_exhausted", "\(artifact["failure_reason"] ?? .null)")
        let steps = artifact["action_trace"]?.arrayValue ?? []
        #expect(steps.count == 3)
        for step in steps {
            if depth > ArtifactLimits.payloadDepth {
                #expect(step["result"]?["ok"] == false && step["result"]?["error"] == "result_too_deep", "\(step["result"] ?? .null)")
                #expect(step["io_audit"] == [])
            } else {
                #expect(step["result"]?.nestingDepth == depth)
                #expect(step["io_audit"]?.arrayValue?.count == 1)
            }
        }
        #expect(artifact.nestingDepth <= ArtifactLimits.artifactDepth)
        try readable("\(dir)/artifact.json", state: "\(dir)/state")
    }

    @Test("action lines adding up to more than 128 MiB end the episode action_volume_exceeded at the line that crosses it")
    func actionVolume() throws {
        #expect(ArtifactLimits.actionBytesPerEpisode == 128 << 20)
        let dir = RepoPaths.temporaryDirectory("rigor-action-volume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, artifact) = try run(agent: Self.paddedAgent, task: "volume_world", files: [
            "task.toml": Self.manifest(id: "volume_world", world: "[world]\ncommand = [\"python3\", \"world.py\"]", steps: 1000),
            "world.py": Self.deepWorld, "depth.txt": "3",
        ], dir: dir)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(artifact["termination_reason"] == "action_volume_exceeded", "\(artifact["failure_reason"] ?? .null)")
        #expect(artifact["failure_type"] == "invalid_action")
        // 134 lines of 1,000,000 bytes stay under 134,217,728; the 135th crosses it and is not recorded.
        #expect(artifact["steps_used"] == 134)
        #expect(artifact["action_trace"]?.arrayValue?.count == 134)
        #expect(artifact["failure_reason"]?.stringValue?.contains("step 135") == true, "\(artifact["failure_reason"] ?? .null)")
        try readable("\(dir)/artifact.json", state: "\(dir)/state")
    }
}
