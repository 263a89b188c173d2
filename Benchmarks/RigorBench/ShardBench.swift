import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorStore
import RigorTasks

/// Sharded batches: `rigor merge` of 100,000 runs (synthesised shard stores), and what
/// splitting a batch into N shards on one machine costs against one batch of the same matrix.
func runShardBench(root: String, rigorBinary: String, agentBinary: String, tmp: String) throws {
    print("")
    print("Sharded batches (release build)")
    print("")
    try mergeBench(root: root, agentBinary: agentBinary, tmp: tmp)
    print("")
    try shardOverheadBench(root: root, rigorBinary: rigorBinary, agentBinary: agentBinary, tmp: tmp)
}

/// 4 shard stores of 25,000 runs each (one real Swift-agent artifact, re-sealed per cell with
/// its seed and run id), merged into a fresh store through the library.
private func mergeBench(root: String, agentBinary: String, tmp: String) throws {
    let base = "\(tmp)/merge100k"
    let workspace = Workspace(root: root, stateDirectory: "\(base)/work")
    let request = try workspace.prepare(RunOptions(agent: agentBinary, task: "filesystem_hidden_config@1", seed: 0, isolation: .process))
    let sample = try Episode.run(request).artifact
    guard case .object(let template) = sample else { return }
    let pairings = (0..<100).map { i in
        BatchSpec.Entry(name: String(format: "p%03d", i), agentRef: request.agent.ref, agentHash: request.agent.agentHash,
                        taskRef: request.task.manifest.ref, taskHash: request.task.taskHash, budgets: request.task.manifest.budgets)
    }
    let spec = try BatchSpec(pairings: pairings, seeds: Array(0..<1000), worldKeyID: request.worldKey.id, strictSpec: false)
    let count = 4
    let t0 = MonotonicClock.nanoseconds()
    var dirs: [String] = []
    for i in 1...count {
        let shard = try Shard(index: i, count: count)
        let dir = "\(base)/shard\(i)"
        let store = try RunStore.open(directory: dir, create: true)
        var runs: [ShardRecord.Run] = []
        var chunk: [JSON] = []
        for cell in spec.cells(in: shard) {
            var a = template
            let runID = Digest.sha256Hex(Array("bench|\(cell.pairing)|\(cell.seed)".utf8)).prefix(32)
            a["run_id"] = .string(String(runID))
            a["seed"] = .int(cell.seed)
            a["artifact_hash"] = .string(try HashRecipe.rigor.hash(.object(a)))
            runs.append(ShardRecord.Run(cell: cell, runID: String(runID), artifactHash: a["artifact_hash"]?.stringValue ?? ""))
            chunk.append(.object(a))
            if chunk.count == 1000 {
                try store.record(contentsOf: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try store.record(contentsOf: chunk) }
        try store.appendLedger(kind: ShardRecord.ledgerKind, payload: ShardRecord(spec: spec, shard: shard, runs: runs).payload)
        dirs.append(dir)
    }
    let made = Double(MonotonicClock.nanoseconds() - t0) / 1e9
    let m0 = MonotonicClock.nanoseconds()
    let report = try ShardMerge.merge(dirs, into: "\(base)/merged", allowPartial: false)
    let merged = Double(MonotonicClock.nanoseconds() - m0) / 1e9
    let merge = try RunStore.openForReading(directory: "\(base)/merged")
    let v0 = MonotonicClock.nanoseconds()
    let verification = try merge.verifyLedger()
    let verified = Double(MonotonicClock.nanoseconds() - v0) / 1e9
    let stats = try merge.statistics()
    print("| merge (100,000 runs, 4 shards of 25,000)           | value        |")
    print("|----------------------------------------------------|--------------|")
    print("| synthesise the 4 shard stores (not part of merge)  | \(String(format: "%8.1f s  ", made)) |")
    print("| `ShardMerge.merge`: check all, copy all, summarise | \(String(format: "%8.1f s  ", merged)) |")
    print("|   per run                                          | \(String(format: "%8.0f µs ", merged / 1e5 * 1e6)) |")
    print("| ledger verify of the merged store (re-proves 4)    | \(String(format: "%8.2f s  ", verified)) |")
    print("| merged: runs, ledger entries, intact               | \(stats.runs), \(stats.ledgerEntries), \(verification.isIntact) |")
    print("| merged summary: episodes, passed                   | \(report.summary.total), \(report.summary.passed) |")
    try? FileManager.default.removeItem(atPath: base)
}

/// One batch of 4 built-in pairings × 100 seeds (Python agents) against the same matrix as N shards run
/// one after the other on this machine, plus their merge: the fixed cost of a shard.
private func shardOverheadBench(root: String, rigorBinary: String, agentBinary: String, tmp: String) throws {
    let base = "\(tmp)/shard-overhead"
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    let key = String(repeating: "3c", count: 32)
    func rigor(_ args: [String]) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: rigorBinary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        var env = ProcessInfo.processInfo.environment
        env["RIGOR_WORLD_KEY"] = key
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let t = MonotonicClock.nanoseconds()
        try p.run()
        p.waitUntilExit()
        return Double(MonotonicClock.nanoseconds() - t) / 1e9
    }
    let matrix = ["batch", "--pairings", "log_stream_monitor,rate_limit_api,sandboxed_code_auditor,toy_filesystem", "--seeds", "0..99", "--quiet"]
    print("| 4 pairings × 100 seeds, one machine, run in turn   | wall     | of it, merge | vs one batch |")
    print("|----------------------------------------------------|----------|--------------|--------------|")
    var one: [Double] = []
    for round in 0..<3 { one.append(try rigor(matrix + ["--state-dir", "\(base)/one\(round)"])) }
    let reference = one.sorted()[1]
    print("| one batch (median of 3)                            | \(String(format: "%6.2f s", reference)) |              |              |")
    for n in [2, 4, 8] {
        var totals: [Double] = []
        var merges: [Double] = []
        for round in 0..<3 {
            var sum = 0.0
            var dirs: [String] = []
            for i in 1...n {
                let dir = "\(base)/n\(n)r\(round)s\(i)"
                sum += try rigor(matrix + ["--shard", "\(i)/\(n)", "--state-dir", dir])
                dirs.append(dir)
            }
            let m = try rigor(["merge"] + dirs + ["--into", "\(base)/n\(n)r\(round)merged", "--quiet"])
            merges.append(m)
            totals.append(sum + m)
        }
        let total = totals.sorted()[1]
        print("| \(n) shards in turn, then merge (median of 3)".padding(toLength: 52, withPad: " ", startingAt: 0)
            + " | \(String(format: "%6.2f s", total)) | \(String(format: "%10.2f s", merges.sorted()[1])) | \(String(format: "%+11.0f%%", (total / reference - 1) * 100)) |")
    }
    try? FileManager.default.removeItem(atPath: base)
}
