import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 17.1: `rigor diff`, `rigor replay` and `rigor ci` make one comparison and agree. The
/// pair the issue was about has identical steps, outcome and usage but differs in a hashed field
/// outside the trace (the `sandbox` block then); diff called it SAME while ci failed it.
@Suite("diff, replay and ci give one verdict", .serialized)
struct OneVerdictTests {
    /// A recording of `result`'s episode that differs from it only in `field`, resealed so it is
    /// not an edited artifact but one that really hashes so.
    static func recording(of result: EpisodeResult, differingIn field: String) throws -> JSON {
        let a = result.artifact
        let changed: JSON
        switch field {
        case "sandbox":
            var sandbox = try #require(a["sandbox"]?.objectValue)
            var limits = try #require(sandbox["limits"]?.objectValue)
            limits["open_files"] = .int((limits["open_files"]?.intValue ?? 256) - 1)
            sandbox["limits"] = .object(limits)
            changed = .object(sandbox)
        case "world_key_id":
            changed = .string("sha256:" + String(repeating: "a", count: 64))
        default:
            changed = .string("edited")
        }
        let recorded = try a.with(field, changed).resealed()
        #expect(recorded["artifact_hash"] != a["artifact_hash"])
        #expect(Divergence(recorded, a).identical, "only \(field) differs: the steps and the outcome are the same")
        return recorded
    }

    @Test("a pair differing only in one hashed field outside the steps: diff, replay and ci (exact) all call it a difference and name the field",
          arguments: ["sandbox", "world_key_id", "harness_version"])
    func oneHashedField(_ field: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-one-verdict")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let workspace = RepoPaths.workspace(state: "\(state)/.rigor")
        let request = try workspace.prepare(RunOptions(agent: "\(RepoPaths.root)/Agents/toy_agent.py", task: "filesystem_hidden_config@1",
                                                       seed: 3, isolation: .process, worldKey: TestWorldKey.fixed))
        let result = try Episode.run(request)
        #expect(result.record.success, "\(result.agentLog)")
        let recorded = try Self.recording(of: result, differingIn: field)

        // diff
        let diff = ArtifactDiff(recorded, result.artifact)
        #expect(diff.verdict == .different, "\(diff.summary)")
        #expect(diff.summary.contains("other hashed fields differ: \(field)"), "\(diff.summary)")
        #expect(diff.json["other_hashed_fields"] == [.string(field)])
        #expect(diff.text().hasPrefix("DIFFERENT"))

        // replay
        let replay = Replay.compare(recorded: recorded, replayed: result)
        #expect(replay.status == .nonDeterministic)
        #expect(replay.otherChanges == [field])
        #expect(replay.divergence?.identical == true)

        // ci, exact: a baseline recorded as `recorded`, re-run for real.
        let dir = "\(state)/Baselines"
        let path = try Baseline.path(in: dir, pairing: "toy", seed: 3)
        try Baseline(pairing: "toy", artifact: recorded, worldKey: TestWorldKey.fixed).write(to: path, artifact: recorded)
        let baselines = try Baseline.loadAll(dir)
        let checks = try CIGate.run(baselines, in: workspace, workers: 1, isolation: .process, mode: .exact) { _, _ in }
        let check = try #require(checks.first)
        #expect(!check.reproduced && CIGate.fails(checks, mode: .exact))
        #expect(check.regressions.contains { $0.contains("hashed fields differ: \(field)") }, "\(check.regressions)")
        #expect(check.firstDivergentStep == nil)

        // And all three call the unedited pair the same.
        #expect(ArtifactDiff(result.artifact, result.artifact).verdict == .same)
        #expect(Replay.compare(recorded: result.artifact, replayed: result).status == .reproduced)
    }
}
