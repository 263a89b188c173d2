import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Evidence checks (spec/policy.md §5) as an agent and a world send them: a well-formed list is
/// recorded in the step with its source; a malformed one (not a list, an entry that is not an
/// object, a missing or empty or too long name, a `pass` that is not a bool, a `note` that is not
/// a string or too long, an unknown key, more than 64 checks) ends the episode as the spec says:
/// `malformed_action` (invalid_action) from the agent, before any step; `world_failed`
/// (logic_failure, naming the task) from the world.
@Suite("Malformed evidence")
struct MalformedEvidenceTests {
    static func check(_ name: String, note: String? = nil) -> String {
        "{\"name\": \"\(name)\", \"pass\": true" + (note.map { ", \"note\": \"\($0)\"" } ?? "") + "}"
    }

    static let malformed: [(String, String)] = [
        ("an object, not a list", check("a")),
        ("a string", "\"all good\""),
        ("an entry that is a number", "[1]"),
        ("no name", "[{\"pass\": true}]"),
        ("an empty name", "[\(check(""))]"),
        ("a 129-byte name", "[\(check(String(repeating: "n", count: 129)))]"),
        ("pass not a bool", "[{\"name\": \"a\", \"pass\": \"yes\"}]"),
        ("no pass", "[{\"name\": \"a\"}]"),
        ("a note that is a number", "[{\"name\": \"a\", \"pass\": true, \"note\": 5}]"),
        ("a 4097-byte note", "[\(check("a", note: String(repeating: "x", count: 4097)))]"),
        ("an unknown key", "[{\"name\": \"a\", \"pass\": true, \"source\": \"world\"}]"),
        ("65 checks", "[" + (0..<65).map { check("c\($0)") }.joined(separator: ",") + "]"),
    ]

    /// Well-formed lists, at the limits: recorded, and the episode goes on.
    static let wellFormed: [(String, String, Int)] = [
        ("one check", "[\(check("a", note: "ok"))]", 1),
        ("an empty list", "[]", 0),
        ("null", "null", 0),
        ("64 checks, 128-byte names, 4096-byte notes",
         "[" + (0..<64).map { check(String(format: "%03d", $0) + String(repeating: "n", count: 125), note: String(repeating: "x", count: 4096)) }
            .joined(separator: ",") + "]", 64),
    ]

    /// A raw-protocol agent: lists /app with the evidence in the file its environment names
    /// (read from the host: the runs are at the process level), until the episode ends.
    static let agent = #"""
        #!/usr/bin/env python3
        import json, os, sys
        path = os.environ.get("TEST_EVIDENCE_FILE")
        evidence = open(path).read() if path else None
        for line in sys.stdin:
            m = json.loads(line)
            if m["type"] == "observe":
                action = {"type": "list_dir", "args": {"path": "/app"}}
                if evidence is not None:
                    action["evidence"] = json.loads(evidence)
                sys.stdout.write(json.dumps({"type": "action", "action": action}) + "\n"); sys.stdout.flush()
            elif m["type"] == "end":
                break
        """#

    /// A world that answers every action with the evidence in `evidence.json` beside it.
    static let world = #"""
        #!/usr/bin/env python3
        import json, os, sys
        evidence = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "evidence.json")))
        def say(o):
            sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
        for line in sys.stdin:
            m = json.loads(line)
            if m["type"] == "setup":
                say({"type": "ready", "visible_state": {"files_seen": []}}); continue
            say({"type": "result", "result": {"ok": True, "entries": []}, "io_audit": [],
                 "verdict": {"status": "pending", "message": ""}, "evidence": evidence})
        """#

    static let manifest = """
        id = "evidence_world"
        version = 1
        suite = "test"
        description = "answers every action with evidence"
        [world]
        command = ["python3", "world.py"]
        [budgets]
        steps = 2
        tool_calls = 2
        wall_clock_seconds = 60
        [sandbox]
        filesystem_roots = ["/app"]
        [actions.list_dir]
        args = { path = "path" }
        """

    /// Runs the agent on the evidence world; `agentEvidence` goes to the agent, `worldEvidence`
    /// to the world (JSON text).
    func run(agentEvidence: String?, worldEvidence: String) throws -> (status: Int32, artifact: JSON, stderr: String) {
        let dir = RepoPaths.temporaryDirectory("rigor-evidence")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let task = "\(dir)/tasks/evidence_world"
        try FileManager.default.createDirectory(atPath: task, withIntermediateDirectories: true)
        try Self.manifest.write(toFile: "\(task)/task.toml", atomically: true, encoding: .utf8)
        try Self.world.write(toFile: "\(task)/world.py", atomically: true, encoding: .utf8)
        try worldEvidence.write(toFile: "\(task)/evidence.json", atomically: true, encoding: .utf8)
        try Self.agent.write(toFile: "\(dir)/agent", atomically: true, encoding: .utf8)
        if let agentEvidence { try agentEvidence.write(toFile: "\(dir)/agent-evidence.json", atomically: true, encoding: .utf8) }
        chmod("\(dir)/agent", 0o755)
        let out = "\(dir)/artifact.json"
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "\(dir)/agent", "--task", "evidence_world@1", "--tasks-dir", "\(dir)/tasks", "--isolation", "process",
             "--out", out, "--state-dir", "\(dir)/state"] + (agentEvidence == nil ? [] : ["--env", "TEST_EVIDENCE_FILE=\(dir)/agent-evidence.json"]))
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "no artifact: \(r.stderr)")))
        #expect(SpecCheck.check(artifact).isEmpty, "\(SpecCheck.check(artifact))")
        return (r.status, artifact, r.stderr)
    }

    @Test("an agent's malformed evidence ends the episode malformed_action before any step", arguments: malformed.map(\.0))
    func agentMalformed(_ name: String) throws {
        let evidence = try #require(Self.malformed.first { $0.0 == name }?.1)
        let o = try run(agentEvidence: evidence, worldEvidence: "[]")
        #expect(o.status == 1, "\(name): exit \(o.status): \(o.stderr)")
        #expect(o.artifact["termination_reason"] == "malformed_action", "\(name): \(o.artifact["termination_reason"] ?? .null)")
        #expect(o.artifact["failure_type"] == "invalid_action")
        #expect(o.artifact["failure_reason"]?.stringValue?.contains("evidence") == true, "\(name): \(o.artifact["failure_reason"] ?? .null)")
        #expect(o.artifact["steps_used"] == 0)
        #expect(o.artifact["action_trace"]?.arrayValue?.isEmpty == true)
    }

    @Test("a world's malformed evidence ends the episode world_failed, naming the task; no step is recorded", arguments: malformed.map(\.0))
    func worldMalformed(_ name: String) throws {
        let evidence = try #require(Self.malformed.first { $0.0 == name }?.1)
        let o = try run(agentEvidence: nil, worldEvidence: evidence)
        #expect(o.status == 1, "\(name): exit \(o.status): \(o.stderr)")
        #expect(o.artifact["termination_reason"] == "world_failed", "\(name): \(o.artifact["termination_reason"] ?? .null)")
        #expect(o.artifact["failure_type"] == "logic_failure")
        let message = o.artifact["failure_reason"]?.stringValue ?? ""
        #expect(message.hasPrefix("task evidence_world@1: ") && message.contains("evidence"), "\(name): \(message)")
        #expect(o.artifact["action_trace"]?.arrayValue?.isEmpty == true, "\(name): a step was recorded")
    }

    @Test("well-formed evidence from either side, up to the limits, is recorded in the step with its source", arguments: wellFormed.map(\.0))
    func wellFormedRecorded(_ name: String) throws {
        let (_, evidence, count) = try #require(Self.wellFormed.first { $0.0 == name })
        for side in ["agent", "world"] {
            let o = try run(agentEvidence: side == "agent" ? evidence : nil, worldEvidence: side == "world" ? evidence : "[]")
            #expect(o.artifact["termination_reason"] == "steps_exhausted" || o.artifact["termination_reason"] == "tool_calls_exhausted",
                    "\(name) from the \(side): \(o.artifact["termination_reason"] ?? .null) \(o.artifact["failure_reason"] ?? .null)")
            let steps = o.artifact["action_trace"]?.arrayValue ?? []
            #expect(steps.count == 2, "\(name) from the \(side)")
            for step in steps {
                let recorded = step["evidence"]?.arrayValue ?? []
                #expect(recorded.count == count, "\(name) from the \(side): \(recorded.count) checks recorded")
                #expect(recorded.allSatisfy { $0["source"]?.stringValue == side && $0["pass"] == true }, "\(name) from the \(side)")
            }
        }
    }
}
