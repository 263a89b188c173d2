import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// IntentProof events: the official golden cases and signing vectors, the chain check, and
/// what tampering and hostile files do to it.
@Suite struct IntentProofTests {
    static let spec = RepoPaths.intentProofSpec

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: "\(spec)/\(relative)", encoding: .utf8)
    }

    static func goldenEventCases() throws -> [(Bool, JSON)] {
        try text("golden/execution_event_cases.jsonl").split(separator: "\n").map { line in
            let value = try JSON.parse(String(line))
            return (value["shouldValidate"]?.boolValue ?? false, value["event"] ?? .null)
        }
    }

    @Test func theEmbeddedSchemaIsTheOfficialOne() throws {
        let official = try JSON.parse(try Self.text("schema/execution_event.v1.schema.json"))
        #expect(try JSON.parse(IntentProofSchema.eventText) == official)
        #expect(IntentProofSchema.event != nil)
    }

    @Test func goldenEventCasesValidateOrFailAsEachSays() throws {
        let cases = try Self.goldenEventCases()
        #expect(cases.count == 4)
        #expect(cases.filter(\.0).count == 1)  // the data has one valid and three invalid events
        for (index, (shouldValidate, event)) in cases.enumerated() {
            let problems = IntentProofSchema.problems(event)
            #expect(problems.isEmpty == shouldValidate, "case \(index + 1): \(problems)")
        }
    }

    static func vectorSigner() throws -> IntentProofSigner {
        try IntentProofSigner(text: try text("golden/sdk-signing/signing_private_key_b64.txt"))
    }

    static func vectorEvent() throws -> JSON { try JSON.parse(try text("golden/sdk-signing/signing_unsigned_event.json")) }

    @Test func signingVectorsReproduceByteForByte() throws {
        let event = try Self.vectorEvent()
        let canonical = try Self.text("golden/sdk-signing/signing_canonical_utf8.txt").trimmingCharacters(in: .newlines)
        #expect(try IntentProof.canonicalUnsigned(event) == Array(canonical.utf8))
        let hash = try Self.text("golden/sdk-signing/signing_event_hash.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try IntentProof.eventHash(event) == hash)
        let expected = try Self.text("golden/sdk-signing/signing_signature_b64.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Self.vectorSigner().signatureBase64(event) == expected)
        // A signed event hashes as its unsigned form: the signature is outside the hash.
        #expect(try IntentProof.eventHash(try Self.vectorSigner().sign(event)) == hash)
    }

    @Test func theVectorEventSignedValidatesAndVerifies() throws {
        let signer = try Self.vectorSigner()
        let signed = try signer.sign(try Self.vectorEvent())
        #expect(IntentProofSchema.problems(signed).isEmpty)
        var bytes = try signed.canonicalBytes()
        bytes.append(0x0A)
        let report = IntentProofChainCheck(publicKey: signer.publicKey).check(bytes)
        #expect(report.ok && report.eventsVerified == 1, "\(String(describing: report.problem))")
    }

    /// Three events in one chain, signed by `signer`.
    static func chain(_ signer: IntentProofSigner, count: Int = 3) throws -> [UInt8] {
        var out: [UInt8] = []
        var previous = IntentProof.genesisHash
        for i in 1...count {
            guard case .object(var e) = try vectorEvent() else { return [] }
            e["event_id"] = .string(ULID.make(milliseconds: 1_700_000_000_000 + i, entropy: Digest.sha256Bytes([UInt8(i)])))
            e["chain_position"] = .int(i)
            e["prev_event_hash"] = .string(previous)
            e["inputs"] = .array([.int(i)])
            let event = JSON.object(e)
            previous = try IntentProof.eventHash(event)
            try signer.sign(event).write(into: &out)
            out.append(0x0A)
        }
        return out
    }

    @Test func aChainVerifiesAndNamesItsHead() throws {
        let signer = try Self.vectorSigner()
        let bytes = try Self.chain(signer)
        let report = IntentProofChainCheck(publicKey: signer.publicKey).check(bytes)
        #expect(report.ok)
        #expect(report.eventsVerified == 3)
        #expect(report.head?.hasPrefix("sha256:") == true)
    }

    /// Every single-byte change of every event is detected, and the event named is the one
    /// changed (or, for a change that breaks the line structure, the one whose line it is).
    @Test func everySingleByteChangeIsDetectedAndNamed() throws {
        let signer = try Self.vectorSigner()
        let bytes = try Self.chain(signer)
        let check = IntentProofChainCheck(publicKey: signer.publicKey)
        var lineOf: [Int] = []
        var line = 1
        for b in bytes { lineOf.append(line); if b == 0x0A { line += 1 } }
        var checked = 0
        for offset in bytes.indices where bytes[offset] != 0x0A {
            for replacement: UInt8 in [bytes[offset] ^ 0x01, 0x0A] {
                var tampered = bytes
                tampered[offset] = replacement
                let report = check.check(tampered)
                #expect(!report.ok, "a change at byte \(offset) went unnoticed")
                if let problem = report.problem, replacement != 0x0A {
                    #expect(problem.line == lineOf[offset], "byte \(offset) (line \(lineOf[offset])) blamed line \(problem.line): \(problem)")
                }
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test func removedReorderedAndForeignEventsAreNamed() throws {
        let signer = try Self.vectorSigner()
        let lines = try Self.chain(signer).split(separator: 0x0A).map(Array.init)
        let check = IntentProofChainCheck(publicKey: signer.publicKey)
        let dropped = check.check(Array((lines[0] + [0x0A] + lines[2] + [0x0A])))
        #expect(dropped.problem?.position == 2)
        #expect(dropped.problem?.message.contains("chain_position") == true)
        let swapped = check.check(Array(lines[1] + [0x0A] + lines[0] + [0x0A]))
        #expect(swapped.problem?.position == 1)
        let other = try IntentProofSigner(seed: [UInt8](repeating: 7, count: 32))
        let wrongKey = IntentProofChainCheck(publicKey: other.publicKey).check(try Self.chain(signer))
        #expect(wrongKey.problem?.position == 1)
        #expect(wrongKey.problem?.message.contains("another key") == true)
    }

    @Test(arguments: [
        ("", "holds no events"),
        ("garbage\n", "not JSON"),
        ("[1,2,3]\n", "JSON object"),
        ("{\"schema\":\"intentproof.event.v1\"}\n", "intentproof.event.v1"),
        (String(repeating: "[", count: 5000) + "\n", "not JSON"),
        ("\u{00}\u{ff}\u{fe}\n", "not JSON"),
    ])
    func hostileLinesAreRefusedWithAReason(input: String, expected: String) {
        let check = IntentProofChainCheck(publicKey: (try? IntentProofSigner(seed: [UInt8](repeating: 3, count: 32)).publicKey)!)
        let report = check.check(Array(input.utf8))
        #expect(!report.ok)
        #expect(report.problem?.message.contains(expected) == true, "\(String(describing: report.problem))")
    }

    @Test func aHugeLineIsRefusedUnread() throws {
        let signer = try Self.vectorSigner()
        var check = IntentProofChainCheck(publicKey: signer.publicKey)
        check.maxLineBytes = 1024
        let huge = Array(repeating: UInt8(ascii: "a"), count: 5000) + [0x0A]
        let report = check.check(try Self.chain(signer, count: 1) + huge)
        #expect(report.eventsVerified == 1)
        #expect(report.problem?.position == 2)
        #expect(report.problem?.message.contains("over the limit") == true)
    }

    @Test func keysAreReadFromHexOrBase64AndRefusedOtherwise() throws {
        let b64 = try Self.text("golden/sdk-signing/signing_private_key_b64.txt")
        let hex = (0..<32).map { String(format: "%02x", $0) }.joined()
        #expect(try IntentProofSigner(text: b64).publicKey == IntentProofSigner(text: hex).publicKey)
        for bad in ["", "zz", String(repeating: "0", count: 63), String(repeating: "A", count: 10_000), "AAEC"] {
            #expect(throws: IntentProofError.self) { try IntentProofSigner(text: bad) }
        }
    }

    @Test func ulidsAreTwentySixCrockfordDigitsOrderedByTime() {
        let a = ULID.make(milliseconds: 1_000, entropy: [UInt8](repeating: 0xFF, count: 10))
        let b = ULID.make(milliseconds: 1_001, entropy: [UInt8](repeating: 0, count: 10))
        #expect(a.count == 26 && b.count == 26)
        #expect(a < b)
        #expect(ULID.make(milliseconds: 0, entropy: []) == String(repeating: "0", count: 26))
        #expect(ULID.make(milliseconds: (1 << 48) - 1, entropy: [UInt8](repeating: 0xFF, count: 10)) == "7" + String(repeating: "Z", count: 25))
    }

    @Test func timesConvertToUTCMilliseconds() {
        #expect(MillisecondTime.milliseconds("2026-05-11T14:32:17.421Z").map(MillisecondTime.format) == "2026-05-11T14:32:17.421Z")
        #expect(MillisecondTime.milliseconds("2026-12-05T07:22:39.162128+00:00").map(MillisecondTime.format) == "2026-12-05T07:22:39.162Z")
        #expect(MillisecondTime.milliseconds("2026-12-05T09:22:39.5+02:00").map(MillisecondTime.format) == "2026-12-05T07:22:39.500Z")
        #expect(MillisecondTime.milliseconds("yesterday") == nil)
    }
}
