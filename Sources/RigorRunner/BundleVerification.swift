import Crypto
import Foundation
import RigorSpec
import RigorTasks

extension Bundle {
    /// Recomputes every hash in the bundle and checks the signature. Returns the problems, one
    /// per broken promise; none means the bundle is intact (and, with `trustedKey`, signed by it).
    public func verify(trustedKey: Curve25519.Signing.PublicKey? = nil) -> [String] {
        var problems: [String] = []
        // Files against the manifest.
        for section in ["task", "agent"] {
            let listed = manifest[section]?["files"]?.objectValue ?? [:]
            for (name, digest) in listed.sorted(by: { $0.key < $1.key }) {
                guard let bytes = files["\(section)/\(name)"] else {
                    problems.append("\(section) file '\(name)' is listed in the manifest but missing"); continue
                }
                if Digest.sha256(bytes) != digest.stringValue { problems.append("\(section) file '\(name)' does not match its hash in the manifest") }
            }
            let present = Set(files.keys.filter { $0.hasPrefix("\(section)/") }.map { String($0.dropFirst(section.count + 1)) })
            for extra in present.subtracting(listed.keys).sorted() { problems.append("\(section) file '\(extra)' is not in the manifest") }
        }
        // The task and agent hashes, recomputed with their recipes (spec/hashing.md).
        let taskDoc: JSON = ["files": manifest["task"]?["files"] ?? [:], "world": manifest["task"]?["world"] ?? [:]]
        let taskHash = try? Digest.sha256(canonical: taskDoc)
        if taskHash != manifest["task"]?["hash"]?.stringValue { problems.append("task_hash does not recompute from the bundled task files") }
        if manifest["task"]?["hash"] != artifact["task_hash"] { problems.append("the artifact's task_hash is not the bundled task's") }
        let agentDoc: JSON = ["kind": manifest["agent"]?["kind"] ?? .null, "files": manifest["agent"]?["files"] ?? [:]]
        let agentHash = try? Digest.sha256(canonical: agentDoc)
        if agentHash != manifest["agent"]?["hash"]?.stringValue { problems.append("agent_hash does not recompute from the bundled agent files") }
        if manifest["agent"]?["hash"] != artifact["agent_hash"] { problems.append("the artifact's agent_hash is not the bundled agent's") }
        // The artifact itself.
        let report = VerificationReport(verifying: artifact)
        problems += report.integrityProblems.map { "artifact: \($0)" }
        if manifest["artifact_hash"] != artifact["artifact_hash"] { problems.append("the manifest names another artifact_hash than the artifact's") }
        if let recorded = artifact["world_key_id"]?.stringValue {
            if let key = manifest["world_key"]?.stringValue.flatMap(WorldKey.init(hex:)) {
                if key.id != recorded { problems.append("the bundle's world key is not the one the artifact's world was built under") }
            } else {
                problems.append("the manifest lacks the world key (64 hex digits) the artifact's world was built under")
            }
        }
        // The signature over the canonical manifest.
        switch signature {
        case .null:
            if trustedKey != nil { problems.append("the bundle is not signed, but a public key was given") }
        default:
            guard signature["algorithm"]?.stringValue == "ed25519", let pubHex = signature["public_key"]?.stringValue,
                  let sigHex = signature["value"]?.stringValue, let pub = Bundle.hexBytes(pubHex), let sig = Bundle.hexBytes(sigHex),
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: pub) else {
                problems.append("the signature block is malformed")
                break
            }
            if let trustedKey, trustedKey.rawRepresentation != key.rawRepresentation {
                problems.append("signed by \(pubHex.prefix(16))…, not by the given public key")
            }
            let message = (try? manifest.canonicalBytes()) ?? []
            if !key.isValidSignature(sig, for: message) { problems.append("the Ed25519 signature does not verify over the manifest") }
        }
        return problems
    }

    public static func hexBytes(_ hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Unpacks into `directory` (Tasks/<id>/…, Agents/<file>, Agents/sdk/…) and replays there,
    /// with the agent_ref the recording used.
    public func replay(in directory: String) throws(RunnerError) -> ReplayReport {
        guard let ref = manifest["task"]?["ref"]?.stringValue, let taskID = ref.split(separator: "@").first,
              let agentFile = manifest["agent"]?["file"]?.stringValue, let agentRef = artifact["agent_ref"]?.stringValue else {
            throw .usage("the bundle's manifest lacks the task ref or the agent file")
        }
        for (name, bytes) in files {
            let target: String
            if name.hasPrefix("task/") { target = "\(directory)/Tasks/\(taskID)/\(name.dropFirst(5))" }
            else if name.hasPrefix("agent/sdk/") { target = "\(directory)/Agents/sdk/\(name.dropFirst(10))" }
            else if name.hasPrefix("agent/") { target = "\(directory)/Agents/\(name.dropFirst(6))" }
            else { continue }
            guard !name.contains("..") else { throw .usage("the bundle holds an unsafe path '\(name)'") }
            try ArtifactFile.writeAtomically(bytes, to: target)
            if name == "agent/\(agentFile)" { chmod(target, 0o755) }
        }
        let workspace = Workspace(root: directory, stateDirectory: "\(directory)/.rigor")
        let key = manifest["world_key"]?.stringValue.flatMap(WorldKey.init(hex:))
        guard key != nil || artifact["world_key_id"] == nil else { throw .usage("the bundle's manifest lacks a valid world key") }
        let (request, changes) = try Replay.planFromFile(artifact, agentFile: "\(directory)/Agents/\(agentFile)", agentRef: agentRef,
                                                         worldKey: key, in: workspace)
        if !changes.isEmpty {
            return ReplayReport(status: .changed, recordedHash: artifact["artifact_hash"]?.stringValue, replayedHash: nil,
                                changes: changes, divergence: nil, replayRunID: nil)
        }
        return Replay.compare(recorded: artifact, replayed: try Episode.run(request), changes: changes)
    }
}
