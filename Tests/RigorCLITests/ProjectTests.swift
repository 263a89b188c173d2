import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Rigor in a user's own project (issue 17, items 2, 7 and 8): an installed `rigor` (the debug
/// binary, laid out as `make install` lays out a release one: scripts/install.sh), a project
/// made by `rigor init` outside the checkout, every command run from a subdirectory of it.
@Suite("Your own project", .serialized)
struct ProjectTests {
    /// Installs the built rigor under `prefix` as `make install` would.
    static func install(into prefix: String) throws -> String {
        let r = try CommandLineRun.run("/bin/bash", ["\(RepoPaths.root)/scripts/install.sh", RepoPaths.rigorBinary, prefix])
        #expect(r.status == 0, "\(r.stderr)")
        return "\(prefix)/bin/rigor"
    }

    /// A directory only its owner may enter, as `mktemp -d` makes them.
    static func privateDirectory(_ label: String) throws -> String {
        let dir = RepoPaths.temporaryDirectory(label)
        #expect(chmod(dir, 0o700) == 0)
        return dir
    }

    struct Project {
        let rigor: String
        let root: String
        /// Where every command runs from: a subdirectory of the project.
        var sub: String { "\(root)/agents/notes" }

        func run(_ arguments: [String], from cwd: String? = nil) throws -> CommandResult {
            try CommandLineRun.run(rigor, arguments, cwd: cwd ?? sub)
        }

        func json(_ arguments: [String]) throws -> (CommandResult, JSON) {
            let r = try run(arguments + ["--json"])
            return (r, (try? JSON.parse(r.stdout)) ?? .null)
        }
    }

    /// `rigor init` a fresh project at `root` with the installed `rigor`, and a subdirectory.
    static func initialise(_ root: String, rigor: String) throws -> Project {
        let parent = (root as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let r = try CommandLineRun.run(rigor, ["init", (root as NSString).lastPathComponent], cwd: parent)
        #expect(r.status == 0, "\(r.stderr)")
        for file in ["rigor.toml", "Tasks/filesystem_hidden_config/task.toml", "agents/example_agent.py", ".gitignore",
                     ".github/workflows/rigor.yml"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(file)"), "rigor init did not write \(file)")
            #expect(r.stdout.contains(file) || file == ".gitignore", "rigor init does not say it wrote \(file)")
        }
        #expect(r.stdout.contains("rigor run pairing example"), "no next steps: \(r.stdout)")
        try FileManager.default.createDirectory(atPath: "\(root)/agents/notes", withIntermediateDirectories: true)
        return Project(rigor: rigor, root: root)
    }

    /// run, batch, baseline record, ci, replay, bundle seal and bundle replay, all from a
    /// subdirectory; returns the run's artifact hash.
    static func exercise(_ p: Project) throws -> String {
        let (run, summary) = try p.json(["run", "pairing", "example", "--seed", "42"])
        #expect(run.status == 0, "run: \(run.stderr) \(run.stdout)")
        #expect(summary["success"] == true)
        #expect(summary["agent_ref"] == "example", "a named agent is recorded under its name")
        #expect(summary["artifact_path"] == .null, "plain JSON is opt-in")
        #expect(summary["state_dir"] == .string("\(p.root)/.rigor"), "the project's store, not one in the subdirectory")
        #expect(!FileManager.default.fileExists(atPath: "\(p.sub)/.rigor"))
        #expect(!FileManager.default.fileExists(atPath: "\(p.root)/.rigor/runs"))

        let (batch, batched) = try p.json(["batch", "--pairings", "all", "--seeds", "0..3"])
        #expect(batch.status == 0, "batch: \(batch.stderr)")
        #expect(batched["passed"] == 4)

        let record = try p.run(["baseline", "record", "--pairings", "all", "--seeds", "0..1"])
        #expect(record.status == 0, "baseline record: \(record.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(p.root)/Baselines/example/seed-1.json"), "baselines go to the project's directory")
        let ci = try p.run(["ci", "--junit", "\(p.root)/junit.xml"])
        #expect(ci.status == 0, "ci: \(ci.stdout) \(ci.stderr)")
        #expect(ci.stdout.contains("all 2 baselines reproduced"), "\(ci.stdout)")

        let replay = try p.run(["replay", "latest"])
        #expect(replay.status == 0, "replay: \(replay.stdout) \(replay.stderr)")
        #expect(replay.stdout.contains("reproduced"))

        let runID = try #require(summary["run_id"]?.stringValue)
        let (seal, sealed) = try p.json(["bundle", "seal", runID])
        #expect(seal.status == 0, "bundle seal: \(seal.stderr)")
        let bundle = try #require(sealed["bundle"]?.stringValue)
        let bundleReplay = try p.run(["bundle", "replay", bundle])
        #expect(bundleReplay.status == 0, "bundle replay: \(bundleReplay.stdout) \(bundleReplay.stderr)")
        #expect(bundleReplay.stdout.contains("reproduced"))

        // The runs, and a file only when asked for one.
        let export = try p.run(["runs", "export", runID, "-o", "\(p.root)/run.json"])
        #expect(export.status == 0)
        let (_, listed) = try p.json(["runs", "list", "--limit", "0"])
        #expect((listed.arrayValue?.count ?? 0) >= 7, "run, 4 batch episodes, 2 baselines, ci and replays: \(listed)")
        return try #require(summary["artifact_hash"]?.stringValue)
    }

    @Test("an installed rigor and a project from `rigor init` outside the checkout: every command works from a subdirectory")
    func initThenEveryCommand() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-project")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rigor = try Self.install(into: "\(dir)/prefix")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/prefix/share/rigor/sdk/run_agent.py"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/prefix/share/rigor/sdk/rigor_sdk.py"))
        let project = try Self.initialise("\(dir)/my-agents", rigor: rigor)
        let hash = try Self.exercise(project)

        // The same pairing in another project, elsewhere on the machine: the same hash.
        let other = try Self.initialise("\(dir)/elsewhere/second", rigor: rigor)
        let (again, summary) = try other.json(["run", "pairing", "example", "--seed", "42"])
        #expect(again.status == 0)
        #expect(summary["artifact_hash"] == .string(hash), "the hash depends on the project's location")

        // rigor init refuses to overwrite, naming every file, and writes nothing.
        let before = try String(contentsOfFile: "\(project.root)/rigor.toml", encoding: .utf8)
        let refused = try CommandLineRun.run(rigor, ["init", project.root])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("rigor.toml") && refused.stderr.contains("agents/example_agent.py"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: "\(project.root)/rigor.toml", encoding: .utf8) == before)

        // The installed SDK is the one used: without it, .py agents cannot run (no checkout fallback).
        try FileManager.default.removeItem(atPath: "\(dir)/prefix/share/rigor/sdk")
        let noSDK = try project.run(["run", "pairing", "example", "--seed", "1"])
        #expect(noSDK.status == 2)
        #expect(noSDK.stderr.contains("SDK is missing"), "\(noSDK.stderr)")
    }

    @Test("a project inside a 0700 directory (mktemp -d), at the default isolation level")
    func projectInPrivateDirectory() throws {
        let dir = try Self.privateDirectory("rigor-project-0700")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prefix = RepoPaths.temporaryDirectory("rigor-prefix")
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let project = try Self.initialise("\(dir)/proj", rigor: try Self.install(into: prefix))
        // As root, agents run under a uid of their own, which cannot enter the 0700 directory by
        // path: at the default (namespace) level bwrap binds the files with root's view and
        // drops to the agent's uid inside (spec/project.md).
        _ = try Self.exercise(project)
    }

    @Test("runs_json and --out write plain JSON; flags override the project file")
    func plainJSONWhenAsked() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-project-json")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let project = try Self.initialise("\(dir)/p", rigor: RepoPaths.rigorBinary)
        let toml = "\(project.root)/rigor.toml"
        let text = try String(contentsOfFile: toml, encoding: .utf8)
        try text.replacingOccurrences(of: "# runs_json = true", with: "runs_json = true").write(toFile: toml, atomically: true, encoding: .utf8)
        let (r, s) = try project.json(["run", "pairing", "example", "--seed", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let path = try #require(s["artifact_path"]?.stringValue)
        #expect(path == "\(project.root)/.rigor/runs/\(s["run_id"]?.stringValue ?? "").json")
        #expect(FileManager.default.fileExists(atPath: path))
        // --state-dir overrides the file's state.
        let (r2, s2) = try project.json(["run", "pairing", "example", "--seed", "3", "--state-dir", "\(dir)/elsewhere"])
        #expect(r2.status == 0)
        #expect(s2["state_dir"] == .string("\(dir)/elsewhere"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/elsewhere/rigor.db"))
    }

    @Test("a misspelt key in rigor.toml fails every command, naming the key and the file")
    func unknownKeyFails() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-project-typo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let project = try Self.initialise("\(dir)/p", rigor: RepoPaths.rigorBinary)
        let toml = "\(project.root)/rigor.toml"
        let text = try String(contentsOfFile: toml, encoding: .utf8)
        try text.replacingOccurrences(of: "baselines = ", with: "baseline = ").write(toFile: toml, atomically: true, encoding: .utf8)
        for args in [["run", "pairing", "example"], ["tasks", "list"], ["ci"], ["runs", "list"]] {
            let r = try project.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains("'project.baseline'") && r.stderr.contains(toml), "\(args): \(r.stderr)")
        }
    }
}
