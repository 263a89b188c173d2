import Foundation
import RigorRunner
import RigorSpec
import Testing

/// The partition of a batch's matrix into shards, the batch spec, and reading a shard from an
/// engine's variables.
@Suite("sharding")
struct ShardingTests {
    static func entry(_ name: String, task: String = "t@1", taskHash: String = "sha256:aa") -> BatchSpec.Entry {
        BatchSpec.Entry(name: name, agentRef: "Agents/\(name).py", agentHash: "sha256:bb", taskRef: task, taskHash: taskHash,
                        budgets: Budgets(steps: 10, toolCalls: 5, wallClockSeconds: 30))
    }

    static func spec(_ names: [String], seeds: [Int]) throws -> BatchSpec {
        try BatchSpec(pairings: names.map { entry($0) }, seeds: seeds, worldKeyID: "sha256:key", strictSpec: false)
    }

    @Test("shards are disjoint, cover the matrix, and differ in size by at most one", arguments: [
        (1, 1, 1), (3, 7, 1), (12, 100, 4), (12, 100, 3), (12, 100, 5), (2, 3, 7), (5, 9, 9), (1, 1, 4),
    ])
    func partition(pairings: Int, seeds: Int, count: Int) throws {
        let spec = try Self.spec((0..<pairings).map { "p\($0)" }, seeds: Array(0..<seeds))
        var seen: [BatchCell: Int] = [:]
        var sizes: [Int] = []
        for i in 1...count {
            let cells = try spec.cells(in: Shard(index: i, count: count))
            // The definition: the k-th cell in canonical order goes to shard k mod N + 1.
            #expect(cells == spec.cells.enumerated().filter { $0.offset % count == i - 1 }.map(\.element))
            sizes.append(cells.count)
            for c in cells {
                #expect(seen[c] == nil, "\(c) in shards \(seen[c] ?? 0) and \(i)")
                seen[c] = i
            }
            // Each pairing's seeds spread too: no shard holds more than its share (+1) of one pairing.
            for p in 0..<pairings {
                let share = cells.filter { $0.pairing == "p\(p)" }.count
                #expect(share <= (seeds + count - 1) / count + 1)
            }
        }
        #expect(seen.count == pairings * seeds)
        #expect(Set(seen.keys) == Set(spec.cells))
        #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
    }

    @Test("the order of pairings and seeds on the command line changes neither the spec's hash nor any shard")
    func orderIndependent() throws {
        var prng = PRNG(material: Array("shard-order".utf8))
        let names = (0..<12).map { "pairing_\($0)" }
        let seeds = Array(0..<100)
        let reference = try Self.spec(names, seeds: seeds)
        for _ in 0..<20 {
            var n = names, s = seeds + [3, 7]  // repeats change nothing either
            for i in stride(from: n.count - 1, to: 0, by: -1) { n.swapAt(i, prng.below(i + 1)) }
            for i in stride(from: s.count - 1, to: 0, by: -1) { s.swapAt(i, prng.below(i + 1)) }
            let shuffled = try Self.spec(n, seeds: s)
            #expect(shuffled.hash == reference.hash)
            for i in 1...4 { #expect(try shuffled.cells(in: Shard(index: i, count: 4)) == reference.cells(in: Shard(index: i, count: 4))) }
        }
    }

    @Test("a spec reads back from its JSON; an edited or non-canonical one is refused")
    func specJSON() throws {
        let spec = try Self.spec(["b", "a"], seeds: [2, 1])
        #expect(try BatchSpec(json: spec.json) == spec)
        guard case .object(var o) = spec.json else { return }
        o["seeds"] = [2, 1]
        #expect(throws: RunnerError.self) { try BatchSpec(json: .object(o)) }
        o["seeds"] = ["one"]
        #expect(throws: RunnerError.self) { try BatchSpec(json: .object(o)) }
        for junk: JSON in [.null, 3, "spec", [:], ["format": "rigor-batch-spec/9"]] {
            #expect(throws: RunnerError.self) { try BatchSpec(json: junk) }
        }
    }

    @Test("a spec read back from a shard may not describe a matrix larger than a merge takes")
    func hugeSpec() throws {
        let pairings: [JSON] = (0..<1001).map { i in
            ["name": .string(String(format: "p%04d", i)), "agent_ref": "a", "agent_hash": "h", "task_ref": "t@1", "task_hash": "h",
             "budgets": ["steps": 1, "tool_calls": 1]]
        }
        let json: JSON = ["format": "rigor-batch-spec/1", "pairings": .array(pairings), "seeds": .array((0..<10_000).map(JSON.int)),
                          "world_key_id": "k", "strict_spec": false, "runtime": "rigor 0.1.0"]
        #expect(throws: RunnerError.self) { try BatchSpec(json: json) }
    }

    @Test("what differs between two specs is named: a task version, a task's files, the world key, the seeds")
    func differences() throws {
        let a = try BatchSpec(pairings: [Self.entry("toy"), Self.entry("api")], seeds: [1, 2], worldKeyID: "sha256:k1", strictSpec: false)
        let b = try BatchSpec(pairings: [Self.entry("toy", task: "t@2", taskHash: "sha256:cc"), Self.entry("api")], seeds: [1, 2, 3],
                              worldKeyID: "sha256:k2", strictSpec: false)
        let lines = b.differences(from: a).joined(separator: "\n")
        #expect(lines.contains("pairing toy: task t@2 here, t@1 there"))
        #expect(lines.contains("pairing toy: task_hash"))
        #expect(lines.contains("world key"))
        #expect(lines.contains("seeds: 3 here (1..3), 2 there (1..2)"))
        #expect(!lines.contains("pairing api"))
        #expect(a.differences(from: a).isEmpty)
        #expect(a.hash != b.hash)
    }

    @Test("one pairing name with two different pairings is refused")
    func conflictingNames() {
        #expect(throws: RunnerError.self) {
            try BatchSpec(pairings: [Self.entry("toy"), Self.entry("toy", task: "other@1")], seeds: [1], worldKeyID: "k", strictSpec: false)
        }
    }

    @Test("--shard I/N parses only 1 ≤ I ≤ N", arguments: [
        "0/4", "5/4", "1/0", "-1/3", "a/b", "1/4/5", "", "/", "1/", "/4", "99999999999999999999/1", "1/100001", "2 4", "1/-4",
    ])
    func badShards(text: String) {
        #expect(throws: RunnerError.self) { try Shard.parse(text) }
    }

    @Test("--shard I/N: good values")
    func goodShards() throws {
        #expect(try Shard.parse("1/1") == Shard(index: 1, count: 1))
        #expect(try Shard.parse("4/4").description == "4/4")
        #expect(try Shard.parse(" 2 / 3 ") == Shard(index: 2, count: 3))
    }

    @Test("Slurm arrays: the shard is ID − MIN + 1 of COUNT, wherever the array starts")
    func slurm() throws {
        let s = ShardSource.slurm
        #expect(try s.shard(environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 1, count: 4))
        #expect(try s.shard(environment: ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 4, count: 4))
        #expect(try s.shard(environment: ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 1, count: 4))
        #expect(try s.shard(environment: ["SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_COUNT": "3"]) == Shard(index: 3, count: 3))
        for bad: [String: String] in [
            [:], ["SLURM_ARRAY_TASK_ID": "1"], ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"],  // a stepped array
            ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "-9223372036854775808", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "0"],
        ] {
            #expect(throws: RunnerError.self, "\(bad)") { try s.shard(environment: bad) }
        }
    }

    @Test("Kubernetes Indexed Jobs count from 0 and need the count from the flag or RIGOR_SHARD_COUNT")
    func k8s() throws {
        let s = ShardSource.k8s
        #expect(try s.shard(environment: ["JOB_COMPLETION_INDEX": "0"], count: 3) == Shard(index: 1, count: 3))
        #expect(try s.shard(environment: ["JOB_COMPLETION_INDEX": "2", "RIGOR_SHARD_COUNT": "3"]) == Shard(index: 3, count: 3))
        #expect(throws: RunnerError.self) { try s.shard(environment: ["JOB_COMPLETION_INDEX": "0"]) }
        #expect(throws: RunnerError.self) { try s.shard(environment: ["JOB_COMPLETION_INDEX": "3"], count: 3) }
        #expect(throws: RunnerError.self) { try s.shard(environment: ["JOB_COMPLETION_INDEX": "-1"], count: 3) }
    }

    @Test("CI matrices: RIGOR_SHARD_INDEX from 1 and RIGOR_SHARD_COUNT")
    func env() throws {
        let s = ShardSource.env
        #expect(try s.shard(environment: ["RIGOR_SHARD_INDEX": "5", "RIGOR_SHARD_COUNT": "5"]) == Shard(index: 5, count: 5))
        #expect(throws: RunnerError.self) { try s.shard(environment: ["RIGOR_SHARD_INDEX": "0", "RIGOR_SHARD_COUNT": "5"]) }
        #expect(throws: RunnerError.self) { try s.shard(environment: ["RIGOR_SHARD_INDEX": "1"]) }
        #expect(throws: RunnerError.self) { try s.shard(environment: ["RIGOR_SHARD_INDEX": "", "RIGOR_SHARD_COUNT": "2"]) }
    }
}
