import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorStorePostgres

/// The shared PostgreSQL store against the embedded SQLite store: recording throughput (runs/s,
/// 8 runs per transaction as the batch's writer groups them), 4 writers at once, and whole
/// batches (episodes/s of `rigor batch`) into each. The server is a throwaway one on localhost
/// (scripts/test-postgres.sh, fsync off like the tests'), or RIGOR_BENCH_POSTGRES_URL.
func runSharedStoreBench(root: String, rigorBinary: String, tmp: String) throws {
    print("")
    print("Shared store (PostgreSQL on localhost) vs embedded store (SQLite)")
    print("")
    var serverDirectory: String?
    let url: String
    if let given = ProcessInfo.processInfo.environment["RIGOR_BENCH_POSTGRES_URL"], !given.isEmpty {
        url = given
    } else {
        let dir = "\(tmp)-pg"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["\(root)/scripts/test-postgres.sh", "start", dir]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            print("skipped: no PostgreSQL server could be started (install Debian's postgresql, or set RIGOR_BENCH_POSTGRES_URL)")
            return
        }
        serverDirectory = dir
        url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    defer {
        if let serverDirectory {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["\(root)/scripts/test-postgres.sh", "stop", serverDirectory]
            try? p.run()
            p.waitUntilExit()
        }
    }
    let interop = "\(root)/../shared/interop/tracecore-1.1.3"
    let sample = ((try? FileManager.default.contentsOfDirectory(atPath: interop)) ?? []).sorted().first { $0.hasSuffix(".json") }
    guard let sample, let data = FileManager.default.contents(atPath: "\(interop)/\(sample)"),
          case .object(let parsed) = try JSON.parse([UInt8](data)) else {
        print("skipped: no sample artifact at \(interop)")
        return
    }
    let base = parsed
    @Sendable func artifacts(_ prefix: Int, _ count: Int) -> [JSON] {
        (0..<count).map { i in
            var m = base
            m["run_id"] = .string(String(format: "%08x%024x", prefix, i + 1))
            m["seed"] = .int(i)
            return .object(m)
        }
    }
    @Sendable func recordRate(_ store: any RunStorage, prefix: Int, count: Int) throws -> Double {
        let all = artifacts(prefix, count)
        let t0 = MonotonicClock.nanoseconds()
        var i = 0
        while i < all.count {
            try store.record(contentsOf: Array(all[i..<min(i + 8, all.count)]))
            i += 8
        }
        return Double(count) / (Double(MonotonicClock.nanoseconds() - t0) / 1e9)
    }
    let count = 2_000
    let sqlite = try RunStore.open(directory: "\(tmp)/shared-bench-sqlite", create: true)
    let postgres = try PostgresRunStore.open(url: url, create: true)
    let sqliteRate = try recordRate(sqlite, prefix: 1, count: count)
    let postgresRate = try recordRate(postgres, prefix: 1, count: count)
    // 4 writers, each with its own connection, into the same database.
    let writers = 4
    let t0 = MonotonicClock.nanoseconds()
    let group = DispatchGroup()
    for w in 0..<writers {
        group.enter()
        Thread {
            defer { group.leave() }
            if let store = try? PostgresRunStore.open(url: url, create: true) { _ = try? recordRate(store, prefix: 100 + w, count: count / writers) }
        }.start()
    }
    group.wait()
    let concurrentRate = Double(count) / (Double(MonotonicClock.nanoseconds() - t0) / 1e9)
    let intact = (try? postgres.verifyLedger().isIntact) == true
    print("| recording \(count) runs (8 per transaction)           | runs/s     |")
    print("|------------------------------------------------------|------------|")
    print("| SQLite (embedded, WAL)                               | \(String(format: "%10.0f", sqliteRate)) |")
    print("| PostgreSQL, 1 writer                                 | \(String(format: "%10.0f", postgresRate)) |")
    print("| PostgreSQL, 4 writers at once (total\(intact ? ", chain intact" : ", CHAIN BROKEN")) | \(String(format: "%10.0f", concurrentRate)) |")

    // Whole batches: what a user sees.
    func batch(_ extra: [String]) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: rigorBinary)
        p.arguments = ["batch", "--pairings", "toy_filesystem,number_guess", "--seeds", "0..99", "--quiet",
                       "--state-dir", "\(tmp)/shared-bench-state"] + extra
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let t = MonotonicClock.nanoseconds()
        try p.run()
        p.waitUntilExit()
        return 200 / (Double(MonotonicClock.nanoseconds() - t) / 1e9)
    }
    let sqliteBatch = try batch([])
    let postgresBatch = try batch(["--store", url])
    print("")
    print("| rigor batch, 2 pairings × 100 seeds                  | episodes/s |")
    print("|------------------------------------------------------|------------|")
    print("| into SQLite                                          | \(String(format: "%10.1f", sqliteBatch)) |")
    print("| into PostgreSQL                                      | \(String(format: "%10.1f", postgresBatch)) |")
}
