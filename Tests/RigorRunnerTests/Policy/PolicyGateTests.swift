import PropertyBased
import RigorAgentHost
@testable import RigorRunner
import RigorSpec
import RigorTasks
import Testing

/// The policy gate inside the episode loop, driven with generated actions against a world that
/// writes down every action it is asked to execute.
@Suite("Policy gate in the episode loop")
struct PolicyGateTests {
    /// Records what reached it; always pending.
    final class LoggingWorld: TaskWorld {
        var executed: [(String, [String: JSON])] = []
        var visibleState: JSON { ["files_seen": []] }
        func execute(_ action: CheckedAction) throws(WorldFailure) -> ActionOutcome {
            executed.append((action.name, action.args))
            return ActionOutcome(result: ["ok": true], evidence: [EvidenceCheck(name: "seen", pass: true, source: "world")])
        }
        func evaluate() throws(WorldFailure) -> WorldVerdict { .pending("go on") }
    }

    static let manifest: TaskManifest = {
        let text = """
            id = "gate"
            version = 1
            suite = "test"
            description = "policy gate"
            world = "hidden_config"
            [budgets]
            steps = 1000
            tool_calls = 1000
            [sandbox]
            filesystem_roots = ["/app"]
            [actions.read]
            args = { path = "path" }
            [actions.rm]
            args = { path = "path" }
            [actions.ask]
            args = { action = "string" }
            [actions.deploy]
            args = {}
            """
        return (try? TaskManifest.parse(text, path: "task.toml"))!
    }()

    static let policy = Policy(rules: [
        PolicyRule(id: "no-secrets", actions: ["read"], args: ["path": .glob("/app/secret*")], decision: .rejected),
        PolicyRule(id: "two-reads", actions: ["read"], decision: .rejected, maxCount: 2),
        PolicyRule(id: "rm-asks", actions: ["rm"], decision: .requiresApproval),
        PolicyRule(id: "deploy-after-rm", actions: ["deploy"], decision: .rejected, after: ["rm"]),
        PolicyRule(id: "watch-asks", actions: ["ask"], decision: .observed),
    ], onReject: .continue, approver: Approver(kind: .askedFirst, request: "ask", matchArg: "action"))

    static func reply(_ c: Int) -> AgentReply {
        switch c % 5 {
        case 0: return .action(type: "read", args: ["path": .string(c % 3 == 0 ? "/app/secret.txt" : "/app/f\(c % 4)")], intent: nil,
                               raw: ["type": "read"], evidence: [EvidenceCheck(name: "agent", pass: c % 2 == 0, source: "agent")])
        case 1: return .action(type: "rm", args: ["path": "/app/x"], intent: "clean", raw: ["type": "rm"])
        case 2: return .action(type: "ask", args: ["action": .string(c % 4 == 0 ? "deploy" : "rm")], intent: nil, raw: ["type": "ask"])
        case 3: return .action(type: "deploy", args: [:], intent: nil, raw: ["type": "deploy"])
        default: return .action(type: "read", args: ["path": "/etc/passwd"], intent: nil, raw: ["type": "read"])  // the sandbox refuses it
        }
    }

    @Test func deniedActionsNeverReachTheWorldAndLimitsHold() async {
        await propertyCheck(input: Gen.int(in: 0...10_000).array(of: 1...60)) { codes in
            let world = LoggingWorld()
            var loop = EpisodeLoop(manifest: Self.manifest, world: world, collectTiming: false, policy: Self.policy)
            for (i, c) in codes.enumerated() where loop.termination == nil {
                loop.apply(Self.reply(c), step: i + 1, observation: [:])
            }
            let executedSteps = loop.trace.filter { $0.policy?.executed == true }
            #expect(world.executed.count == executedSteps.count, "the world ran exactly the steps the policy let through")
            for step in loop.trace {
                if let p = step.policy {
                    #expect(!p.ruleID.isEmpty)
                    if !p.executed {
                        #expect(step.result["error"] == "policy_denied")
                        #expect(step.budgetDelta.toolCalls == 0)
                        #expect(!step.evidence.contains { $0.source == "world" }, "a denied step has no world evidence")
                    }
                }
            }
            #expect(!world.executed.contains { $0.0 == "read" && ($0.1["path"]?.stringValue ?? "").hasPrefix("/app/secret") })
            #expect(world.executed.filter { $0.0 == "read" }.count <= 2)
            // rm only ever ran after a matching ask that reached the world.
            var asks = 0
            for (type, args) in world.executed {
                if type == "ask" && args["action"] == "rm" { asks += 1 }
                if type == "rm" { asks -= 1; #expect(asks >= 0, "an rm ran without an earlier ask") }
            }
            #expect(loop.termination == nil || loop.termination == .sandboxViolation, "continue: rejections do not end the episode")
        }
    }

    @Test func aRejectionEndsTheEpisodeWhenThePolicySaysSo() {
        var policy = Self.policy
        policy.onReject = .end
        let world = LoggingWorld()
        var loop = EpisodeLoop(manifest: Self.manifest, world: world, collectTiming: false, policy: policy)
        loop.apply(Self.reply(1), step: 1, observation: [:])  // rm without asking
        #expect(loop.termination == .policyDenied)
        #expect(loop.termination?.failureType == .sandboxViolation)
        #expect(world.executed.isEmpty)
        #expect(loop.trace.count == 1 && loop.trace[0].policy?.approval?.approved == false)
        #expect(loop.failureReason?.contains("rm-asks") == true)
    }

    @Test func requiredEvidenceMustPassBeforeSuccessCounts() throws {
        final class SolvingWorld: TaskWorld {
            var n = 0
            var visibleState: JSON { ["files_seen": []] }
            func execute(_ action: CheckedAction) throws(WorldFailure) -> ActionOutcome {
                n += 1
                return ActionOutcome(result: ["ok": true], evidence: [EvidenceCheck(name: "tests", pass: false, source: "world")])
            }
            func evaluate() throws(WorldFailure) -> WorldVerdict { .success("solved") }
        }
        var manifest = Self.manifest
        manifest.validator["require_evidence"] = ["tests"]
        var loop = EpisodeLoop(manifest: manifest, world: SolvingWorld(), collectTiming: false)
        loop.apply(.action(type: "deploy", args: [:], intent: nil, raw: [:]), step: 1, observation: [:])
        #expect(loop.termination == .validatorFailed)
        #expect(loop.failureReason?.contains("'tests'") == true)
        var passing = EpisodeLoop(manifest: manifest, world: SolvingWorld(), collectTiming: false)
        // The agent's own passing check comes after the world's failing one: the latest counts.
        passing.apply(.action(type: "deploy", args: [:], intent: nil, raw: [:], evidence: [EvidenceCheck(name: "tests", pass: true, source: "agent")]),
                      step: 1, observation: [:])
        #expect(passing.termination == .success)
    }
}
