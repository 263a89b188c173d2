import Foundation
import RigorRunner
import RigorSpec
import RigorStore

/// The store at scale: `rigor runs list` on 10,000 runs (target: under 200 ms end to end), and
/// the size of the store against the JSON artifacts of a real batch (target: at most 1/8).
func runStoreBench(root: String, rigorBinary: String, tmp: String) throws {
    print("")
    print("Store (SQLite + zstd)")
    print("")
    // 1. 10,000 runs: synthetic copies of a real artifact, recorded in one transaction.
    let state = "\(tmp)/store10k"
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let interop = "\(root)/../shared/interop/tracecore-1.1.3"
    let sample = ((try? FileManager.default.contentsOfDirectory(atPath: interop)) ?? []).sorted().first { $0.hasSuffix(".json") }
    guard let sample, let data = FileManager.default.contents(atPath: "\(interop)/\(sample)"),
          case .object(var base) = try JSON.parse([UInt8](data)) else {
        print("skipped: no sample artifact at \(interop)")
        return
    }
    let store = try RunStore.open(directory: state, create: true)
    var batch: [JSON] = []
    for i in 0..<10_000 {
        base["run_id"] = .string(String(format: "%032x", i + 1))
        base["seed"] = .int(i)
        batch.append(.object(base))
    }
    let t0 = MonotonicClock.nanoseconds()
    try store.record(contentsOf: batch)
    let insert = Double(MonotonicClock.nanoseconds() - t0) / 1e9
    var cli: [Double] = []
    for _ in 0..<5 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: rigorBinary)
        p.arguments = ["runs", "list", "--state-dir", state]
        p.standardOutput = FileHandle.nullDevice
        let t = MonotonicClock.nanoseconds()
        try p.run()
        p.waitUntilExit()
        cli.append(Double(MonotonicClock.nanoseconds() - t) / 1e6)
    }
    let q0 = MonotonicClock.nanoseconds()
    _ = try store.runs(filter: RunFilter(), limit: 50)
    let query = Double(MonotonicClock.nanoseconds() - q0) / 1e6
    let q1 = MonotonicClock.nanoseconds()
    _ = try store.runs(filter: RunFilter(agent: .contains("toy"), outcome: .success), limit: 50)
    let filtered = Double(MonotonicClock.nanoseconds() - q1) / 1e6
    print("| measurement (10,000 runs)                  | value      |")
    print("|--------------------------------------------|------------|")
    print("| record 10,000 runs (one transaction)       | \(String(format: "%7.2f s ", insert)) |")
    print("| `rigor runs list` end to end, median of 5  | \(String(format: "%7.1f ms", cli.sorted()[2])) |")
    print("| runs(limit: 50) query in process           | \(String(format: "%7.2f ms", query)) |")
    print("| filtered query (agent, outcome)            | \(String(format: "%7.2f ms", filtered)) |")
}

/// Sizes after a real batch: the JSON artifact files vs the store.
@discardableResult
func runStoreSizeBench(rigorBinary: String, root: String, tmp: String, seeds: String) throws -> (state: String, summary: JSON) {
    let state = "\(tmp)/store-batch"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: rigorBinary)
    p.arguments = ["batch", "--pairings", "all", "--seeds", seeds, "--state-dir", state, "--json"]
    p.currentDirectoryURL = URL(fileURLWithPath: root)
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let summary = try JSON.parse([UInt8](out.fileHandleForReading.readDataToEndOfFile()))
    p.waitUntilExit()
    var jsonBytes = 0
    for f in (try? FileManager.default.contentsOfDirectory(atPath: "\(state)/runs")) ?? [] {
        jsonBytes += ((try? FileManager.default.attributesOfItem(atPath: "\(state)/runs/\(f)"))?[.size] as? Int) ?? 0
    }
    do {
        // gc compacts (what a long-lived store settles to); closing checkpoints the WAL.
        let store = try RunStore.open(directory: state, create: false)
        _ = try store.gc()
    }
    func size(_ name: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: "\(state)/\(name)"))?[.size] as? Int) ?? 0 }
    let db = size("rigor.db"), wal = size("rigor.db-wal")
    print("")
    print("| batch `--pairings all --seeds \(seeds)` | episodes | JSON artifacts (pretty, as written) | store (db + wal) | ratio |")
    print("|---|---|---|---|---|")
    let eps: String = switch summary["episodes_per_second"] {
    case .double(let d)?: String(format: "%.1f", d)
    case .int(let i)?: String(i)
    default: "?"
    }
    print("| \(eps) episodes/s | \(summary["total"]?.intValue ?? 0) | \(jsonBytes / 1024) KiB | \((db + wal) / 1024) KiB | \(String(format: "1/%.1f", Double(jsonBytes) / Double(max(1, db + wal)))) |")
    return (state, summary)
}
