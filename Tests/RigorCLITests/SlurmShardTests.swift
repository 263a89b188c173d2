import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// Why a real Slurm cannot be brought up here, or nil when it can: the daemons come from
/// Debian's slurmctld, slurmd, slurm-client and munge (the Makefile's SYSTEM_PACKAGES, installed
/// by `make deps`), and slurmd must run as root to start jobs. Printed when the test skips.
enum SlurmAvailability {
    static let reason: String? = {
        let tools = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue", "/usr/sbin/munged"]
        let missing = tools.filter { !FileManager.default.isExecutableFile(atPath: $0) }
        if !missing.isEmpty {
            return "Slurm is not installed (missing \(missing.joined(separator: ", "))): `make deps` installs slurmctld slurmd slurm-client munge"
        }
        if getuid() != 0 { return "slurmd must run as root to start jobs, and this test runs as uid \(getuid())" }
        return nil
    }()

    static var available: Bool {
        if let reason {
            FileHandle.standardError.write(Data("SlurmShardTests skipped: \(reason)\n".utf8))
            return false
        }
        return true
    }
}

/// The acceptance matrix run for real on Slurm: a one-node cluster on localhost
/// (scripts/slurm-local.sh), `examples/slurm/submit.sh 4` submitting the 4-task array and the
/// dependent merge job, and the merged store and summary compared with the one-host batch.
@Suite("sharded batch on a real Slurm")
struct SlurmShardTests {
    @Test("12 pairings × 100 seeds as a 4-task Slurm array, merged by a dependent job, equal the one-host batch",
          .enabled(if: SlurmAvailability.available), .timeLimit(.minutes(15)))
    func slurmArray() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-slurm")
        let cluster = "\(dir)/cluster"
        let script = "\(RepoPaths.root)/scripts/slurm-local.sh"
        let up = try CommandLineRun.run("/bin/bash", [script, "start", cluster])
        defer {
            _ = try? CommandLineRun.run("/bin/bash", [script, "stop", cluster])
            try? FileManager.default.removeItem(atPath: dir)
        }
        try #require(up.status == 0, "the local Slurm did not come up: \(up.stdout)\(up.stderr)")
        let conf = "\(cluster)/slurm.conf"
        try FileManager.default.createDirectory(atPath: "\(dir)/logs", withIntermediateDirectories: true)
        let env = ShardMatrix.environment([
            "SLURM_CONF": conf, "RIGOR": RepoPaths.rigorBinary, "RIGOR_PAIRINGS": ShardMatrix.pairings.joined(separator: ","),
            "RIGOR_SEEDS": ShardMatrix.seeds, "RIGOR_SHARDS_DIR": "\(dir)/shards", "RIGOR_MERGED": "\(dir)/merged",
            "RIGOR_LOG_DIR": "\(dir)/logs",
        ])
        // The one-host batch first, so it does not share the CPUs with the array.
        _ = try ShardMatrix.oneHost.get()

        let submitted = try CommandLineRun.run("/bin/bash", ["\(RepoPaths.root)/examples/slurm/submit.sh", "4"], cwd: RepoPaths.root, environment: env)
        try #require(submitted.status == 0, "sbatch failed: \(submitted.stderr)")
        let ids = submitted.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        try #require(ids.count == 2, "submit.sh printed \(submitted.stdout)")

        // Wait until neither the array nor the merge is queued or running (bounded).
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            let q = try CommandLineRun.run("/usr/bin/squeue", ["-h", "-j", ids.joined(separator: ","), "-o", "%i %t"], environment: env)
            if q.status == 0 && q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { break }
            Thread.sleep(forTimeInterval: 1)
        }
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/logs")) ?? []).sorted().map { name in
            "== \(name)\n" + ((try? String(contentsOfFile: "\(dir)/logs/\(name)", encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
        let shards = ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/shards")) ?? []).sorted()
        #expect(shards == ["1", "2", "3", "4"], "\(logs)")
        let mergedFile = "\(dir)/merged.json"
        let data = try #require(FileManager.default.contents(atPath: mergedFile), "no merged summary; job logs:\n\(logs)")
        let merged = try JSON.parse([UInt8](data))
        #expect(merged["merge"]?["shards"]?.arrayValue?.map { $0["shard"]?.stringValue ?? "" } == ["1/4", "2/4", "3/4", "4/4"])
        try ShardMatrix.expectMatchesOneHost(merged: merged, mergedFile: mergedFile, mergedStore: "\(dir)/merged", shards: 4)
        #expect(logs.contains("intact"), "the merge job's ledger verify: \(logs)")
    }
}
