import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// `rigor export intentproof`, `rigor verify --intentproof`, `rigor keys show` and `rigor policy
/// check --intentproof` as a user runs them.
@Suite struct IntentProofCommandTests {
    static let baseline = "\(RepoPaths.root)/Baselines/toy_filesystem/seed-0.json"

    @Test func exportVerifyTamperAndPolicyCheckEndToEnd() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = "\(dir)/state", out = "\(dir)/events.jsonl"
        let export = try CommandLineRun.rigor(["export", "intentproof", Self.baseline, "--out", out, "--state-dir", state])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stderr.contains("wrote 5 events of 1 run"))

        let show = try CommandLineRun.rigor(["keys", "show", "--json", "--state-dir", state])
        #expect(show.status == 0)
        let pub = try #require(try JSON.parse(show.stdout)["public_key_hex"]?.stringValue)

        let verify = try CommandLineRun.rigor(["verify", "--intentproof", out, "--state-dir", state])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("5 events: chain and signatures verify"))
        // Elsewhere, with only the public key.
        let elsewhere = try CommandLineRun.rigor(["verify", "--intentproof", out, "--pubkey", pub, "--state-dir", "\(dir)/other", "--json"])
        #expect(elsewhere.status == 0)
        #expect(try JSON.parse(elsewhere.stdout)["events_verified"] == 5)

        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
        let secondLine = try #require(bytes.firstIndex(of: 0x0A)) + 1
        let intent = Array("\"intent\":\"".utf8)
        let at = try #require((secondLine..<(bytes.count - intent.count)).first { Array(bytes[$0..<($0 + intent.count)]) == intent })
        bytes[at + intent.count] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: out))
        let tampered = try CommandLineRun.rigor(["verify", "--intentproof", out, "--state-dir", state, "--json"])
        #expect(tampered.status == 1)
        let bad = try JSON.parse(tampered.stdout)["first_bad_event"]
        #expect(bad?["position"] == 2)
        #expect(bad?["event_id"]?.stringValue?.count == 26)

        let policy = "\(dir)/policy.yaml"
        try "schema: intentproof.policy.v1\npolicy_id: p\npolicy_version: 1\nrules:\n  - {id: answered, category: required, severity: high, spec: {action: set_output}}\n  - {id: no-writes, category: forbidden, severity: critical, spec: {action: write_file}}\n"
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let check = try CommandLineRun.rigor(["policy", "check", "--intentproof", policy, Self.baseline, "--json"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(try JSON.parse(check.stdout)["status"] == "pass")
        try "schema: intentproof.policy.v1\npolicy_id: p\nrules:\n  - {id: approved, category: required, spec: {action: approve}}\n"
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let failing = try CommandLineRun.rigor(["policy", "check", "--intentproof", policy, Self.baseline])
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("fail.required.missing"))
    }

    @Test func usefulErrorsForWrongInput() throws {
        let dir = RepoPaths.temporaryDirectory("intentproof-cli-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = "\(dir)/state"
        let noKey = try CommandLineRun.rigor(["verify", "--intentproof", "\(dir)/x.jsonl", "--state-dir", state])
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("no IntentProof key"))
        let badKey = try CommandLineRun.rigor(["export", "intentproof", Self.baseline, "--key", "\(dir)/missing.key", "--state-dir", state])
        #expect(badKey.status == 2)
        #expect(badKey.stderr.contains("does not exist"))
        let noRuns = try CommandLineRun.rigor(["policy", "check", "--intentproof", "\(dir)/p.yaml"])
        #expect(noRuns.status == 2)
        let mixed = try CommandLineRun.rigor(["verify", "--pubkey", "AAAA", Self.baseline])
        #expect(mixed.status == 2)
        #expect(mixed.stderr.contains("--pubkey goes with --intentproof"))
    }
}
