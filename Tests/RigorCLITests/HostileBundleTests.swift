import Foundation
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// Names that become paths (a bundle's task ref and agent file, a run id, a pairing name), when
/// whoever wrote them wants Rigor to write somewhere else. Each attack aims at a fresh name
/// under the system's temporary directory, which must still not exist afterwards.
@Suite("hostile bundles and names that become paths")
struct HostileBundleTests {
    /// Enough `../` to climb from any temporary directory to `/`.
    static let climb = String(repeating: "../", count: 12)

    func rigor(_ args: [String], state: String, cwd: String = RepoPaths.root) throws -> CommandResult {
        try CommandLineRun.rigor(args + ["--state-dir", state], cwd: cwd)
    }

    /// A fresh absolute path under /tmp that nothing uses yet, and a relative spelling of it that
    /// climbs there from anywhere.
    func target(_ label: String) -> (absolute: String, climbing: String) {
        let name = "rigor-escape-\(label)-\(UUID().uuidString.prefix(8))"
        return ("/tmp/\(name)", "\(Self.climb)tmp/\(name)")
    }

    /// Runs the toy agent and seals its run; returns the bundle's path.
    func sealedToy(_ state: String) throws -> String {
        let run = try rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "3",
                             "--isolation", "process"], state: state)
        #expect(run.status == 0, "\(run.stderr)")
        let seal = try rigor(["bundle", "seal", "latest", "--json"], state: state)
        #expect(seal.status == 0, "\(seal.stderr)")
        return try #require(try JSON.parse(seal.stdout)["bundle"]?.stringValue)
    }

    /// How each attack rewrites a sealed bundle, by name.
    enum Tampering: String, CaseIterable, CustomStringConvertible {
        /// The manifest's task ref, which names the folder the task is unpacked into.
        case taskRefClimbs = "task ref climbs out"
        /// A well-formed task ref that is not the artifact's (nothing hashes the manifest's ref).
        case taskRefIsAnother = "task ref names another task"
        /// The manifest's agent file, which names the file that is made executable and run.
        case agentFileClimbs = "agent file climbs out"
        /// The agent file points at one of the SDK's files instead of the agent.
        case agentFileIsAnother = "agent file names an SDK file"

        var description: String { rawValue }
    }

    func tamper(_ bundle: RigorRunner.Bundle, _ how: Tampering, escape: String) throws -> RigorRunner.Bundle {
        var b = bundle
        var manifest = try #require(b.manifest.objectValue)
        var task = try #require(manifest["task"]?.objectValue)
        var agent = try #require(manifest["agent"]?.objectValue)
        switch how {
        case .taskRefClimbs: task["ref"] = .string("\(escape)@1")
        case .taskRefIsAnother: task["ref"] = "exact_answer_vault@1"
        case .agentFileClimbs: agent["file"] = .string(escape)
        case .agentFileIsAnother: agent["file"] = "sdk/run_agent.py"
        }
        manifest["task"] = .object(task)
        manifest["agent"] = .object(agent)
        b.manifest = .object(manifest)
        return b
    }

    @Test("a bundle whose manifest names another or a climbing task ref or agent file does not verify, and replay writes nothing outside its directory",
          arguments: Tampering.allCases)
    func tamperedManifest(_ how: Tampering) throws {
        let state = RepoPaths.temporaryDirectory("rigor-hostile-bundle")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (escaped, climbing) = target("bundle")
        defer { try? FileManager.default.removeItem(atPath: escaped) }
        let sealed = try RigorRunner.Bundle.load(try sealedToy(state))
        #expect(sealed.verify().isEmpty)
        let evil = "\(state)/evil.rigorbundle"
        try Data(try tamper(sealed, how, escape: climbing).encoded()).write(to: URL(fileURLWithPath: evil))

        let verify = try CommandLineRun.rigor(["bundle", "verify", evil])
        #expect(verify.status == 1, "\(how): verify said \(verify.status): \(verify.stdout)\(verify.stderr)")
        let replay = try CommandLineRun.rigor(["bundle", "replay", evil, "--json"], cwd: state)
        #expect(replay.status != 0, "\(how): replay said \(replay.status): \(replay.stdout)")
        #expect(!FileManager.default.fileExists(atPath: escaped), "\(how): replay wrote \(escaped)")
    }

    /// File entries of the bundle (not its manifest) whose names climb out or are absolute.
    static let climbingEntries: [String] = [
        "task/CLIMB", "agent/CLIMB", "agent/sdk/CLIMB", "tasksdk/CLIMB", "task/sub/../../../x/../CLIMB",
        "task/ABS", "agent/ABS", "ABS",
    ]

    @Test("a bundle file entry that climbs out or is absolute: verify exit 1 and replay exit 2, both naming the entry; nothing written outside",
          arguments: climbingEntries)
    func climbingFileEntry(_ pattern: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-hostile-entry")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (escaped, climbing) = target("entry")
        defer { try? FileManager.default.removeItem(atPath: escaped) }
        let entry = pattern.replacingOccurrences(of: "CLIMB", with: climbing).replacingOccurrences(of: "ABS", with: escaped)
        var bundle = try RigorRunner.Bundle.load(try sealedToy(state))
        #expect(bundle.verify().isEmpty)
        let payload = Array("#!/bin/sh\necho escaped > \(escaped)\n".utf8)
        bundle.files[entry] = payload
        // Listed in the manifest too, with its true digest, as a careful attacker would.
        var manifest = try #require(bundle.manifest.objectValue)
        for section in ["task", "agent"] where entry.hasPrefix("\(section)/") {
            var part = try #require(manifest[section]?.objectValue)
            var files = part["files"]?.objectValue ?? [:]
            files[String(entry.dropFirst(section.count + 1))] = .string(Digest.sha256(payload))
            part["files"] = .object(files)
            manifest[section] = .object(part)
        }
        bundle.manifest = .object(manifest)
        let evil = "\(state)/evil.rigorbundle"
        try Data(try bundle.encoded()).write(to: URL(fileURLWithPath: evil))

        let verify = try CommandLineRun.rigor(["bundle", "verify", evil])
        #expect(verify.status == 1, "\(entry): verify said \(verify.status): \(verify.stdout)\(verify.stderr)")
        #expect((verify.stdout + verify.stderr).contains(entry), "\(entry): verify does not name the entry: \(verify.stdout)\(verify.stderr)")
        let replay = try CommandLineRun.rigor(["bundle", "replay", evil, "--json"], cwd: state)
        #expect(replay.status == 2, "\(entry): replay said \(replay.status): \(replay.stdout)\(replay.stderr)")
        #expect(replay.stderr.contains(entry), "\(entry): replay does not name the entry: \(replay.stderr)")
        #expect(!FileManager.default.fileExists(atPath: escaped), "\(entry): wrote \(escaped)")
    }

    @Test("an artifact whose run_id is a path is refused by runs import, and bundle seal writes nothing outside the bundles directory")
    func runIDPath() throws {
        let state = RepoPaths.temporaryDirectory("rigor-hostile-runid")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (escaped, climbing) = target("runid")
        defer { try? FileManager.default.removeItem(atPath: escaped + ".rigorbundle") }
        let run = try rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "3",
                             "--isolation", "process"], state: state)
        #expect(run.status == 0, "\(run.stderr)")
        var artifact = try #require(try JSON.parse(try rigor(["runs", "export", "latest"], state: state).stdout).objectValue)
        // run_id is outside the hashed part: the artifact still verifies with any run_id.
        artifact["run_id"] = .string(climbing)
        let file = "\(state)/evil.json"
        try Data(try JSON.object(artifact).prettyBytes()).write(to: URL(fileURLWithPath: file))

        let imported = try rigor(["runs", "import", file], state: state)
        #expect(imported.status == 2, "import said \(imported.status): \(imported.stdout)\(imported.stderr)")
        #expect(imported.stderr.contains("run_id"), "\(imported.stderr)")
        let seal = try rigor(["bundle", "seal", climbing], state: state)
        #expect(seal.status != 0)
        #expect(!FileManager.default.fileExists(atPath: escaped + ".rigorbundle"), "bundle seal wrote \(escaped).rigorbundle")
    }

    @Test("a pairing whose name is a path is refused before baseline record writes anything")
    func pairingNamePath() throws {
        let state = RepoPaths.temporaryDirectory("rigor-hostile-pairing")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (escaped, climbing) = target("pairing")
        defer { try? FileManager.default.removeItem(atPath: escaped) }
        let pairs = "\(state)/pairs.json"
        try #"[{"name":"\#(climbing)","agent":"Agents/toy_agent.py","task":"filesystem_hidden_config@1"}]"#
            .write(toFile: pairs, atomically: true, encoding: .utf8)
        let r = try rigor(["baseline", "record", "--pairings", "all", "--seeds", "0", "--baselines", "\(state)/Baselines",
                           "--pairings-file", pairs, "--isolation", "process"], state: state)
        #expect(r.status == 2, "baseline record said \(r.status): \(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("pairing"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: escaped), "baseline record wrote under \(escaped)")
    }

    @Test("a baseline whose artifact_file reaches outside its folder is refused, not read")
    func baselineArtifactFile() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-hostile-baseline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/pairing", withIntermediateDirectories: true)
        let artifact = "\(RepoPaths.interop)/28a3ecde984e45caaa3df8b3fc4e1d65.json"
        for (i, name) in ["\(Self.climb)\(String(artifact.dropFirst()))", artifact].enumerated() {
            let baseline = "\(dir)/pairing/seed-\(i).json"
            try Data(try JSON.object(["format": "rigor-baseline/1", "artifact_file": .string(name)]).prettyBytes())
                .write(to: URL(fileURLWithPath: baseline))
            let r = try CommandLineRun.rigor(["diff", baseline, artifact])
            #expect(r.status == 2, "diff said \(r.status): \(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("artifact_file"), "\(r.stderr)")
        }
    }
}
