import RigorSpec

/// What changed between two artifacts A (the old one) and B (the new one): whether they record
/// the same pairing, how the outcome and its taxonomy moved, how much of each budget was used,
/// which paths and hosts the whole trace touched on one side only, and the first step where the
/// two episodes part ways (found by `Divergence`, the answer replay and CI use too).
///
/// It reads only the TraceCore v1.0 fields, so it compares Rigor's artifacts, TraceCore's, and
/// one of each. The value holds no renderer state: `text(width:colour:)`, `markdown`, `html`
/// and `json` all draw from the same fields, so the formats can never disagree.
public struct ArtifactDiff: Sendable {
    public enum Verdict: String, Sendable {
        /// Content that hashes to the same `artifact_hash` (recomputed, never trusted from the
        /// file), and neither side altered since it was written: the verdict `rigor replay`
        /// (reproduced) and `rigor ci` (exact) give the same pair (`HashedComparison`).
        case same
        case different
        /// At least one side is not an artifact (for example: no `action_trace`).
        case notComparable = "not_comparable"
    }

    /// One top-level field on both sides; `nil` when a side does not have it.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let a: JSON?
        public let b: JSON?
        public let changed: Bool
    }

    /// How much of one budget each side used, and what the budget was.
    public struct Usage: Sendable, Equatable {
        /// `steps_used` or `tool_calls_used`.
        public let name: String
        public let a: Int?
        public let b: Int?
        public let budgetA: Int?
        public let budgetB: Int?
        /// B − A, when both sides have the count.
        public var delta: Int? { a.flatMap { a in b.map { $0 - a } } }
        public var changed: Bool { a != b || budgetA != budgetB }
    }

    /// Members of a set found on one side only, each sorted.
    public struct SetChange: Sendable, Equatable {
        public let added: [String]
        public let removed: [String]
        public var isEmpty: Bool { added.isEmpty && removed.isEmpty }

        init(old: Set<String>, new: Set<String>) {
            added = new.subtracting(old).sorted()
            removed = old.subtracting(new).sorted()
        }
    }

    /// Who a side is, for headers.
    public struct Side: Sendable, Equatable {
        /// What the user named: a path, a run id, a baseline.
        public let label: String
        public let runID: String?
        /// The `artifact_hash` the artifact carries.
        public let artifactHash: String?
        /// The `artifact_hash` its content recomputes to, with its runtime's recipe; nil when it
        /// cannot be computed (not an object, a NaN).
        public let contentHash: String?
        /// `runtime_identity.name` and `.version`, e.g. "tracecore 0.0.0-dev".
        public let runtime: String?
        /// Entries in `action_trace`; nil when there is none.
        public let traceLength: Int?

        /// It carries an `artifact_hash` that its content does not recompute to: it was edited
        /// after it was written.
        public var altered: Bool { artifactHash != nil && artifactHash != contentHash }
    }

    /// The fields that say which pairing an artifact records; the hashes only count when both
    /// sides carry them (TraceCore never writes `agent_hash`).
    public static let pairingFields = ["agent_ref", "task_ref", "seed", "task_hash", "agent_hash"]
    static let optionalPairingFields: Set<String> = ["task_hash", "agent_hash"]
    public static let outcomeFields = ["success", "termination_reason", "failure_type", "failure_reason"]
    public static let budgetNames = ["steps", "tool_calls", "wall_clock_seconds"]

    public let a: Side
    public let b: Side
    /// Why the two cannot be compared; empty when they can.
    public let problems: [String]
    /// Sides whose content no longer matches their `artifact_hash`, one sentence each. Either
    /// makes the verdict `different`: an edited artifact is never the same as anything.
    public let alterations: [String]
    public let pairing: [Field]
    public let outcome: [Field]
    public let usage: [Usage]
    /// `budgets.steps`, `budgets.tool_calls`, `budgets.wall_clock_seconds` (when either has it).
    public let budgets: [Field]
    /// `path` values of every `io_audit` entry in the whole trace.
    public let paths: SetChange
    /// `host` values of every `io_audit` entry in the whole trace.
    public let hosts: SetChange
    /// The first divergent step; nil when the two are not comparable.
    public let divergence: Divergence?
    /// Every hashed field whose values differ (`HashedComparison.hashedFields`); empty when the
    /// two are not comparable.
    public let hashedFields: [String]
    public let verdict: Verdict

    public var samePairing: Bool { !pairing.contains(where: \.changed) }
    public var outcomeChanged: Bool { outcome.contains(where: \.changed) }
    public var usageChanged: Bool { usage.contains(where: \.changed) }
    public var budgetsChanged: Bool { budgets.contains(where: \.changed) }

    public init(_ artifactA: JSON, _ artifactB: JSON, labelA: String = "A", labelB: String = "B") {
        a = Self.side(artifactA, label: labelA)
        b = Self.side(artifactB, label: labelB)
        var problems: [String] = []
        for (name, artifact, label) in [("A", artifactA, labelA), ("B", artifactB, labelB)] {
            if let why = Self.notAnArtifact(artifact) { problems.append("\(name) (\(label)) is not an artifact: \(why)") }
        }
        self.problems = problems
        alterations = [("A", a), ("B", b)].compactMap { name, side in
            side.altered ? "\(name)'s artifact_hash does not match its content, which hashes to \(side.contentHash ?? "nothing") (edited after it was written)" : nil
        }

        pairing = Self.pairingFields.compactMap { name in
            let x = artifactA[name], y = artifactB[name]
            if x == nil && y == nil && Self.optionalPairingFields.contains(name) { return nil }
            let bothPresent = x != nil && y != nil
            let counts = bothPresent || !Self.optionalPairingFields.contains(name)
            return Field(name: name, a: x, b: y, changed: counts && !Divergence.sameValue(x, y))
        }
        outcome = Self.outcomeFields.map { Self.field($0, artifactA[$0], artifactB[$0]) }
        usage = [("steps_used", "steps"), ("tool_calls_used", "tool_calls")].map { used, budget in
            Usage(name: used, a: artifactA[used]?.intValue, b: artifactB[used]?.intValue,
                  budgetA: artifactA["budgets"]?[budget]?.intValue, budgetB: artifactB["budgets"]?[budget]?.intValue)
        }
        budgets = Self.budgetNames.compactMap { name in
            let x = artifactA["budgets"]?[name], y = artifactB["budgets"]?[name]
            if x == nil && y == nil && name == "wall_clock_seconds" { return nil }
            return Self.field("budgets.\(name)", x, y)
        }
        let auditA = Self.audited(artifactA), auditB = Self.audited(artifactB)
        paths = SetChange(old: auditA.paths, new: auditB.paths)
        hosts = SetChange(old: auditA.hosts, new: auditB.hosts)

        if !problems.isEmpty {
            divergence = nil
            hashedFields = []
            verdict = .notComparable
            return
        }
        // The comparison replay and the CI gate make: hashes as the content recomputes them (a
        // hash carried in the file proves nothing); identical steps with a differing hash are
        // still a difference, named by the hashed fields that differ.
        let comparison = HashedComparison(artifactA, artifactB)
        divergence = comparison.divergence
        hashedFields = comparison.hashedFields
        verdict = alterations.isEmpty && comparison.same ? .same : .different
    }

    /// The differing hashed fields that no other part of the report names (pairing, outcome,
    /// usage, budgets, the divergent step): e.g. `sandbox`, `world_key_id`, `harness_version`.
    public var otherHashedFields: [String] {
        var named = Set(pairing.filter(\.changed).map(\.name)).union(outcome.filter(\.changed).map(\.name))
            .union(usage.filter(\.changed).map(\.name))
        if budgetsChanged { named.insert("budgets") }
        return hashedFields.filter { !named.contains($0) }
    }

    /// Why a value cannot be diffed as an artifact, or nil when it can.
    static func notAnArtifact(_ value: JSON) -> String? {
        guard value.objectValue != nil else { return "it is a JSON \(value.typeName), not an object" }
        guard let trace = value["action_trace"] else { return "it has no action_trace" }
        guard trace.arrayValue != nil else { return "its action_trace is a \(trace.typeName), not an array" }
        return nil
    }

    static func field(_ name: String, _ x: JSON?, _ y: JSON?) -> Field {
        Field(name: name, a: x, b: y, changed: !Divergence.sameValue(x, y))
    }

    static func side(_ artifact: JSON, label: String) -> Side {
        let runtime = artifact["runtime_identity"].flatMap { r in
            r["name"]?.stringValue.map { name in [name, r["version"]?.stringValue].compactMap { $0 }.joined(separator: " ") }
        }
        let contentHash = artifact.objectValue == nil ? nil : try? HashRecipe.forArtifact(artifact).hash(artifact)
        return Side(label: label, runID: artifact["run_id"]?.stringValue, artifactHash: artifact["artifact_hash"]?.stringValue,
                    contentHash: contentHash, runtime: runtime, traceLength: artifact["action_trace"]?.arrayValue?.count)
    }

    /// Every path and host the trace's IO audit names, on any step.
    static func audited(_ artifact: JSON) -> (paths: Set<String>, hosts: Set<String>) {
        var paths = Set<String>(), hosts = Set<String>()
        for step in artifact["action_trace"]?.arrayValue ?? [] {
            for entry in step["io_audit"]?.arrayValue ?? [] {
                if let p = entry["path"]?.stringValue { paths.insert(p) }
                if let h = entry["host"]?.stringValue { hosts.insert(h) }
            }
        }
        return (paths, hosts)
    }

    /// One line: the verdict and what differs, most telling first.
    public var summary: String {
        switch verdict {
        case .notComparable: return "not comparable: " + problems.joined(separator: "; ")
        case .same:
            return "same: artifact_hash \(a.contentHash ?? "") on both sides"
        case .different:
            // Short here (the text report does not wrap its summary); `alterations` has the hashes.
            var parts: [String] = [("A", a), ("B", b)].filter { $0.1.altered }.map { "\($0.0)'s artifact_hash does not match its content" }
            let pairingChanges = pairing.filter(\.changed).map(\.name)
            if !pairingChanges.isEmpty { parts.append("pairing differs in \(pairingChanges.joined(separator: ", "))") }
            let outcomeChanges = outcome.filter(\.changed).map(\.name)
            if !outcomeChanges.isEmpty { parts.append("outcome differs in \(outcomeChanges.joined(separator: ", "))") }
            if let d = divergence, let step = d.firstStep { parts.append("step \(step) differs in \(d.parts.joined(separator: ", "))") }
            let usageChanges = usage.filter(\.changed).map(\.name)
            if !usageChanges.isEmpty { parts.append("usage differs in \(usageChanges.joined(separator: ", "))") }
            if budgetsChanged { parts.append("budgets differ") }
            let others = otherHashedFields
            if !others.isEmpty { parts.append("other hashed fields differ: \(others.joined(separator: ", "))") }
            if parts.isEmpty {
                parts.append("artifact_hash differs (\(a.contentHash ?? "none") → \(b.contentHash ?? "none")), though every hashed field matches: the two runtimes hash differently")
            }
            return "different: " + parts.joined(separator: "; ")
        }
    }

    /// The parts of the divergent step shown side by side: observation, action and result
    /// always, and any other part that differs there (intent, io_audit).
    public var stepParts: [String] {
        guard let d = divergence, d.firstStep != nil else { return [] }
        let always = ["observation", "action", "result"]
        return always + Divergence.stepParts.filter { !always.contains($0) && d.parts.contains($0) }
    }
}

extension ArtifactDiff {
    /// The whole report for machines; the step entries are included in full.
    public var json: JSON {
        func fields(_ list: [Field]) -> JSON {
            .array(list.map { ["field": .string($0.name), "a": $0.a ?? .null, "b": $0.b ?? .null, "changed": .bool($0.changed)] })
        }
        func side(_ s: Side) -> JSON {
            [
                "source": .string(s.label), "run_id": s.runID.map(JSON.string) ?? .null,
                "artifact_hash": s.artifactHash.map(JSON.string) ?? .null, "content_hash": s.contentHash.map(JSON.string) ?? .null,
                "altered": .bool(s.altered), "runtime": s.runtime.map(JSON.string) ?? .null,
                "trace_length": s.traceLength.map(JSON.int) ?? .null,
            ]
        }
        func int(_ v: Int?) -> JSON { v.map(JSON.int) ?? .null }
        func set(_ s: SetChange) -> JSON { ["added": .array(s.added.map(JSON.string)), "removed": .array(s.removed.map(JSON.string))] }
        return [
            "verdict": .string(verdict.rawValue),
            "summary": .string(summary),
            "a": side(a), "b": side(b),
            "problems": .array(problems.map(JSON.string)),
            "alterations": .array(alterations.map(JSON.string)),
            "pairing": ["same": .bool(samePairing), "fields": fields(pairing)],
            "outcome": ["changed": .bool(outcomeChanged), "fields": fields(outcome)],
            "usage": .array(usage.map {
                ["field": .string($0.name), "a": int($0.a), "b": int($0.b), "delta": int($0.delta),
                 "budget_a": int($0.budgetA), "budget_b": int($0.budgetB), "changed": .bool($0.changed)]
            }),
            "budgets": ["changed": .bool(budgetsChanged), "fields": fields(budgets)],
            "io_audit": ["paths": set(paths), "hosts": set(hosts)],
            "divergence": divergence?.json ?? .null,
            "hashed_fields": .array(hashedFields.map(JSON.string)),
            "other_hashed_fields": .array(otherHashedFields.map(JSON.string)),
        ]
    }
}
