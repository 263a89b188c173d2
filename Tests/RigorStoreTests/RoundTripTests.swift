@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// What goes in comes out: exports are byte-identical every time and read back as the artifact
/// that was recorded.
@Suite("round trip")
struct RoundTripTests {
    @Test("TraceCore artifacts export byte-identically and parse back to what was recorded", arguments: Fixtures.interopFileNames)
    func traceCoreArtifact(name: String) throws {
        let (store, _) = try Fixtures.store("roundtrip")
        let original = try Fixtures.interopArtifact(name)
        let stored = try store.importArtifact(original)
        #expect(stored.runID == original["run_id"]?.stringValue)
        #expect(stored.summary.runtimeName == "tracecore")

        let first = try store.exportBytes(stored.runID)
        let second = try store.exportBytes(stored.runID)
        #expect(first == second)
        #expect(first == (try original.canonicalBytes(style: .jcs)))
        // The value comes back exactly, doubles included; the JCS export reads back exactly too,
        // except that doubles with integral values (TraceCore's 0.0 timings) read back as integers.
        #expect(try store.artifact(stored.runID) == original)
        let reparsed = try JSON.parse(first)
        #expect(reparsed == (try JSON.parse(try original.canonicalBytes(style: .jcs))))
        if !Fixtures.holdsIntegralDouble(original) { #expect(reparsed == original) }
        // The export still verifies with TraceCore's own recipe.
        let recorded = try #require(original["artifact_hash"]?.stringValue)
        #expect(try HashRecipe.forArtifact(reparsed).hash(reparsed) == recorded)
        // The blob is the stable part exactly as the Rigor recipe defines it.
        let stable = try HashRecipe.rigor.hashedPart(of: original).canonicalBytes(style: .jcs)
        #expect(stored.summary.contentSHA256 == Digest.sha256Hex(stable))
    }

    @Test("a Rigor artifact's blob address is its artifact_hash, and it round-trips")
    func rigorArtifact() throws {
        let (store, _) = try Fixtures.store("roundtrip-rigor")
        let original = try Fixtures.rigorArtifact(runID: Fixtures.runID("rigor-1"), diagnostics: ["timings": [0.5, 2.0], "host": "x"])
        let stored = try store.record(original)
        #expect("sha256:" + stored.summary.contentSHA256 == original["artifact_hash"]?.stringValue)
        #expect(stored.inserted && stored.addedBlob)
        #expect(try store.artifact(stored.runID) == original)
        let bytes = try store.exportBytes(stored.runID)
        #expect(bytes == (try store.exportBytes(stored.runID)))
        #expect(bytes == (try original.canonicalBytes(style: .jcs)))
        #expect(try HashRecipe.rigor.hash(try JSON.parse(bytes)) == original["artifact_hash"]?.stringValue)
        #expect(try store.verifyBlobs().isEmpty)
    }

    @Test("the hashed bytes handed over with a run are its stable part; bytes that do not match are not trusted")
    func knownStableBytes() throws {
        let (store, _) = try Fixtures.store("roundtrip-known")
        // Built as the runner builds it: the artifact and the bytes its hash covers, in one go.
        let artifact = try Fixtures.rigorArtifact(runID: Fixtures.runID("known-1"), diagnostics: ["timings": [1.0, 2.5]])
        let hashed = try HashRecipe.rigor.hashedBytes(of: artifact)
        #expect(hashed == (try HashRecipe.rigor.hashedPart(of: artifact).canonicalBytes(style: .jcs)))
        let split = try ArtifactSplit.split(artifact)
        let given = try ArtifactSplit.split(artifact, knownStableBytes: hashed)
        #expect(given.stableBytes == split.stableBytes)
        #expect(given.contentSHA256 == split.contentSHA256)
        #expect(given.volatileBytes == split.volatileBytes)
        // Bytes of another artifact are ignored: the split computes its own.
        let wrong = try ArtifactSplit.split(artifact, knownStableBytes: Array("{}".utf8))
        #expect(wrong.stableBytes == split.stableBytes)
        // Recorded with the bytes, the run round-trips and verifies like any other.
        let stored = try store.record(contentsOf: [artifact], hashedBytes: [hashed])[0]
        #expect(try store.artifact(stored.runID) == artifact)
        #expect(try store.verifyBlobs().isEmpty)
    }

    @Test("the index row carries the artifact's fields")
    func indexRow() throws {
        let (store, _) = try Fixtures.store("index")
        let original = try Fixtures.rigorArtifact(runID: Fixtures.runID("idx"), seed: 42, termination: .stepsExhausted, steps: 4)
        let summary = try store.record(original).summary
        #expect(summary == (try store.summary(summary.runID)))
        #expect(summary.agentRef == "agents/toy_agent.py")
        #expect(summary.taskRef == "filesystem_hidden_config@1")
        #expect(summary.seed == 42)
        #expect(summary.success == false)
        #expect(summary.failureType == "budget_exhausted")
        #expect(summary.terminationReason == "steps_exhausted")
        #expect(summary.stepsUsed == 4 && summary.toolCallsUsed == 4)
        #expect(summary.budgetSteps == 50 && summary.budgetToolCalls == 20 && summary.budgetWallClockSeconds == 60)
        #expect(summary.runtimeName == "rigor" && summary.specVersion == "tracecore-spec-v1.0")
        #expect(summary.startedAt == original["started_at"]?.stringValue)
        #expect(summary.ledgerSeq == 1)
    }

    @Test("recording the same run twice is a no-op; the same id with other content is refused")
    func recordTwice() throws {
        let (store, _) = try Fixtures.store("twice")
        let original = try Fixtures.rigorArtifact(runID: Fixtures.runID("twice"))
        let first = try store.record(original)
        let again = try store.record(original)
        #expect(!again.inserted && !again.addedBlob)
        #expect(again.summary == first.summary)
        #expect(try store.statistics().ledgerEntries == 1)

        let other = try Fixtures.rigorArtifact(runID: Fixtures.runID("twice"), seed: 8)
        #expect(throws: StoreError.runConflict(runID: first.runID)) { try store.record(other) }
        #expect(try store.statistics().runs == 1)
    }

    @Test("an artifact without run_id is imported under an id derived from its content, unchanged")
    func importWithoutRunID() throws {
        let (store, _) = try Fixtures.store("import")
        guard case .object(var members) = try Fixtures.interopArtifact(Fixtures.interopFileNames[0]) else {
            Issue.record("interop artifact is not an object")
            return
        }
        members.removeValue(forKey: "run_id")
        let artifact = JSON.object(members)
        #expect(throws: StoreError.self) { try store.record(artifact) }
        let stored = try store.importArtifact(artifact)
        #expect(stored.runID == String(Digest.sha256Hex(try artifact.canonicalBytes(style: .jcs)).prefix(32)))
        #expect(try store.artifact(stored.runID) == artifact)
        #expect(try store.importArtifact(artifact).inserted == false)
    }

    @Test("values that are not artifacts are refused with a reason", arguments: [JSON.array([]), "text", 3, .object(["run_id": ""])])
    func notAnArtifact(value: JSON) throws {
        let (store, _) = try Fixtures.store("invalid")
        #expect(throws: StoreError.self) { try store.importArtifact(value) }
        #expect(try store.statistics().runs == 0)
    }
}
