import Foundation

/// What `rigor init` writes: a project file, an example task (a copy of the built-in-world task
/// `filesystem_hidden_config`), an example Python agent on the SDK, a pairing of the two, a
/// `.gitignore` that keeps the state directory out of git, and a CI workflow that gates on
/// `rigor ci`.
///
/// It never overwrites: when any file it would write exists, it writes nothing and names
/// them all. A `.gitignore` that exists is the one exception: it gets the `.rigor/` line
/// appended when it lacks it, since a project usually has one already.
public enum ProjectScaffold {
    /// One file of the scaffold, by its path relative to the project root.
    public struct File: Sendable {
        public let path: String
        public let contents: String
    }

    /// What `write` did with one file.
    public struct Written: Sendable {
        public let path: String
        /// "wrote", or "appended to" for an existing `.gitignore`.
        public let action: String
    }

    public static let exampleTaskFolder = "Tasks/filesystem_hidden_config"

    /// The files, in the order they are written (the `.gitignore` apart).
    public static var files: [File] {
        [
            File(path: ProjectFile.fileName, contents: ProjectTemplate.projectFile),
            File(path: "\(exampleTaskFolder)/task.toml", contents: ProjectTemplate.exampleTaskManifest),
            File(path: "\(exampleTaskFolder)/README.md", contents: ProjectTemplate.exampleTaskReadme),
            File(path: "agents/example_agent.py", contents: ProjectTemplate.exampleAgent),
            File(path: ".github/workflows/rigor.yml", contents: ProjectTemplate.workflow),
        ]
    }

    /// Writes the scaffold into `directory` (made when missing). Throws `.usage` naming every
    /// file that exists, before writing anything.
    public static func write(into directory: String) throws(RunnerError) -> [Written] {
        let fm = FileManager.default
        let existing = files.map(\.path).filter { fm.fileExists(atPath: "\(directory)/\($0)") }
        if !existing.isEmpty {
            throw .usage("refusing to overwrite \(existing.joined(separator: ", ")) in \(directory); move \(existing.count == 1 ? "it" : "them") away or run `rigor init` in another directory")
        }
        var written: [Written] = []
        for file in files {
            let path = "\(directory)/\(file.path)"
            try ArtifactFile.writeAtomically(Array(file.contents.utf8), to: path)
            written.append(Written(path: file.path, action: "wrote"))
        }
        written.append(try ignoreState(in: directory))
        return written
    }

    /// Adds `.rigor/` to the project's `.gitignore`, creating it when missing.
    static func ignoreState(in directory: String) throws(RunnerError) -> Written {
        let path = "\(directory)/.gitignore"
        let line = ProjectTemplate.gitignoreLine
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw .io("cannot read '\(path)'") }
            try ArtifactFile.writeAtomically(Array("\(line)\n".utf8), to: path)
            return Written(path: ".gitignore", action: "wrote")
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        if lines.contains(line) || lines.contains("/\(line)") || lines.contains(".rigor") {
            return Written(path: ".gitignore", action: "kept")
        }
        let updated = text + (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "\(line)\n"
        try ArtifactFile.writeAtomically(Array(updated.utf8), to: path)
        return Written(path: ".gitignore", action: "appended to")
    }

    /// The commands to run next, in order.
    public static let nextSteps = [
        "rigor run pairing example --seed 42",
        "rigor batch --pairings all --seeds 0..9",
        "rigor baseline record --pairings all --seeds 0..4",
        "rigor ci",
    ]
}
