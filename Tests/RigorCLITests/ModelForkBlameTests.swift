import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// `rigor fork` and `rigor blame` (spec/model-gateway.md §9) on recorded LLM episodes: a passing
/// run P of the openai agent (seed 0: Chat Completions, not streamed) with the fake upstream's
/// own policy, and a failing run F of the same seed whose upstream was scripted to answer call 2
/// with a wrong action (reading /etc/passwd, a sandbox violation).
@Suite("Model gateway: fork and blame", .serialized,
       .enabled(if: Facility.needed(ModelProject.python != nil, ModelProject.needsSDKs)))
struct ModelForkBlameTests {
    static let wrongAction: JSON = ["type": "read_file", "args": ["path": "/etc/passwd"]]

    /// A Chat Completions answer as the fake upstream (and OpenAI) sends it, whose text is `reply`.
    static func chatCompletion(_ reply: String) throws -> [UInt8] {
        let body: JSON = [
            "id": "chatcmpl-fork", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o-mini",
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(reply), "refusal": nil, "annotations": []],
                         "logprobs": nil, "finish_reason": "stop"]],
            "usage": ["prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22],
            "service_tier": "default", "system_fingerprint": "fp_rigorfake",
        ]
        return try body.canonicalBytes()
    }

    struct Recorded {
        let project: ModelProject
        let good: FakeModelUpstream
        let scripted: FakeModelUpstream
        let passed: JSON
        let failed: JSON
        var passedID: String { passed["run_id"]?.stringValue ?? "?" }
        var failedID: String { failed["run_id"]?.stringValue ?? "?" }

        func stop() {
            good.stop()
            scripted.stop()
            project.remove()
        }
    }

    /// P, and F unless `failing` is false.
    static func record(failing: Bool = true) throws -> Recorded {
        let good = try FakeModelUpstream()
        let wrong = String(decoding: try wrongAction.canonicalBytes(), as: UTF8.self)
        let scripted = try FakeModelUpstream(script: [nil, .string(wrong)])
        let project = try ModelProject.make("fork", upstream: good)
        let (p, passed) = try project.run("openai", seed: 0, ["--models", "record"])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(passed["success"] == true)
        #expect(good.log().count == 3)
        guard failing else { return Recorded(project: project, good: good, scripted: scripted, passed: passed, failed: .null) }
        let (f, failed) = try project.run("openai", seed: 0, ["--models", "record", "--model-upstream", "openai=\(scripted.url)"])
        #expect(f.status == 1)
        #expect(failed["termination_reason"] == "sandbox_violation", "\(failed["failure_reason"] ?? .null)")
        #expect(failed["steps_used"] == 2)
        #expect(scripted.log().count == 2)
        return Recorded(project: project, good: good, scripted: scripted, passed: passed, failed: failed)
    }

    func tape(_ r: Recorded, _ artifact: JSON) throws -> ModelTape {
        try ModelTapeStore(stateDirectory: r.project.state).get(try #require(artifact["models"]?["tape"]?.stringValue))
    }

    @Test("blame F --against P --continue replay blames call 2 and its step; it reports each trial (k=0 passes, k=2 fails), the episodes run, no live call; every trial is a stored run linked to F; no upstream is reached")
    func blameFindsTheWrongAnswer() throws {
        let r = try Self.record()
        defer { r.stop() }
        let calls = (r.good.log().count, r.scripted.log().count)
        let (b, report) = try r.project.json(["blame", r.failedID, "--against", r.passedID, "--continue", "replay"])
        #expect(b.status == 0, "\(b.stdout) \(b.stderr)")
        #expect(report["call"] == 2, "\(report)")
        #expect(report["step"] == 2)
        #expect(report["note"] == .null)
        #expect(report["live_calls"] == 0)
        let trials = report["trials"]?.arrayValue ?? []
        #expect(trials.map { $0["failed_calls_kept"]?.intValue ?? -1 } == [0, 1, 2])
        #expect(trials.map { $0["passes"]?.intValue ?? -1 } == [1, 1, 0])
        #expect(trials.allSatisfy { $0["runs"] == 1 })
        #expect(report["episodes"] == 3)
        #expect((r.good.log().count, r.scripted.log().count) == calls, "--continue replay reaches no upstream")
        for trial in trials {
            let id = try #require(trial["run_ids"]?.arrayValue?.first?.stringValue)
            let run = try r.project.artifact(id)
            #expect(run["diagnostics"]?["fork"]?["parent_run_id"]?.stringValue == r.failedID)
            #expect(run["diagnostics"]?["fork"]?["against_run_id"]?.stringValue == r.passedID)
            #expect(run["diagnostics"]?["fork"]?["failed_calls_kept"] == trial["failed_calls_kept"])
            #expect(run["diagnostics"]?["fork"]?["mutation"] == "blame")
            #expect(run["success"] == .bool(trial["passes"] == 1))
        }

        // The runs the wrong way round: nothing to bisect.
        let backwards = try r.project.rigor(["blame", r.passedID, "--against", r.failedID, "--continue", "replay"])
        #expect(backwards.status == 2)
        #expect(backwards.stderr.contains("the run given with --against did not pass"), "\(backwards.stderr)")
    }

    @Test("fork P --call 2 with a wrong answer (--continue replay): the branch fails, is linked to P, took call 1 from P's tape and call 2 from the file, reached no upstream, and replays; --at 2 is the same fork; P's own answer there, continuing with record, gives P back; F mended with P's answer at call 2 passes, only call 3 going to the upstream")
    func forkReplacesOneAnswer() throws {
        let r = try Self.record()
        defer { r.stop() }
        let wrongFile = "\(r.project.root)/wrong.json"
        let wrongBody = try Self.chatCompletion(String(decoding: try Self.wrongAction.canonicalBytes(), as: UTF8.self))
        try Data(wrongBody).write(to: URL(fileURLWithPath: wrongFile))
        let goodCalls = r.good.log().count

        let (f, summary) = try r.project.json(["fork", r.passedID, "--call", "2", "--response", wrongFile, "--continue", "replay"])
        #expect(f.status == 1, "\(f.stdout) \(f.stderr)")
        #expect(summary["success"] == false)
        #expect(summary["termination_reason"] == "sandbox_violation")
        #expect(summary["parent_run_id"]?.stringValue == r.passedID)
        #expect(summary["parent_success"] == true)
        #expect(summary["at_call"] == 2)
        #expect(summary["model_calls"] == 2)
        #expect(summary["live_calls"] == 0, "call 1 came from the tape, call 2 from the file")
        let branchID = try #require(summary["run_id"]?.stringValue)
        let branch = try r.project.artifact(branchID)
        #expect(branch["diagnostics"]?["fork"]?["parent_run_id"]?.stringValue == r.passedID)
        #expect(branch["diagnostics"]?["fork"]?["parent_artifact_hash"] == r.passed["artifact_hash"])
        #expect(branch["diagnostics"]?["fork"]?["at_call"] == 2)
        #expect(branch["diagnostics"]?["fork"]?["mutation"] == "response")
        #expect(branch["diagnostics"]?["models"]?["overridden_calls"] == [2])
        let parentTape = try tape(r, r.passed)
        let branchTape = try tape(r, branch)
        #expect(branchTape.exchanges.count == 2)
        #expect(branchTape.exchanges.first == parentTape.exchanges.first)
        #expect(branchTape.exchanges.last?.response == wrongBody)
        #expect(branchTape.exchanges.last?.usage == ModelUsage(inputTokens: 10, outputTokens: 12), "the answer's own usage counts")
        #expect(r.good.log().count == goodCalls, "--continue replay reaches no upstream")
        let (_, replay) = try r.project.replay(branchID)
        #expect(replay["status"] == "reproduced", "a branch is a run like any other: \(replay)")

        let (_, atStep) = try r.project.json(["fork", r.passedID, "--at", "2", "--response", wrongFile, "--continue", "replay"])
        #expect(atStep["at_call"] == 2)
        #expect(atStep["artifact_hash"] == summary["artifact_hash"], "--at 2 and --call 2 are the same fork")

        // The parent's own answer at call 2, then the upstream (record) for call 3: the branch is
        // the parent again (same artifact_hash).
        let ownFile = "\(r.project.root)/own.json"
        try Data(parentTape.exchanges[1].response).write(to: URL(fileURLWithPath: ownFile))
        #expect(parentTape.exchanges[1].contentType == "application/json")
        let (same, own) = try r.project.json(["fork", r.passedID, "--call", "2", "--response", ownFile, "--continue", "record",
                                              "--model-upstream", "openai=\(r.good.url)"])
        #expect(same.status == 0, "\(same.stdout) \(same.stderr)")
        #expect(own["artifact_hash"] == r.passed["artifact_hash"], "\(own)")
        #expect(own["live_calls"] == 1)
        #expect(r.good.log().count == goodCalls + 1, "only call 3 went to the upstream")

        // Mending F: P's answer at call 2, then the upstream (record) for call 3.
        let failedTape = try tape(r, r.failed)
        #expect(failedTape.exchanges.count == 2)
        let (mended, fixed) = try r.project.json(["fork", r.failedID, "--call", "2", "--response", ownFile, "--continue", "record",
                                                  "--model-upstream", "openai=\(r.good.url)"])
        #expect(mended.status == 0, "\(mended.stdout) \(mended.stderr)")
        #expect(fixed["success"] == true)
        #expect(fixed["model_calls"] == 3)
        #expect(fixed["live_calls"] == 1)
        #expect(r.good.log().count == goodCalls + 2, "only call 3 went to the upstream")
        let fixedRun = try r.project.artifact(try #require(fixed["run_id"]?.stringValue))
        #expect(fixedRun["diagnostics"]?["models"]?["tape_stored"] == true)
        #expect(try tape(r, fixedRun).exchanges.count == 3)
    }

    @Test("fork refuses a call or step the run did not make, a run with no tape, and a missing response file; blame refuses runs of other seeds or agents (exit 2, saying what there is)")
    func forkRefusesWhatIsNotThere() throws {
        let r = try Self.record(failing: false)
        defer { r.stop() }
        let file = "\(r.project.root)/answer.json"
        try Data(try Self.chatCompletion("{}")).write(to: URL(fileURLWithPath: file))
        let cases: [([String], String)] = [
            (["fork", r.passedID, "--call", "9", "--response", file], "the run made 3 model calls: fork at call 1 to 4"),
            (["fork", r.passedID, "--at", "7", "--response", file], "no model call was made at step 7; the run made calls at steps 1, 2, 3"),
            (["fork", r.passedID, "--call", "1", "--response", "\(r.project.root)/nothing.json"], "--response: cannot read"),
        ]
        for (arguments, message) in cases {
            let out = try r.project.rigor(arguments)
            #expect(out.status == 2, "\(arguments): \(out.stdout) \(out.stderr)")
            #expect(out.stderr.contains(message), "\(arguments): \(out.stderr)")
        }
        // A run that made no model call has nothing to fork at.
        let plain = try r.project.json(["run", "--agent", "\(RepoPaths.agents)/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                        "--seed", "0", "--isolation", "process"]).1
        let none = try r.project.rigor(["fork", plain["run_id"]?.stringValue ?? "?", "--call", "1", "--response", file])
        #expect(none.status == 2)
        #expect(none.stderr.contains("made no model call: there is nothing to fork at"), "\(none.stderr)")

        // Blame compares runs of one agent, task and seed.
        let other = try r.project.json(["run", "--agent", "openai", "--task", "filesystem_hidden_config@1", "--seed", "1", "--models", "record"]).1
        let seeds = try r.project.rigor(["blame", other["run_id"]?.stringValue ?? "?", "--against", r.passedID, "--continue", "replay"])
        #expect(seeds.status == 2)
        #expect(seeds.stderr.contains("blame compares two runs of one seed: the failed run has seed 1, the passing one 0"), "\(seeds.stderr)")
        let agents = try r.project.rigor(["blame", plain["run_id"]?.stringValue ?? "?", "--against", r.passedID, "--continue", "replay"])
        #expect(agents.status == 2)
        #expect(agents.stderr.contains("blame compares two runs of one agent on one task"), "\(agents.stderr)")
    }
}
