import Crypto
import Foundation
import RigorSpec

/// Ed25519 key files for signing bundles: 64 hex characters (the raw 32-byte key) and a newline.
///
/// A key is named by a file, or (for a public key) given inline as hex, so a CI job can pass a
/// trusted public key on the command line without writing a file first.
public enum SigningKeys {
    /// The 32 raw bytes of a key file, or of `pathOrHex` itself when no such file exists.
    public static func readHex(_ pathOrHex: String) throws(RunnerError) -> [UInt8] {
        let text: String
        if FileManager.default.fileExists(atPath: pathOrHex) {
            guard let data = FileManager.default.contents(atPath: pathOrHex) else { throw .usage("cannot read key file '\(pathOrHex)'") }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = pathOrHex
        }
        let hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard hex.count == 64, let bytes = Bundle.hexBytes(hex) else {
            throw .usage("'\(pathOrHex)' is not a key file (64 hex characters) nor a hex key; make one with `rigor keys generate`")
        }
        return bytes
    }

    public static func privateKey(_ path: String) throws(RunnerError) -> Curve25519.Signing.PrivateKey {
        do { return try Curve25519.Signing.PrivateKey(rawRepresentation: try readHex(path)) } catch let e as RunnerError { throw e } catch {
            throw .usage("'\(path)' is not an Ed25519 private key")
        }
    }

    public static func publicKey(_ pathOrHex: String) throws(RunnerError) -> Curve25519.Signing.PublicKey {
        do { return try Curve25519.Signing.PublicKey(rawRepresentation: try readHex(pathOrHex)) } catch let e as RunnerError { throw e } catch {
            throw .usage("'\(pathOrHex)' is not an Ed25519 public key")
        }
    }

    /// Writes a new pair, `prefix.key` (mode 600) and `prefix.pub`; returns the public key's hex.
    /// The caller decides whether an existing pair may be replaced.
    public static func generate(prefix: String) throws(RunnerError) -> String {
        let key = Curve25519.Signing.PrivateKey()
        // Mode 600 from the start, set on the descriptor (whatever the umask), never by path.
        try ArtifactFile.writeAtomically(Array((Digest.hex(key.rawRepresentation) + "\n").utf8), to: "\(prefix).key", mode: 0o600,
                                         exactMode: true)
        let publicHex = Digest.hex(key.publicKey.rawRepresentation)
        try ArtifactFile.writeAtomically(Array((publicHex + "\n").utf8), to: "\(prefix).pub")
        return publicHex
    }
}
