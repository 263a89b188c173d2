import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// A project whose `rigor.toml` names a TraceCore-format tasks folder beside its own `Tasks`
/// (`tasks = ["Tasks", "vendor/tracecore/tasks"]`, spec/project.md): TraceCore 1.1.3's own task
/// folders, copied unmodified from its package (the venv `make tracecore-venv` fills, as
/// `TraceCoreInteropTests` uses), listed and run from a subdirectory with TraceCore's own agent.
@Suite("a project with a TraceCore tasks folder in rigor.toml")
struct ProjectTraceCoreTasksTests {
    @Test("rigor tasks list shows both folders' tasks; a TraceCore task runs and replays from a subdirectory, with the task_hash --tasks-dir gives")
    func traceCoreFolderInProject() throws {
        guard let site = TraceCoreInteropTests.sitePackages else {
            #expect(Facility.mayLack("tracecore 1.1.3 in .build-venv (make tracecore-venv; PyPI)"))
            return
        }
        let dir = RepoPaths.temporaryDirectory("rigor-project-tracecore")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try ProjectTests.initialise("\(dir)/proj", rigor: RepoPaths.rigorBinary)
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(p.root)/vendor/tracecore", withIntermediateDirectories: true)
        try fm.copyItem(atPath: "\(site)/tasks", toPath: "\(p.root)/vendor/tracecore/tasks")
        try fm.copyItem(atPath: "\(site)/agent_bench/agents/rate_limit_agent.py", toPath: "\(p.root)/agents/rate_limit_agent.py")
        let toml = "\(p.root)/rigor.toml"
        let text = try String(contentsOfFile: toml, encoding: .utf8)
        #expect(text.contains("tasks = [\"Tasks\"]"), "rigor init's project file changed: \(text)")
        try (text.replacingOccurrences(of: "tasks = [\"Tasks\"]", with: "tasks = [\"Tasks\", \"vendor/tracecore/tasks\"]") + """

            [[pairings]]
            name = "tracecore_rate"
            agent = "agents/rate_limit_agent.py"
            task = "rate_limited_api@1"
            """).write(toFile: toml, atomically: true, encoding: .utf8)

        let (list, rows) = try p.json(["tasks", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        let refs = Set((rows.arrayValue ?? []).compactMap { $0["ref"]?.stringValue })
        for ref in ["filesystem_hidden_config@1", "rate_limited_api@1", "dice_game@1", "log_alert_triage@1", "runbook_verifier@1"] {
            #expect(refs.contains(ref), "\(ref) missing from tasks list: \(refs.sorted())")
        }
        #expect((rows.arrayValue ?? []).allSatisfy { $0["error"] == nil }, "\(list.stdout)")

        let (run, summary) = try p.json(["run", "pairing", "tracecore_rate", "--seed", "1"])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(summary["success"] == true && summary["task_ref"] == "rate_limited_api@1", "\(run.stdout)")
        let runID = try #require(summary["run_id"]?.stringValue)
        let replay = try p.run(["replay", runID])
        #expect(replay.status == 0 && replay.stdout.contains("reproduced"), "\(replay.stdout) \(replay.stderr)")

        // The task the project ran is TraceCore's own, as --tasks-dir <site-packages>/tasks loads it.
        let export = try p.run(["runs", "export", runID])
        let mine = try JSON.parse(export.stdout)["task_hash"]
        let direct = try CommandLineRun.rigor(["run", "--agent", "\(p.root)/agents/rate_limit_agent.py", "--task", "rate_limited_api@1",
                                               "--seed", "1", "--tasks-dir", "\(site)/tasks", "--state-dir", "\(dir)/state",
                                               "--out", "\(dir)/direct.json"], cwd: dir)
        #expect(direct.status == 0, "\(direct.stderr)")
        let theirs = try JSON.parse([UInt8](try #require(fm.contents(atPath: "\(dir)/direct.json"))))["task_hash"]
        #expect(mine != nil && mine == theirs, "task_hash \(mine ?? .null) from the project, \(theirs ?? .null) from --tasks-dir")
    }
}
