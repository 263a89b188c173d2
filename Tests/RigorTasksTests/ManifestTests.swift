import Foundation
import RigorSpec
import RigorTestSupport
import Testing
@testable import RigorTasks

let validManifest = """
        id = "t"
        version = 1
        suite = "s"
        description = "d"
        world = "hidden_config"
        [budgets]
        steps = 5
        tool_calls = 3
        [sandbox]
        filesystem_roots = ["/app"]
        [actions.list_dir]
        args = { path = "path" }
        """

@Suite("Task manifests")
struct ManifestTests {
    @Test("a valid manifest parses")
    func parsesValid() throws {
        let m = try TaskManifest.parse(validManifest, path: "t/task.toml")
        #expect(m.ref == "t@1")
        #expect(m.budgets == Budgets(steps: 5, toolCalls: 3, wallClockSeconds: nil))
        #expect(m.surface.actions["list_dir"]?.args == ["path": .path])
    }

    @Test("malformed manifests are refused with a message naming the field", arguments: [
        ("version = 1", "id"),
        (validManifest.replacingOccurrences(of: "steps = 5", with: "steps = -5"), "budgets.steps"),
        (validManifest.replacingOccurrences(of: "tool_calls = 3", with: "tool_calls = \"many\""), "budgets.tool_calls"),
        (validManifest.replacingOccurrences(of: "\"path\" }", with: "\"pathh\" }"), "actions.list_dir.args.path"),
        (validManifest.replacingOccurrences(of: "[\"/app\"]", with: "[\"app\"]"), "sandbox.filesystem_roots"),
        (validManifest.replacingOccurrences(of: "id = \"t\"", with: "id = \"Bad Id\""), "id"),
        (validManifest.replacingOccurrences(of: "[actions.list_dir]\nargs = { path = \"path\" }", with: ""), "actions"),
    ])
    func invalid(text: String, field: String) {
        #expect {
            _ = try TaskManifest.parse(text, path: "t/task.toml")
        } throws: { error in
            guard let e = error as? TaskError, case .manifestInvalid(_, let f, _) = e else { return false }
            return f == field && e.description.contains("spec/task-manifest.md")
        }
    }

    @Test("TOML syntax errors say where")
    func syntax() {
        #expect {
            _ = try TaskManifest.parse("id = \"t\nversion = 1", path: "t/task.toml")
        } throws: { error in
            (error as? TaskError)?.description.contains("line") == true
        }
    }

    @Test("unknown task refs list the known ones; malformed refs say the format")
    func refs() throws {
        let registry = try TaskRegistry(directory: RepoPaths.tasks)
        #expect { _ = try registry.resolve("nope@1") } throws: {
            ($0 as? TaskError)?.description.contains("filesystem_hidden_config@1") == true
        }
        #expect { _ = try registry.resolve("filesystem_hidden_config@x") } throws: {
            ($0 as? TaskError)?.description.contains("<id>@<version>") == true
        }
        #expect { _ = try TaskRegistry(directory: "/nonexistent/tasks") } throws: {
            ($0 as? TaskError)?.description.contains("--tasks-dir") == true
        }
    }

    @Test("a task ref whose id is a path is malformed: no folder outside the tasks directory is read",
          arguments: ["../Tasks/filesystem_hidden_config@1", "/etc@1", "a/b@1", ".hidden@1", "..@1"])
    func refsThatClimb(_ ref: String) throws {
        let registry = try TaskRegistry(directory: RepoPaths.tasks)
        #expect(throws: TaskError.malformedReference(ref)) { _ = try registry.resolve(ref) }
    }

    @Test("symbolic links in a task folder are left out, never followed: no file from elsewhere reaches task_hash or a bundle",
          arguments: ["/etc/hostname", "/etc"])
    func symlinkInTaskFolder(_ target: String) throws {
        let folder = RepoPaths.temporaryDirectory("rigor-task-link") + "/filesystem_hidden_config"
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: folder)
        let before = try TaskRegistry.load(folder: folder).taskHash
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/leak", withDestinationPath: target)
        #expect(try TaskRegistry.load(folder: folder).taskHash == before)
        #expect(try TaskHash.fileDigests(folder: folder).keys.sorted() == ["README.md", "task.toml"])
    }
}

