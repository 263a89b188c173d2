import Foundation
import RigorSpec

/// One cell of a batch's matrix: a pairing (by name) and a seed.
public struct BatchCell: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let pairing: String
    public let seed: Int

    public init(pairing: String, seed: Int) {
        self.pairing = pairing
        self.seed = seed
    }

    /// The canonical order: pairing name (byte order), then seed.
    public static func < (a: BatchCell, b: BatchCell) -> Bool {
        a.pairing != b.pairing ? Array(a.pairing.utf8).lexicographicallyPrecedes(b.pairing.utf8) : a.seed < b.seed
    }

    public var description: String { "\(pairing) seed \(seed)" }
}

/// Everything that decides what a batch's episodes produce, frozen: the pairings with their
/// agents and tasks by reference *and* content hash, the budgets, the seeds, the world key's id,
/// the runtime and whether the spec check fails an episode. Two machines that resolve the same
/// spec run the same episodes to the same artifacts, which is what lets a sharded batch merge to
/// exactly the one-machine result. Its hash (`hash`, the SHA-256 of its JCS) is what shards
/// compare; `differences` says what differs when they do not agree.
///
/// Canonical: pairings sorted by name, seeds sorted without repeats, so the order in which a
/// command line names them changes nothing.
public struct BatchSpec: Sendable, Equatable {
    /// A pairing as resolved on the machine that ran it.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var agentRef: String
        public var agentHash: String
        public var taskRef: String
        public var taskHash: String
        public var budgets: Budgets

        public init(name: String, agentRef: String, agentHash: String, taskRef: String, taskHash: String, budgets: Budgets) {
            self.name = name
            self.agentRef = agentRef
            self.agentHash = agentHash
            self.taskRef = taskRef
            self.taskHash = taskHash
            self.budgets = budgets
        }

        var json: JSON {
            var budgets: [String: JSON] = ["steps": .int(self.budgets.steps), "tool_calls": .int(self.budgets.toolCalls)]
            if let wall = self.budgets.wallClockSeconds { budgets["wall_clock_seconds"] = .int(wall) }
            return ["name": .string(name), "agent_ref": .string(agentRef), "agent_hash": .string(agentHash),
                    "task_ref": .string(taskRef), "task_hash": .string(taskHash), "budgets": .object(budgets)]
        }
    }

    /// The format of `json`; a spec of another version is not compared field by field.
    public static let format = "rigor-batch-spec/1"

    public let pairings: [Entry]
    public let seeds: [Int]
    public let worldKeyID: String
    public let strictSpec: Bool
    /// `name version` of the runtime that resolved the spec (its episodes' `runtime_identity`).
    public let runtime: String

    /// Duplicate pairing names must agree (they are one pairing); seeds are deduplicated.
    public init(pairings: [Entry], seeds: [Int], worldKeyID: String, strictSpec: Bool,
                runtime: String = "\(RigorIdentity.name) \(RigorIdentity.version)") throws(RunnerError) {
        var byName: [String: Entry] = [:]
        for p in pairings {
            if let known = byName[p.name], known != p {
                throw .usage("pairing '\(p.name)' is named twice with different agents or tasks; give each pairing one name")
            }
            byName[p.name] = p
        }
        self.pairings = byName.values.sorted { Array($0.name.utf8).lexicographicallyPrecedes($1.name.utf8) }
        self.seeds = Array(Set(seeds)).sorted()
        self.worldKeyID = worldKeyID
        self.strictSpec = strictSpec
        self.runtime = runtime
    }

    public var json: JSON {
        ["format": .string(Self.format), "pairings": .array(pairings.map(\.json)), "seeds": .array(seeds.map(JSON.int)),
         "world_key_id": .string(worldKeyID), "strict_spec": .bool(strictSpec), "runtime": .string(runtime)]
    }

    /// `sha256:` and the hex SHA-256 of the JCS of `json`.
    public var hash: String { Self.hash(of: json) }

    static func hash(of json: JSON) -> String {
        (try? Digest.sha256(canonical: json)) ?? "sha256:unhashable"
    }

    /// Every cell, in canonical order (pairing name, then seed).
    public var cells: [BatchCell] {
        pairings.flatMap { p in seeds.map { BatchCell(pairing: p.name, seed: $0) } }
    }

    /// The cells of one shard: the k-th cell in canonical order goes to shard `k mod N + 1`.
    /// Disjoint, together the whole matrix, and balanced (sizes differ by at most one; each
    /// pairing's seeds spread evenly over the shards, so slow pairings do not pile up on one).
    public func cells(in shard: Shard) -> [BatchCell] {
        // Straight to the shard's cells (k = index − 1, index − 1 + N, …): a merge checks every
        // shard's cells, and must not walk the whole matrix once per shard.
        guard !seeds.isEmpty else { return [] }
        return stride(from: shard.index - 1, to: cellCount, by: shard.count).map { k in
            BatchCell(pairing: pairings[k / seeds.count].name, seed: seeds[k % seeds.count])
        }
    }

    /// How many cells the matrix has.
    public var cellCount: Int { pairings.count * seeds.count }

    /// The largest matrix a spec read back from a shard may describe: a forged spec must not
    /// make a merge allocate without bound.
    public static let maximumCells = 10_000_000

    public func entry(named name: String) -> Entry? { pairings.first { $0.name == name } }

    /// Reads a spec back from its `json` (a shard's ledger entry), refusing anything else.
    public init(json: JSON) throws(RunnerError) {
        func bad(_ what: String) -> RunnerError { .usage("the batch spec is malformed: \(what)") }
        guard json["format"]?.stringValue == Self.format else { throw bad("format is not \(Self.format)") }
        guard let list = json["pairings"]?.arrayValue, let seedList = json["seeds"]?.arrayValue,
              let key = json["world_key_id"]?.stringValue, case .bool(let strict)? = json["strict_spec"],
              let runtime = json["runtime"]?.stringValue else { throw bad("a field is missing or of the wrong type") }
        var entries: [Entry] = []
        for p in list {
            guard let name = p["name"]?.stringValue, let agentRef = p["agent_ref"]?.stringValue,
                  let agentHash = p["agent_hash"]?.stringValue, let taskRef = p["task_ref"]?.stringValue,
                  let taskHash = p["task_hash"]?.stringValue, let steps = p["budgets"]?["steps"]?.intValue,
                  let tools = p["budgets"]?["tool_calls"]?.intValue else { throw bad("a pairing lacks a field") }
            entries.append(Entry(name: name, agentRef: agentRef, agentHash: agentHash, taskRef: taskRef, taskHash: taskHash,
                                 budgets: Budgets(steps: steps, toolCalls: tools, wallClockSeconds: p["budgets"]?["wall_clock_seconds"]?.intValue)))
        }
        var seeds: [Int] = []
        for s in seedList {
            guard let n = s.intValue else { throw bad("a seed is not an integer") }
            seeds.append(n)
        }
        guard entries.count.multipliedReportingOverflow(by: seeds.count).partialValue <= Self.maximumCells,
              seeds.count <= Self.maximumCells, entries.count <= Self.maximumCells else {
            throw bad("it names \(entries.count) pairings × \(seeds.count) seeds, more than the \(Self.maximumCells) episodes a merge takes")
        }
        try self.init(pairings: entries, seeds: seeds, worldKeyID: key, strictSpec: strict, runtime: runtime)
        guard self.json == json else { throw bad("it is not in canonical form (sorted pairings, sorted unique seeds)") }
    }

    /// What differs between this spec and `other`, each as one line a user can act on
    /// ("task_ref of pairing toy: toy@1 here, toy@2 there"); empty when they are equal.
    public func differences(from other: BatchSpec) -> [String] {
        var out: [String] = []
        if runtime != other.runtime { out.append("runtime: \(runtime) here, \(other.runtime) there") }
        if worldKeyID != other.worldKeyID {
            out.append("world key: id \(worldKeyID.prefix(19))… here, \(other.worldKeyID.prefix(19))… there (give every shard the same RIGOR_WORLD_KEY)")
        }
        if strictSpec != other.strictSpec { out.append("--strict-spec: \(strictSpec) here, \(other.strictSpec) there") }
        if seeds != other.seeds { out.append("seeds: \(seeds.count) here (\(SeedList.describe(seeds))), \(other.seeds.count) there (\(SeedList.describe(other.seeds)))") }
        let mine = Set(pairings.map(\.name)), theirs = Set(other.pairings.map(\.name))
        for name in mine.subtracting(theirs).sorted() { out.append("pairing \(name): only here") }
        for name in theirs.subtracting(mine).sorted() { out.append("pairing \(name): only there") }
        for p in pairings {
            guard let q = other.entry(named: p.name) else { continue }
            if p.taskRef != q.taskRef { out.append("pairing \(p.name): task \(p.taskRef) here, \(q.taskRef) there") }
            if p.taskHash != q.taskHash { out.append("pairing \(p.name): task_hash \(p.taskHash.prefix(19))… here, \(q.taskHash.prefix(19))… there (the task's files differ)") }
            if p.agentRef != q.agentRef { out.append("pairing \(p.name): agent \(p.agentRef) here, \(q.agentRef) there") }
            if p.agentHash != q.agentHash { out.append("pairing \(p.name): agent_hash \(p.agentHash.prefix(19))… here, \(q.agentHash.prefix(19))… there (the agent's files differ)") }
            if p.budgets != q.budgets { out.append("pairing \(p.name): budgets differ") }
        }
        return out
    }
}

extension SeedList {
    /// A short text for a seed list: `0..99`, or the first few and a count.
    public static func describe(_ seeds: [Int]) -> String {
        guard let first = seeds.first, let last = seeds.last else { return "none" }
        if seeds.count == last - first + 1 && seeds == Array(first...last) { return first == last ? "\(first)" : "\(first)..\(last)" }
        let shown = seeds.prefix(5).map(String.init).joined(separator: ",")
        return seeds.count > 5 ? "\(shown),… (\(seeds.count) seeds)" : shown
    }
}

/// One of N parts of a batch, numbered from 1: `--shard 2/4`.
public struct Shard: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Largest N accepted: more shards than this is a typo, not a cluster.
    public static let maximumCount = 100_000

    public init(index: Int, count: Int) throws(RunnerError) {
        guard count >= 1, count <= Self.maximumCount else {
            throw .usage("the shard count must be from 1 to \(Self.maximumCount), not \(count)")
        }
        guard index >= 1, index <= count else {
            throw .usage("shard \(index)/\(count) does not exist: shards are numbered 1 to \(count) (write --shard 1/\(count) … --shard \(count)/\(count))")
        }
        self.index = index
        self.count = count
    }

    /// `I/N`, with 1 ≤ I ≤ N.
    public static func parse(_ text: String) throws(RunnerError) -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw .usage("--shard '\(text)' is not I/N; write e.g. --shard 2/4 (the second of four shards)")
        }
        do { return try Shard(index: i, count: n) } catch { throw .usage("--shard \(text): \(error)") }
    }

    public static func < (a: Shard, b: Shard) -> Bool { (a.count, a.index) < (b.count, b.index) }

    public var description: String { "\(index)/\(count)" }

    public var json: JSON { ["index": .int(index), "count": .int(count)] }
}
