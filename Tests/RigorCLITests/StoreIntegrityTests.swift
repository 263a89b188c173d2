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

    /// Every column of the runs index (spec/store.md §5), an SQL expression that changes it, and
    /// what `runs verify` must name besides the run: the column, for those indexed from the
    /// artifact. `trace_id` and the timestamps used to be read back from the row itself, so an
    /// edit of them went unnoticed. (`recorded_at` is the store's clock; nothing else records it.)
    static let edits: [(column: String, value: String, named: String?)] = [
        ("success", "1 - success", "success"), ("seed", "seed + 1", "seed"), ("steps_used", "steps_used + 7", "steps_used"),
        ("tool_calls_used", "tool_calls_used + 1", "tool_calls_used"), ("budget_steps", "budget_steps + 1", "budget_steps"),
        ("budget_tool_calls", "budget_tool_calls * 2", "budget_tool_calls"), ("budget_wall_clock", "budget_wall_clock + 1", "budget_wall_clock"),
        ("failure_type", "NULL", "failure_type"), ("termination_reason", "failure_type", "termination_reason"),
        ("agent_ref", "task_ref", "agent_ref"), ("task_ref", "agent_ref", "task_ref"), ("agent_hash", "task_hash", "agent_hash"),
        ("task_hash", "agent_hash", "task_hash"), ("runtime_name", "spec_version", "runtime_name"), ("spec_version", "runtime_name", "spec_version"),
        ("trace_id", "'0123456789abcdef0123456789abcdef'", "trace_id"), ("started_at", "started_at + 1000000", "started_at"),
        ("completed_at", "completed_at - 1", "completed_at"), ("artifact_hash", "zeroblob(32)", "artifact_hash"),
        // The store's own links: the run is named (run_id by its new value).
        ("run_id", "'0123456789abcdef0123456789abcdef'", "0123456789abcdef0123456789abcdef"), ("ledger_seq", "ledger_seq + 100", nil),
        ("blob", "blob + 100", nil), ("volatile", "zeroblob(16)", nil),
    ]

    @Test("a runs row edited with sqlite3, any column, is reported by runs verify (naming the run and the column) and by ledger verify",
          arguments: edits.map(\.column))
    func editedRow(_ column: String) throws {
        let state = RepoPaths.temporaryDirectory("rigor-edited-row")
        defer { try? FileManager.default.removeItem(atPath: state) }
        // A failing run, so that failure_type is set and NULL is a change.
        let r = try rigor(["run", "--agent", "Agents/malformed/unknown_action.py", "--task", "filesystem_hidden_config@1",
                           "--seed", "3", "--isolation", "process", "--json"], state: state)
        let runID = try #require(try JSON.parse(r.stdout)["run_id"]?.stringValue)
        #expect(try rigor(["runs", "verify"], state: state).status == 0)
        let edit = try #require(Self.edits.first { $0.column == column })
        let before = try CommandLineRun.run("/usr/bin/sqlite3", ["\(state)/rigor.db", "SELECT quote(\(column)) FROM runs"]).stdout
        try sqlite("\(state)/rigor.db", "UPDATE runs SET \(column) = \(edit.value)")
        let after = try CommandLineRun.run("/usr/bin/sqlite3", ["\(state)/rigor.db", "SELECT quote(\(column)) FROM runs"]).stdout
        #expect(before != after, "the edit of \(column) changed nothing: \(before)")

        let verify = try rigor(["runs", "verify"], state: state)
        #expect(verify.status == 1, "runs verify said \(verify.status) after editing \(column): \(verify.stdout)")
        let run = column == "run_id" ? "0123456789abcdef0123456789abcdef" : runID
        #expect(verify.stdout.contains(run), "\(column): the run is not named: \(verify.stdout)")
        if let named = edit.named { #expect(verify.stdout.contains(named), "\(column) is not named: \(verify.stdout)") }
        if ["success", "seed", "run_id", "artifact_hash", "task_ref", "agent_ref"].contains(column) {
            // The ledger entry of the run records these too.
            let ledger = try rigor(["ledger", "verify"], state: state)
            #expect(ledger.status == 1, "ledger verify said \(ledger.status) after editing \(column): \(ledger.stdout)")
        }
    }
}
