import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport
import Testing

/// The ledger: its chain, the kinds of break, and the export an outsider can verify.
@Suite("ledger")
struct LedgerTests {
    @Test("recording appends a chained 'run' entry; appendLedger adds other kinds")
    func chain() throws {
        let (store, _) = try Fixtures.store("ledger")
        let run = try store.record(try Fixtures.rigorArtifact(runID: Fixtures.runID("l1"), seed: 5))
        let seal = try store.appendLedger(kind: "bundle_seal", payload: ["bundle": "sha256:00", "runs": 1])
        let entries = try store.ledgerEntries()
        #expect(entries.count == 2)
        #expect(entries[0].seq == 1 && entries[0].kind == "run" && entries[0].prevHash == String(repeating: "0", count: 64))
        #expect(entries[0].payload == [
            "run_id": .string(run.runID), "artifact_hash": .string(run.summary.artifactHash ?? ""),
            "task_ref": "filesystem_hidden_config@1", "agent_ref": "agents/toy_agent.py", "seed": 5, "success": true,
        ])
        #expect(entries[1] == seal)
        #expect(seal.seq == 2 && seal.prevHash == entries[0].entryHash)
        // entry_hash is the SHA-256 of the JCS of the entry without it.
        let body: JSON = ["seq": 2, "kind": "bundle_seal", "payload": ["bundle": "sha256:00", "runs": 1], "prev_hash": .string(seal.prevHash)]
        #expect(seal.entryHash == Digest.sha256Hex(try body.canonicalBytes(style: .jcs)))
        #expect(try store.verifyLedger() == LedgerVerification(entries: 2, headHash: seal.entryHash, firstBreak: nil))
    }

    static let invalidAppends: [(String, JSON)] = [("", [:]), ("Run", [:]), ("run", "text"), ("x y", [:])]

    @Test("bad kinds and payloads are refused", arguments: invalidAppends)
    func invalidAppend(kind: String, payload: JSON) throws {
        let (store, _) = try Fixtures.store("ledger-invalid")
        #expect(throws: StoreError.self) { try store.appendLedger(kind: kind, payload: payload) }
        #expect(try store.ledgerEntries().isEmpty)
    }

    @Test("a deleted entry is a gap, a moved entry a broken link, and a lost tail is caught by the runs")
    func breaks() throws {
        let (store, _) = try Fixtures.store("ledger-breaks")
        for i in 0..<5 { try store.record(try Fixtures.smallArtifact(index: i)) }
        try store.raw("DROP TRIGGER ledger_no_delete")
        try store.raw("DROP TRIGGER ledger_no_update")

        try store.raw("DELETE FROM ledger WHERE seq = 3")
        #expect(try store.verifyLedger().firstBreak == LedgerBreak(seq: 4, kind: .gap(expectedSeq: 3)))

        // Renumber 4 and 5 down: consecutive again, but the link from 2 to the old 4 is wrong.
        try store.raw("UPDATE ledger SET seq = seq - 1 WHERE seq > 3")
        #expect(try store.verifyLedger().firstBreak == LedgerBreak(seq: 3, kind: .brokenLink))

        // Cut the ledger back to a valid prefix: the chain is whole, the runs show what is missing.
        try store.raw("DELETE FROM ledger WHERE seq > 2")
        let verification = try store.verifyLedger()
        #expect(verification.entries == 2)
        #expect(verification.firstBreak?.seq == 3)
        if case .runWithoutEntry? = verification.firstBreak?.kind {} else { Issue.record("expected runWithoutEntry, got \(verification)") }
    }

    @Test("the JSON Lines export is the stored chain, one JCS entry per line")
    func export() throws {
        let (store, _) = try Fixtures.store("ledger-export")
        for name in Fixtures.interopFileNames.prefix(3) { try store.importArtifact(try Fixtures.interopArtifact(name)) }
        try store.appendLedger(kind: "baseline", payload: ["name": "ünïcode ✓", "threshold": 0.5])
        let lines = try store.exportLedger().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")
        let entries = try store.ledgerEntries()
        #expect(lines.dropLast().map(String.init) == (try entries.map { try $0.json.canonicalString(style: .jcs) }))
    }

    static let pythonAvailable = (try? CommandLineRun.run("/bin/sh", ["-c", "command -v python3"]).status == 0) ?? false

    /// The verifier printed in spec/store.md, taken from the document itself.
    static func specVerifier() throws -> String {
        let text = try String(contentsOfFile: "\(RepoPaths.root)/spec/store.md", encoding: .utf8)
        let start = try #require(text.range(of: "```python\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test("the Python verifier in spec/store.md accepts the export and names the seq of a tampered entry",
          .enabled(if: Facility.needed(pythonAvailable, "python3")))
    func pythonVerifier() throws {
        try #require(Self.pythonAvailable, "python3 is needed")
        let (store, directory) = try Fixtures.store("ledger-python")
        for i in 0..<4 { try store.record(try Fixtures.smallArtifact(index: i)) }
        try store.appendLedger(kind: "baseline", payload: ["name": "ünïcode ✓", "threshold": 0.5, "big": 1e21])
        let script = directory + "/verify_ledger.py"
        try Self.specVerifier().write(toFile: script, atomically: true, encoding: .utf8)
        let export = try store.exportLedger()
        try export.write(toFile: directory + "/ledger.jsonl", atomically: true, encoding: .utf8)

        let ok = try CommandLineRun.run("/bin/sh", ["-c", "python3 verify_ledger.py ledger.jsonl"], cwd: directory)
        #expect(ok.status == 0, "\(ok.stderr)")
        let head = try #require(try store.verifyLedger().headHash)
        #expect(ok.stdout == "ledger intact: 5 entries, head \(head)\n")

        // Change the third entry's seed: the verifier must name seq 3.
        var lines = export.split(separator: "\n").map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "\"seed\":2", with: "\"seed\":9")
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/tampered.jsonl", atomically: true, encoding: .utf8)
        let bad = try CommandLineRun.run("/bin/sh", ["-c", "python3 verify_ledger.py tampered.jsonl"], cwd: directory)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("seq 3: altered entry"), "\(bad.stderr)")
    }
}
