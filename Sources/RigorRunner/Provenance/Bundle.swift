import Crypto
import Foundation
import RigorSpec
import RigorStore
import RigorTasks

/// A portable, self-verifying record of one episode: the artifact, a copy of the task folder
/// and the agent (with the SDK for Python agents), a manifest of their hashes, and an optional
/// Ed25519 signature over the canonical manifest. One file: zstd-compressed canonical JSON
/// (`spec/bundle.md`). Everything needed to check or re-run the episode is inside.
public struct Bundle: Sendable {
    public static let format = "rigor-bundle/1"
    /// The bundle file that holds the episode's model tape (zstd, as in the store).
    public static let tapeFile = "tape"

    public var manifest: JSON
    public var artifact: JSON
    /// Bundle path ("task/<rel>", "agent/<name>", "agent/sdk/<name>") → bytes.
    public var files: [String: [UInt8]]
    public var signature: JSON

    /// Gathers a bundle for `artifact` from the workspace; refuses when the task or the agent
    /// on disk is not the one the artifact was made with.
    /// `worldKey`: the key the run was made under when it is not the workspace's (a baseline's).
    public static func seal(_ artifact: JSON, workspace: Workspace, signingKey: Curve25519.Signing.PrivateKey?,
                            worldKey: WorldKey? = nil) throws(RunnerError) -> Bundle {
        let (request, changes) = try Replay.plan(artifact, in: workspace, worldKey: worldKey)
        if !changes.isEmpty {
            throw .usage("cannot seal: \(changes.joined(separator: "; ")). Seal right after the run, or re-run it")
        }
        var files: [String: [UInt8]] = [:]
        var taskFiles: [String: JSON] = [:]
        let digests = try Bundle.taskDigests(request.task.directory)
        for (rel, digest) in digests {
            guard let data = FileManager.default.contents(atPath: "\(request.task.directory)/\(rel)") else {
                throw .io("cannot read \(request.task.directory)/\(rel)")
            }
            files["task/\(rel)"] = [UInt8](data)
            taskFiles[rel] = .string(digest)
        }
        // A Python world's task SDK travels with the task (its digests are in the world's identity).
        if let sdk = request.task.worldSDK, let listed = request.task.worldIdentity["sdk"]?.objectValue {
            for name in listed.keys {
                guard let data = FileManager.default.contents(atPath: "\(sdk.directory)/\(name)") else { throw .io("cannot read \(sdk.directory)/\(name)") }
                files["tasksdk/\(name)"] = [UInt8](data)
            }
        }
        let agentSection: JSON
        if let declared = try BundledAgent.seal(request.agent, projectRoot: workspace.projectRoot) {
            // A directory, a command line, declared files or a declared python (`BundledAgent`).
            agentSection = declared.section
            files.merge(declared.files) { _, agent in agent }
        } else {
            var agentFiles: [String: JSON] = [:]
            for (name, path) in request.agent.hashedFiles {
                guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read \(path)") }
                files["agent/\(name)"] = [UInt8](data)
                agentFiles[name] = .string(Digest.sha256(data))
            }
            agentSection = [
                "ref": .string(request.agent.ref), "hash": .string(request.agent.agentHash),
                "kind": .string(request.agent.kind.rawValue),
                "file": .string((request.agent.agentFile as NSString).lastPathComponent),
                "files": .object(agentFiles),
            ]
        }
        // The model tape, so the episode replays offline (spec/model-gateway.md §6).
        var modelsSection: JSON = .null
        if artifact["models"] != nil {
            let hash = ModelOptions.tapeHash(of: artifact)
            if let hash {
                files[Bundle.tapeFile] = try ModelTapeStore(stateDirectory: workspace.stateDirectory).bytes(hash)
            }
            modelsSection = ["tape": hash.map(JSON.string) ?? .null]
        }
        var manifest: JSON = [
            "format": .string(format),
            "artifact_hash": artifact["artifact_hash"] ?? .null,
            "run_id": artifact["run_id"] ?? .null,
            "spec_version": artifact["spec_version"] ?? .null,
            "runtime_identity": artifact["runtime_identity"] ?? .null,
            // The key the world was built under: whoever verifies the bundle rebuilds the same
            // world with it (spec/determinism.md §1.1). Covered by the signature.
            "world_key": .string(request.worldKey.hex),
            "task": [
                "ref": .string(request.task.manifest.ref), "hash": .string(request.task.taskHash),
                "world": request.task.worldIdentity,
                "files": .object(taskFiles),
            ],
            "agent": agentSection,
        ]
        if modelsSection != .null, case .object(var m) = manifest {
            m["models"] = modelsSection
            manifest = .object(m)
        }
        var signature: JSON = .null
        if let key = signingKey {
            do {
                let sig = try key.signature(for: try manifest.canonicalBytes())
                signature = ["algorithm": "ed25519", "public_key": .string(Digest.hex(key.publicKey.rawRepresentation)),
                             "value": .string(Digest.hex(sig))]
            } catch {
                throw .internal("cannot sign the manifest: \(error)")
            }
        }
        return Bundle(manifest: manifest, artifact: artifact, files: files, signature: signature)
    }

    static func taskDigests(_ folder: String) throws(RunnerError) -> [String: String] {
        do { return try TaskHash.fileDigests(folder: folder) } catch { throw .task(error) }
    }

    /// The file's bytes: zstd(JCS(bundle)).
    public func encoded() throws(RunnerError) -> [UInt8] {
        let doc: JSON = [
            "format": .string(Bundle.format), "manifest": manifest, "artifact": artifact, "signature": signature,
            "files": .object(files.mapValues { .string(Data($0).base64EncodedString()) }),
        ]
        do {
            return try Compression.compress(try doc.canonicalBytes())
        } catch { throw .internal("cannot encode the bundle: \(error)") }
    }

    /// Why a bundle file could not be read at all (a missing file is bad usage; a damaged one
    /// fails verification).
    public enum ReadFailure: Error, Sendable, CustomStringConvertible {
        case missing(String)
        case damaged(String)

        public var description: String {
            switch self {
            case .missing(let m), .damaged(let m): return m
            }
        }
    }

    /// Reads a bundle file. Damage that stops it from being read at all is an error; damage to
    /// its content is what `verify` reports.
    public static func read(_ path: String) throws(RunnerError) -> Bundle {
        do { return try load(path) } catch {
            switch error {
            case .missing(let m): throw .usage(m)
            case .damaged(let m): throw .usage(m)
            }
        }
    }

    public static func load(_ path: String) throws(ReadFailure) -> Bundle {
        guard let data = FileManager.default.contents(atPath: path) else { throw .missing("bundle '\(path)' does not exist or cannot be read") }
        let bytes: [UInt8]
        do { bytes = try Compression.decompress([UInt8](data), what: "bundle '\(path)'") } catch { throw .damaged(error.description) }
        let doc: JSON
        do { doc = try JSON.parse(bytes, maxDepth: ArtifactLimits.bundleDepth) } catch { throw .damaged("bundle '\(path)' does not hold valid JSON: \(error)") }
        guard doc["format"]?.stringValue == format, let manifest = doc["manifest"], let artifact = doc["artifact"],
              let encodedFiles = doc["files"]?.objectValue else {
            throw .damaged("'\(path)' is not a \(format) bundle")
        }
        var files: [String: [UInt8]] = [:]
        for (name, value) in encodedFiles {
            guard let text = value.stringValue, let d = Data(base64Encoded: text) else {
                throw .damaged("bundle '\(path)': file '\(name)' is not valid base64")
            }
            files[name] = [UInt8](d)
        }
        return Bundle(manifest: manifest, artifact: artifact, files: files, signature: doc["signature"] ?? .null)
    }
}
