import Foundation
import RigorSpec

/// IntentProof for a workspace: export runs as a signed event chain, verify such a chain, and
/// check IntentProof policies against runs (spec/intentproof.md).
extension Workspace {
    /// What `rigor export intentproof` produced.
    public struct IntentProofExportResult: Sendable {
        public let lines: [UInt8]
        public let runs: Int
        public let events: Int
        public let keyID: String
    }

    /// The signed, chained events of runs named as `rigor diff` names them (artifact files,
    /// baseline files, run ids, unique prefixes, `latest`), signed with `keyFile`'s key or the
    /// project's (`<state dir>/intentproof.key`, made on first use). Every artifact goes through
    /// the workspace's redactor first (the project's secrets and patterns, API-key variables of
    /// `environment`), as the action export's do: an artifact file from elsewhere was sealed by
    /// someone else's redactor, or by none.
    public func intentProofExport(of references: [String], keyFile: String? = nil,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) throws(RunnerError) -> IntentProofExportResult {
        guard !references.isEmpty else { throw .usage("name at least one run: a run id, a unique prefix, 'latest', or an artifact file") }
        let signer = try IntentProofKeyFile.signer(keyFile: keyFile, stateDirectory: stateDirectory)
        var locator = ArtifactLocator(stateDirectory: stateDirectory)
        let redactor = redactor(environment: environment).compiled()
        var artifacts: [JSON] = []
        for reference in references { artifacts.append(redactor.redact(try locator.locate(reference).artifact)) }
        let exporter = IntentProofExport(signer: signer)
        let lines: [UInt8]
        do { lines = try exporter.jsonLines(artifacts) } catch { throw .usage("cannot export: \(error.description)") }
        let events = lines.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        return IntentProofExportResult(lines: lines, runs: artifacts.count, events: events, keyID: signer.publicKey.keyID)
    }

    /// The public key events are checked against: `publicKey` when given (a file holding it, or
    /// the key itself as base64 or hex), else the project's key.
    public func intentProofPublicKey(_ publicKey: String? = nil) throws(RunnerError) -> IntentProofPublicKey {
        guard let publicKey else {
            return try IntentProofKeyFile.signer(keyFile: nil, stateDirectory: stateDirectory, create: false).publicKey
        }
        let text = FileManager.default.fileExists(atPath: publicKey)
            ? try IntentProofKeyFile.readSmall(publicKey, what: "an IntentProof public key") ?? "" : publicKey
        do { return try IntentProofPublicKey(text: text) } catch {
            throw .usage("--pubkey '\(publicKey)': \(error.description)")
        }
    }

    /// Checks the chain and signatures of an IntentProof JSON Lines file.
    public func verifyIntentProof(file: String, publicKey: String? = nil) throws(RunnerError) -> IntentProofChainCheck.Report {
        let key = try intentProofPublicKey(publicKey)
        let bytes = try Self.readBounded(file, limit: Self.maxEventFileBytes, what: "an IntentProof event file (.jsonl)")
        return IntentProofChainCheck(publicKey: key).check(bytes)
    }

    /// The largest event file read (verify, policy check): 1 GiB.
    static let maxEventFileBytes = 1 << 30

    /// A whole file, refused when larger than `limit`.
    static func readBounded(_ path: String, limit: Int, what: String) throws(RunnerError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .usage("file '\(path)' does not exist; give \(what)")
        }
        guard !isDirectory.boolValue else { throw .usage("'\(path)' is a directory; give \(what)") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limit else { throw .usage("'\(path)' is \(size) bytes, over the limit of \(limit); give \(what)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read '\(path)' (permissions?)") }
        guard data.count <= limit else { throw .usage("'\(path)' is over the limit of \(limit) bytes; give \(what)") }
        return [UInt8](data)
    }
}
