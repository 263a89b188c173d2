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

    /// A task folder holding `files` (path → contents; "->TARGET": a symbolic link to TARGET;
    /// nil: a symbolic link to /etc/hostname) and the manifest `manifest`.
    static func folder(_ manifest: String, _ files: [String: String?]) throws -> String {
        let folder = RepoPaths.temporaryDirectory("rigor-task-entry") + "/t"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try manifest.write(toFile: "\(folder)/task.toml", atomically: true, encoding: .utf8)
        for (path, contents) in files {
            let full = "\(folder)/\(path)"
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if let contents, contents.hasPrefix("->") {
                try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: String(contents.dropFirst(2)))
            } else if let contents {
                try contents.write(toFile: full, atomically: true, encoding: .utf8)
            } else {
                try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: "/etc/hostname")
            }
        }
        return folder
    }

    static let programManifest = validManifest.replacingOccurrences(of: "world = \"hidden_config\"", with: "[world]\ncommand = [\"world.py\"]")
        .replacingOccurrences(of: "[budgets]", with: "\n[budgets]")

    @Test("a Python world is a regular file of the task folder, which task_hash covers: missing, a symbolic link, a directory or an absolute path is refused at load",
          arguments: [
            ("world.py", ["other.py": "x = 1"], "does not exist"),
            ("world.py", ["world.py": nil], "symbolic link"),
            ("world.py", ["world.py/inner.py": "x = 1"], "not a regular file"),
            ("/tmp/world.py", ["world.py": "x = 1"], "absolute path"),
            ("lib/world.py", ["real/world.py": "x = 1", "lib": "->real"], "symbolic link"),
          ] as [(String, [String: String?], String)])
    func pythonWorldFile(command: String, files: [String: String?], says: String) throws {
        let manifest = Self.programManifest.replacingOccurrences(of: "[\"world.py\"]", with: "[\"\(command)\"]")
        let folder = try Self.folder(manifest, files)
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        #expect {
            _ = try TaskRegistry.load(folder: folder, worldSDK: WorldSDK(directory: "\(RepoPaths.root)/Agents/tasks_sdk"))
        } throws: { error in
            guard let e = error as? TaskError, case .manifestInvalid(_, let field, let reason) = e else { return false }
            return field == "world.command" && reason.contains(says) && reason.contains(command)
        }
    }

    @Test("a Python world in a regular file of the folder loads")
    func pythonWorldFileLoads() throws {
        let folder = try Self.folder(Self.programManifest, ["world.py": "x = 1"])
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        let task = try TaskRegistry.load(folder: folder, worldSDK: WorldSDK(directory: "\(RepoPaths.root)/Agents/tasks_sdk"))
        #expect(task.manifest.program?.pythonEntryFiles == ["world.py"])
    }

    @Test("a TraceCore task's entry points are regular files of the folder: a missing or linked one is refused at load, naming it",
          arguments: [("validate.py", "does not exist"), ("actions.py", "symbolic link")])
    func traceCoreEntryFiles(file: String, says: String) throws {
        let manifest = """
            id = "t"
            version = 1
            suite = "s"
            description = "d"
            [budgets]
            steps = 5
            tool_calls = 3
            [setup]
            entrypoint = "setup.py:setup"
            [validator]
            entrypoint = "validate.py:validate"
            [action_surface]
            source = "actions.py"
            [sandbox]
            filesystem_roots = ["/app"]
            """
        var files: [String: String?] = ["setup.py": "x = 1", "validate.py": "x = 1", "actions.py": "x = 1"]
        if says == "symbolic link" { files[file] = .some(nil) } else { files.removeValue(forKey: file) }
        let folder = try Self.folder(manifest, files)
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        #expect {
            _ = try TaskRegistry.load(folder: folder, worldSDK: WorldSDK(directory: "\(RepoPaths.root)/Agents/tasks_sdk"))
        } throws: { error in
            guard let e = error as? TaskError, case .manifestInvalid(_, _, let reason) = e else { return false }
            return reason.contains(says) && reason.contains(file)
        }
    }
}

