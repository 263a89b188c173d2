import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// Property: flipping any single byte of stored or exported data is detected, by the check that
/// is responsible for that data. Positions and flip masks come from the seeded PRNG, so a failure
/// reproduces exactly.
@Suite("tamper detection")
struct TamperTests {
    static let flips = 50

    /// A store with TraceCore and Rigor artifacts and one non-run ledger entry.
    static func populated(_ label: String) throws -> (RunStore, [StoredRun]) {
        let (store, _) = try Fixtures.store(label)
        var stored: [StoredRun] = []
        for name in Fixtures.interopFileNames.prefix(3) { stored.append(try store.importArtifact(try Fixtures.interopArtifact(name))) }
        stored.append(try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("tamper"), steps: 6)))
        try store.appendLedger(kind: "baseline", payload: ["name": "nightly", "runs": .array(stored.map { .string($0.runID) })])
        return (store, stored)
    }

    static func flip(_ bytes: [UInt8], _ prng: inout PRNG) -> (bytes: [UInt8], position: Int) {
        var out = bytes
        let position = prng.below(bytes.count)
        out[position] ^= UInt8(1 + prng.below(255))
        return (out, position)
    }

    @Test("a flipped byte in a stored blob is reported by verifyBlobs and refused on read")
    func blobFlips() throws {
        let (store, runs) = try Self.populated("tamper-blob")
        #expect(try store.verifyBlobs().isEmpty)
        var prng = PRNG(material: Array("store-tamper/blob".utf8))
        for _ in 0..<Self.flips {
            let run = prng.pick(runs)
            let sha = run.summary.contentSHA256
            let address = SQLValue.blob(try #require(ColumnEncoding.digest(hex: sha)))
            let original = try #require(try store.rawBytes("SELECT data FROM blobs WHERE sha256 = ?", [address]))
            let (damaged, position) = Self.flip(original, &prng)
            try store.raw("UPDATE blobs SET data = ? WHERE sha256 = ?", [.blob(damaged), address])

            let problems = try store.verifyBlobs()
            #expect(problems.map(\.blob) == [sha], "byte \(position) of blob \(sha)")
            #expect(throws: StoreError.self, "byte \(position)") { try store.artifact(run.runID) }

            try store.raw("UPDATE blobs SET data = ? WHERE sha256 = ?", [.blob(original), address])
        }
        #expect(try store.verifyBlobs().isEmpty)
    }

    @Test("a flipped byte in an exported artifact is caught by recomputing artifact_hash, unless it only touches unhashed fields")
    func exportFlips() throws {
        let (store, runs) = try Self.populated("tamper-export")
        let directory = RepoPaths.temporaryDirectory("rigor-store-export")
        var prng = PRNG(material: Array("store-tamper/export".utf8))
        var hashedChanges = 0, unhashedChanges = 0, unparseable = 0
        for _ in 0..<Self.flips {
            let run = prng.pick(runs)
            let exported = try store.exportBytes(run.runID)
            let original = try JSON.parse(exported)
            let recipe = HashRecipe.forArtifact(original)
            #expect(try recipe.hash(original) == run.summary.artifactHash)

            // Half the flips XOR a random mask (mostly leaving invalid UTF-8 or JSON); the other
            // half put another printable character in place, which more often still parses.
            var (damaged, position) = Self.flip(exported, &prng)
            if prng.below(2) == 0 {
                damaged = exported
                damaged[position] = UInt8(0x20 + (Int(exported[position]) - 0x20 + 1 + prng.below(94)) % 95)
            }
            let file = "\(directory)/\(run.runID).json"
            try Data(damaged).write(to: URL(fileURLWithPath: file))
            let read = try #require(FileManager.default.contents(atPath: file))
            guard let tampered = try? JSON.parse([UInt8](read)) else {
                unparseable += 1  // a reader refuses the file outright
                continue
            }
            let claimed = tampered["artifact_hash"]?.stringValue
            let recomputed = try? HashRecipe.forArtifact(tampered).hash(tampered)
            if recipe.hashedPart(of: tampered) != recipe.hashedPart(of: original) || claimed != run.summary.artifactHash {
                hashedChanges += 1
                #expect(recomputed != claimed, "byte \(position) of \(run.runID) changed hashed content undetected")
            } else {
                // Only run ids, timestamps or diagnostics changed: outside the hash by design.
                unhashedChanges += 1
                #expect(recomputed == claimed)
            }
        }
        print("export flips: \(hashedChanges) in hashed content, \(unparseable) unparseable, \(unhashedChanges) in unhashed fields")
        // Most random flips make the file unreadable outright (invalid UTF-8 or JSON); the
        // property about hashed content must still have been exercised several times.
        #expect(hashedChanges >= 5)
    }

    @Test("a flipped byte in a ledger entry's payload or hashes is reported at that seq, with its kind")
    func ledgerFlips() throws {
        let (store, _) = try Self.populated("tamper-ledger")
        try store.raw("DROP TRIGGER ledger_no_update")
        let count = try #require(try store.rawInt("SELECT count(*) FROM ledger"))
        #expect(try store.verifyLedger() == LedgerVerification(
            entries: count, headHash: try store.rawText("SELECT lower(hex(entry_hash)) FROM ledger WHERE seq = ?", [.integer(Int64(count))]),
            firstBreak: nil))
        var prng = PRNG(material: Array("store-tamper/ledger".utf8))
        for _ in 0..<Self.flips {
            let seq = 1 + prng.below(count)
            let column = prng.pick(["payload", "entry_hash", "prev_hash"])
            let original = try #require(try store.rawBytes("SELECT \(column) FROM ledger WHERE seq = ?", [.integer(Int64(seq))]))
            let (damaged, position) = Self.flip(original, &prng)
            // Bound as a blob, so that bytes that are not UTF-8 are stored exactly as flipped.
            try store.raw("UPDATE ledger SET \(column) = ? WHERE seq = ?", [.blob(damaged), .integer(Int64(seq))])

            let expected = LedgerBreak(seq: seq, kind: column == "prev_hash" ? .brokenLink : .alteredEntry)
            #expect(try store.verifyLedger().firstBreak == expected, "byte \(position) of \(column) at seq \(seq)")

            // The payload is text; the hashes are stored as their 32 bytes.
            let restored: SQLValue = column == "payload" ? .textBytes(original) : .blob(original)
            try store.raw("UPDATE ledger SET \(column) = ? WHERE seq = ?", [restored, .integer(Int64(seq))])
        }
        #expect(try store.verifyLedger().isIntact)
    }

    @Test("a run whose artifact_hash no longer recomputes is reported")
    func wrongArtifactHash() throws {
        let (store, _) = try Fixtures.store("tamper-hash")
        let artifact = try Fixtures.rigorArtifact(runID: Fixtures.runID("wrong-hash"))
        let forged = Fixtures.setting("artifact_hash", to: .string("sha256:" + String(repeating: "ab", count: 32)), in: artifact)
        let stored = try store.record(forged)
        let problems = try store.verifyBlobs()
        #expect(problems == [BlobProblem(
            blob: stored.summary.contentSHA256, runID: stored.runID,
            kind: .artifactHashMismatch(recorded: "sha256:" + String(repeating: "ab", count: 32), recomputed: try HashRecipe.rigor.hash(artifact)))])
    }

    @Test("an artifact edited after it was written, its old artifact_hash kept, is refused by importArtifact",
          arguments: ["success", "seed", "harness_version", "artifact_hash"])
    func editedImport(_ field: String) throws {
        let (store, _) = try Fixtures.store("tamper-import")
        let artifact = try Fixtures.rigorArtifact(runID: Fixtures.runID("edited-\(field)"))
        let edited = Fixtures.setting(field, to: field == "artifact_hash" ? .null : field == "seed" ? .int(8) : field == "success" ? .bool(false) : "edited",
                                      in: artifact)
        #expect { try store.importArtifact(edited) } throws: { error in
            guard case .invalidArtifact(let why) = error as? StoreError else { return false }
            return why.contains("artifact_hash")
        }
        #expect(try store.statistics().runs == 0)
        // The artifact as written is imported.
        #expect(try store.importArtifact(artifact).inserted)
    }

    /// A column of the runs index, an SQL expression that changes it, and whether the run's
    /// ledger entry records it too.
    static let rowEdits: [(column: String, change: String, inLedger: Bool)] = [
        ("seed", "seed + 1", true), ("success", "1 - success", true), ("steps_used", "steps_used + 1", false),
        ("tool_calls_used", "tool_calls_used + 1", false), ("budget_steps", "budget_steps + 1", false),
        ("budget_tool_calls", "budget_tool_calls * 2", false), ("budget_wall_clock", "budget_wall_clock + 1", false),
        ("termination_reason", "failure_type", false), ("task_ref", "agent_ref", true), ("agent_ref", "task_ref", true),
        ("agent_hash", "task_hash", false), ("task_hash", "agent_hash", false), ("runtime_name", "spec_version", false),
        ("spec_version", "runtime_name", false), ("failure_type", "termination_reason", false),
        // Read back from the row itself before they were kept in the volatile part too.
        ("trace_id", "'0123456789abcdef0123456789abcdef'", false), ("started_at", "started_at + 1000000", false),
        ("completed_at", "completed_at - 1", false),
    ]

    @Test("a runs row edited behind the store's back is reported by verifyBlobs, naming the run and the column, and by verifyLedger when its entry records it",
          arguments: rowEdits.map(\.column))
    func editedRow(_ column: String) throws {
        let (store, _) = try Fixtures.store("tamper-row")
        let run = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("row-\(column)"), termination: .stepsExhausted))
        let other = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("row-other-\(column)"), seed: 9))
        #expect(try store.verifyBlobs().isEmpty)
        let edit = try #require(Self.rowEdits.first { $0.column == column })
        try store.raw("UPDATE runs SET \(column) = \(edit.change) WHERE run_id = ?", [.text(run.runID)])

        let problems = try store.verifyBlobs()
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.runID == run.runID)
        if case .indexMismatch(let named, _, _)? = problems.first?.kind { #expect(named == column) } else { Issue.record("\(problems)") }
        #expect(problems.first?.description.contains(column) == true)
        let ledger = try store.verifyLedger()
        if edit.inLedger {
            if case .runDisagrees(let runID, let field, _, _)? = ledger.firstBreak?.kind {
                #expect(runID == run.runID && field == column)
            } else { Issue.record("ledger: \(ledger)") }
        } else {
            #expect(ledger.isIntact)
        }
        #expect(!problems.contains { $0.runID == other.runID })
    }

    @Test("trace_id and the timestamps are kept in the stored volatile part; a part stored the earlier way (all five in row) still reads back")
    func volatileKeepsTimestamps() throws {
        let (store, _) = try Fixtures.store("tamper-volatile-layout")
        let artifact = try Fixtures.rigorArtifact(runID: Fixtures.runID("layout"))
        let run = try store.record(artifact)
        let stored = try #require(try store.rawBytes("SELECT volatile FROM runs WHERE run_id = ?", [.text(run.runID)]))
        let part = try JSON.parse(try Zstd.decompress(stored))
        #expect(part["row"] == ["artifact_hash", "run_id"], "\(part)")
        for key in ["trace_id", "started_at", "completed_at"] {
            #expect(part["fields"]?[key] == artifact[key], "\(key) is not in the stored volatile part: \(part)")
        }
        // The earlier layout: the five fields the row holds named in `row`, not stored.
        guard case .object(var legacy) = part, case .object(var fields)? = legacy["fields"] else { Issue.record("\(part)"); return }
        for key in ["trace_id", "started_at", "completed_at"] { fields.removeValue(forKey: key) }
        legacy["fields"] = .object(fields)
        legacy["row"] = ["artifact_hash", "completed_at", "run_id", "started_at", "trace_id"]
        try store.raw("UPDATE runs SET volatile = ? WHERE run_id = ?",
                      [.blob(try Zstd.compress(try JSON.object(legacy).canonicalBytes(style: .jcs))), .text(run.runID)])
        #expect(try store.artifact(run.runID) == artifact)
        #expect(try store.verifyBlobs().isEmpty)
    }
}
