import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// `rigor diff` and `rigor compare`, run as a user runs them.
@Suite("rigor diff and rigor compare")
struct DiffCommandTests {
    static let toySeed0 = "\(RepoPaths.interop)/28a3ecde984e45caaa3df8b3fc4e1d65.json"
    static let toySeed1 = "\(RepoPaths.interop)/286d645f6fb44f9781c01d069bb7a456.json"
    static let cheaterSeed1 = "\(RepoPaths.interop)/287d2207fbdc40759060b910b7293f98.json"

    func load(_ path: String) throws -> JSON {
        try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: path))))
    }

    func write(_ value: JSON, to path: String) throws {
        try Data(try value.prettyBytes()).write(to: URL(fileURLWithPath: path))
    }

    @Test("a TraceCore artifact diffed with itself is the same, exit 0")
    func same() throws {
        let r = try CommandLineRun.rigor(["diff", Self.toySeed0, Self.toySeed0])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("SAME"))
    }

    @Test("toy_agent seeds 0 and 1: different, exit 1, first divergent step 1 side by side")
    func seeds() throws {
        let r = try CommandLineRun.rigor(["diff", Self.toySeed0, Self.toySeed1, "--width", "120"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("DIFFERENT"))
        #expect(r.stdout.contains("first divergent step: 1"))
        #expect(r.stdout.contains("differs in result"))
        #expect(!r.stdout.contains("\u{1B}["), "no colour into a pipe")
        let j = try CommandLineRun.rigor(["diff", Self.toySeed0, Self.toySeed1, "--format", "json"])
        #expect(j.status == 1)
        let report = try JSON.parse(j.stdout)
        #expect(report["divergence"]?["first_divergent_step"] == 1)
        #expect(report["io_audit"]?["paths"]?["removed"] == ["/app/.config_7311"])
    }

    @Test("outcome, taxonomy and budget deltas between a success and an invalid_action")
    func outcome() throws {
        let r = try CommandLineRun.rigor(["diff", Self.toySeed1, Self.cheaterSeed1, "--format", "json"])
        #expect(r.status == 1)
        let report = try JSON.parse(r.stdout)
        let fields = try #require(report["outcome"]?["fields"]?.arrayValue)
        #expect(fields.first { $0["field"] == "failure_type" }?["b"] == "invalid_action")
        let usage = try #require(report["usage"]?.arrayValue)
        #expect(usage.first { $0["field"] == "steps_used" }?["delta"] == -3)
        #expect(usage.first { $0["field"] == "tool_calls_used" }?["delta"] == -4)
    }

    @Test("every format renders to --output; html escapes a value holding <script>", arguments: ["text", "json", "markdown", "html"])
    func formats(_ format: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-diff")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var trace = try #require(try load(Self.toySeed0)["action_trace"]?.arrayValue)
        var step = try #require(trace[0].objectValue)
        step["result"] = ["ok": true, "files": ["<script>alert(1)</script>"]]
        trace[0] = .object(step)
        var b = try #require(try load(Self.toySeed0).objectValue)
        b["action_trace"] = .array(trace)
        b["artifact_hash"] = "sha256:changed"
        try write(.object(b), to: "\(dir)/b.json")
        let out = "\(dir)/report.\(format)"
        let r = try CommandLineRun.rigor(["diff", Self.toySeed0, "\(dir)/b.json", "--format", format, "--output", out])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("report written to"))
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!text.isEmpty)
        switch format {
        case "json": #expect(try JSON.parse(text)["verdict"] == "different")
        case "markdown": #expect(text.contains("### First divergent step: 1"))
        case "html":
            #expect(!text.contains("<script>"))
            #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        default: #expect(text.contains("first divergent step: 1"))
        }
    }

    @Test("both baseline shapes are read: the artifact inline, or a file named next to it")
    func baselines() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-diff")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let artifact = try load(Self.toySeed0)
        try write(["artifact": artifact, "recorded_at": "2026-01-01"], to: "\(dir)/inline.json")
        try write(artifact, to: "\(dir)/toy.json")
        try write(["artifact_file": "toy.json"], to: "\(dir)/named.json")
        for baseline in ["inline.json", "named.json"] {
            let r = try CommandLineRun.rigor(["diff", "\(dir)/\(baseline)", Self.toySeed0])
            #expect(r.status == 0, "\(baseline): \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("(baseline"))
        }
        try write(["artifact_file": "gone.json"], to: "\(dir)/dangling.json")
        let r = try CommandLineRun.rigor(["diff", "\(dir)/dangling.json", Self.toySeed0])
        #expect(r.status == 2)
        #expect(r.stderr.contains("gone.json"))
    }

    @Test("a committed baseline is read through its compressed artifact_file")
    func committedBaseline() throws {
        let dir = "\(RepoPaths.root)/Baselines/toy_filesystem"
        let seed0 = "\(dir)/seed-0.json", seed1 = "\(dir)/seed-1.json"
        try #require(FileManager.default.fileExists(atPath: seed0) && FileManager.default.fileExists(atPath: seed1))
        let same = try CommandLineRun.rigor(["diff", seed0, seed0])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("(baseline → seed-0.artifact.json.zst)"))
        let other = try CommandLineRun.rigor(["diff", seed0, seed1, "--format", "json"])
        #expect(other.status == 1, "\(other.stderr)")
        let report = try JSON.parse(other.stdout)
        #expect(report["pairing"]?["fields"]?.arrayValue?.first { $0["field"] == "seed" }?["changed"] == true)
    }

    @Test("runs are found in the store by id, prefix and latest")
    func storeRuns() throws {
        let state = RepoPaths.temporaryDirectory("rigor-diff-state")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let out = "\(state)/a.json"
        let run = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                            "--seed", "3", "--out", out, "--state-dir", state])
        #expect(run.status == 0, "\(run.stderr)")
        let runID = try #require(try load(out)["run_id"]?.stringValue)
        for ref in ["latest", runID, String(runID.prefix(8))] {
            let r = try CommandLineRun.rigor(["diff", ref, out, "--state-dir", state])
            #expect(r.status == 0, "\(ref): \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("run \(runID)"))
        }
        let unknown = try CommandLineRun.rigor(["diff", "zzzzzzzz", out, "--state-dir", state])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("neither a file nor a run"))
    }

    @Test("bad input exits 2 with a message that names the file and says what to do")
    func badInput() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-diff")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"half\": ".write(toFile: "\(dir)/half.json", atomically: true, encoding: .utf8)
        let malformed = try CommandLineRun.rigor(["diff", "\(dir)/half.json", Self.toySeed0])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("half.json") && malformed.stderr.contains("not valid JSON"))
        #expect(malformed.stderr.contains("give an artifact file"))

        let missing = try CommandLineRun.rigor(["diff", "\(dir)/nope.json", Self.toySeed0])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.json") && missing.stderr.contains("does not exist"))

        let noStore = try CommandLineRun.rigor(["diff", "latest", Self.toySeed0, "--state-dir", "\(dir)/empty"])
        #expect(noStore.status == 2)
        #expect(noStore.stderr.contains("no store at") && noStore.stderr.contains("run an episode first"))

        try write(["episodes": []], to: "\(dir)/summary.json")
        let notArtifact = try CommandLineRun.rigor(["diff", "\(dir)/summary.json", Self.toySeed0])
        #expect(notArtifact.status == 2)
        #expect(notArtifact.stdout.contains("NOT COMPARABLE") && notArtifact.stdout.contains("no action_trace"))

        let badFormat = try CommandLineRun.rigor(["diff", Self.toySeed0, Self.toySeed0, "--format", "pdf"])
        #expect(badFormat.status == 2)
    }

    // MARK: rigor compare

    func summary(_ episodes: [(String, Int, Bool)]) -> JSON {
        ["episodes": .array(episodes.map { ["pairing": .string($0.0), "seed": .int($0.1), "passed": .bool($0.2), "success": .bool($0.2)] })]
    }

    @Test("compare: a significant drop exits 1 and lists the flipped seeds")
    func compareDrop() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-compare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(summary((0..<20).map { ("toy", $0, true) }), to: "\(dir)/a.json")
        try write(summary((0..<20).map { ("toy", $0, $0 >= 6) }), to: "\(dir)/b.json")
        let r = try CommandLineRun.rigor(["compare", "\(dir)/a.json", "\(dir)/b.json"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("seeds 0, 1, 2, 3, 4, 5"))
        #expect(r.stdout.contains("significant drop"))
        let j = try CommandLineRun.rigor(["compare", "\(dir)/a.json", "\(dir)/b.json", "--json"])
        #expect(j.status == 1)
        let report = try JSON.parse(j.stdout)
        #expect(report["pairings"]?.arrayValue?.first?["mcnemar"]?["p_value"] == .double(0.03125))
        #expect(report["pairings"]?.arrayValue?.first?["before"]?["wilson_95"]?.arrayValue?.count == 2)
    }

    @Test("compare: a gain or no change exits 0; a file that is not a summary exits 2")
    func compareNoDrop() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-compare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(summary((0..<20).map { ("toy", $0, $0 >= 6) }), to: "\(dir)/a.json")
        try write(summary((0..<20).map { ("toy", $0, true) }), to: "\(dir)/b.json")
        let r = try CommandLineRun.rigor(["compare", "\(dir)/a.json", "\(dir)/b.json"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("significant gain"))
        let bad = try CommandLineRun.rigor(["compare", Self.toySeed0, "\(dir)/b.json"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("is not a batch summary"))
        let missing = try CommandLineRun.rigor(["compare", "\(dir)/missing.json", "\(dir)/b.json"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing.json"))
    }
}
