import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 17, item 6: a batch's failures can be read from its summary, and its progress neither
/// floods a CI log nor shows at all under --quiet.
@Suite("Reading a batch: failing seeds, --quiet, bounded progress")
struct BatchReadingTests {
    struct Box {
        let dir = RepoPaths.temporaryDirectory("rigor-batch-reading")
        var state: String { "\(dir)/state" }
        var pairings: String { "\(dir)/pairings.json" }

        /// "good": the Swift agent (passes); "bad": an agent that sends an action the task lacks.
        init() throws {
            try #"""
                [{"name": "good", "agent": "\#(RepoPaths.swiftAgent)", "task": "filesystem_hidden_config@1"},
                 {"name": "bad", "agent": "Agents/malformed/unknown_action.py", "task": "filesystem_hidden_config@1"}]
                """#.write(toFile: pairings, atomically: true, encoding: .utf8)
        }

        func rigor(_ args: [String]) throws -> CommandResult {
            try CommandLineRun.rigor(args + ["--state-dir", state, "--pairings-file", pairings])
        }
    }

    @Test("the summary lists each failing pairing's first five failing seeds with their reasons, in text and JSON")
    func failingSeeds() throws {
        let box = try Box()
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        let j = try box.rigor(["batch", "--pairings", "all", "--seeds", "0..6", "--json"])
        #expect(j.status == 1, "\(j.stderr)")
        let summary = try JSON.parse(j.stdout)
        let pairings = summary["pairings"]?.arrayValue ?? []
        let good = try #require(pairings.first { $0["name"] == "good" })
        let bad = try #require(pairings.first { $0["name"] == "bad" })
        #expect(good["first_failures"] == .array([]))
        let failures = try #require(bad["first_failures"]?.arrayValue)
        #expect(failures.map { $0["seed"]?.intValue } == [0, 1, 2, 3, 4])
        #expect(failures.allSatisfy { $0["termination_reason"] == "unknown_action" && $0["failure_type"] == "invalid_action" })
        #expect(failures[0]["failure_reason"]?.stringValue?.contains("teleport") == true)
        #expect(failures[0]["run_id"]?.stringValue?.isEmpty == false)

        let t = try box.rigor(["batch", "--pairings", "all", "--seeds", "0..6", "--quiet"])
        #expect(t.stdout.contains("first failing seeds"), "\(t.stdout)")
        let lines = t.stdout.split(separator: "\n").filter { $0.hasPrefix("bad ") && $0.contains("seed ") }
        #expect(lines.count == 5, "\(t.stdout)")
        #expect(lines.first?.contains("unknown_action (invalid_action): action 'teleport'") == true, "\(t.stdout)")
        #expect(t.stdout.contains("… and 2 more"))
        #expect(!t.stdout.contains("good  seed"))
    }

    @Test("--quiet prints only the summary: nothing on stderr, no line per baseline or reproduced check")
    func quiet() throws {
        let box = try Box()
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        let batch = try box.rigor(["batch", "--pairings", "good", "--seeds", "0..3", "--quiet"])
        #expect(batch.status == 0)
        #expect(batch.stderr.isEmpty, "\(batch.stderr)")
        #expect(batch.stdout.contains("4 episodes, 4 passed"))
        let loud = try box.rigor(["batch", "--pairings", "good", "--seeds", "0..3"])
        #expect(loud.stderr.contains("[4/4] 100%"), "without --quiet, progress lines: \(loud.stderr)")

        let record = try box.rigor(["baseline", "record", "--pairings", "good", "--seeds", "0..3", "--quiet", "--baselines", "\(box.dir)/B"])
        #expect(record.status == 0, "\(record.stderr)")
        #expect(record.stderr.isEmpty, "\(record.stderr)")
        #expect(record.stdout.split(separator: "\n").count == 1, "\(record.stdout)")
        #expect(record.stdout.contains("wrote 4 baselines in \(box.dir)/B"))

        let ci = try box.rigor(["ci", "--baselines", "\(box.dir)/B", "--quiet"])
        #expect(ci.status == 0, "\(ci.stdout)\(ci.stderr)")
        #expect(ci.stderr.isEmpty, "\(ci.stderr)")
        #expect(!ci.stdout.split(separator: "\n").contains { $0.hasPrefix("good ") || $0.hasPrefix("pairing ") }, "\(ci.stdout)")
        #expect(ci.stdout.contains("all 4 baselines reproduced"))

        let validate = try CommandLineRun.rigor(["tasks", "validate", "--tasks", "filesystem_hidden_config@1", "--seeds", "0..1",
                                                 "--null-seeds", "0", "--quiet", "--state-dir", box.state])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        #expect(validate.stdout == "every task passed (1)\n", "\(validate.stdout)")
    }

    @Test("off a terminal, a 200-episode batch writes a progress line per tenth, not one per episode")
    func boundedProgress() throws {
        let box = try Box()
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        let r = try box.rigor(["batch", "--pairings", "good", "--seeds", "0..199"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count < 30, "\(lines.count) lines on stderr:\n\(r.stderr)")
        #expect(lines.count >= 10, "a line per tenth: \(r.stderr)")
        #expect(lines.last?.hasPrefix("[200/200] 100%") == true)
        #expect(lines.contains { $0.contains("left") }, "an estimate of the time left: \(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count < 30)
    }

    /// `script` gives the batch a terminal for stderr (stdout goes to /dev/null inside it).
    @Test("on a terminal, the progress is one bar redrawn in place, with the time left; --quiet draws none",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func terminalBar() throws {
        let box = try Box()
        defer { try? FileManager.default.removeItem(atPath: box.dir) }
        func onTerminal(_ extra: String) throws -> String {
            let command = "'\(RepoPaths.rigorBinary)' batch --pairings good --seeds 0..29 --workers 1 --state-dir '\(box.state)' "
                + "--pairings-file '\(box.pairings)' \(extra) 2>&1 >/dev/null"
            return try CommandLineRun.run("/usr/bin/script", ["-qfec", command, "/dev/null"]).stdout
        }
        let bar = try onTerminal("")
        let frames = bar.split(separator: "\r").filter { $0.contains("/30") }
        #expect(frames.count >= 1, "\(bar.debugDescription)")
        #expect(bar.contains("30/30  failed 0  done in"), "\(bar.debugDescription)")
        // Every frame before the end carries the time left, estimated from the pace so far:
        // "<done>/30  failed 0  <elapsed>, about <left> left", left ≈ elapsed / done × (30 − done).
        let pattern = #"([0-9]+)/30  failed 0  ([0-9.]+) s, about ([0-9.]+) s left"#
        let regex = try NSRegularExpression(pattern: pattern)
        var estimates = 0
        for frame in frames where !frame.contains("30/30") {
            let text = String(frame)
            #expect(text.contains(" left"), "a frame without the time left: \(text.debugDescription)")
            guard let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges == 4,
                  let done = Range(m.range(at: 1), in: text).flatMap({ Double(text[$0]) }),
                  let elapsed = Range(m.range(at: 2), in: text).flatMap({ Double(text[$0]) }),
                  let left = Range(m.range(at: 3), in: text).flatMap({ Double(text[$0]) }) else { continue }
            // Both printed to 0.1 s below 10 s, in whole seconds above.
            let expected = elapsed / done * (30 - done)
            let slack = (elapsed >= 10 ? 0.5 : 0.05) * (30 - done) / done + (left >= 10 ? 0.5 : 0.05) + 0.01
            #expect(abs(left - expected) <= slack, "frame \(text.debugDescription): \(left) s left, expected about \(expected)")
            estimates += 1
        }
        #expect(estimates >= 1, "no frame with an estimate of the time left: \(bar.debugDescription)")
        #expect(bar.split(separator: "\n").count <= 2, "one line, redrawn: \(bar.debugDescription)")
        #expect(try onTerminal("--quiet").isEmpty)
    }
}
