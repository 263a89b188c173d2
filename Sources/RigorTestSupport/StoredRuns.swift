import RigorSpec
import RigorStore

/// Runs as the store holds them: Rigor writes plain JSON artifacts only when asked (`--out`,
/// `runs export`, `runs_json`), so tests read what a run produced from its store.
public enum StoredRuns {
    /// The artifact of `runID` in the store under `stateDirectory`.
    public static func artifact(_ runID: String, stateDirectory: String) throws -> JSON {
        try RunStore.openForReading(directory: stateDirectory).artifact(runID)
    }
}
