import Foundation
import RigorSpec
import RigorStore
import RigorTasks

/// What a shard says about itself, as its store's "batch_shard" ledger entry: the whole batch
/// spec (so a shard from any machine can be checked against the others), the spec's hash, which
/// shard it is, and the run it recorded for each of its cells. Written once the shard's last
/// episode is recorded: a shard without it did not finish.
public struct ShardRecord: Sendable {
    /// One finished cell.
    public struct Run: Sendable, Equatable {
        public let cell: BatchCell
        public let runID: String
        public let artifactHash: String

        public init(cell: BatchCell, runID: String, artifactHash: String) {
            self.cell = cell
            self.runID = runID
            self.artifactHash = artifactHash
        }
    }

    public static let ledgerKind = "batch_shard"

    public let spec: BatchSpec
    public let shard: Shard
    public let runs: [Run]

    public init(spec: BatchSpec, shard: Shard, runs: [Run]) {
        self.spec = spec
        self.shard = shard
        self.runs = runs.sorted { $0.cell < $1.cell }
    }

    public var payload: JSON {
        ["batch_spec": spec.json, "batch_spec_hash": .string(spec.hash), "shard": shard.json,
         "runs": .array(runs.map { r in
             ["pairing": .string(r.cell.pairing), "seed": .int(r.cell.seed), "run_id": .string(r.runID),
              "artifact_hash": .string(r.artifactHash)]
         })]
    }

    /// Reads a "batch_shard" payload, refusing one whose spec does not hash to the hash it
    /// carries (edited after it was written).
    public init(payload: JSON) throws(RunnerError) {
        guard let specJSON = payload["batch_spec"], let hash = payload["batch_spec_hash"]?.stringValue,
              let index = payload["shard"]?["index"]?.intValue, let count = payload["shard"]?["count"]?.intValue,
              let list = payload["runs"]?.arrayValue else {
            throw .usage("its batch_shard entry lacks batch_spec, batch_spec_hash, shard or runs")
        }
        let spec = try BatchSpec(json: specJSON)
        guard spec.hash == hash else {
            throw .usage("its batch spec hashes to \(spec.hash), not to the batch_spec_hash it carries (\(hash)): the entry was edited")
        }
        var runs: [Run] = []
        runs.reserveCapacity(list.count)
        for r in list {
            guard let pairing = r["pairing"]?.stringValue, let seed = r["seed"]?.intValue, let runID = r["run_id"]?.stringValue,
                  let artifactHash = r["artifact_hash"]?.stringValue else {
                throw .usage("a run in its batch_shard entry lacks pairing, seed, run_id or artifact_hash")
            }
            runs.append(Run(cell: BatchCell(pairing: pairing, seed: seed), runID: runID, artifactHash: artifactHash))
        }
        self.init(spec: spec, shard: try Shard(index: index, count: count), runs: runs)
    }
}

/// A batch restricted to one shard of its matrix: the spec resolved from the whole matrix, the
/// shard's cells as a `Batch`, and, once it has run, the shard's record in the store.
public struct ShardedBatch: Sendable {
    public let spec: BatchSpec
    public let shard: Shard
    public var batch: Batch
    let pairings: [String: Pairing]

    /// Resolves every pairing (task and agent hashes, budgets) and the world key into the spec,
    /// then keeps the shard's cells. `template` carries the batch's settings (workers,
    /// isolation, act timeout, strict spec, fork server); its items are replaced.
    public init(pairings: [Pairing], seeds: [Int], shard: Shard, template: Batch, in workspace: Workspace) throws(RunnerError) {
        let key: WorldKey
        if let chosen = template.worldKey { key = chosen } else { key = try workspace.worldKey() }
        var entries: [BatchSpec.Entry] = []
        var byName: [String: Pairing] = [:]
        for p in pairings {
            if let known = byName[p.name] {
                guard known == p else { throw .usage("pairing '\(p.name)' is named twice with different agents or tasks") }
                continue
            }
            byName[p.name] = p
            let request = try workspace.prepare(RunOptions(
                agent: p.agent, task: p.task, seed: 0, isolation: template.isolation, actTimeoutSeconds: template.actTimeoutSeconds,
                worldKey: key))
            entries.append(BatchSpec.Entry(
                name: p.name, agentRef: request.agent.ref, agentHash: request.agent.agentHash,
                taskRef: request.task.manifest.ref, taskHash: request.task.taskHash, budgets: request.task.manifest.budgets))
        }
        spec = try BatchSpec(pairings: entries, seeds: seeds, worldKeyID: key.id, strictSpec: template.strictSpec)
        self.shard = shard
        self.pairings = byName
        batch = template
        batch.worldKey = key
        // Seed-major, as an unsharded batch runs (progress is representative).
        batch.items = spec.cells(in: shard).sorted { ($0.seed, $0.pairing) < ($1.seed, $1.pairing) }.compactMap { cell in
            byName[cell.pairing].map { BatchItem(pairing: $0, seed: cell.seed) }
        }
    }

    /// Runs the shard's episodes (see `Batch.run`), then appends its "batch_shard" entry to the
    /// workspace's store. A shard with no cells (more shards than cells) records an empty entry,
    /// so that a merge still sees every shard. A shard cancelled through `handle` records none:
    /// what it finished stays in the store, and `rigor merge` calls it unfinished.
    public func run(in workspace: Workspace, handle: BatchHandle = BatchHandle(),
                    progress: @escaping @Sendable (Int, BatchOutcome) -> Void) throws(RunnerError) -> [BatchOutcome] {
        let outcomes = batch.items.isEmpty ? [] : try batch.run(in: workspace, handle: handle, progress: progress)
        guard !handle.isCancelled, outcomes.count == batch.items.count else { return outcomes }
        let record = ShardRecord(spec: spec, shard: shard, runs: outcomes.map {
            .init(cell: BatchCell(pairing: $0.item.pairing.name, seed: $0.item.seed), runID: $0.runID, artifactHash: $0.artifactHash)
        })
        let store = try workspace.store(create: true)
        do { try store.appendLedger(kind: ShardRecord.ledgerKind, payload: record.payload) } catch { throw .store(error) }
        return outcomes
    }
}
