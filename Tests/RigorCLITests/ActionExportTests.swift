import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The action export and project redaction settings, with hostile input: files that are not
/// artifacts, garbage, deep nesting, an unwritable destination, broken [redaction] settings.
@Suite("Action export and project redaction", .serialized)
struct ActionExportTests {
    @Test("the embedded export schema is spec/action-export-v1.json")
    func schemaInSync() throws {
        let file = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(RepoPaths.root)/spec/action-export-v1.json"))))
        #expect(try JSON.parse(ActionExportSchema.text) == file)
        #expect(ActionExportSchema.compiled != nil)
    }

    @Test("inputs that are not artifacts are errors (exit 2), never a crash")
    func hostileInputs() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inputs: [(String, [UInt8])] = [
            ("empty.json", []),
            ("object.json", Array("{}".utf8)),
            ("array.json", Array("[1,2,3]".utf8)),
            ("garbage.json", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
            ("deep.json", Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)),
            ("trace-not-list.json", Array(#"{"run_id":"x","action_trace":7}"#.utf8)),
            ("bad-step.json", Array(#"{"run_id":"x","action_trace":[{"step":0}]}"#.utf8)),
        ]
        for (name, bytes) in inputs {
            let path = "\(dir)/\(name)"
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let r = try CommandLineRun.rigor(["export", "actions", path, "--state-dir", "\(dir)/state"])
            #expect(r.status == 2, "\(name): exit \(r.status) \(r.stderr)")
            #expect(!r.signalled, "\(name) crashed rigor")
            #expect(!r.stderr.isEmpty)
        }
        let none = try CommandLineRun.rigor(["export", "actions", "--state-dir", "\(dir)/state"])
        #expect(none.status == 2)
    }

    @Test("an artifact with odd but valid content exports and validates; an unwritable --out is exit 4")
    func oddArtifactAndUnwritableOut() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--state-dir", dir,
                                            "--out", "\(dir)/a.json"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try CommandLineRun.rigor(["export", "actions", "\(dir)/a.json", "latest", "--state-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSON.parse(r.stdout)
        #expect(ActionExport.problems(doc) == [])
        #expect(doc["runs"]?.arrayValue?.count == 2)
        let blocked = try CommandLineRun.rigor(["export", "actions", "latest", "--out", "/proc/rigor-cannot-write-here.json", "--state-dir", dir])
        #expect(blocked.status == 4, "\(blocked.status) \(blocked.stderr)")
    }

    func project(_ redaction: String) throws -> String {
        let dir = RepoPaths.temporaryDirectory("rigor-redaction")
        try """
            [project]
            format = "rigor-project/1"
            tasks = ["\(RepoPaths.tasks)"]
            state = ".rigor"

            \(redaction)
            """.write(toFile: "\(dir)/rigor.toml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test("[redaction] patterns scrub what they match from the artifact, and the agent still saw it")
    func projectPattern() throws {
        let dir = try project("[redaction]\npatterns = { hidden_value = \"API_KEY=[A-Z0-9]+\" }\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(["run", "--agent", "\(RepoPaths.root)/Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                          "--sdk-dir", "\(RepoPaths.root)/Agents/sdk", "--out", "\(dir)/a.json"], cwd: dir)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let text = try String(contentsOfFile: "\(dir)/a.json", encoding: .utf8)
        #expect(text.contains("[REDACTED:hidden_value]"))
        #expect(text.range(of: "API_KEY=[A-Z0-9]{4,}", options: .regularExpression) == nil)
        let verify = try CommandLineRun.rigor(["verify", "\(dir)/a.json"], cwd: dir)
        #expect(verify.status == 0)
    }

    @Test("broken [redaction] settings name the key", arguments: [
        ("[redaction]\npatterns = { bad = \"([\" }\n", "redaction.patterns.bad"),
        ("[redaction]\npatterns = { empty = \"\" }\n", "redaction.patterns.empty"),
        ("[redaction]\nsecrets = \"ONE\"\n", "redaction.secrets"),
        ("[redaction]\nmasks = []\n", "redaction.masks"),
        ("[project]\n", "project"),
    ])
    func brokenRedaction(_ text: String, _ mention: String) throws {
        let dir = try project(text)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CommandLineRun.rigor(["tasks", "list"], cwd: dir)
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(mention), "\(r.stderr)")
    }
}
