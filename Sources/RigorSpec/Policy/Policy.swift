/// A policy: ordered rules over the actions an agent sends, each with a TRACE decision and a
/// stable id, plus the approver that answers `requires_approval` (spec/policy.md).
///
/// It is read from `policy.toml` (a task's, a project's, or `--policy FILE`): the TOML is
/// parsed elsewhere (RigorTasks, which owns the TOML reader) and handed here as a JSON document,
/// so this type knows nothing of files. A policy made of several layers (the task's, then the
/// project's or the flag's) is one `Policy` whose rules are the layers' rules in order.
public struct Policy: Sendable, Equatable {
    public static let format = "rigor-policy/1"
    /// The most rules one policy file may hold.
    public static let maxRules = 1000

    public var rules: [PolicyRule]
    /// What an action no rule decides gets (`approved` unless the file says otherwise).
    public var defaultDecision: PolicyDecision
    public var onReject: RejectionEffect
    public var approver: Approver?
    /// `sha256:` over the canonical JSON of every layer's document, in order (spec/policy.md §6).
    public var hash: String
    /// Where each layer came from (`task`, `project`, `flag`), for the artifact.
    public var layers: [String]

    public init(rules: [PolicyRule], defaultDecision: PolicyDecision = .approved, onReject: RejectionEffect = .end,
                approver: Approver? = nil, hash: String = "", layers: [String] = []) {
        self.rules = rules
        self.defaultDecision = defaultDecision
        self.onReject = onReject
        self.approver = approver
        self.hash = hash
        self.layers = layers
    }

    /// What the artifact records at the top level (hashed): the policy's hash and its layers.
    public var json: JSON {
        ["hash": .string(hash), "layers": .array(layers.map(JSON.string)), "rules": .int(rules.count)]
    }

    /// Layers combined in order: rules concatenated (ids must stay unique), the first layer's
    /// approver, default and `on_reject` unless a later layer sets them itself.
    public static func combine(_ parts: [(source: String, document: [String: JSON], policy: Policy)]) throws(PolicyError) -> Policy? {
        guard let first = parts.first else { return nil }
        var combined = first.policy
        var seen = Set(first.policy.rules.map(\.id))
        for part in parts.dropFirst() {
            for rule in part.policy.rules {
                guard seen.insert(rule.id).inserted else {
                    throw .invalid(path: part.source, field: "rules", reason: "rule id '\(rule.id)' is also used by an earlier policy layer; ids must be unique across the task's and the project's policies", line: nil)
                }
                combined.rules.append(rule)
            }
            if part.document["default"] != nil { combined.defaultDecision = part.policy.defaultDecision }
            if part.document["on_reject"] != nil { combined.onReject = part.policy.onReject }
            if combined.approver == nil { combined.approver = part.policy.approver }
        }
        let doc: JSON = .array(parts.map { .object(["source": .string($0.source), "document": .object($0.document)]) })
        do { combined.hash = try Digest.sha256(canonical: doc) } catch {
            throw .invalid(path: first.source, field: "", reason: "cannot hash the policy canonically: \(error)", line: nil)
        }
        combined.layers = parts.map(\.source)
        return combined
    }
}

/// One rule: which actions it matches, an optional limit or sequence condition, and the decision.
public struct PolicyRule: Sendable, Equatable {
    /// Stable id, unique in the policy; every decision names the rule that made it.
    public var id: String
    /// Globs over the action type (`*` any run, `?` one character); any of them matches.
    public var actions: [String]
    /// Conditions on arguments, all of which must hold.
    public var args: [String: ArgCondition]
    public var decision: PolicyDecision
    /// Overrides the policy's `on_reject` for this rule.
    public var onReject: RejectionEffect?
    /// A count limit: the rule decides only once `maxCount` matching actions have reached the world.
    public var maxCount: Int?
    /// A rate limit: the rule decides only once `max` matching actions reached the world within
    /// the last `perSteps` steps.
    public var rate: RateLimit?
    /// A sequence rule: the rule decides only while none of these actions has reached the world.
    public var after: [String]
    /// Said to the agent in a denial's result.
    public var note: String?

    public init(id: String, actions: [String] = ["*"], args: [String: ArgCondition] = [:], decision: PolicyDecision,
                onReject: RejectionEffect? = nil, maxCount: Int? = nil, rate: RateLimit? = nil, after: [String] = [],
                note: String? = nil) {
        self.id = id
        self.actions = actions
        self.args = args
        self.decision = decision
        self.onReject = onReject
        self.maxCount = maxCount
        self.rate = rate
        self.after = after
        self.note = note
    }

    /// Whether the action's type and arguments match (limits and sequences aside).
    public func matches(type: String, args given: [String: JSON]) -> Bool {
        guard actions.contains(where: { Glob.matches($0, type) }) else { return false }
        for (name, condition) in args {
            guard let value = given[name], condition.holds(for: value) else { return false }
        }
        return true
    }
}

/// `rate = { max = N, per_steps = W }`.
public struct RateLimit: Sendable, Equatable {
    public var max: Int
    public var perSteps: Int
    public init(max: Int, perSteps: Int) {
        self.max = max
        self.perSteps = perSteps
    }
}

/// A condition on one argument.
public enum ArgCondition: Sendable, Equatable {
    /// Equal as JSON values (a string given without `*`/`?` is this).
    case equals(JSON)
    /// A string matching the glob.
    case glob(String)
    case oneOf([JSON])
    /// A number within the bounds (inclusive); a non-number never holds.
    case bounds(min: Double?, max: Double?)

    public func holds(for value: JSON) -> Bool {
        switch self {
        case .equals(let v): return value == v || ArgCondition.numericallyEqual(value, v)
        case .glob(let g): return value.stringValue.map { Glob.matches(g, $0) } ?? false
        case .oneOf(let vs): return vs.contains { $0 == value || ArgCondition.numericallyEqual($0, value) }
        case .bounds(let lo, let hi):
            guard let x = ArgCondition.number(value) else { return false }
            if let lo, x < lo { return false }
            if let hi, x > hi { return false }
            return true
        }
    }

    static func number(_ v: JSON) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d.isFinite ? d : nil
        default: return nil
        }
    }

    static func numericallyEqual(_ a: JSON, _ b: JSON) -> Bool {
        guard let x = number(a), let y = number(b) else { return false }
        return x == y
    }
}

/// Who answers `requires_approval`: a deterministic function of the episode so far, declared
/// by the task (spec/policy.md §3).
public struct Approver: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Approves an action only if the agent asked first: an earlier step sent the `request`
        /// action (naming this action type in `match_arg`, when set) and it reached the world.
        /// Each request approves one action.
        case askedFirst = "asked_first"
        case always
        case never
    }

    public var kind: Kind
    /// The action an agent asks with (`request_approval` by default).
    public var request: String
    /// The request's argument that must name the action asked for; nil: any request counts.
    public var matchArg: String?

    public init(kind: Kind, request: String = "request_approval", matchArg: String? = nil) {
        self.kind = kind
        self.request = request
        self.matchArg = matchArg
    }
}

/// A policy file that cannot be used: what is wrong, where (file, field, line when known).
public enum PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(path: String, field: String, reason: String, line: Int?)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "policy \(path) cannot be read: \(reason)"
        case .invalid(let path, let field, let reason, let line):
            let at = line.map { ":\($0)" } ?? ""
            return "policy \(path)\(at): \(field.isEmpty ? "" : "\(field) ")\(reason) (format: spec/policy.md)"
        }
    }
}
