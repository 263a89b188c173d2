import Crypto
import Foundation
import RigorSpec
import RigorTasks

extension Bundle {
    /// Recomputes every hash in the bundle and checks the signature. Returns the problems, one
    /// per broken promise; none means the bundle is intact (and, with `trustedKey`, signed by it).
    public func verify(trustedKey: Curve25519.Signing.PublicKey? = nil) -> [String] {
        var problems = namingProblems()
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
        // The task SDK a Python world runs through: listed (and hashed) in the task's world.
        let listedSDK = manifest["task"]?["world"]?["sdk"]?.objectValue ?? [:]
        for (name, digest) in listedSDK.sorted(by: { $0.key < $1.key }) {
            guard let bytes = files["tasksdk/\(name)"] else { problems.append("task SDK file '\(name)' is listed in the manifest but missing"); continue }
            if Digest.sha256(bytes) != digest.stringValue { problems.append("task SDK file '\(name)' does not match its hash in the manifest") }
        }
        let presentSDK = Set(files.keys.filter { $0.hasPrefix("tasksdk/") }.map { String($0.dropFirst(8)) })
        for extra in presentSDK.subtracting(listedSDK.keys).sorted() { problems.append("task SDK file '\(extra)' is not in the manifest") }
        // The task and agent hashes, recomputed with their recipes (spec/hashing.md).
        let taskDoc: JSON = ["files": manifest["task"]?["files"] ?? [:], "world": manifest["task"]?["world"] ?? [:]]
        let taskHash = try? Digest.sha256(canonical: taskDoc)
        if taskHash != manifest["task"]?["hash"]?.stringValue { problems.append("task_hash does not recompute from the bundled task files") }
        if manifest["task"]?["hash"] != artifact["task_hash"] { problems.append("the artifact's task_hash is not the bundled task's") }
        var agentRecipe: [String: JSON] = ["kind": manifest["agent"]?["kind"] ?? .null, "files": manifest["agent"]?["files"] ?? [:]]
        // A declared agent's hash covers how it starts too (spec/project.md).
        for key in ["entry", "command", "working_directory"] { if let v = manifest["agent"]?[key] { agentRecipe[key] = v } }
        let agentDoc = JSON.object(agentRecipe)
        let agentHash = try? Digest.sha256(canonical: agentDoc)
        if agentHash != manifest["agent"]?["hash"]?.stringValue { problems.append("agent_hash does not recompute from the bundled agent files") }
        if manifest["agent"]?["hash"] != artifact["agent_hash"] { problems.append("the artifact's agent_hash is not the bundled agent's") }
        // The model tape the artifact names (spec/model-gateway.md §6): present, and the tape
        // of that hash; no other.
        let tapeHash = ModelOptions.tapeHash(of: artifact)
        if manifest["models"]?["tape"]?.stringValue != tapeHash {
            problems.append("the manifest names another model tape than the artifact's models.tape")
        }
        if let tapeHash {
            if let bytes = files[Bundle.tapeFile] {
                do { _ = try ModelTape.decode(bytes, expectedHash: tapeHash, what: "the bundle's model tape") } catch {
                    problems.append("\(error)")
                }
            } else {
                problems.append("the artifact names the model tape \(tapeHash), which the bundle does not hold")
            }
        } else if files[Bundle.tapeFile] != nil {
            problems.append("the bundle holds a model tape the artifact does not name")
        }
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

    /// What is wrong with the names that replay turns into paths, or that choose what it runs:
    /// every file name, the task ref and the agent file. None of them is under a hash of its
    /// own, so each is tied to one that is: the task ref must be the artifact's `task_ref`
    /// (covered by `artifact_hash`) and the agent file the one agent file the agent hash covers
    /// outside `sdk/`.
    func namingProblems() -> [String] {
        var problems: [String] = []
        let listedTask = manifest["task"]?["files"]?.objectValue ?? [:]
        let listedAgent = manifest["agent"]?["files"]?.objectValue ?? [:]
        var names = Set(files.keys)
        names.formUnion(listedTask.keys.map { "task/\($0)" })
        names.formUnion(listedAgent.keys.map { "agent/\($0)" })
        let declaredAgent = BundledAgent.isDeclared(manifest["agent"])
        for name in names.sorted() {
            if let problem = Bundle.unpackingProblem(name, agentPaths: declaredAgent) { problems.append(problem) }
        }
        let taskRef = manifest["task"]?["ref"]?.stringValue
        if let taskRef {
            if Bundle.taskID(taskRef) == nil {
                problems.append("the manifest's task ref '\(PathName.shown(taskRef))' is not <id>@<version> with an id that can name a folder")
            }
            if .string(taskRef) != artifact["task_ref"] {
                problems.append("the manifest's task ref '\(PathName.shown(taskRef))' is not the artifact's task_ref")
            }
        } else {
            problems.append("the manifest names no task ref")
        }
        if declaredAgent, let section = manifest["agent"] {
            problems += BundledAgent.namingProblems(section)
        } else if let file = manifest["agent"]?["file"]?.stringValue {
            let entries = listedAgent.keys.filter { !$0.contains("/") }
            do {
                try PathName.checkFileName(file, as: "the manifest's agent file")
                if entries != [file] {
                    problems.append("the manifest's agent file '\(file)' is not the one agent file its agent files list outside sdk/")
                }
            } catch {
                problems.append(error.description)
            }
        } else {
            problems.append("the manifest names no agent file")
        }
        return problems
    }

    /// Why a file name of the bundle cannot be unpacked, or nil when it can: `task/<relative
    /// path>`, `agent/<file name>` or `agent/sdk/<file name>`; with `agentPaths` (a declared
    /// agent, `BundledAgent`), `agent/<relative path>`.
    static func unpackingProblem(_ name: String, agentPaths: Bool = false) -> String? {
        do {
            if name == Bundle.tapeFile {
                return nil
            } else if name.hasPrefix("task/") {
                try PathName.checkRelativePath(String(name.dropFirst(5)), as: "bundle file")
            } else if name.hasPrefix("tasksdk/") {
                try PathName.checkFileName(String(name.dropFirst(8)), as: "bundle file")
            } else if agentPaths && name.hasPrefix("agent/") {
                try PathName.checkRelativePath(String(name.dropFirst(6)), as: "bundle file")
            } else if name.hasPrefix("agent/sdk/") {
                try PathName.checkFileName(String(name.dropFirst(10)), as: "bundle file")
            } else if name.hasPrefix("agent/") {
                try PathName.checkFileName(String(name.dropFirst(6)), as: "bundle file")
            } else {
                return "bundle file '\(PathName.shown(name))' is neither under task/, tasksdk/ nor under agent/, nor the model tape"
            }
        } catch {
            return "\(error) (in '\(PathName.shown(name))')"
        }
        return nil
    }

    /// The id of an `<id>@<version>` task ref whose id can name a folder; nil otherwise.
    static func taskID(_ ref: String) -> String? {
        let parts = ref.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, Int(parts[1]) != nil, (try? PathName.checkIdentifier(String(parts[0]), as: "task id")) != nil else {
            return nil
        }
        return String(parts[0])
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
}
