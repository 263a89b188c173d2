import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The acceptance matrix sharded the way Kubernetes and a CI matrix shard it: each index's
/// command line run with the variables the engine would set, then merged and compared with
/// the one-host batch.
@Suite("sharded batches under engine variables")
struct ShardEngineTests {
    func shard(_ extraArgs: [String], env: [String: String], state: String, pairings: [String] = ShardMatrix.pairings) throws -> JSON {
        let r = try CommandLineRun.rigor(
            ["batch", "--pairings", pairings.joined(separator: ","), "--seeds", ShardMatrix.seeds, "--json", "--quiet", "--state-dir", state] + extraArgs,
            environment: ShardMatrix.environment(env))
        #expect(r.status <= 1, "\(r.stderr)")
        return try JSON.parse(r.stdout)
    }

    func merge(_ shards: [String], dir: String) throws -> JSON {
        let r = try CommandLineRun.rigor(["merge"] + shards + ["--into", "\(dir)/merged", "--json"])
        #expect(r.status <= 1, "\(r.stderr)")
        try Data(r.stdout.utf8).write(to: URL(fileURLWithPath: "\(dir)/merged.json"))
        return try JSON.parse(r.stdout)
    }

    @Test("3 Kubernetes Indexed Job pods (JOB_COMPLETION_INDEX 0..2, RIGOR_SHARD_COUNT) merge to the one-host batch")
    func kubernetes() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-k8s")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var sizes: [Int] = []
        for index in 0..<3 {
            // As examples/k8s/shards-job.yaml runs it; the first pod gives the count as a flag instead.
            let args = ["--shard-from", "k8s"] + (index == 0 ? ["--shard-count", "3"] : [])
            let env = ["JOB_COMPLETION_INDEX": "\(index)"].merging(index == 0 ? [:] : ["RIGOR_SHARD_COUNT": "3"]) { a, _ in a }
            let s = try shard(args, env: env, state: "\(dir)/shards/\(index)")
            #expect(s["shard"]?["shard"]?.stringValue == "\(index + 1)/3")
            sizes.append(s["total"]?.intValue ?? 0)
        }
        #expect(sizes == [400, 400, 400])
        let merged = try merge((0..<3).map { "\(dir)/shards/\($0)" }, dir: dir)
        try ShardMatrix.expectMatchesOneHost(merged: merged, mergedFile: "\(dir)/merged.json", mergedStore: "\(dir)/merged", shards: 3)
    }

    @Test("a 5-way CI matrix (RIGOR_SHARD_INDEX 1..5), pairings named in another order on some lines, merges to the one-host batch")
    func ciMatrix() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-cimatrix")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for index in 1...5 {
            let order = index % 2 == 0 ? ShardMatrix.pairings.reversed() : ShardMatrix.pairings
            let s = try shard(["--shard-from", "env"], env: ["RIGOR_SHARD_INDEX": "\(index)", "RIGOR_SHARD_COUNT": "5"],
                              state: "\(dir)/shards/\(index)", pairings: order)
            #expect(s["total"]?.intValue == 240)
        }
        // Given in another order than they ran: the merge does not care.
        let merged = try merge([5, 3, 1, 4, 2].map { "\(dir)/shards/\($0)" }, dir: dir)
        #expect(merged["merge"]?["shards"]?.arrayValue?.map { $0["shard"]?.stringValue ?? "" } == ["1/5", "2/5", "3/5", "4/5", "5/5"])
        try ShardMatrix.expectMatchesOneHost(merged: merged, mergedFile: "\(dir)/merged.json", mergedStore: "\(dir)/merged", shards: 5)
    }
}
