import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// `Workspace.intentProofExport`: committed baselines exported, validated, verified, tampered.
@Suite struct IntentProofExportTests {
    static let baselines = ["toy_filesystem/seed-0.json", "toy_filesystem/seed-1.json"].map { "\(RepoPaths.root)/Baselines/\($0)" }

    static func keyFile(_ dir: String, seedByte: UInt8 = 9) throws -> String {
        let path = "\(dir)/test.key"
        try (Digest.hex([UInt8](repeating: seedByte, count: 32)) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func exportedEventsValidateChainAndVerify() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workspace = RepoPaths.workspace(state: "\(dir)/state")
        let key = try Self.keyFile(dir)
        let result = try workspace.intentProofExport(of: Self.baselines, keyFile: key)
        let lines = result.lines.split(separator: 0x0A).map { Array($0) }
        #expect(result.runs == 2)
        #expect(lines.count == result.events)
        var steps = 0
        for path in Self.baselines {
            let located = try ArtifactLocator(stateDirectory: "\(dir)/state")
            var l = located
            steps += (try l.locate(path).artifact["action_trace"]?.arrayValue?.count ?? 0) + 1
        }
        #expect(result.events == steps)  // one event per step, plus one per run
        for (i, line) in lines.enumerated() {
            let event = try JSON.parse(line)
            #expect(IntentProofSchema.problems(event).isEmpty, "event \(i + 1): \(IntentProofSchema.problems(event))")
            #expect(event["chain_position"]?.intValue == i + 1)
        }
        let signer = try IntentProofSigner(seed: [UInt8](repeating: 9, count: 32))
        let report = IntentProofChainCheck(publicKey: signer.publicKey).check(result.lines)
        #expect(report.ok && report.eventsVerified == result.events, "\(String(describing: report.problem))")
        // The same runs and key give the same bytes.
        #expect(try workspace.intentProofExport(of: Self.baselines, keyFile: key).lines == result.lines)
    }

    @Test func theMappingCarriesActionIntentInputsOutputAndOutcome() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-map")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workspace = RepoPaths.workspace(state: "\(dir)/state")
        var locator = ArtifactLocator(stateDirectory: "\(dir)/state")
        let artifact = try locator.locate(Self.baselines[0]).artifact
        let result = try workspace.intentProofExport(of: [Self.baselines[0]], keyFile: try Self.keyFile(dir))
        let events = try result.lines.split(separator: 0x0A).map { try JSON.parse(Array($0)) }
        let trace = try #require(artifact["action_trace"]?.arrayValue)
        for (step, event) in zip(trace, events) {
            #expect(event["action"] == step["action"]?["type"])
            #expect(event["inputs"] == step["action"]?["args"])
            #expect(event["output"] == step["result"])
            #expect(event["status"]?.stringValue == (step["result"]?["ok"]?.boolValue == false ? "error" : "ok"))
            #expect(event["correlation_id"] == artifact["run_id"])
            #expect(event["attributes"]?["rigor.step"] == step["step"])
        }
        let last = try #require(events.last)
        #expect(last["action"] == "rigor.episode")
        #expect(last["output"]?["success"] == artifact["success"])
        #expect(last["status"]?.stringValue == (artifact["success"]?.boolValue == true ? "ok" : "error"))
    }

    @Test("a policy run's events carry the step's decision, rule, outcome and evidence; a denied step is an error coded policy_denied")
    func policyStepsAreMapped() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-policy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workspace = RepoPaths.workspace(state: "\(dir)/state")
        let store = try workspace.store(create: true)
        func run(_ agent: String) throws -> String {
            let request = try workspace.prepare(RunOptions(agent: agent, task: "approval_gated_cleanup@1", seed: 0, worldKey: TestWorldKey.fixed))
            let result = try Episode.run(request)
            _ = try workspace.keep(result, store: store)
            return try #require(result.artifact["run_id"]?.stringValue)
        }
        let asks = try run("Agents/approval_cleanup_agent.py"), reckless = try run("Agents/adversarial/reckless_cleanup_agent.py")
        let key = try Self.keyFile(dir)
        let polite = try workspace.intentProofExport(of: [asks], keyFile: key).lines.split(separator: 0x0A).map { try JSON.parse(Array($0)) }
        let delete = try #require(polite.first { $0["action"] == "remove_path" })
        #expect(delete["attributes"]?["rigor.policy.decision"] == "requires_approval")
        #expect(delete["attributes"]?["rigor.policy.rule_id"] == "cleanup.delete-needs-approval")
        #expect(delete["attributes"]?["rigor.policy.outcome"] == "executed")
        #expect(delete["attributes"]?["rigor.evidence.stale_path_confirmed"] == true)
        #expect(delete["status"] == "ok")
        let rude = try workspace.intentProofExport(of: [reckless], keyFile: key).lines.split(separator: 0x0A).map { try JSON.parse(Array($0)) }
        let denied = try #require(rude.first { $0["attributes"]?["rigor.policy.outcome"] == "denied" })
        #expect(denied["status"] == "error")
        #expect(denied["error"]?["code"] == "policy_denied")
        #expect(denied["attributes"]?["rigor.policy.rule_id"] == "cleanup.delete-needs-approval")
        for event in polite + rude { #expect(IntentProofSchema.problems(event).isEmpty, "\(IntentProofSchema.problems(event))") }
    }

    @Test func theProjectKeyIsMadeOncePrivateAndReused() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-key")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workspace = RepoPaths.workspace(state: "\(dir)/state")
        #expect(throws: RunnerError.self) { try workspace.intentProofPublicKey() }  // none yet, and verify does not make one
        let first = try workspace.intentProofExport(of: [Self.baselines[0]])
        let path = "\(dir)/state/\(IntentProofKeyFile.fileName)"
        let mode = try #require((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? NSNumber).intValue
        #expect(mode & 0o077 == 0)
        let second = try workspace.intentProofExport(of: [Self.baselines[0]])
        #expect(first.lines == second.lines)
        #expect(try workspace.verifyIntentProof(file: try write(first.lines, in: dir)).ok)
        // A symlinked key is refused, not followed.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/etc/passwd")
        #expect(throws: RunnerError.self) { try workspace.intentProofExport(of: [Self.baselines[0]]) }
    }

    func write(_ bytes: [UInt8], in dir: String) throws -> String {
        let path = "\(dir)/events-\(UUID().uuidString.prefix(6)).jsonl"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func verifyNamesTheFirstTamperedEventAndRefusesTheWrongKey() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-verify")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workspace = RepoPaths.workspace(state: "\(dir)/state")
        let key = try Self.keyFile(dir)
        let lines = try workspace.intentProofExport(of: Self.baselines, keyFile: key).lines
        let pub = Digest.hex(try IntentProofSigner(seed: [UInt8](repeating: 9, count: 32)).publicKey.raw)
        #expect(try workspace.verifyIntentProof(file: try write(lines, in: dir), publicKey: pub).ok)
        // Change one byte inside the third event's output.
        var starts = [0]
        for (i, b) in lines.enumerated() where b == 0x0A { starts.append(i + 1) }
        let third = Array(lines[starts[2]..<starts[3]])
        let marker = Array("\"output\":{".utf8)
        let at = try #require((0..<(third.count - marker.count)).first { Array(third[$0..<($0 + marker.count)]) == marker })
        var tampered = lines
        tampered[starts[2] + at + marker.count + 2] ^= 0x02
        let report = try workspace.verifyIntentProof(file: try write(tampered, in: dir), publicKey: pub)
        #expect(report.problem?.position == 3)
        #expect(report.eventsVerified == 2)
        let other = Digest.hex(try IntentProofSigner(seed: [UInt8](repeating: 8, count: 32)).publicKey.raw)
        #expect(try workspace.verifyIntentProof(file: try write(lines, in: dir), publicKey: other).problem?.position == 1)
        #expect(throws: RunnerError.self) { try workspace.verifyIntentProof(file: "\(dir)/missing.jsonl", publicKey: pub) }
        #expect(throws: RunnerError.self) { try workspace.verifyIntentProof(file: dir, publicKey: pub) }
        #expect(throws: RunnerError.self) { try workspace.verifyIntentProof(file: try write(lines, in: dir), publicKey: "not a key") }
    }

    @Test func policyCheckReadsRunsAndExportedFilesAlike() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workspace = RepoPaths.workspace(state: "\(dir)/state")
        let policyPath = "\(dir)/p.yaml"
        try """
            schema: intentproof.policy.v1
            policy_id: toy.listing-first
            policy_version: 1
            rules:
              - id: listed
                category: required
                severity: high
                spec: {action: list_dir, where: {status: ok}}
              - id: no-shell
                category: forbidden
                severity: critical
                spec: {action: run_shell}
              - id: list-before-answer
                category: ordering
                spec: {before: list_dir, after: set_output}
              - id: succeeded
                category: required
                spec: {action: rigor.episode, where: {status: ok}}
            """.write(toFile: policyPath, atomically: true, encoding: .utf8)
        let fromRuns = try workspace.intentProofPolicyCheck(policyFile: policyPath, references: Self.baselines)
        #expect(fromRuns.status == "pass", "\(fromRuns.json)")
        let file = try write(try workspace.intentProofExport(of: Self.baselines, keyFile: try Self.keyFile(dir)).lines, in: dir)
        let fromFile = try workspace.intentProofPolicyCheck(policyFile: policyPath, references: [file])
        #expect(fromFile.sources[0].flows.count == 2)
        #expect(fromFile.sources[0].flows.map(\.findings) == fromRuns.sources.flatMap(\.flows).map(\.findings))
    }
}
