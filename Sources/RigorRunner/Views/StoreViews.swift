import RigorSpec
import RigorStore
import RigorTasks

/// JSON views of the store's ledger and of the task catalogue: what `rigor ledger verify --json`
/// and `rigor tasks list --json` print, and what the web UI serves for the same pages.
public enum LedgerView {
    /// The verification state of the hash chain.
    public static func json(_ v: LedgerVerification) -> JSON {
        ["intact": .bool(v.isIntact), "entries": .int(v.entries), "head_hash": v.headHash.map(JSON.string) ?? .null,
         "first_break": v.firstBreak.map { ["seq": .int($0.seq), "description": .string($0.description)] } ?? .null]
    }
}

public enum TaskView {
    /// One task of the catalogue.
    public static func json(_ t: LoadedTask) -> JSON {
        let m = t.manifest
        return ["ref": .string(m.ref), "suite": .string(m.suite), "description": .string(m.description),
                "budgets": m.budgets.json, "task_hash": .string(t.taskHash),
                "actions": .array(m.surface.actions.keys.sorted().map(JSON.string))]
    }

    /// A task folder that does not load, as the catalogue lists it.
    public static func json(_ error: TaskError) -> JSON { ["error": .string(error.description)] }
}
