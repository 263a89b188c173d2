import Foundation
import RigorSpec

/// A named (agent, task) pair, as `Agents/pairings.json` lists them.
public struct Pairing: Sendable, Equatable {
    public var name: String
    public var agent: String
    public var task: String

    public init(name: String, agent: String, task: String) {
        self.name = name
        self.agent = agent
        self.task = task
    }

    public var json: JSON { ["name": .string(name), "agent": .string(agent), "task": .string(task)] }
}

/// The catalogue of named pairings.
public struct PairingCatalog: Sendable {
    public let pairings: [Pairing]

    public init(pairings: [Pairing]) { self.pairings = pairings }

    /// Reads a JSON array of `{"name","agent","task"}` objects.
    public static func load(_ path: String) throws(RunnerError) -> PairingCatalog {
        let value = try ArtifactFile.read(path)
        guard let items = value.arrayValue else {
            throw .usage("'\(path)' must hold a JSON array of {\"name\", \"agent\", \"task\"} objects")
        }
        var out: [Pairing] = []
        for (i, item) in items.enumerated() {
            guard let name = item["name"]?.stringValue, let agent = item["agent"]?.stringValue,
                  let task = item["task"]?.stringValue else {
                throw .usage("'\(path)' entry \(i) needs string fields name, agent and task")
            }
            // A pairing's name names its baselines' folder (Baselines/<pairing>/).
            do { try PathName.checkIdentifier(name, as: "pairing name") } catch {
                throw .usage("'\(path)' entry \(i): \(error); rename the pairing")
            }
            if out.contains(where: { $0.name == name }) { throw .usage("'\(path)' names pairing '\(name)' twice") }
            out.append(Pairing(name: name, agent: agent, task: task))
        }
        return PairingCatalog(pairings: out)
    }

    /// `all`, or a comma-separated list of names.
    public func select(_ spec: String) throws(RunnerError) -> [Pairing] {
        if spec == "all" { return pairings }
        var out: [Pairing] = []
        for name in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let p = pairings.first(where: { $0.name == name }) else {
                throw .usage("no pairing named '\(name)'; known: \(pairings.map(\.name).joined(separator: ", ")) (see `rigor run pairing --list`)")
            }
            out.append(p)
        }
        if out.isEmpty { throw .usage("no pairings selected; pass --pairings all or a comma-separated list of names") }
        return out
    }
}

/// Seed lists as users write them: `0..99`, `0..<10`, `1,2,5`, `7`, or a mix (`0..4,10`).
public enum SeedList {
    public static func parse(_ text: String) throws(RunnerError) -> [Int] {
        let limit = InputRanges.seedCount
        var seeds: [Int] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if let r = part.range(of: "..<") ?? part.range(of: "..") {
                let exclusive = part[r].count == 3
                guard let lo = Int(part[..<r.lowerBound]), let hi = Int(part[r.upperBound...]),
                      exclusive ? lo < hi : lo <= hi else {
                    throw .usage("seed range '\(part)' is malformed; write e.g. 0..99 (inclusive) or 0..<100, "
                        + "with seeds from \(Int.min) to \(Int.max)")
                }
                // hi - lo overflows for ranges wider than Int.max; such a range is too large anyway.
                let (span, overflow) = hi.subtractingReportingOverflow(lo)
                let remaining = limit - seeds.count
                guard !overflow, exclusive ? span <= remaining : span < remaining else {
                    throw .usage("seed range '\(part)' is too large: a seed list names at most \(limit) seeds")
                }
                seeds += exclusive ? Array(lo..<hi) : Array(lo...hi)
            } else if let s = Int(part) {
                guard seeds.count < limit else { throw .usage("the seed list names more than \(limit) seeds") }
                seeds.append(s)
            } else {
                throw .usage("seed '\(part)' is not an integer; write e.g. --seeds 0..99 or --seeds 1,2,5")
            }
        }
        if seeds.isEmpty { throw .usage("no seeds given; write e.g. --seeds 0..99") }
        return seeds
    }
}
