import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Issue 21, finding 4: an agent must not be able to make its own run unverifiable by nesting
/// its action's arguments deep. `Agents/adversarial/deep_args` nests its args as deep as the seed.
@Suite("Deep action arguments")
struct ArtifactDepthTests {
    /// (args depth, expected termination). 64 is the payload limit; 510 made a line of exactly
    /// the old parser limit (512), whose artifact (515 deep) `verify` and the store refused.
    @Test("an action is either recorded in an artifact every reader accepts, or ends the run as action_too_deep",
          arguments: [(1, "unknown_action"), (64, "unknown_action"), (65, "action_too_deep"), (510, "action_too_deep")])
    func deepArgs(depth: Int, expected: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-deep")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/artifact.json"
        let run = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/adversarial/deep_args", "--task", "rate_limited_api@1", "--seed", String(depth),
             "--isolation", "process", "--act-timeout", "30", "--strict-spec", "--out", out, "--state-dir", dir])
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "no artifact: \(run.stderr)")))
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(artifact["termination_reason"]?.stringValue == expected, "\(artifact["failure_reason"] ?? .null)")
        #expect(artifact["failure_type"] == "invalid_action")
        if expected == "action_too_deep" {
            #expect(artifact["action_trace"]?.arrayValue?.isEmpty == true)
            #expect(artifact["failure_reason"]?.stringValue?.contains("64") == true)
        }
        #expect(artifact.nestingDepth <= ArtifactLimits.artifactDepth)
        // Every reader of artifacts takes it: verify, the store (show, verify), the bundle reader.
        let verify = try CommandLineRun.rigor(["verify", "--strict-spec", out])
        #expect(verify.status == 0, "verify: \(verify.stdout)\(verify.stderr)")
        let show = try CommandLineRun.rigor(["runs", "show", "latest", "--trace", "--state-dir", dir])
        #expect(show.status == 0, "runs show: \(show.stdout)\(show.stderr)")
        let storeCheck = try CommandLineRun.rigor(["runs", "verify", "--state-dir", dir])
        #expect(storeCheck.status == 0, "runs verify: \(storeCheck.stdout)\(storeCheck.stderr)")
    }

    @Test("the depth limits are derived from the payload limit by the wrapping around it")
    func limitsAreDerived() {
        #expect(ArtifactLimits.agentLineDepth == ArtifactLimits.payloadDepth + ArtifactLimits.agentLineWrappingDepth)
        #expect(ArtifactLimits.artifactDepth == ArtifactLimits.payloadDepth + ArtifactLimits.artifactWrappingDepth)
        #expect(ArtifactLimits.bundleDepth == ArtifactLimits.artifactDepth + ArtifactLimits.bundleWrappingDepth)
    }
}
