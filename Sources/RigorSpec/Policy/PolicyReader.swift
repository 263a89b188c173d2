/// Reads a `policy.toml` document (already parsed into JSON) into a `Policy`, naming the field
/// in every error: `rules[2].rate.per_steps is 0; it must be between 1 and 100000000`.
/// spec/policy.md is the normative description of the format.
public struct PolicyReader {
    public let path: String
    /// The 1-based line of each `[[rules]]` header, when the caller knows the text (for messages).
    public var ruleLines: [Int] = []

    public init(path: String, ruleLines: [Int] = []) {
        self.path = path
        self.ruleLines = ruleLines
    }

    static let topKeys: Set<String> = ["format", "default", "on_reject", "approver", "rules", "description"]
    static let ruleKeys: Set<String> = ["id", "action", "args", "decision", "on_reject", "max_count", "rate", "after", "note"]
    static let countRange = InputRange(0...100_000_000, unit: "")
    static let windowRange = InputRange(1...100_000_000, unit: "steps")

    func fail(_ field: String, _ reason: String, rule: Int? = nil) -> PolicyError {
        let line = rule.flatMap { $0 < ruleLines.count ? ruleLines[$0] : nil }
        return .invalid(path: path, field: field, reason: reason, line: line)
    }

    public func policy(_ doc: [String: JSON]) throws(PolicyError) -> Policy {
        if let extra = doc.keys.sorted().first(where: { !PolicyReader.topKeys.contains($0) }) {
            throw fail(extra, "is not a policy key; a policy has: \(PolicyReader.topKeys.sorted().joined(separator: ", "))")
        }
        guard let format = doc["format"]?.stringValue else { throw fail("format", "is required (format = \"\(Policy.format)\")") }
        guard format == Policy.format else { throw fail("format", "is '\(format.prefix(40))'; this Rigor reads \(Policy.format)") }
        let defaultDecision = try decision(doc["default"], field: "default") ?? .approved
        if defaultDecision == .requiresApproval || defaultDecision == .observed {
            throw fail("default", "must be approved or rejected (what an action no rule decides gets)")
        }
        let onReject = try effect(doc["on_reject"], field: "on_reject") ?? .end
        var approver: Approver? = nil
        if let a = doc["approver"] { approver = try readApprover(a) }
        var rules: [PolicyRule] = []
        switch doc["rules"] {
        case nil: break
        case .array(let items)?:
            guard items.count <= Policy.maxRules else { throw fail("rules", "holds \(items.count) rules; at most \(Policy.maxRules)") }
            var seen: Set<String> = []
            for (i, item) in items.enumerated() {
                let rule = try readRule(item, index: i)
                guard seen.insert(rule.id).inserted else { throw fail("rules[\(i)].id", "'\(rule.id)' is used twice; rule ids must be unique", rule: i) }
                rules.append(rule)
            }
        case let other?: throw fail("rules", "must be an array of tables ([[rules]]), got a \(other.typeName)")
        }
        let hash: String
        do { hash = try Digest.sha256(canonical: .object(doc)) } catch { throw fail("", "cannot be hashed canonically: \(error)") }
        return Policy(rules: rules, defaultDecision: defaultDecision, onReject: onReject, approver: approver, hash: hash, layers: [path])
    }

    func decision(_ v: JSON?, field: String, rule: Int? = nil) throws(PolicyError) -> PolicyDecision? {
        guard let v else { return nil }
        guard let s = v.stringValue, let d = PolicyDecision(rawValue: s) else {
            throw fail(field, "must be one of \(PolicyDecision.allCases.map(\.rawValue).joined(separator: ", ")), got \(describe(v))", rule: rule)
        }
        return d
    }

    func effect(_ v: JSON?, field: String, rule: Int? = nil) throws(PolicyError) -> RejectionEffect? {
        guard let v else { return nil }
        guard let s = v.stringValue, let e = RejectionEffect(rawValue: s) else {
            throw fail(field, "must be \"end\" or \"continue\", got \(describe(v))", rule: rule)
        }
        return e
    }

    func describe(_ v: JSON) -> String {
        switch v {
        case .string(let s): return "\"\(s.prefix(40))\""
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        default: return "a \(v.typeName)"
        }
    }

    func int(_ v: JSON?, field: String, range: InputRange<Int>, rule: Int) throws(PolicyError) -> Int? {
        guard let v else { return nil }
        guard case .int(let i) = v else { throw fail(field, "must be an integer \(range.allowed), got \(describe(v))", rule: rule) }
        if let problem = range.problem(i) { throw fail(field, problem, rule: rule) }
        return i
    }

    func names(_ v: JSON?, field: String, rule: Int) throws(PolicyError) -> [String]? {
        switch v {
        case nil: return nil
        case .string(let s)? where !s.isEmpty: return [s]
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ !($0.stringValue ?? "").isEmpty }):
            return items.compactMap(\.stringValue)
        case let other?: throw fail(field, "must be a non-empty string or a non-empty list of them, got \(describe(other))", rule: rule)
        }
    }

    func readApprover(_ v: JSON) throws(PolicyError) -> Approver {
        guard let a = v.objectValue else { throw fail("approver", "must be a table ([approver])") }
        if let extra = a.keys.sorted().first(where: { !["kind", "request", "match_arg"].contains($0) }) {
            throw fail("approver.\(extra)", "is not an approver key; an approver has kind, request, match_arg")
        }
        guard let k = a["kind"]?.stringValue, let kind = Approver.Kind(rawValue: k) else {
            throw fail("approver.kind", "must be one of \(Approver.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got \(a["kind"].map(describe) ?? "nothing")")
        }
        var approver = Approver(kind: kind)
        if let r = a["request"] {
            guard let s = r.stringValue, !s.isEmpty else { throw fail("approver.request", "must be a non-empty action name") }
            approver.request = s
        }
        if let m = a["match_arg"] {
            guard let s = m.stringValue, !s.isEmpty else { throw fail("approver.match_arg", "must be a non-empty argument name") }
            approver.matchArg = s
        }
        return approver
    }

    func readRule(_ v: JSON, index i: Int) throws(PolicyError) -> PolicyRule {
        let at = "rules[\(i)]"
        guard let r = v.objectValue else { throw fail(at, "must be a table ([[rules]]), got \(describe(v))", rule: i) }
        if let extra = r.keys.sorted().first(where: { !PolicyReader.ruleKeys.contains($0) }) {
            throw fail("\(at).\(extra)", "is not a rule key; a rule has: \(PolicyReader.ruleKeys.sorted().joined(separator: ", "))", rule: i)
        }
        guard let id = r["id"]?.stringValue, PolicyReader.isRuleID(id) else {
            throw fail("\(at).id", "is required: 1 to 64 characters from A-Z a-z 0-9 _ . - (not 'default'), got \(r["id"].map(describe) ?? "nothing")", rule: i)
        }
        let named = "\(at) ('\(id)')"
        guard let decision = try decision(r["decision"], field: "\(named).decision", rule: i) else {
            throw fail("\(named).decision", "is required: one of \(PolicyDecision.allCases.map(\.rawValue).joined(separator: ", "))", rule: i)
        }
        var rule = PolicyRule(id: id, decision: decision)
        rule.actions = try names(r["action"], field: "\(named).action", rule: i) ?? ["*"]
        rule.onReject = try effect(r["on_reject"], field: "\(named).on_reject", rule: i)
        rule.maxCount = try int(r["max_count"], field: "\(named).max_count", range: PolicyReader.countRange, rule: i)
        rule.after = try names(r["after"], field: "\(named).after", rule: i) ?? []
        if let n = r["note"] {
            guard let s = n.stringValue, s.utf8.count <= 1024 else { throw fail("\(named).note", "must be a string of at most 1024 bytes", rule: i) }
            rule.note = s
        }
        if let rv = r["rate"] {
            guard let o = rv.objectValue, Set(o.keys) == ["max", "per_steps"] else {
                throw fail("\(named).rate", "must be an inline table { max = N, per_steps = W }", rule: i)
            }
            rule.rate = RateLimit(max: try int(o["max"], field: "\(named).rate.max", range: PolicyReader.countRange, rule: i) ?? 0,
                                  perSteps: try int(o["per_steps"], field: "\(named).rate.per_steps", range: PolicyReader.windowRange, rule: i) ?? 1)
        }
        if rule.maxCount != nil && rule.rate != nil {
            throw fail(named, "has both max_count and rate; write two rules", rule: i)
        }
        if let a = r["args"] {
            guard let o = a.objectValue else { throw fail("\(named).args", "must be a table { <arg> = <condition> }", rule: i) }
            for (name, c) in o { rule.args[name] = try condition(c, field: "\(named).args.\(name)", rule: i) }
        }
        return rule
    }

    func condition(_ c: JSON, field: String, rule: Int) throws(PolicyError) -> ArgCondition {
        switch c {
        case .string(let s): return Glob.isPattern(s) ? .glob(s) : .equals(c)
        case .int, .bool: return .equals(c)
        case .double(let d) where d.isFinite: return .equals(c)
        case .object(let o):
            let keys = Set(o.keys)
            if keys == ["equals"], let v = o["equals"] { return .equals(v) }
            if keys == ["glob"] {
                guard let g = o["glob"]?.stringValue else { throw fail("\(field).glob", "must be a string", rule: rule) }
                return .glob(g)
            }
            if keys == ["one_of"] {
                guard let items = o["one_of"]?.arrayValue, !items.isEmpty else { throw fail("\(field).one_of", "must be a non-empty list", rule: rule) }
                return .oneOf(items)
            }
            if !keys.isEmpty && keys.isSubset(of: ["min", "max"]) {
                let lo = try bound(o["min"], field: "\(field).min", rule: rule)
                let hi = try bound(o["max"], field: "\(field).max", rule: rule)
                if let lo, let hi, lo > hi { throw fail(field, "has min \(lo) above max \(hi)", rule: rule) }
                return .bounds(min: lo, max: hi)
            }
            throw fail(field, "must be a value, or one of { equals = V }, { glob = \"...\" }, { one_of = [...] }, { min = N, max = N }", rule: rule)
        default:
            throw fail(field, "must be a string, number, boolean or condition table, got \(describe(c))", rule: rule)
        }
    }

    func bound(_ v: JSON?, field: String, rule: Int) throws(PolicyError) -> Double? {
        switch v {
        case nil: return nil
        case .int(let i)?: return Double(i)
        case .double(let d)? where d.isFinite: return d
        case let other?: throw fail(field, "must be a finite number, got \(describe(other))", rule: rule)
        }
    }

    static func isRuleID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id != "default"
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }
}
