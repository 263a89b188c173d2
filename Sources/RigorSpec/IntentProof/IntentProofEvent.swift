import Crypto
import Foundation

/// IntentProof execution events (`intentproof.event.v1`): the constants, the event hash that
/// chains and signs them, and the small encodings an event needs (ULIDs, millisecond UTC times).
///
/// The recipe is IntentProof's SDK recipe, reproduced byte for byte against its signing vectors
/// (spec/intentproof.md): the *unsigned* event (every member but `signature`)
/// is written as RFC 8785 canonical JSON; its SHA-256 digest is the event hash
/// (`sha256:<hex>`), which the next event names as `prev_event_hash`; the Ed25519 signature is
/// over the 32 digest bytes.
public enum IntentProof {
    public static let eventSchema = "intentproof.event.v1"
    public static let specVersion = "1.0.0"
    public static let provenanceClass = "sdk_attested_evidence"
    /// The `prev_event_hash` of the first event of a chain.
    public static let genesisHash = "sha256:" + String(repeating: "0", count: 64)

    /// The canonical bytes of `event` without its `signature`: what is hashed.
    public static func canonicalUnsigned(_ event: JSON) throws(IntentProofError) -> [UInt8] {
        guard var members = event.objectValue else { throw IntentProofError("an event must be a JSON object, got a \(event.typeName)") }
        members["signature"] = nil
        do { return try JSON.object(members).canonicalBytes() } catch {
            throw IntentProofError("the event cannot be written as canonical JSON: \(error.description)")
        }
    }

    /// SHA-256 of the canonical unsigned event.
    public static func digest(_ event: JSON) throws(IntentProofError) -> [UInt8] {
        Digest.sha256Bytes(try canonicalUnsigned(event))
    }

    /// `sha256:<hex>` of the canonical unsigned event: the event's hash in its chain.
    public static func eventHash(_ event: JSON) throws(IntentProofError) -> String {
        "sha256:" + Digest.hex(try digest(event))
    }
}

/// What is wrong with an IntentProof input (an event, a key, a policy), in words a user can act on.
public struct IntentProofError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// ULIDs (26 characters of Crockford base32: 48 bits of milliseconds, 80 bits of randomness).
///
/// Rigor's exporter derives the 80 bits from a digest of the run id and the step, so exporting
/// the same runs twice gives the same ids (and the same file) while ids stay unique across runs.
public enum ULID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(milliseconds: Int, entropy: [UInt8]) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(clamping: max(0, min(milliseconds, (1 << 48) - 1)))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * UInt64(5 - i))) }
        for i in 0..<10 { bytes[6 + i] = i < entropy.count ? entropy[i] : 0 }
        // 128 bits → 26 base32 digits, the first carrying the top 3 bits.
        var out: [UInt8] = []
        out.reserveCapacity(26)
        var high = UInt64(0), low = UInt64(0)
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        for index in 0..<26 {
            let shift = 125 - 5 * index  // bit offset of this digit's lowest bit, from the bottom
            let value: UInt64
            if shift >= 64 {
                value = (high >> UInt64(shift - 64)) & 0x1F
            } else if shift > 59 {
                value = ((high << UInt64(64 - shift)) | (low >> UInt64(shift))) & 0x1F
            } else if shift >= 0 {
                value = (low >> UInt64(shift)) & 0x1F
            } else {
                value = (low << UInt64(-shift)) & 0x1F
            }
            out.append(alphabet[Int(value)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 3339 times as IntentProof writes them: UTC, milliseconds, `Z` (`2026-05-11T14:32:17.421Z`).
public enum MillisecondTime {
    /// Milliseconds since the epoch of an RFC 3339 date-time (any offset, any number of
    /// fractional digits), or nil when `text` is not one.
    public static func milliseconds(_ text: String) -> Int? {
        guard DateTimeFormat.isValid(text) else { return nil }
        let b = Array(text.utf8)
        guard let y = DateTimeFormat.digits(b, 0, 4), let mo = DateTimeFormat.digits(b, 5, 2),
              let d = DateTimeFormat.digits(b, 8, 2), let h = DateTimeFormat.digits(b, 11, 2),
              let mi = DateTimeFormat.digits(b, 14, 2), let s = DateTimeFormat.digits(b, 17, 2) else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            while i < b.count, DateTimeFormat.isDigit(b[i]) {
                millis += Int(b[i] - UInt8(ascii: "0")) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetMinutes = 0
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let oh = DateTimeFormat.digits(b, i + 1, 2), let om = DateTimeFormat.digits(b, i + 4, 2) else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        let days = Timestamp.days(year: y, month: mo, day: d)
        let seconds = days * 86_400 + h * 3600 + mi * 60 + min(s, 59) - offsetMinutes * 60
        return seconds * 1000 + millis
    }

    /// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(_ ms: Int) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secOfDay = seconds - days * 86_400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):"
            + "\(pad(secOfDay % 60, 2)).\(pad(millis, 3))Z"
    }
}
