import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Content edited behind Rigor's back: an artifact file whose hashed content changed while its
/// `artifact_hash` stayed, and a runs row edited with sqlite3. Each must be named, never
/// accepted as the real thing.
@Suite("edited artifacts and edited store rows")
struct StoreIntegrityTests {
    func rigor(_ args: [String], state: String) throws -> CommandResult {
        try CommandLineRun.rigor(args + ["--state-dir", state])
    }

    /// Runs the toy agent and returns its artifact, as the store exports it.
    func runToy(_ state: String) throws -> JSON {
        let r = try rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "3",
                           "--isolation", "process"], state: state)
        #expect(r.status == 0, "\(r.stderr)")
        return try JSON.parse(try rigor(["runs", "export", "latest"], state: state).stdout)
    }

    func sqlite(_ database: String, _ sql: String) throws {
        let r = try CommandLineRun.run("/usr/bin/sqlite3", [database, sql])
        #expect(r.status == 0, "sqlite3: \(r.stderr)")
    }

    @Test("an artifact edited after it was written (its old artifact_hash kept) is refused by runs import and never called SAME by diff")
    func editedArtifact() throws {
        let state = RepoPaths.temporaryDirectory("rigor-edited")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let original = try runToy(state)
        let originalFile = "\(state)/original.json"
        try Data(try original.prettyBytes()).write(to: URL(fileURLWithPath: originalFile))
        // Another run id (so it is a new run to the store), one hashed field changed, old hash kept.
        var edited = try #require(original.objectValue)
        edited["run_id"] = "0123456789abcdef0123456789abcdef"
        edited["steps_used"] = .int((original["steps_used"]?.intValue ?? 0) + 1)
        let editedFile = "\(state)/edited.json"
        try Data(try JSON.object(edited).prettyBytes()).write(to: URL(fileURLWithPath: editedFile))

        let imported = try rigor(["runs", "import", editedFile], state: state)
        #expect(imported.status == 2, "import said \(imported.status): \(imported.stdout)\(imported.stderr)")
        #expect(imported.stderr.contains("artifact_hash"), "\(imported.stderr)")
        let list = try JSON.parse(try rigor(["runs", "list", "--json"], state: state).stdout).arrayValue ?? []
        #expect(list.count == 1, "the edited artifact was stored")

        for (a, b) in [(originalFile, editedFile), (editedFile, originalFile)] {
            let diff = try CommandLineRun.rigor(["diff", a, b])
            #expect(diff.status == 1, "diff \(a) \(b) said \(diff.status): \(diff.stdout)")
            #expect(diff.stdout.contains("artifact_hash"), "\(diff.stdout)")
        }
        // Edited anywhere in the hashed part, even where diff does not look.
        var quiet = try #require(original.objectValue)
        quiet["harness_version"] = "edited"
        let quietFile = "\(state)/quiet.json"
        try Data(try JSON.object(quiet).prettyBytes()).write(to: URL(fileURLWithPath: quietFile))
        #expect(try CommandLineRun.rigor(["diff", originalFile, quietFile]).status == 1)
    }

    /// Columns of the runs index a user could edit, the value to set, and the column's name as
    /// `runs verify` reports it.
    static let edits: [(column: String, value: String)] = [
        ("success", "1 - success"), ("seed", "seed + 1"), ("steps_used", "steps_used + 7"), ("budget_steps", "budget_steps + 1"),
        ("failure_type", "NULL"),
    ]

    @Test("a runs row edited with sqlite3 is reported by runs verify (naming the run and the column) and by ledger verify",
          arguments: edits.map(\.column))
    func editedRow(_ column: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-edited-row")
        defer { try? FileManager.default.removeItem(atPath: state) }
        // A failing run, so that failure_type is set and NULL is a change.
        let r = try rigor(["run", "--agent", "Agents/malformed/unknown_action.py", "--task", "filesystem_hidden_config@1",
                           "--seed", "3", "--isolation", "process", "--json"], state: state)
        let runID = try #require(try JSON.parse(r.stdout)["run_id"]?.stringValue)
        #expect(try rigor(["runs", "verify"], state: state).status == 0)
        let value = try #require(Self.edits.first { $0.column == column }?.value)
        try sqlite("\(state)/rigor.db", "UPDATE runs SET \(column) = \(value)")

        let verify = try rigor(["runs", "verify"], state: state)
        #expect(verify.status == 1, "runs verify said \(verify.status) after editing \(column): \(verify.stdout)")
        #expect(verify.stdout.contains(runID) && verify.stdout.contains(column), "\(verify.stdout)")
        if ["success", "seed"].contains(column) {
            // The ledger entry of the run records these too.
            let ledger = try rigor(["ledger", "verify"], state: state)
            #expect(ledger.status == 1, "ledger verify said \(ledger.status) after editing \(column): \(ledger.stdout)")
        }
    }
}
