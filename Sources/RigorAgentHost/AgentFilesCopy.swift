import Foundation

/// Copies of an agent's files for a uid that cannot reach the originals.
///
/// At the process level an agent runs under a uid of its own (runner root) with the host's
/// file system view: files under a directory closed to others (a project in `mktemp -d`, a 0700
/// home) are out of its reach, and without a mount namespace nothing can show them at their own
/// paths. So the runner copies what the agent needs (its file or directory, declared files, the
/// SDK, a venv) into the episode's private directory, readable by the agent and owned by root,
/// and runs the copy: every path of the command that lay under a copied path is rewritten to
/// the copy. The hash is still the originals' (computed before); the copy goes with the
/// private directory at the end of the episode. Spec: spec/project.md, spec/guard.md.
enum AgentFilesCopy {
    /// `path` with the first original of `mapping` it lies under replaced by its copy.
    static func move(_ path: String, by mapping: [(String, String)]) -> String {
        for (from, to) in mapping where path == from || path.hasPrefix(from + "/") { return to + path.dropFirst(from.count) }
        return path
    }

    /// The directory under the private directory that holds the copies.
    static let folder = ".rigor-agent-files"

    /// Copies `paths` (absolute; files or directories, symbolic links kept as links) under
    /// `workdir/.rigor-agent-files`, each at its own absolute path below it, readable by others.
    /// Returns the mapping original → copy.
    static func copy(_ paths: [String], into workdir: String) throws(AgentHostError) -> [(String, String)] {
        let root = "\(workdir)/\(folder)"
        var mapping: [(String, String)] = []
        // Copy the outermost paths only: one inside another comes with it.
        let sorted = Array(Set(paths)).sorted()
        var outer: [String] = []
        for p in sorted where !outer.contains(where: { p == $0 || p.hasPrefix($0 + "/") }) { outer.append(p) }
        for original in outer {
            let target = root + original
            let parent = (target as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            } catch {
                throw .workdirFailed(reason: "cannot make '\(parent)' to copy the agent's files into: \(error.localizedDescription)")
            }
            try run("/bin/cp", ["-a", "--no-preserve=ownership", original, target])
            mapping.append((original, target))
        }
        // Readable and traversable by the agent's uid, writable by no one but root.
        if !outer.isEmpty { try run("/bin/chmod", ["-R", "go+rX,go-w", root]) }
        var dir = root
        while dir != workdir && dir.count > workdir.count {
            chmod(dir, 0o755)
            dir = (dir as NSString).deletingLastPathComponent
        }
        return mapping
    }

    private static func run(_ tool: String, _ arguments: [String]) throws(AgentHostError) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw .workdirFailed(reason: "cannot run \(tool) to copy the agent's files: \(error)")
        }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw .workdirFailed(reason: "copying the agent's files for its uid failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

extension AgentCommand {
    /// The same command with every path under an original of `mapping` moved to its copy.
    func relocated(_ mapping: [(String, String)]) -> AgentCommand {
        func move(_ s: String) -> String { AgentFilesCopy.move(s, by: mapping) }
        func moveList(_ s: String) -> String { s.split(separator: ":", omittingEmptySubsequences: false).map { move(String($0)) }.joined(separator: ":") }
        return AgentCommand(kind: kind, ref: ref, agentFile: move(agentFile), executable: move(executable),
                            arguments: arguments.map(move), visiblePaths: visiblePaths.map(move), hashSource: hashSourceForCopy,
                            hashedFiles: hashedFiles, fileIdentity: fileIdentity, offersForkServer: false,
                            sdkDirectory: sdkDirectory.map(move), workingDirectory: workingDirectory.map(move),
                            declaredEnvironment: declaredEnvironment, runnerEnvironment: runnerEnvironment.mapValues(moveList),
                            declaredPython: declaredPython.map(move))
    }
}
