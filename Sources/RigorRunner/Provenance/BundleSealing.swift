import Crypto
import Foundation
import RigorSpec
import RigorStore

extension Bundle {
    /// Where a sealed bundle was written, and the SHA-256 of its bytes (as the ledger records it).
    public struct Sealed: Sendable {
        public let path: String
        public let sha256: String
    }

    /// Seals `artifact` into a bundle file, checks the file as a reader will, and enters the
    /// seal in the ledger: what `rigor bundle seal` and `rigor run --record` do.
    ///
    /// Without `output` the bundle goes to `bundles/<run_id>.rigorbundle` in the state
    /// directory; a run id that could leave that directory is refused (`PathName`).
    public static func sealToFile(_ artifact: JSON, workspace: Workspace, store: any RunStorage,
                                  signingKey key: Curve25519.Signing.PrivateKey?, output: String?) throws(RunnerError) -> Sealed {
        let runID = artifact["run_id"]?.stringValue ?? "run"
        let path: String
        if let output { path = output } else { path = try workspace.bundlePath(runID: runID) }
        let bundle = try Bundle.seal(artifact, workspace: workspace, signingKey: key)
        let bytes = try bundle.encoded()
        try ArtifactFile.writeAtomically(bytes, to: path)
        // A seal that does not verify is a bug: check the file as a reader will see it.
        let problems = try Bundle.read(path).verify(trustedKey: key?.publicKey)
        if !problems.isEmpty { throw .internal("the bundle just written does not verify: \(problems.joined(separator: "; "))") }
        let sha = Digest.sha256(bytes)
        do {
            try store.appendLedger(kind: "bundle_seal", payload: [
                "run_id": .string(runID), "artifact_hash": artifact["artifact_hash"] ?? .null, "bundle_sha256": .string(sha),
                "signed": .bool(key != nil), "public_key": key.map { .string(Digest.hex($0.publicKey.rawRepresentation)) } ?? .null,
            ])
        } catch { throw .store(error) }
        return Sealed(path: path, sha256: sha)
    }
}
