import Foundation
import RigorSpec
import RigorTestSupport
import Testing
@testable import RigorTasks

@Suite("Task registry and the hidden_config world")
struct WorldTests {
    func task() throws -> LoadedTask {
        try TaskRegistry(directory: RepoPaths.tasks).resolve("filesystem_hidden_config@1")
    }

    @Test("the manifest carries the budgets and roots of the issue")
    func manifest() throws {
        let m = try task().manifest
        #expect(m.budgets.steps == 200)
        #expect(m.budgets.toolCalls == 40)
        #expect(m.sandbox.filesystemRoots == ["/app"])
        #expect(Set(m.surface.actions.keys) == ["list_dir", "read_file", "extract_value", "set_output"])
    }

    @Test("the world has a readme, a decoy and a hidden config whose key comes from the seed")
    func worldLayout() throws {
        let world = try #require(try task().makeWorld(seed: 42, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
        let files = world.files.fs.files
        #expect(files["/app/readme.txt"] != nil)
        #expect(files["/app/config.example"]?.contains("API_KEY=changeme") == true)
        let hidden = try #require(HiddenConfig.hiddenPath(in: world))
        #expect(hidden.hasPrefix("/app/.config_"))
        #expect(hidden.count == "/app/.config_".count + 4)
        let line = files[hidden]?.split(separator: "\n").first { $0.hasPrefix("API_KEY=") }
        #expect(line?.count == "API_KEY=".count + 24)
    }

    @Test("different seeds give different worlds; the same seed the same world")
    func seedsDiffer() throws {
        let t = try task()
        var secrets = Set<String>()
        for seed in 0..<100 {
            let a = try #require(try t.makeWorld(seed: seed, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
            let b = try #require(try t.makeWorld(seed: seed, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
            #expect(a.files.fs.files == b.files.fs.files)
            secrets.insert(a.files.fs.files[HiddenConfig.hiddenPath(in: a) ?? ""] ?? "")
        }
        #expect(secrets.count == 100)
    }

    @Test("list_dir returns sorted absolute paths and fills files_seen")
    func listDir() throws {
        let t = try task()
        let world = try t.makeWorld(seed: 7, key: TestWorldKey.fixed)
        let action = try t.manifest.surface.check(type: "list_dir", args: ["path": "/app"]).get()
        let outcome = try world.execute(action)
        let files = try #require(outcome.result["files"]?.arrayValue?.compactMap { $0.stringValue })
        #expect(files == files.sorted())
        #expect(files.count == 3)
        #expect(files.allSatisfy { $0.hasPrefix("/app/") })
        #expect(world.visibleState["files_seen"] == .array(files.map(JSON.string)))
        let missing = try t.manifest.surface.check(type: "read_file", args: ["path": "/app/nope"]).get()
        #expect(try world.execute(missing).result == ["ok": false, "error": "file_not_found"])
    }

    @Test("a wrong output is not terminal; the right one succeeds")
    func validator() throws {
        let t = try task()
        let world = try #require(try t.makeWorld(seed: 3, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
        let set = { (v: String) throws -> WorldVerdict in
            _ = world.execute(try t.manifest.surface.check(type: "set_output", args: ["key": "API_KEY", "value": .string(v)]).get())
            return world.evaluate()
        }
        guard case .pending = try set("changeme") else { Issue.record("wrong answer was terminal"); return }
        let secret = try #require(FileSystemActions.extract(key: "API_KEY", from: world.files.fs.files[HiddenConfig.hiddenPath(in: world) ?? ""] ?? ""))
        guard case .success = try set(secret) else { Issue.record("right answer not accepted"); return }
    }

    @Test("max_submissions makes wrong outputs terminal")
    func maxSubmissions() {
        var checker = OutputChecker(key: "K", expected: "right", validator: ["max_submissions": 2])
        _ = checker.setOutput(key: "K", value: "a")
        #expect(checker.evaluate() != .success("") && checker.evaluate() != .failed(""))
        _ = checker.setOutput(key: "K", value: "b")
        guard case .failed = checker.evaluate() else { Issue.record("not terminal after 2 wrong answers"); return }
    }

    @Test("task_hash changes when any file in the folder changes")
    func taskHashCoversFolder() throws {
        let dir = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = "\(dir)/filesystem_hidden_config"
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: folder)
        let original = try TaskRegistry.load(folder: folder).taskHash
        #expect(original == (try task().taskHash))
        try "changed\n".write(toFile: "\(folder)/README.md", atomically: true, encoding: .utf8)
        let changed = try TaskRegistry.load(folder: folder).taskHash
        #expect(changed != original)
        try "new data".write(toFile: "\(folder)/extra.txt", atomically: true, encoding: .utf8)
        #expect(try TaskRegistry.load(folder: folder).taskHash != changed)
        #expect(original.hasPrefix("sha256:") && original.count == 71)
    }
}
