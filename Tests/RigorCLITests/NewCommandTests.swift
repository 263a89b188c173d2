import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// `rigor new task|agent` (issue 16 item 5): skeletons that work at once, never overwrite, and
/// `rigor tasks validate`'s determinism check and lint.
@Suite("rigor new and tasks validate", .serialized)
struct NewCommandTests {
    static let sdk = ["--sdk-dir", RepoPaths.sdk]

    /// A fresh `rigor init` project.
    static func project() throws -> String {
        let parent = RepoPaths.temporaryDirectory("rigor-new")
        let r = try CommandLineRun.rigor(["init", "proj"], cwd: parent)
        #expect(r.status == 0, "\(r.stderr)")
        return "\(parent)/proj"
    }

    @Test("rigor new task writes a task, its agent and pairing that validate at once, for data, Python and executable (bash) worlds")
    func newTaskValidates() throws {
        let root = try Self.project()
        for (name, flag) in [("notes_task", "--data"), ("py_notes", "--python"), ("sh_notes", "--exec")] {
            let r = try CommandLineRun.rigor(["new", "task", name, flag], cwd: root)
            #expect(r.status == 0, "\(r.stderr)")
            for file in ["Tasks/\(name)/task.toml", "Tasks/\(name)/README.md", "agents/\(name)_agent.py"] {
                #expect(FileManager.default.fileExists(atPath: "\(root)/\(file)"))
                #expect(r.stdout.contains("wrote     \(file)"), "\(r.stdout)")
            }
            #expect(FileManager.default.fileExists(atPath: "\(root)/Tasks/\(name)/world.py") == (flag == "--python"))
            #expect(FileManager.default.isExecutableFile(atPath: "\(root)/Tasks/\(name)/world.sh") == (flag == "--exec"))
            #expect(r.stdout.contains("updated   rigor.toml (pairing)"))
            #expect(r.stdout.contains("rigor tasks validate --tasks \(name)@1"))
        }
        let project = try String(contentsOfFile: "\(root)/rigor.toml", encoding: .utf8)
        #expect(project.contains("name = \"notes_task\"") && project.contains("agent = \"agents/py_notes_agent.py\""))
        let v = try CommandLineRun.rigor(["tasks", "validate", "--seeds", "0..2", "--null-seeds", "0..1", "--json"] + Self.sdk, cwd: root)
        #expect(v.status == 0, "\(v.stdout)\n\(v.stderr)")
        let rows = try JSON.parse(v.stdout).arrayValue ?? []
        #expect(rows.count == 4)
        for row in rows {
            #expect(row["ok"] == true, "\(row)")
            #expect(row["non_deterministic"] == .null)
        }
    }

    @Test("the --exec world (bash) answers odd actions as results, not crashes: unknown paths, a key that is no name, quotes in values; three wrong reports fail the episode; the artifact is valid and replays")
    func execWorldOddActions() throws {
        let root = try Self.project()
        #expect(try CommandLineRun.rigor(["new", "task", "sh_odd", "--exec"], cwd: root).status == 0)
        let agent = "\(root)/agents/odd_agent.py"
        try #"""
            class Agent:
                def reset(self, task_spec):
                    self.n = 0
                def observe(self, observation):
                    pass
                def act(self):
                    self.n += 1
                    seq = [{"type": "list_dir", "args": {"path": "/data/nope"}},
                           {"type": "read_file", "args": {"path": "/data/none.txt"}},
                           {"type": "read_file", "args": {"path": "/data/README.md"}},
                           {"type": "extract_value", "args": {"content": "A=1\nB=\"q\\\\x\"", "key": "B"}},
                           {"type": "extract_value", "args": {"content": "A=1", "key": "a.*b"}},
                           {"type": "set_output", "args": {"key": "SECRET_CODE", "value": "x\"y\\z"}},
                           {"type": "set_output", "args": {"key": "SECRET_CODE", "value": "WRONG"}},
                           {"type": "set_output", "args": {"key": "SECRET_CODE", "value": "WRONG2"}}]
                    return seq[min(self.n - 1, len(seq) - 1)]
            """#.write(toFile: agent, atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", "sh_odd@1", "--seed", "1", "--isolation", "process",
                                          "--strict-spec", "--json"] + Self.sdk, cwd: root)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        let summary = try JSON.parse(r.stdout)
        #expect(summary["termination_reason"] == "validator_failed", "\(r.stdout)")
        #expect(summary["steps_used"] == 8)
        let id = try #require(summary["run_id"]?.stringValue)
        let artifact = try StoredRuns.artifact(id, stateDirectory: "\(root)/.rigor")
        #expect(artifact["failure_reason"] == "3 wrong SECRET_CODE reports", "\(artifact["failure_reason"] ?? .null)")
        let results = (artifact["action_trace"]?.arrayValue ?? []).map { $0["result"] ?? .null }
        #expect(results.count == 8)
        if results.count == 8 {
            #expect(results[0] == ["ok": false, "error": "file_not_found"])
            #expect(results[1] == ["ok": false, "error": "file_not_found"])
            #expect(results[2]["content"] == "The service reads its SECRET_CODE from a live_*.env file in /data.\n")
            #expect(results[3] == ["ok": true, "value": ""])
            #expect(results[4] == ["ok": false, "error": "key_not_found"])
            #expect(results[5] == ["ok": true])
        }
        let again = try CommandLineRun.rigor(["replay", id] + Self.sdk, cwd: root)
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        #expect(again.stdout.contains("reproduced"), "\(again.stdout)")
    }

    @Test("the README's Writing a task section shows what rigor new task prints and writes")
    func readmeIsTrue() throws {
        let root = try Self.project()
        let r = try CommandLineRun.rigor(["new", "task", "my_task"], cwd: root)
        #expect(r.status == 0, "\(r.stderr)")
        let readme = try String(contentsOfFile: "\(RepoPaths.root)/README.md", encoding: .utf8)
        #expect(readme.contains("$ rigor new task my_task\n" + r.stdout), "README shows other output than:\n\(r.stdout)")
        let manifest = try String(contentsOfFile: "\(root)/Tasks/my_task/task.toml", encoding: .utf8)
        let shown = ["[world]\nkind = \"declarative\"\n\n[[world.hidden]]\nname = \"code\"\nvalue = '{{string(12, \"A-Z0-9\")}}'\n",
                     "[[world.files]]\npath = \"/data/live_{{digits(4)}}.env\"\ncontent = \"\"\"\nSERVICE=my_task\nSECRET_CODE={{hidden.code}}\n\"\"\"\n",
                     "[validator]\noutput_key = \"SECRET_CODE\"\nexpected = \"{{hidden.code}}\"\n"]
        for part in shown {
            #expect(manifest.contains(part) && readme.contains(part), "\(part)")
        }
    }

    @Test("rigor new refuses to overwrite, names every clash and writes nothing")
    func refusesToOverwrite() throws {
        let root = try Self.project()
        #expect(try CommandLineRun.rigor(["new", "task", "dup"], cwd: root).status == 0)
        let before = try String(contentsOfFile: "\(root)/rigor.toml", encoding: .utf8)
        let again = try CommandLineRun.rigor(["new", "task", "dup", "--python"], cwd: root)
        #expect(again.status == 2)
        #expect(again.stderr.contains("refusing to overwrite") && again.stderr.contains("Tasks/dup/task.toml")
                && again.stderr.contains("pairing 'dup'"), "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(root)/Tasks/dup/world.py") == false)
        #expect(try String(contentsOfFile: "\(root)/rigor.toml", encoding: .utf8) == before)
        #expect(try CommandLineRun.rigor(["new", "agent", "a1"], cwd: root).status == 0)
        #expect(try CommandLineRun.rigor(["new", "agent", "a1"], cwd: root).status == 2)
        #expect(try CommandLineRun.rigor(["new", "task", "Bad Name"], cwd: root).status == 2)
    }

    @Test("rigor new agent writes Python, exec and Swift skeletons; the Python and exec ones speak the protocol")
    func newAgents() throws {
        let root = try Self.project()
        for (name, flag) in [("py_bot", "--python"), ("raw_bot", "--exec"), ("sw_bot", "--swift")] {
            let r = try CommandLineRun.rigor(["new", "agent", name, flag], cwd: root)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("next:"))
        }
        #expect(FileManager.default.isExecutableFile(atPath: "\(root)/agents/raw_bot"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/agents/sw_bot/Package.swift"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/agents/sw_bot/Sources/main.swift"))
        for agent in ["agents/py_bot.py", "agents/raw_bot"] {
            let out = "\(root)/\(agent.replacingOccurrences(of: "/", with: "_")).json"
            let r = try CommandLineRun.rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "0", "--out", out]
                                             + Self.sdk, cwd: root)
            let artifact = try JSON.parse(String(contentsOfFile: out, encoding: .utf8))
            // The skeletons explore but do not report: they run until the budget ends.
            #expect(artifact["failure_type"] == "budget_exhausted", "\(agent): \(r.stderr)")
        }
    }

    @Test("without a project, rigor new task writes into Tasks/ and Agents/ and adds to Agents/pairings.json")
    func checkoutLayout() throws {
        let root = RepoPaths.temporaryDirectory("rigor-new-plain")
        try FileManager.default.createDirectory(atPath: "\(root)/Tasks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/Agents", withIntermediateDirectories: true)
        try "[\n  {\"name\": \"x\", \"agent\": \"Agents/x.py\", \"task\": \"x@1\"}\n]\n".write(toFile: "\(root)/Agents/pairings.json", atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(["new", "task", "plain_task"], cwd: root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(root)/Agents/plain_task_agent.py"))
        let pairings = try JSON.parse(String(contentsOfFile: "\(root)/Agents/pairings.json", encoding: .utf8)).arrayValue ?? []
        #expect(pairings.count == 2)
        #expect(pairings.last?["agent"] == "Agents/plain_task_agent.py" && pairings.last?["task"] == "plain_task@1")
        let v = try CommandLineRun.rigor(["tasks", "validate", "--tasks", "plain_task@1", "--seeds", "0..1", "--null-seeds", "0"] + Self.sdk,
                                         cwd: root)
        #expect(v.status == 0, "\(v.stdout)\n\(v.stderr)")
    }

    @Test("tasks validate fails a task whose world is not deterministic, and one whose manifest has an unknown key")
    func determinismAndLint() throws {
        let root = try Self.project()
        #expect(try CommandLineRun.rigor(["new", "task", "flaky", "--python"], cwd: root).status == 0)
        #expect(try CommandLineRun.rigor(["new", "task", "typo"], cwd: root).status == 0)
        // The flaky world draws its file name from the OS, not env.rng: same seed, different world.
        let world = "\(root)/Tasks/flaky/world.py"
        let text = try String(contentsOfFile: world, encoding: .utf8)
            .replacingOccurrences(of: "suffix = \"%04d\" % env.rng.randint(0, 9999)",
                                  with: "import os\n    suffix = \"%04d\" % (int.from_bytes(os.urandom(4), \"big\") % 10000)")
        try text.write(toFile: world, atomically: true, encoding: .utf8)
        let manifest = "\(root)/Tasks/typo/task.toml"
        let m = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "tool_calls = 20", with: "tool_calls = 20\ntool_cals = 5")
        try m.write(toFile: manifest, atomically: true, encoding: .utf8)
        let v = try CommandLineRun.rigor(["tasks", "validate", "--tasks", "flaky@1,typo@1", "--seeds", "0..2", "--null-seeds", "0"] + Self.sdk,
                                         cwd: root)
        #expect(v.status == 1, "\(v.stdout)\n\(v.stderr)")
        #expect(v.stdout.contains("FAIL flaky@1") && v.stdout.contains("not deterministic"), "\(v.stdout)")
        #expect(v.stdout.contains("FAIL typo@1") && v.stdout.contains("lint: budgets.tool_cals: unknown key"), "\(v.stdout)")
    }
}
