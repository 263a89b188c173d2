import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTasks
import RigorTestSupport
import Testing

/// Issue 21, finding 5, for numbers that come from a recording (a bundle's or a baseline's
/// artifact) rather than a flag: a hash-valid recording with an act timeout of 1e30 used to
/// trap when it was replayed. Out of range, it is refused with a message naming the field.
@Suite("Numbers in recordings")
struct RecordedNumbersTests {
    /// The committed baselines' world key (a replay needs the key the recording was made under).
    static func worldKey() throws -> WorldKey {
        try #require(try Baseline.loadAll("\(RepoPaths.root)/Baselines/toy_filesystem").first?.worldKey)
    }

    static func recording(actTimeout: JSON) throws -> JSON {
        let baselines = try Baseline.loadAll("\(RepoPaths.root)/Baselines/toy_filesystem")
        var artifact = try #require(baselines.first?.storedArtifact())
        guard case .object(var members) = artifact, case .object(var sandbox)? = members["sandbox"],
              case .object(var limits)? = sandbox["limits"] else { throw CancellationError() }
        limits["act_timeout_seconds"] = actTimeout
        sandbox["limits"] = .object(limits)
        members["sandbox"] = .object(sandbox)
        artifact = .object(members)
        return artifact
    }

    @Test("a recorded act timeout outside 0.001…86400 s is refused by replay, naming the field",
          arguments: [JSON.double(1e30), .double(-1), .int(0), .int(Int.max), .double(1e-9)])
    func outOfRange(actTimeout: JSON) throws {
        let state = RepoPaths.temporaryDirectory("rigor-recorded")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let artifact = try Self.recording(actTimeout: actTimeout)
        #expect {
            _ = try Replay.plan(artifact, in: RepoPaths.workspace(state: state), worldKey: try Self.worldKey())
        } throws: { error in
            "\(error)".contains("act_timeout_seconds") && "\(error)".contains("86400")
        }
    }

    @Test("a recorded act timeout in range replays as recorded", arguments: [JSON.int(10), .double(2.5)])
    func inRange(actTimeout: JSON) throws {
        let state = RepoPaths.temporaryDirectory("rigor-recorded")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (request, _) = try Replay.plan(try Self.recording(actTimeout: actTimeout), in: RepoPaths.workspace(state: state),
                                          worldKey: try Self.worldKey())
        #expect(JSON.number(request.guardSettings.actTimeoutSeconds) == actTimeout)
    }

    @Test("deadlines never trap: seconds → nanoseconds saturates, additions clamp",
          arguments: [1e30, .infinity, -.infinity, .nan, -1, 0, 1e-12, 18_446_744_073.709_551_615])
    func saturatingDeadlines(seconds: Double) {
        let nanos = MonotonicClock.nanos(seconds: seconds)
        if !(seconds > 0) { #expect(nanos == 0) }
        if seconds >= 1e11 { #expect(nanos == .max) }
        #expect(nanos.addingClamped(.max) == .max)
        #expect(UInt64(1).addingClamped(nanos) >= nanos)
    }
}
