import Crypto
import Foundation

/// An Ed25519 key that signs IntentProof events (swift-crypto's `Curve25519.Signing`; on Linux
/// it is BoringSSL's RFC 8032 Ed25519, deterministic, which is what lets Rigor reproduce the
/// IntentProof signing vectors byte for byte).
public struct IntentProofSigner: Sendable {
    /// swift-crypto's key types are not marked `Sendable`; the key is an immutable value,
    /// never mutated after init, so sharing the box across threads is sound.
    private final class KeyBox: @unchecked Sendable {
        let key: Curve25519.Signing.PrivateKey
        init(_ key: Curve25519.Signing.PrivateKey) { self.key = key }
    }

    private let box: KeyBox
    /// The public half and its key id, derived once (deriving costs a scalar multiplication).
    public let publicKey: IntentProofPublicKey
    private let keyID: String

    /// A key from its 32-byte seed (the RFC 8032 private key).
    public init(seed: [UInt8]) throws(IntentProofError) {
        guard seed.count == 32 else { throw IntentProofError("an Ed25519 private key is 32 bytes; got \(seed.count)") }
        let key: Curve25519.Signing.PrivateKey
        do { key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw IntentProofError("not an Ed25519 private key: \(error)")
        }
        box = KeyBox(key)
        publicKey = IntentProofPublicKey(rawChecked: Array(key.publicKey.rawRepresentation))
        keyID = publicKey.keyID
    }

    /// A key from text holding its 32-byte seed as 64 hex digits or as base64 (surrounding
    /// whitespace ignored), the two forms key files and the IntentProof vectors use.
    public init(text: String) throws(IntentProofError) {
        guard let seed = KeyText.bytes(text) else {
            throw IntentProofError("a private key must be 32 bytes written as 64 hex digits or as base64")
        }
        try self.init(seed: seed)
    }

    /// Signs the event's digest and returns the event with its `signature` member.
    public func sign(_ event: JSON) throws(IntentProofError) -> JSON {
        try sign(event, digest: try IntentProof.digest(event))
    }

    /// As `sign(_:)`, with the event's digest already computed (`IntentProof.digest`).
    public func sign(_ event: JSON, digest: [UInt8]) throws(IntentProofError) -> JSON {
        let signature: Data
        do { signature = try box.key.signature(for: Data(digest)) } catch {
            throw IntentProofError("cannot sign the event: \(error)")
        }
        guard var members = event.objectValue else { throw IntentProofError("an event must be a JSON object") }
        members["signature"] = [
            "alg": "ed25519", "key_id": .string(keyID), "value": .string(signature.base64EncodedString()),
        ]
        return .object(members)
    }

    /// The raw signature over `event`'s digest, base64 (for tests against the vectors).
    public func signatureBase64(_ event: JSON) throws(IntentProofError) -> String {
        try sign(event)["signature"]?["value"]?.stringValue ?? ""
    }
}

/// The public half: verifies event signatures; names itself by a `key_id`.
public struct IntentProofPublicKey: Sendable, Equatable {
    public let raw: [UInt8]
    private let box: KeyBox?

    /// Immutable after init, so shared across threads soundly (see `IntentProofSigner`).
    private final class KeyBox: @unchecked Sendable {
        let key: Curve25519.Signing.PublicKey
        init(_ key: Curve25519.Signing.PublicKey) { self.key = key }
    }

    init(rawChecked: [UInt8]) {
        raw = rawChecked
        box = (try? Curve25519.Signing.PublicKey(rawRepresentation: rawChecked)).map(KeyBox.init)
    }

    public static func == (a: IntentProofPublicKey, b: IntentProofPublicKey) -> Bool { a.raw == b.raw }

    /// A public key from 32 raw bytes.
    public init(raw: [UInt8]) throws(IntentProofError) {
        guard raw.count == 32 else { throw IntentProofError("an Ed25519 public key is 32 bytes; got \(raw.count)") }
        do { box = KeyBox(try Curve25519.Signing.PublicKey(rawRepresentation: raw)) } catch {
            throw IntentProofError("not an Ed25519 public key: \(error)")
        }
        self.raw = raw
    }

    /// A public key from 64 hex digits or base64.
    public init(text: String) throws(IntentProofError) {
        guard let raw = KeyText.bytes(text) else {
            throw IntentProofError("a public key must be 32 bytes written as 64 hex digits or as base64 (as `rigor keys show` prints it)")
        }
        try self.init(raw: raw)
    }

    public var base64: String { Data(raw).base64EncodedString() }

    /// `rigor:` and the first 16 hex digits of SHA-256 of the raw key: what events name as
    /// `signature.key_id`, so a verifier can tell "signed by another key" from "tampered".
    public var keyID: String { "rigor:" + String(Digest.sha256Hex(raw).prefix(16)) }

    /// Whether `signature` (base64) is this key's signature over `digest`.
    public func isValid(signature: String, digest: [UInt8]) -> Bool {
        // Only the canonical encoding: base64 that decodes to the same bytes with other padding
        // bits would let a changed byte go unnoticed.
        guard let bytes = Data(base64Encoded: signature), bytes.count == 64, bytes.base64EncodedString() == signature else { return false }
        guard let key = box?.key else { return false }
        return key.isValidSignature(bytes, for: Data(digest))
    }
}

/// Key material written as text: 64 hex digits, or base64 of 32 bytes.
enum KeyText {
    static func bytes(_ text: String) -> [UInt8]? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.utf8.count <= 128 else { return nil }
        if t.utf8.count == 64, t.utf8.allSatisfy({ isHex($0) }) {
            var out: [UInt8] = []
            var it = Array(t.utf8).makeIterator()
            while let h = it.next(), let l = it.next() { out.append(nibble(h) << 4 | nibble(l)) }
            return out
        }
        guard let data = Data(base64Encoded: t), data.count == 32 else { return nil }
        return Array(data)
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }

    static func nibble(_ c: UInt8) -> UInt8 {
        c <= 57 ? c - 48 : (c >= 97 ? c - 87 : c - 55)
    }
}
