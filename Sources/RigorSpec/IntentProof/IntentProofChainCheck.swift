/// Checks an IntentProof event chain in JSON Lines, as `rigor verify --intentproof` does: every
/// line is one event that validates against the official schema, sits at `chain_position` equal
/// to its line's position among the events (1, 2, …), names the previous event's hash as
/// `prev_event_hash` (the genesis hash for the first), and carries an Ed25519 signature by the
/// expected key over its digest. The check stops at the first bad event and names it.
///
/// Hostile input is bounded: a line longer than `maxLineBytes` is refused (without reading it
/// as JSON), nesting deeper than `maxDepth` is refused by the parser, and at most `maxEvents`
/// events are read. Blank lines (and a final newline) are allowed and skipped; every other line
/// must be an event.
public struct IntentProofChainCheck: Sendable {
    public var publicKey: IntentProofPublicKey
    public var maxLineBytes = 4 << 20
    public var maxEvents = 10_000_000
    public var maxDepth = 128

    public init(publicKey: IntentProofPublicKey) {
        self.publicKey = publicKey
    }

    /// The first bad event: where it is and what is wrong.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// 1-based line of the file.
        public let line: Int
        /// 1-based position among the events (blank lines not counted).
        public let position: Int
        /// The event's `event_id`, when it could be read.
        public let eventID: String?
        public let message: String

        public var description: String {
            "event \(position) (line \(line)\(eventID.map { ", event_id \(SchemaText.render(.string($0)))" } ?? "")): \(message)"
        }
    }

    /// The outcome: how many events verified before the first problem, if any.
    public struct Report: Sendable, Equatable {
        public let eventsVerified: Int
        public let problem: Problem?
        /// The last good event's hash (the chain head), when there is one.
        public let head: String?
        public var ok: Bool { problem == nil && eventsVerified > 0 }
    }

    public func check(_ bytes: [UInt8]) -> Report {
        var previousHash = IntentProof.genesisHash
        var position = 0
        var line = 0
        var start = 0
        var head: String?
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            defer { start = end + 1 }
            let length = end - start
            if length == 0 || bytes[start..<end].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            position += 1
            func fail(_ message: String, id: String? = nil) -> Report {
                Report(eventsVerified: position - 1, problem: Problem(line: line, position: position, eventID: id, message: message), head: head)
            }
            guard position <= maxEvents else { return fail("more than \(maxEvents) events; split the file") }
            guard length <= maxLineBytes else {
                return fail("the line is \(length) bytes, over the limit of \(maxLineBytes); an event this large is refused unread")
            }
            let event: JSON
            do { event = try JSON.parse(Array(bytes[start..<end]), maxDepth: maxDepth) } catch {
                return fail("not JSON: \(error)")
            }
            let id = event["event_id"]?.stringValue
            guard event.objectValue != nil else { return fail("an event must be a JSON object, got a \(event.typeName)") }
            if let violation = IntentProofSchema.problems(event).first {
                return fail("does not validate against intentproof.event.v1: \(violation)", id: id)
            }
            guard event["chain_position"]?.intValue == position else {
                return fail("chain_position is \(event["chain_position"].map { SchemaText.render($0) } ?? "missing"), expected \(position): events are missing, added or out of order", id: id)
            }
            guard event["prev_event_hash"]?.stringValue == previousHash else {
                return fail("prev_event_hash does not match the hash of the event before it (\(previousHash)): the previous event was changed, or this one moved", id: id)
            }
            let digest: [UInt8]
            do { digest = try IntentProof.digest(event) } catch { return fail(error.description, id: id) }
            let keyID = event["signature"]?["key_id"]?.stringValue ?? ""
            let value = event["signature"]?["value"]?.stringValue ?? ""
            // The key id is outside the signed digest, so it is checked on its own.
            guard keyID == publicKey.keyID else {
                return fail("the signature names key \(SchemaText.render(.string(keyID))), the expected key is \(publicKey.keyID) (signed by another key: pass its public key with --pubkey)", id: id)
            }
            guard publicKey.isValid(signature: value, digest: digest) else {
                return fail("the signature does not verify: the event was changed after it was signed", id: id)
            }
            previousHash = "sha256:" + Digest.hex(digest)
            head = previousHash
        }
        if position == 0 {
            return Report(eventsVerified: 0, problem: Problem(line: max(line, 1), position: 1, eventID: nil, message: "the file holds no events"), head: nil)
        }
        return Report(eventsVerified: position, problem: nil, head: head)
    }
}
