import PropertyBased
import RigorSpec
import Testing

/// The event chain's invariants for generated chains: a chain as written always verifies, and
/// any single-byte change anywhere in it is caught.
@Suite("IntentProof chain properties")
struct IntentProofPropertyTests {
    /// A chain of `inputs.count` events whose inputs are the generated values.
    static func chain(_ signer: IntentProofSigner, _ inputs: [[Int]]) throws -> [UInt8] {
        var out: [UInt8] = []
        var previous = IntentProof.genesisHash
        for (i, values) in inputs.enumerated() {
            guard case .object(var e) = try IntentProofTests.vectorEvent() else { return [] }
            e["event_id"] = .string(ULID.make(milliseconds: 1_700_000_000_000 + i, entropy: Digest.sha256Bytes(values.map { UInt8(truncatingIfNeeded: $0) })))
            e["chain_position"] = .int(i + 1)
            e["prev_event_hash"] = .string(previous)
            e["inputs"] = .array(values.map(JSON.int))
            let event = JSON.object(e)
            previous = try IntentProof.eventHash(event)
            try signer.sign(event).write(into: &out)
            out.append(0x0A)
        }
        return out
    }

    @Test func aWrittenChainAlwaysVerifiesAndAnySingleByteChangeBreaksIt() async throws {
        let signer = try IntentProofTests.vectorSigner()
        let check = IntentProofChainCheck(publicKey: signer.publicKey)
        let inputs = Gen.int(in: -1_000_000...1_000_000).array(of: 0...6).array(of: 1...6)
        await propertyCheck(count: 80, input: inputs, Gen.int(in: 0...Int.max), Gen.int(in: 1...255)) { events, where_, flip in
            guard let bytes = try? Self.chain(signer, events), !bytes.isEmpty else {
                Issue.record("the chain could not be written")
                return
            }
            let clean = check.check(bytes)
            #expect(clean.ok, "\(String(describing: clean.problem))")
            #expect(clean.eventsVerified == events.count)
            var tampered = bytes
            let offset = where_ % bytes.count
            tampered[offset] ^= UInt8(flip)
            #expect(!check.check(tampered).ok, "a change of byte \(offset) went unnoticed")
        }
    }
}
