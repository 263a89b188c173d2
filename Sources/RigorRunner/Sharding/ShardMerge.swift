import Foundation
import RigorSpec
import RigorStore

/// `rigor merge`: shard results into one store, refused (by shard) unless they are exactly the
/// parts of one batch, and then the batch summary a one-machine run of the matrix gives.
///
/// Everything is checked before anything is written: each input (`ShardInput.open`), that all
/// shards ran the same spec (the spec most shards share is the reference; every other is named
/// with what differs), that they agree on the shard count, that no shard comes twice, and that
/// none is missing (unless `allowPartial`). Then each input's whole history is appended to the
/// target (`RunStore.appendHistory`, one transaction per input), so `ledger verify` on the merged
/// store re-proves every shard's chain.
public enum ShardMerge {
    /// What a merge did, and the merged batch.
    public struct Report: Sendable {
        public let spec: BatchSpec
        public let count: Int
        /// Shards merged, with the input each came from.
        public let merged: [(shard: Shard, path: String)]
        public let missing: [Shard]
        public let missingCells: Int
        public let into: String
        public let runsAdded: Int
        public let entriesAdded: Int
        /// The batch's episodes present, seed-major as a one-machine batch orders them.
        public let summary: BatchSummary

        public var json: JSON {
            guard case .object(var o) = summary.json else { return summary.json }
            o["merge"] = [
                "batch_spec_hash": .string(spec.hash), "shard_count": .int(count), "into": .string(into),
                "shards": .array(merged.map { ["shard": .string($0.shard.description), "path": .string($0.path)] }),
                "missing_shards": .array(missing.map { .string($0.description) }), "missing_cells": .int(missingCells),
                "runs_added": .int(runsAdded), "ledger_entries_added": .int(entriesAdded),
            ]
            return .object(o)
        }
    }

    public static func merge(_ paths: [String], into: String, allowPartial: Bool) throws(RunnerError) -> Report {
        let t0 = MonotonicClock.nanoseconds()
        guard !paths.isEmpty else { throw .usage("name the shard results to merge: rigor merge SHARD... --into DIR") }
        let target = URL(fileURLWithPath: into).standardizedFileURL.resolvingSymlinksInPath().path
        var seenPaths: [String: String] = [:]
        for path in paths {
            let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if let first = seenPaths[resolved] { throw .usage("shard '\(path)' is given twice (also as '\(first)'): name each shard once") }
            if resolved == target { throw .usage("shard '\(path)' is the merge target; merge --into a new directory") }
            seenPaths[resolved] = path
        }
        let inputs = try paths.map { (p) throws(RunnerError) -> ShardInput in try ShardInput.open(p) }
        let all = inputs.flatMap { input in input.records.map { (record: $0, input: input) } }

        // The reference spec: the one most shards ran (ties: the earliest given).
        var votes: [String: Int] = [:]
        for (record, _) in all { votes[record.spec.hash, default: 0] += 1 }
        guard let reference = all.max(by: { votes[$0.record.spec.hash] ?? 0 < votes[$1.record.spec.hash] ?? 0 })?.record.spec,
              let referenceShard = all.first(where: { $0.record.spec.hash == reference.hash }) else {
            throw .usage("no shard to merge")
        }
        for (record, input) in all where record.spec.hash != reference.hash {
            let diff = record.spec.differences(from: reference)
            throw .usage("shard \(record.shard) ('\(input.path)') ran a different batch than shard \(referenceShard.record.shard) ('\(referenceShard.input.path)'): "
                + (diff.isEmpty ? "the specs hash differently" : diff.map { $0.replacingOccurrences(of: " here,", with: " in \(record.shard),").replacingOccurrences(of: " there", with: " in \(referenceShard.record.shard)") }.joined(separator: "; "))
                + "; run every shard from the same tasks, agents, seeds and world key")
        }
        let count = referenceShard.record.shard.count
        for (record, input) in all where record.shard.count != count {
            throw .usage("shard \(record.shard) ('\(input.path)') splits the batch into \(record.shard.count) shards, shard \(referenceShard.record.shard) ('\(referenceShard.input.path)') into \(count); run every shard with the same N")
        }
        var byIndex: [Int: (record: ShardRecord, input: ShardInput)] = [:]
        for item in all {
            if let other = byIndex[item.record.shard.index] {
                throw .usage("shard \(item.record.shard) appears twice: in '\(other.input.path)' and in '\(item.input.path)'; merge each shard once")
            }
            byIndex[item.record.shard.index] = item
        }
        // One run per cell: a forged record must not count one episode twice.
        var owners: [String: Shard] = [:]
        for (record, input) in all {
            for run in record.runs {
                if let other = owners.updateValue(record.shard, forKey: run.runID) {
                    throw .usage("shard \(record.shard) ('\(input.path)') names run '\(run.runID)', which shard \(other) names too: each episode is one cell's")
                }
            }
        }
        let missing = try (1...count).filter { byIndex[$0] == nil }.map { (i) throws(RunnerError) -> Shard in try Shard(index: i, count: count) }
        let missingCells = missing.reduce(0) { $0 + reference.cells(in: $1).count }
        if !missing.isEmpty && !allowPartial {
            throw .usage("shard\(missing.count == 1 ? "" : "s") \(missing.map(\.description).joined(separator: ", ")) of \(count) "
                + "\(missing.count == 1 ? "is" : "are") missing (\(missingCells) of \(reference.cells.count) episodes); "
                + "pass every shard's result, or --allow-partial to merge what is here")
        }

        let store: RunStore
        do { store = try RunStore.open(directory: into, create: true) } catch { throw .store(error) }
        for (record, input) in byIndex.values.sorted(by: { $0.record.shard.index < $1.record.shard.index }) {
            for run in record.runs {
                if (try? store.summary(run.runID)) != nil {
                    throw .usage("shard \(record.shard) ('\(input.path)') is already merged into '\(into)' (it holds run '\(run.runID)'); merge into a new directory")
                }
            }
        }
        // Inputs in the order of their first shard, so the merged ledger reads 1/N, 2/N, ...
        let ordered = inputs.sorted { ($0.records.map(\.shard.index).min() ?? 0) < ($1.records.map(\.shard.index).min() ?? 0) }
        var runsAdded = 0, entriesAdded = 0
        for input in ordered {
            let note: JSON = ["source": .string(input.path), "batch_spec_hash": .string(reference.hash),
                              "shards": .array(input.records.map { .string($0.shard.description) })]
            do {
                let appended = try store.appendHistory(of: input.store, note: note)
                runsAdded += appended.runs
                entriesAdded += appended.entries + 1
            } catch {
                throw .usage("shard '\(input.path)': \(error)")
            }
            // The model tapes of the shard's LLM runs come along (checked against their hashes),
            // so every merged run replays from the merged store.
            let tapes = ModelTapeStore(stateDirectory: input.directory), merged = ModelTapeStore(stateDirectory: into)
            for run in input.records.flatMap(\.runs) {
                guard let artifact = try? input.store.artifact(run.runID), let hash = ModelOptions.tapeHash(of: artifact),
                      !merged.contains(hash) else { continue }
                let tape: ModelTape
                do { tape = try tapes.get(hash) } catch {
                    throw .usage("shard '\(input.path)': run '\(run.runID)' names the model tape \(hash), which cannot be read: \(error)")
                }
                try merged.put(tape)
            }
        }

        let present = byIndex.values.flatMap(\.record.runs).sorted { ($0.cell.seed, $0.cell.pairing) < ($1.cell.seed, $1.cell.pairing) }
        var outcomes: [BatchOutcome] = []
        outcomes.reserveCapacity(present.count)
        for run in present {
            guard let entry = reference.entry(named: run.cell.pairing) else { continue }
            let artifact: JSON
            do { artifact = try store.artifact(run.runID) } catch { throw .store(error) }
            outcomes.append(BatchOutcome(merged: artifact, cell: run.cell, entry: entry, strictSpec: reference.strictSpec))
        }
        let summary = BatchSummary(outcomes: outcomes, workers: byIndex.count,
                                   elapsedSeconds: Double(MonotonicClock.nanoseconds() - t0) / 1e9)
        return Report(spec: reference, count: count,
                      merged: byIndex.values.sorted { $0.record.shard.index < $1.record.shard.index }.map { ($0.record.shard, $0.input.path) },
                      missing: missing, missingCells: missingCells, into: into, runsAdded: runsAdded, entriesAdded: entriesAdded,
                      summary: summary)
    }
}

extension BatchOutcome {
    /// A stored episode of a merged batch, as the batch that ran it reported it. The wall time
    /// is the artifact's own `wall_clock_elapsed_s`; the artifact is kept only for a failure
    /// (the summary quotes its `failure_reason`), so a summary of many runs stays small.
    init(merged artifact: JSON, cell: BatchCell, entry: BatchSpec.Entry, strictSpec: Bool) {
        let success = artifact["success"] == .bool(true)
        let problems = strictSpec ? SpecCheck.check(artifact).map(\.description) : []
        let passed = success && problems.isEmpty
        self.init(
            item: BatchItem(pairing: Pairing(name: cell.pairing, agent: entry.agentRef, task: entry.taskRef), seed: cell.seed),
            success: success, terminationReason: artifact["termination_reason"]?.stringValue ?? "",
            failureType: artifact["failure_type"]?.stringValue, stepsUsed: artifact["steps_used"]?.intValue ?? 0,
            toolCallsUsed: artifact["tool_calls_used"]?.intValue ?? 0,
            wallSeconds: Self.seconds(artifact["wall_clock_elapsed_s"]), artifactHash: artifact["artifact_hash"]?.stringValue ?? "",
            artifactPath: nil, runID: artifact["run_id"]?.stringValue ?? "", specProblems: problems, passed: passed,
            artifact: passed ? .null : artifact)
    }

    private static func seconds(_ value: JSON?) -> Double {
        switch value {
        case .double(let d)?: return d
        case .int(let n)?: return Double(n)
        default: return 0
        }
    }
}
