import Foundation
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// Issue 17, item 4 and acceptance 3: settings and secrets reach the agent, and no file Rigor
/// writes holds a secret (the state dir, exports, a bundle, a baseline, the CI gate's JUnit).
/// Part of the `AgentKindsTests` suite: it uses that suite's fixture projects.
extension AgentKindsTests {
    @Test("a secret reaches the agent, and no file Rigor writes holds it: state dir, bundle, JUnit, output")
    func secretNeverWritten() throws {
        let f = Self.fixture
        let project = "\(f.base)/secret/project"
        try? FileManager.default.createDirectory(atPath: "\(f.base)/secret", withIntermediateDirectories: true)
        _ = Self.shell("cp -a \(f.open) \(project) && rm -rf \(project)/.rigor")
        let sentinel = "RIGOR-SENTINEL-\(UUID().uuidString)"
        var env = ProcessInfo.processInfo.environment
        env["AGENT_SENTINEL_SECRET"] = sentinel
        var outputs = ""
        for level in ["none", "process"] + (Self.hasNamespaces ? ["namespace"] : []) {
            let r = try run(["--agent", "agents/secret_user.py", "--secret", "AGENT_SENTINEL_SECRET", "--env", "AGENT_MODE=fast",
                             "--isolation", level, "--json"], in: project, environment: env)
            outputs += r.stdout + r.stderr
            let out = try JSON.parse(r.stdout)
            #expect(out["termination_reason"]?.stringValue != "agent_exited", "the agent did not get its secret at \(level): \(r.stdout) \(r.stderr)")
            let path = try #require(out["artifact_path"]?.stringValue)
            let artifact = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path.hasPrefix("/") ? path : "\(project)/\(path)"))))
            #expect(artifact["action_trace"]?.arrayValue?.first?["action"]?["args"]?["value"]?.stringValue == "len-\(sentinel.utf8.count)")
            #expect(artifact["diagnostics"]?["agent"]?["env_names"] == ["AGENT_MODE", "AGENT_SENTINEL_SECRET"])
            #expect(artifact["diagnostics"]?["environment"]?["AGENT_SENTINEL_SECRET"] == nil)
            #expect(artifact["diagnostics"]?["environment"]?["AGENT_MODE"] == nil)
        }
        // A recorded run: twice, the ledger written; then exported and sealed into a bundle.
        let recorded = try run(["--agent", "agents/secret_user.py", "--secret", "AGENT_SENTINEL_SECRET", "--env", "AGENT_MODE=fast",
                                "--isolation", "process", "--record"], in: project, environment: env)
        outputs += recorded.stdout + recorded.stderr
        #expect(recorded.status == 0 || recorded.status == 1, "\(recorded.stderr)")
        let exported = try CommandLineRun.rigor(["runs", "export", "latest", "--out", "\(project)/.rigor/exported.json"], cwd: project, environment: env)
        outputs += exported.stdout + exported.stderr
        let bundle = "\(project)/.rigor/secret.rigorbundle"
        let sealed = try CommandLineRun.rigor(["bundle", "seal", "latest", "--out", bundle], cwd: project, environment: env)
        outputs += sealed.stdout + sealed.stderr
        #expect(sealed.status == 0, "\(sealed.stderr)")

        // A baseline of the secret-bearing agent (declared in the project, so ci hands it the
        // secret again), then the CI gate for real, writing its JUnit report.
        Self.write("\(project)/rigor.toml", """
            [project]
            format = "rigor-project/1"

            [agents.secret_user]
            path = "agents/secret_user.py"
            env = { AGENT_MODE = "fast" }
            secrets = ["AGENT_SENTINEL_SECRET"]

            [[pairings]]
            name = "secret_pairing"
            agent = "secret_user"
            task = "filesystem_hidden_config@1"
            """)
        let baselines = "\(project)/.rigor/Baselines"
        let record = try CommandLineRun.rigor(["baseline", "record", "--pairings", "secret_pairing", "--seeds", "7", "--baselines", baselines,
                                               "--isolation", "process"], cwd: project, environment: env)
        outputs += record.stdout + record.stderr
        #expect(record.status == 0, "\(record.stdout) \(record.stderr)")
        let junitFile = "\(project)/.rigor/junit.xml"
        let junit = try CommandLineRun.rigor(["ci", "--baselines", baselines, "--junit", junitFile, "--isolation", "process"],
                                             cwd: project, environment: env)
        outputs += junit.stdout + junit.stderr
        #expect(junit.status == 0 || junit.status == 1, "ci must run the baseline: \(junit.stdout) \(junit.stderr)")
        let report = FileManager.default.contents(atPath: junitFile) ?? Data()
        #expect(!report.isEmpty, "ci wrote no JUnit report: \(junit.stderr)")
        #expect(String(decoding: report, as: UTF8.self).contains("secret_pairing"), "the JUnit report has the baseline's testcase")

        #expect(!outputs.contains(sentinel), "rigor printed the secret")
        let grep = Self.shell("grep -r -l -a -F '\(sentinel)' \(project)/.rigor; true")
        #expect(grep.stdout.isEmpty, "files holding the secret: \(grep.stdout)")
        // Compressed files hide bytes from grep: the bundle and the baseline's artifact, decompressed.
        let needle = Array(sentinel.utf8)
        func holdsSecret(_ bytes: [UInt8]) -> Bool {
            guard bytes.count >= needle.count else { return false }
            return (0...(bytes.count - needle.count)).contains { bytes[$0] == needle[0] && Array(bytes[$0..<($0 + needle.count)]) == needle }
        }
        let packed = [UInt8](FileManager.default.contents(atPath: bundle) ?? Data())
        let unpacked = try Compression.decompress(packed, what: "bundle")
        #expect(unpacked.count > packed.count, "the bundle decompressed")
        #expect(!holdsSecret(unpacked), "the bundle, decompressed, holds the secret")
        let baselineArtifact = "\(baselines)/secret_pairing/seed-7.artifact.json.zst"
        let artifactBytes = try Compression.decompress([UInt8](try #require(FileManager.default.contents(atPath: baselineArtifact))), what: "baseline")
        #expect(String(decoding: artifactBytes, as: UTF8.self).contains("len-\(sentinel.utf8.count)"), "the baseline's agent had its secret")
        #expect(!holdsSecret(artifactBytes), "the baseline's artifact, decompressed, holds the secret")
        let files = Self.shell("find \(project)/.rigor -type f | wc -l").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((Int(files) ?? 0) >= 6, "the state dir should hold the store, artifacts, bundle, baseline and JUnit; found \(files) files")
    }

    @Test("a declared secret that is not set stops the run before it starts, naming it and where Rigor looked")
    func missingSecret() throws {
        var env = ProcessInfo.processInfo.environment
        env["AGENT_SECRET_NOT_SET_ANYWHERE"] = nil
        let r = try run(["--agent", "agents/secret_user.py", "--secret", "AGENT_SECRET_NOT_SET_ANYWHERE", "--isolation", "process"],
                        in: Self.fixture.open, environment: env)
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("AGENT_SECRET_NOT_SET_ANYWHERE") && r.stderr.contains("environment"), "\(r.stderr)")
        let reserved = try run(["--agent", "agents/secret_user.py", "--env", "PATH=/evil", "--isolation", "process"], in: Self.fixture.open)
        #expect(reserved.status == 2 && reserved.stderr.contains("PATH"), "\(reserved.stderr)")
    }
}
