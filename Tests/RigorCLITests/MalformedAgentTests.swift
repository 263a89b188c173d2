import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Every way an agent can misbehave ends in the right taxonomy and an artifact that passes
/// `rigor spec check`. Each case runs a real agent subprocess through the built `rigor`.
@Suite("Malformed agents")
struct MalformedAgentTests {
    struct Case: Sendable, CustomStringConvertible {
        let agent: String
        let reason: String
        let failureType: String
        let extra: [String]
        let steps: Int?
        var description: String { agent }
    }

    static let cases: [Case] = [
        Case(agent: "crash_signal.py", reason: "agent_crashed", failureType: "invalid_action", extra: [], steps: 1),
        Case(agent: "raise_in_act.py", reason: "agent_exited", failureType: "invalid_action", extra: [], steps: nil),
        Case(agent: "exit_mid_episode.py", reason: "agent_exited", failureType: "invalid_action", extra: [], steps: 2),
        Case(agent: "exit_immediately", reason: "agent_exited", failureType: "invalid_action", extra: [], steps: 0),
        Case(agent: "garbage_stdout", reason: "protocol_error", failureType: "invalid_action", extra: [], steps: 0),
        Case(agent: "no_newline_flood", reason: "protocol_error", failureType: "invalid_action", extra: [], steps: 0),
        Case(agent: "wrong_shape", reason: "malformed_action", failureType: "invalid_action", extra: [], steps: 0),
        Case(agent: "unknown_action.py", reason: "unknown_action", failureType: "invalid_action", extra: [], steps: 1),
        Case(agent: "idle_wait.py", reason: "unknown_action", failureType: "invalid_action", extra: [], steps: 1),
        Case(agent: "missing_args.py", reason: "invalid_arguments", failureType: "invalid_action", extra: [], steps: 1),
        Case(agent: "extra_args.py", reason: "invalid_arguments", failureType: "invalid_action", extra: [], steps: 1),
        Case(agent: "wrong_arg_types.py", reason: "invalid_arguments", failureType: "invalid_action", extra: [], steps: 1),
        Case(agent: "hang_in_act.py", reason: "act_timeout", failureType: "timeout", extra: ["--act-timeout", "1"], steps: 0),
        Case(agent: "sandbox_escape.py", reason: "sandbox_violation", failureType: "sandbox_violation", extra: [], steps: 1),
        Case(agent: "loop_list_dir.py", reason: "tool_calls_exhausted", failureType: "budget_exhausted", extra: [], steps: 40),
    ]

    @Test("each malformed agent maps to its termination_reason with a spec-valid artifact", arguments: cases)
    func taxonomy(_ c: Case) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-malformed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/artifact.json"
        let run = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/malformed/\(c.agent)", "--task", "filesystem_hidden_config@1", "--seed", "1",
             "--json", "--out", out, "--state-dir", dir] + c.extra)
        #expect(run.status == 1, "exit status \(run.status); stderr: \(run.stderr)")
        let summary = try JSON.parse(run.stdout)
        #expect(summary["termination_reason"]?.stringValue == c.reason, "summary: \(run.stdout)")
        #expect(summary["failure_type"]?.stringValue == c.failureType)
        #expect(summary["failure_reason"]?.stringValue?.isEmpty == false)

        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out))))
        #expect(artifact["termination_reason"]?.stringValue == c.reason)
        #expect(artifact["failure_type"]?.stringValue == c.failureType)
        #expect(artifact["success"] == false)
        #expect(artifact["validator"]?.objectValue != nil, "validator must always be present")
        if let steps = c.steps {
            #expect(artifact["steps_used"]?.intValue == steps)
        }
        #expect(artifact["steps_used"]?.intValue == artifact["action_trace"]?.arrayValue?.count)

        let check = try CommandLineRun.rigor(["spec", "check", out])
        #expect(check.status == 0, "spec check: \(check.stdout)\(check.stderr)")
        let verify = try CommandLineRun.rigor(["verify", "--strict-spec", out])
        #expect(verify.status == 0, "verify: \(verify.stdout)")
    }
}
