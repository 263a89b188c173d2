import Foundation
import RigorSpec
import RigorTasks
import RigorTestSupport
import Testing

/// The implementation agrees with the test vectors published in spec/vectors/ (computed by the
/// Python reference implementations next to them).
@Suite("spec/vectors")
struct SpecVectorsTests {
    static func load(_ name: String) throws -> JSON {
        let path = "\(RepoPaths.root)/spec/vectors/\(name)"
        let data = try #require(FileManager.default.contents(atPath: path), "missing \(path)")
        return try JSON.parse([UInt8](data))
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    @Test("PRNG outputs match spec/vectors/prng.json")
    func prng() throws {
        let cases = try #require(try Self.load("prng.json")["cases"]?.arrayValue)
        #expect(cases.count >= 5)
        for c in cases {
            let task = try #require(c["task_id"]?.stringValue)
            let seed = try #require(c["seed"]?.intValue)
            #expect(Digest.sha256Hex(Array("rigor-prng/1|\(task)|\(seed)".utf8)) == c["sha256"]?.stringValue)
            var g = PRNG(taskID: task, seed: seed)
            let expected = try #require(c["next_u64_hex"]?.arrayValue?.compactMap { $0.stringValue })
            #expect((0..<expected.count).map { _ in Self.hex(g.next()) } == expected, "seed \(seed)")
            g = PRNG(taskID: task, seed: seed)
            let below = try #require(c["below_10"]?.arrayValue?.compactMap { $0.intValue })
            #expect((0..<below.count).map { _ in g.below(10) } == below)
            g = PRNG(taskID: task, seed: seed)
            let strings = try #require(c["digits_4_then_string_24"])
            #expect(g.digits(4) == strings["digits_4"]?.stringValue)
            #expect(g.string(24, alphabet: strings["alphabet"]?.stringValue ?? "") == strings["string_24"]?.stringValue)
            g = PRNG(taskID: task, seed: seed)
            var items = Array(0..<10)
            g.shuffle(&items)
            #expect(items == c["shuffle_0_to_9"]?.arrayValue?.compactMap { $0.intValue })
        }
    }

    @Test("keyed seeding and world key ids match spec/vectors/prng.json")
    func keyedPRNG() throws {
        let cases = try #require(try Self.load("prng.json")["keyed_cases"]?.arrayValue)
        #expect(cases.count >= 4)
        for c in cases {
            let task = try #require(c["task_id"]?.stringValue)
            let seed = try #require(c["seed"]?.intValue)
            let hex = try #require(c["key_hex"]?.stringValue)
            let key = try #require(WorldKey(hex: hex))
            #expect(key.id == c["key_id"]?.stringValue)
            var g = PRNG(taskID: task, seed: seed, key: key)
            let expected = try #require(c["next_u64_hex"]?.arrayValue?.compactMap { $0.stringValue })
            #expect((0..<expected.count).map { _ in Self.hex(g.next()) } == expected, "seed \(seed)")
            // Keyed and unkeyed generators differ: the seed alone does not give the world.
            var plain = PRNG(taskID: task, seed: seed)
            var keyed = PRNG(taskID: task, seed: seed, key: key)
            #expect(plain.next() != keyed.next())
        }
    }

    @Test("artifact_hash vectors: Rigor recipe and TraceCore recipe")
    func artifactHashes() throws {
        let v = try Self.load("hashes.json")
        let rigor = try #require(v["rigor_artifact"])
        let rigorArtifact = try #require(rigor["artifact"])
        #expect(String(decoding: try HashRecipe.rigor.hashedPart(of: rigorArtifact).canonicalBytes(style: .jcs), as: UTF8.self)
                == rigor["hashed_part_jcs"]?.stringValue)
        #expect(try HashRecipe.rigor.hash(rigorArtifact) == rigor["artifact_hash"]?.stringValue)
        #expect(HashRecipe.forArtifact(rigorArtifact) == .rigor)

        let tc = try #require(v["tracecore_artifact"])
        let tcArtifact = try #require(tc["artifact"])
        #expect(HashRecipe.forArtifact(tcArtifact) == .tracecore)
        #expect(String(decoding: try HashRecipe.tracecore.hashedPart(of: tcArtifact).canonicalBytes(style: .python), as: UTF8.self)
                == tc["hashed_part_python"]?.stringValue)
        #expect(try HashRecipe.tracecore.hash(tcArtifact) == tc["artifact_hash"]?.stringValue)
    }

    @Test("task_hash vector: the canonical document hashes as published")
    func taskHash() throws {
        let v = try #require(try Self.load("hashes.json")["task_hash"])
        let doc = try #require(v["document"])
        #expect(String(decoding: try doc.canonicalBytes(), as: UTF8.self) == v["document_jcs"]?.stringValue)
        #expect(try Digest.sha256(canonical: doc) == v["task_hash"]?.stringValue)
        // The file digests in the document are the SHA-256 of the listed contents.
        let files = try #require(v["files_utf8"]?.objectValue)
        for (name, content) in files {
            #expect(doc["files"]?[name]?.stringValue == Digest.sha256(Array((content.stringValue ?? "").utf8)))
        }
    }

    @Test("the embedded artifact schema is spec/artifact-schema-v1.0.json and compiles")
    func embeddedSchema() throws {
        let file = try String(contentsOfFile: "\(RepoPaths.root)/spec/artifact-schema-v1.0.json", encoding: .utf8)
        #expect(try JSON.parse(file) == (try JSON.parse(ArtifactSchema.text)), "run `make schema` to re-embed the schema")
        #expect(ArtifactSchema.compiled != nil)
    }
}
