import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// The TraceCore 1.1.3 artifacts these tests read (see the interop README):
/// toy_agent on filesystem_hidden_config@1, seeds 0 and 1, both successes, and cheater_agent on
/// the same task and seed 1, an invalid_action after one step.
enum Interop {
    static let toySeed0 = "28a3ecde984e45caaa3df8b3fc4e1d65.json"
    static let toySeed1 = "286d645f6fb44f9781c01d069bb7a456.json"
    static let cheaterSeed1 = "287d2207fbdc40759060b910b7293f98.json"

    static func path(_ name: String) -> String { "\(RepoPaths.interop)/\(name)" }

    static func load(_ name: String) throws -> JSON {
        let data = try #require(FileManager.default.contents(atPath: path(name)), "missing \(path(name))")
        return try JSON.parse([UInt8](data))
    }
}

extension JSON {
    /// A copy with the top-level member `key` set (or removed, for nil).
    func with(_ key: String, _ value: JSON?) -> JSON {
        guard var o = objectValue else { return self }
        o[key] = value
        return .object(o)
    }

    /// A copy with `body` applied to the trace entry at 1-based `step`.
    func withStep(_ step: Int, _ body: (inout [String: JSON]) -> Void) -> JSON {
        var trace = self["action_trace"]?.arrayValue ?? []
        var entry = trace[step - 1].objectValue ?? [:]
        body(&entry)
        trace[step - 1] = .object(entry)
        return with("action_trace", .array(trace))
    }

    /// A copy whose `artifact_hash` is what its content hashes to, as if its runtime wrote it so.
    func resealed() throws -> JSON {
        with("artifact_hash", .string(try HashRecipe.forArtifact(self).hash(self)))
    }
}

@Suite("ArtifactDiff")
struct ArtifactDiffTests {
    @Test("a TraceCore artifact diffed with itself is the same")
    func selfIsSame() throws {
        let a = try Interop.load(Interop.toySeed0)
        let diff = ArtifactDiff(a, a)
        #expect(diff.verdict == .same)
        #expect(diff.divergence?.identical == true)
        #expect(diff.divergence?.firstStep == nil)
        #expect(diff.samePairing && !diff.outcomeChanged && !diff.usageChanged)
        #expect(diff.paths.isEmpty && diff.hosts.isEmpty)
    }

    @Test("toy_agent seeds 0 and 1 part at step 1, in the listing's result")
    func seedsDiverge() throws {
        // By hand, in the two files: step 1 is list_dir /app on both sides with the same
        // observation; the results list /app/.config_7311 (seed 0) and /app/.config_3201 (seed 1).
        let diff = ArtifactDiff(try Interop.load(Interop.toySeed0), try Interop.load(Interop.toySeed1))
        #expect(diff.verdict == .different)
        let d = try #require(diff.divergence)
        #expect(d.firstStep == 1)
        #expect(d.parts == ["result"])
        #expect(d.left["action"] == d.right["action"])
        #expect(d.left["result"]?["files"]?.arrayValue?.first == "/app/.config_7311")
        #expect(d.right["result"]?["files"]?.arrayValue?.first == "/app/.config_3201")
        #expect(diff.pairing.filter(\.changed).map(\.name) == ["seed"])
        #expect(!diff.outcomeChanged && !diff.usageChanged)
        #expect(diff.paths.removed == ["/app/.config_7311"])
        #expect(diff.paths.added == ["/app/.config_3201"])
        #expect(diff.hosts.isEmpty)
        #expect(diff.stepParts == ["observation", "action", "result"])
        #expect(diff.summary.contains("step 1 differs in result"))
    }

    @Test("a success against an invalid_action shows the outcome, taxonomy and budget deltas")
    func outcomeAndBudgets() throws {
        let diff = ArtifactDiff(try Interop.load(Interop.toySeed1), try Interop.load(Interop.cheaterSeed1))
        #expect(diff.verdict == .different)
        let outcome = Dictionary(uniqueKeysWithValues: diff.outcome.map { ($0.name, $0) })
        #expect(outcome["success"]?.a == true && outcome["success"]?.b == false)
        #expect(outcome["termination_reason"]?.a == "success" && outcome["termination_reason"]?.b == "invalid_action")
        #expect(outcome["failure_type"]?.a == .null && outcome["failure_type"]?.b == "invalid_action")
        #expect(outcome["failure_reason"]?.b == "unknown_action")
        #expect(diff.outcome.allSatisfy { $0.changed })
        #expect(diff.pairing.filter(\.changed).map(\.name) == ["agent_ref"])

        let steps = try #require(diff.usage.first { $0.name == "steps_used" })
        #expect(steps.a == 4 && steps.b == 1 && steps.delta == -3)
        #expect(steps.budgetA == 200 && steps.budgetB == 200)
        let tools = try #require(diff.usage.first { $0.name == "tool_calls_used" })
        #expect(tools.a == 4 && tools.b == 0 && tools.delta == -4)
        #expect(tools.budgetA == 40 && tools.budgetB == 40)
        #expect(!diff.budgetsChanged)

        let d = try #require(diff.divergence)
        #expect(d.firstStep == 1)
        #expect(d.parts.contains("action") && d.parts.contains("result"))
        #expect(d.right["action"]?["type"] == "unknown_action")
        #expect(diff.a.traceLength == 4 && diff.b.traceLength == 1)
        // Everything seed 1's toy run touched is gone from the cheater's trace.
        #expect(diff.paths.removed == ["/app", "/app/.config_3201"])
        #expect(diff.paths.added.isEmpty)
    }

    @Test("a changed budget is reported with both values and makes the artifacts different")
    func budgetChange() throws {
        let a = try Interop.load(Interop.toySeed0)
        let b = a.with("budgets", ["steps": 100, "tool_calls": 40]).with("artifact_hash", "sha256:other")
        let diff = ArtifactDiff(a, b)
        #expect(diff.verdict == .different)
        #expect(diff.budgetsChanged)
        let steps = try #require(diff.usage.first { $0.name == "steps_used" })
        #expect(steps.budgetA == 200 && steps.budgetB == 100 && steps.delta == 0 && steps.changed)
        #expect(diff.budgets.first { $0.name == "budgets.steps" }?.changed == true)
        #expect(diff.budgets.first { $0.name == "budgets.tool_calls" }?.changed == false)
    }

    @Test("hosts and paths touched on one side only are listed as added and removed")
    func ioAuditSets() throws {
        let a = try Interop.load(Interop.toySeed0).withStep(3) { e in
            e["io_audit"] = [["type": "net", "op": "http_get", "host": "api.old.example", "verdict": "allowed"]]
        }
        let b = try Interop.load(Interop.toySeed0).withStep(4) { e in
            e["io_audit"] = [["type": "net", "op": "http_get", "host": "api.new.example", "verdict": "denied"],
                             ["type": "fs", "op": "read_file", "path": "/app/extra.txt"]]
        }
        let diff = ArtifactDiff(a, b)
        #expect(diff.hosts.removed == ["api.old.example"])
        #expect(diff.hosts.added == ["api.new.example"])
        #expect(diff.paths.added == ["/app/extra.txt"])
        #expect(diff.paths.removed.isEmpty)
        #expect(diff.divergence?.firstStep == 3)
        #expect(diff.divergence?.parts == ["io_audit"])
        #expect(diff.stepParts == ["observation", "action", "result", "io_audit"])
    }

    @Test("equal artifact_hash is the same whatever the run ids and timings")
    func sameHashSame() throws {
        let a = try Interop.load(Interop.toySeed0)
        let b = a.with("run_id", "ffffffffffffffffffffffffffffffff").with("started_at", "2030-01-01T00:00:00+00:00")
        #expect(ArtifactDiff(a, b).verdict == .same)
    }

    @Test("different hashes are never the same, even with identical steps, outcome and usage: the hashed fields that differ are named")
    func sameBehaviourDifferentHash() throws {
        let a = try Interop.load(Interop.toySeed0)
        // TraceCore hashes what each step's model call took: two runs that behave alike differ
        // there, and replay and the CI gate call that a difference too (one verdict, issue 17.1).
        let b = try a.withStep(2) { $0["action_ts"] = "2031-01-01T00:00:00+00:00"; $0["llm_trace"] = ["latency_ms": 12.5] }.resealed()
        #expect(b["artifact_hash"] != a["artifact_hash"])
        let diff = ArtifactDiff(a, b)
        #expect(diff.verdict == .different)
        #expect(diff.divergence?.identical == true)
        #expect(diff.summary == "different: other hashed fields differ: action_trace (step 2: llm_trace)", "\(diff.summary)")
        // A hashed field outside the trace, the sandbox policy block (the issue's case).
        let c = try a.with("sandbox", ["filesystem_roots": ["/app", "/etc"], "network_hosts": []]).resealed()
        let sandbox = ArtifactDiff(a, c)
        #expect(sandbox.verdict == .different)
        #expect(sandbox.summary == "different: other hashed fields differ: sandbox", "\(sandbox.summary)")
        #expect(sandbox.json["hashed_fields"] == ["sandbox"])
    }

    @Test("an artifact edited after it was written, its old artifact_hash kept, is never the same; the report says which side",
          arguments: [("success", JSON.bool(false)), ("harness_version", JSON.string("edited")), ("steps_used", JSON.int(5))])
    func editedKeepsHash(_ field: String, _ value: JSON) throws {
        let a = try Interop.load(Interop.toySeed0)
        let b = a.with(field, value)
        #expect(b["artifact_hash"] == a["artifact_hash"])
        for (diff, side) in [(ArtifactDiff(a, b), "B"), (ArtifactDiff(b, a), "A")] {
            #expect(diff.verdict == .different, "\(field)")
            #expect(diff.alterations.count == 1 && diff.alterations[0].hasPrefix("\(side)'s artifact_hash does not match its content"))
            #expect(diff.summary.contains("\(side)'s artifact_hash does not match its content"))
            #expect(diff.json["alterations"]?.arrayValue?.count == 1)
        }
        // Both edited the same way: still not the same, whatever they share.
        #expect(ArtifactDiff(b, b).verdict == .different)
    }

    @Test("a longer trace diverges at the first step the other lacks")
    func longerTrace() throws {
        let a = try Interop.load(Interop.toySeed0)
        var trace = try #require(a["action_trace"]?.arrayValue)
        trace.append(trace[3].with("step", 5))
        let b = a.with("action_trace", .array(trace)).with("steps_used", 5).with("artifact_hash", "sha256:x")
        let diff = ArtifactDiff(a, b)
        #expect(diff.verdict == .different)
        #expect(diff.divergence?.firstStep == 5)
        #expect(diff.divergence?.parts == ["missing"])
        #expect(diff.divergence?.left == .null)
        #expect(diff.usage.first?.delta == 1)
        let text = diff.text(width: 100)
        #expect(text.contains("A's trace ends before step 5"))
    }

    @Test("a value without action_trace is not comparable, and says why", arguments: [
        JSON.object(["episodes": []]), JSON.array([]), JSON.object(["action_trace": "nope"]),
    ])
    func notComparable(_ other: JSON) throws {
        let diff = ArtifactDiff(try Interop.load(Interop.toySeed0), other, labelA: "a.json", labelB: "b.json")
        #expect(diff.verdict == .notComparable)
        #expect(diff.divergence == nil)
        #expect(diff.problems.count == 1)
        #expect(diff.problems[0].contains("B (b.json) is not an artifact"))
        #expect(diff.text().contains("NOT COMPARABLE"))
        #expect(diff.json["verdict"] == "not_comparable")
    }

    @Test("agent_hash counts only when both sides carry it")
    func optionalHashes() throws {
        let a = try Interop.load(Interop.toySeed0)
        let diff = ArtifactDiff(a, try a.with("agent_hash", "sha256:abc").resealed())
        let row = try #require(diff.pairing.first { $0.name == "agent_hash" })
        #expect(row.a == nil && row.b == "sha256:abc" && !row.changed)
        // Not a pairing change, but a hashed field all the same: never SAME (one verdict, 17.1).
        #expect(diff.verdict == .different)
        #expect(diff.otherHashedFields == ["agent_hash"], "\(diff.summary)")
        let both = ArtifactDiff(a.with("agent_hash", "sha256:abc"), a.with("agent_hash", "sha256:def").with("artifact_hash", "sha256:x"))
        #expect(both.pairing.first { $0.name == "agent_hash" }?.changed == true)
        #expect(both.verdict == .different)
    }
}

@Suite("ArtifactDiff renderers")
struct ArtifactDiffRenderTests {
    func seedsDiff() throws -> ArtifactDiff {
        ArtifactDiff(try Interop.load(Interop.toySeed0), try Interop.load(Interop.toySeed1), labelA: "seed0.json", labelB: "seed1.json")
    }

    @Test("text is two columns with diff -y gutter marks and no colour unless asked")
    func text() throws {
        let text = try seedsDiff().text(width: 120)
        #expect(text.hasPrefix("DIFFERENT"))
        #expect(text.contains("first divergent step: 1"))
        #expect(!text.contains("\u{1B}["))
        let changed = try #require(text.split(separator: "\n").first { $0.contains("/app/.config_7311") && $0.contains("/app/.config_3201") })
        #expect(changed.contains(" | "))
        #expect(text.contains("- path /app/.config_7311"))
        #expect(text.contains("+ path /app/.config_3201"))
        for line in text.split(separator: "\n") { #expect(line.count <= 120, "too wide: \(line)") }
    }

    @Test("colour paints A-only red and B-only green")
    func colour() throws {
        let text = try seedsDiff().text(width: 120, colour: true)
        #expect(text.contains("\u{1B}[31m- path /app/.config_7311"))
        #expect(text.contains("\u{1B}[32m+ path /app/.config_3201"))
    }

    @Test("long values wrap, are cut with an ellipsis, and the report says so")
    func longValues() throws {
        let a = try Interop.load(Interop.toySeed0)
        let long = String(repeating: "0123456789", count: 200)
        let b = a.withStep(2) { $0["result"] = ["ok": true, "content": .string(long)] }.with("artifact_hash", "sha256:x")
        let text = ArtifactDiff(a, b).text(width: 80)
        #expect(text.contains("…"))
        #expect(text.contains("cut to fit"))
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "too wide: \(line)") }
    }

    @Test("markdown has the tables and a diff block per part of the step")
    func markdown() throws {
        let md = try seedsDiff().markdown
        #expect(md.hasPrefix("## rigor diff: different"))
        #expect(md.contains("### First divergent step: 1"))
        #expect(md.contains("```diff"))
        #expect(md.contains("-    \"/app/.config_7311\","))
        #expect(md.contains("+    \"/app/.config_3201\","))
        #expect(md.contains("| seed | `0` | `1` | **changed** |"))
    }

    @Test("json is the whole report, parseable")
    func json() throws {
        let diff = try seedsDiff()
        let parsed = try JSON.parse(try diff.json.prettyBytes())
        #expect(parsed["verdict"] == "different")
        #expect(parsed["divergence"]?["first_divergent_step"] == 1)
        #expect(parsed["io_audit"]?["paths"]?["added"] == ["/app/.config_3201"])
        #expect(parsed["usage"]?.arrayValue?.first?["delta"] == 0)
        #expect(parsed["pairing"]?["same"] == false)
    }

    @Test("html is one page with every value escaped")
    func htmlEscaped() throws {
        let a = try Interop.load(Interop.toySeed0)
        let hostile = "</td><script>alert('x')</script>"
        let b = a.withStep(1) { $0["result"] = ["ok": true, "files": [.string(hostile)]] }
            .with("failure_reason", .string("<script>bad()</script>")).with("artifact_hash", "sha256:x")
        let html = ArtifactDiff(a, b, labelA: "<script>a</script>", labelB: "b\"&'").html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(html.contains("b&quot;&amp;&#39;"))
        #expect(html.hasSuffix("</html>\n"))
        #expect(!html.contains("http://") && !html.contains("https://"), "self-contained: no external resources")
    }
}

@Suite("LineAlignment")
struct LineAlignmentTests {
    @Test("a replaced line is paired with its replacement")
    func changedLine() {
        let rows = LineAlignment(["a", "b", "c"], ["a", "x", "c"]).rows
        #expect(rows.map(\.kind) == [.same, .changed, .same])
        #expect(rows[1].left == "b" && rows[1].right == "x")
    }

    @Test("inserted and deleted lines sit against a blank")
    func insertDelete() {
        let rows = LineAlignment(["a", "b", "c", "d"], ["a", "c", "d", "e"]).rows
        #expect(rows.map(\.kind) == [.same, .removed, .same, .same, .added])
        #expect(rows[1].right == nil && rows[4].left == nil)
    }

    @Test("past the cell limit lines pair by position, still covering both sides")
    func bounded() {
        let left = (0..<50).map { "l\($0)" }, right = (0..<40).map { "r\($0)" }
        let rows = LineAlignment(left, right, maxCells: 10).rows
        #expect(rows.compactMap(\.left) == left)
        #expect(rows.compactMap(\.right) == right)
    }

    @Test("every alignment keeps both texts in order", arguments: 0..<40)
    func coversBothSides(_ seed: Int) {
        // Deterministic pseudo-random texts over a small alphabet, so lines repeat.
        var state = UInt64(seed) &* 6364136223846793005 &+ 1442695040888963407
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let left = (0..<next(15)).map { _ in "v\(next(4))" }
        let right = (0..<next(15)).map { _ in "v\(next(4))" }
        let alignment = LineAlignment(left, right)
        #expect(alignment.rows.compactMap(\.left) == left)
        #expect(alignment.rows.compactMap(\.right) == right)
        #expect(alignment.hasChanges == (left != right))
        for r in alignment.rows where r.kind == .same { #expect(r.left == r.right) }
    }

    @Test("long unchanged stretches collapse around the change")
    func collapse() {
        let left = (0..<30).map { "line \($0)" }
        var right = left
        right[15] = "changed"
        let segments = LineAlignment(left, right).collapsed(context: 3)
        #expect(segments.count == 3)
        #expect(segments[0] == .skipped(12))
        #expect(segments[2] == .skipped(11))
        if case .rows(let rows) = segments[1] { #expect(rows.count == 7) } else { Issue.record("expected rows") }
    }
}
