import Foundation
import RigorSpec
import RigorStore

/// A shard's result as handed to `rigor merge`: a store directory, opened for reading, checked
/// through and through, with the shard records its ledger holds.
public struct ShardInput: Sendable {
    /// As the user gave it (messages name it so).
    public let path: String
    public let directory: String
    public let store: RunStore
    public let records: [ShardRecord]
    /// Runs the store holds besides the ones its shard records name (merged along with its
    /// history, but no part of the batch).
    public let otherRuns: Int

    /// Opens and checks one shard result. Every refusal names the path and says what to do.
    ///
    /// Checked: it is a run store (a directory holding `rigor.db`, or that file); its ledger
    /// re-verifies from genesis (no entry altered, dropped or reordered, every run has its
    /// entry); every stored run decodes and recomputes to its `artifact_hash`; it holds at least
    /// one "batch_shard" entry, each with a spec that hashes to the hash it carries; and each
    /// run that entry names is in the store, with the artifact hash, task, agent and seed that
    /// the spec and cell say.
    public static func open(_ path: String) throws(RunnerError) -> ShardInput {
        func refuse(_ why: String) -> RunnerError { .usage("shard '\(path)': \(why)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw refuse("no such file or directory; pass the directory a shard's batch wrote its store to (its --state-dir)")
        }
        let directory: String
        if isDirectory.boolValue {
            directory = path
        } else if (path as NSString).lastPathComponent == RunStore.fileName {
            directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        } else {
            throw refuse("is a file, not a shard's store; pass the directory holding its \(RunStore.fileName)")
        }
        let store: RunStore
        do { store = try RunStore.openForReading(directory: directory) } catch { throw refuse(error.description) }
        do {
            let ledger = try store.verifyLedger()
            if let broken = ledger.firstBreak {
                throw refuse("its ledger does not verify (\(broken)): the store was altered after the shard wrote it; run that shard again")
            }
            let problems = try store.verifyBlobs()
            if let first = problems.first {
                throw refuse("\(problems.count) stored run problem\(problems.count == 1 ? "" : "s"), the first: \(first); run that shard again")
            }
        } catch let error as RunnerError {
            throw error
        } catch let error as StoreError {
            throw refuse(error.description)
        } catch {
            throw refuse("\(error)")
        }
        let entries: [LedgerEntry]
        do { entries = try store.ledgerEntries() } catch { throw refuse(error.description) }
        var records: [ShardRecord] = []
        for entry in entries where entry.kind == ShardRecord.ledgerKind {
            do { records.append(try ShardRecord(payload: entry.payload)) } catch { throw refuse("ledger entry \(entry.seq): \(error)") }
        }
        guard !records.isEmpty else {
            throw refuse("holds no finished shard (no \(ShardRecord.ledgerKind) ledger entry): a shard records it after its last episode, "
                + "so this one was interrupted or is not a shard; run it again with the same --shard")
        }
        var named = Set<String>()
        for record in records {
            try check(record, in: store, refuse: refuse)
            named.formUnion(record.runs.map(\.runID))
        }
        let total: Int
        do { total = try store.statistics().runs } catch { throw refuse(error.description) }
        return ShardInput(path: path, directory: directory, store: store, records: records, otherRuns: max(0, total - named.count))
    }

    /// A record's cells are exactly its shard's, and each run is what its cell says.
    private static func check(_ record: ShardRecord, in store: RunStore, refuse: (String) -> RunnerError) throws(RunnerError) {
        let shard = record.shard
        let expected = record.spec.cells(in: shard)
        let held = record.runs.map(\.cell)
        if held != expected {
            let want = Set(expected), have = Set(held)
            let missing = expected.filter { !have.contains($0) }, extra = held.filter { !want.contains($0) }
            var parts: [String] = []
            if let m = missing.first { parts.append("\(missing.count) of its cells missing (first: \(m))") }
            if let e = extra.first { parts.append("\(extra.count) cells of other shards (first: \(e))") }
            if parts.isEmpty { parts.append("cells repeated") }
            throw refuse("shard \(shard) does not hold exactly its part of the matrix: " + parts.joined(separator: ", "))
        }
        for run in record.runs {
            let summary: RunSummary
            do { summary = try store.summary(run.runID) } catch {
                throw refuse("shard \(shard) names run '\(run.runID)' for \(run.cell), which the store does not hold")
            }
            guard let entry = record.spec.entry(named: run.cell.pairing) else {
                throw refuse("shard \(shard) names pairing '\(run.cell.pairing)', which its spec lacks")
            }
            var wrong: [String] = []
            if summary.artifactHash != run.artifactHash { wrong.append("artifact_hash \(summary.artifactHash ?? "none") (the shard entry says \(run.artifactHash))") }
            if summary.seed != run.cell.seed { wrong.append("seed \(summary.seed.map(String.init) ?? "none")") }
            if summary.taskRef != entry.taskRef { wrong.append("task \(summary.taskRef ?? "none") (the spec says \(entry.taskRef))") }
            if summary.taskHash != entry.taskHash { wrong.append("task_hash \(summary.taskHash ?? "none") (the spec says \(entry.taskHash))") }
            if summary.agentRef != entry.agentRef { wrong.append("agent \(summary.agentRef ?? "none") (the spec says \(entry.agentRef))") }
            if let hash = summary.agentHash, hash != entry.agentHash { wrong.append("agent_hash \(hash) (the spec says \(entry.agentHash))") }
            if !wrong.isEmpty {
                throw refuse("run '\(run.runID)' of shard \(shard) (\(run.cell)) has " + wrong.joined(separator: ", "))
            }
        }
    }
}
