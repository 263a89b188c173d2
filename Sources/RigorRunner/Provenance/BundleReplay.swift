import Foundation
import RigorSpec
import RigorTasks

extension Bundle {
    /// Replays the bundle in a fresh private directory under the system's temporary directory
    /// (made with `mkdtemp`, so no other user can have planted it), removed afterwards.
    public func replayInTemporaryDirectory() throws(RunnerError) -> ReplayReport {
        var template = Array((NSTemporaryDirectory() + "rigor-bundle-replay-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw .io("cannot make a temporary directory to replay in: \(String(cString: strerror(errno)))") }
        let directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Readable by the agent, which may run under a uid of its own; set through the
        // descriptor, never by path.
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { fchmod(fd, 0o755); close(fd) }
        return try replay(in: directory)
    }

    /// Unpacks into `directory` (Tasks/<id>/…, Agents/<file>, Agents/sdk/…) and replays there,
    /// with the agent_ref the recording used. A bundle that does not verify is refused before
    /// anything is written: the names that become paths are checked there (`namingProblems`),
    /// and every file is joined under `directory` through `PathName`.
    public func replay(in directory: String) throws(RunnerError) -> ReplayReport {
        let problems = verify()
        if !problems.isEmpty { throw .usage("the bundle does not verify: \(problems.joined(separator: "; "))") }
        guard let ref = manifest["task"]?["ref"]?.stringValue, let taskID = Bundle.taskID(ref),
              let agentFile = manifest["agent"]?["file"]?.stringValue, let agentRef = artifact["agent_ref"]?.stringValue else {
            throw .usage("the bundle's manifest lacks the task ref or the agent file")
        }
        let agents = "\(directory)/Agents"
        // A directory, a command line, declared files or a declared python: unpacked at their
        // places under project/ and resolved from their declaration (`BundledAgent`).
        let declaredAgent = BundledAgent.isDeclared(manifest["agent"]) ? manifest["agent"] : nil
        let agentPath: String
        do {
            let taskFolder = try PathName.confined(identifier: taskID, in: "\(directory)/Tasks", as: "task id")
            // A world program named as a file of the task folder must stay executable.
            let worldProgram = manifest["task"]?["world"]?["command"]?.arrayValue?.first?.stringValue.map { "task/\($0)" }
            for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
                let target: String
                if name == Bundle.tapeFile { continue }
                if name.hasPrefix("task/") {
                    target = try PathName.confined(String(name.dropFirst(5)), in: taskFolder, as: "bundle file")
                } else if name.hasPrefix("tasksdk/") {
                    target = try PathName.confined(String(name.dropFirst(8)), in: "\(agents)/tasks_sdk", as: "bundle file")
                } else if name.hasPrefix("agent/"), let section = declaredAgent {
                    let placed = try BundledAgent.target(of: String(name.dropFirst(6)), section: section, in: directory)
                    try ArtifactFile.writeAtomically(bytes, to: placed.path, mode: placed.mode)
                    continue
                } else if name.hasPrefix("agent/") {
                    target = try PathName.confined(String(name.dropFirst(6)), in: agents, as: "bundle file")
                } else {
                    throw RunnerError.usage("the bundle holds '\(PathName.shown(name))', neither a task nor an agent file")
                }
                // The agent file is created executable (never chmod'ed by path afterwards).
                try ArtifactFile.writeAtomically(bytes, to: target, mode: name == "agent/\(agentFile)" || name == worldProgram ? 0o755 : 0o644)
            }
            agentPath = try PathName.confined(agentFile, in: agents, as: "agent file")
        } catch let error as PathName.Refusal {
            throw .usage("the bundle holds an unsafe name: \(error)")
        } catch let error as RunnerError {
            throw error
        } catch {
            throw .internal("unpacking the bundle: \(error)")
        }
        let workspace = Workspace(root: directory, stateDirectory: "\(directory)/.rigor")
        let key = manifest["world_key"]?.stringValue.flatMap(WorldKey.init(hex:))
        guard key != nil || artifact["world_key_id"] == nil else { throw .usage("the bundle's manifest lacks a valid world key") }
        let resolved = try declaredAgent.map { section throws(RunnerError) in
            try BundledAgent.resolve(section, ref: agentRef, in: directory, sdkDirectory: workspace.sdkDirectory)
        }
        // The tape travels whole: the replay is served from it, offline (verified above).
        var models: ModelOptions? = nil
        if let hash = ModelOptions.tapeHash(of: artifact), let bytes = files[Bundle.tapeFile] {
            var m = ModelOptions(mode: .replay)
            m.tape = try ModelTape.decode(bytes, expectedHash: hash, what: "the bundle's model tape")
            models = m
        }
        let (request, changes) = try Replay.planFromFile(artifact, agentFile: resolved == nil ? agentPath : nil, agentRef: agentRef,
                                                         worldKey: key, resolvedAgent: resolved, models: models, in: workspace)
        if !changes.isEmpty {
            return ReplayReport(status: .changed, recordedHash: artifact["artifact_hash"]?.stringValue, replayedHash: nil,
                                changes: changes, divergence: nil, replayRunID: nil)
        }
        return Replay.compare(recorded: artifact, replayed: try Episode.run(request), changes: changes)
    }
}
