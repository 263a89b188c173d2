import Foundation
import RigorAgentHost
import RigorSpec

/// The TRACE-protocol endpoint an agent reaches at `RIGOR_TRACE_URL` (spec/trace-endpoint.md):
/// the routes the `traceprotocol` client calls, with what it proposes and attaches recorded for
/// the artifact.
///
/// - `POST /actions` `{id, type, actor, target?, params?, timestamp?}` → `{actionId, status}`:
///   the decision comes from `decide` (the episode's policy), `observed` when there is none.
/// - `POST /evidence` `{actionId, checks: [{name, pass, approver?, note?}]}` → `{actionId,
///   accepted}`: checks attach to a proposed action (404 for an unknown one).
/// - `GET /policy[?actionType=T]` → `{rules: [...]}`: the rules `policy` lists (filtered).
///
/// Bounded: at most `maxProposals` proposals and `maxChecksPerAction` checks per action; ids,
/// types and names at most 128 bytes. Unknown routes 404, wrong methods 405, bodies that are not
/// the expected JSON 400 or 422, each with `{"error": ...}` saying what is wrong.
public final class TraceEndpoint: @unchecked Sendable {
    /// A decision and the rule that made it.
    public typealias Decide = @Sendable (_ type: String, _ params: JSON) -> (status: String, ruleID: String)

    /// Where the agent finds the endpoint: `http://127.0.0.1:<port>`.
    public static let environmentVariable = "RIGOR_TRACE_URL"
    /// The port inside a sandbox (namespace level), the same on every run.
    public static let sandboxPort: UInt16 = 7_707

    public static let maxProposals = 1_000
    public static let maxChecksPerAction = 64
    public static let maxNameBytes = 128

    private let decide: Decide
    private let rules: [JSON]
    private let lock = NSLock()
    private var proposals: [String: Int] = [:]
    private var records: [JSON] = []

    /// The step the runner is waiting on (the one a proposal is recorded under).
    private let step: @Sendable () -> Int

    public init(rules: [JSON] = [], decide: @escaping Decide = { _, _ in ("observed", "default") },
                step: @escaping @Sendable () -> Int = { 0 }) {
        self.decide = decide
        self.rules = rules
        self.step = step
    }

    /// The endpoint for an episode under `policy` (nil: none, every proposal `observed`):
    /// decisions come from `gate`, the policy as it stands at the step the runner waits on.
    public convenience init(policy: Policy?, gate: LivePolicyGate) {
        let rules: [JSON] = (policy?.rules ?? []).map { rule in
            var o: [String: JSON] = ["id": .string(rule.id), "decision": .string(rule.decision.rawValue),
                                     "actions": .array(rule.actions.map(JSON.string))]
            if rule.actions.count == 1, let only = rule.actions.first { o["when"] = ["actionType": .string(only)] }
            if let note = rule.note { o["note"] = .string(note) }
            return .object(o)
        }
        self.init(rules: rules, decide: { type, params in gate.decide(type: type, params: params) }, step: { gate.step })
    }

    /// What the agent proposed, with decisions and attached evidence, in order: for the artifact.
    public var recorded: [JSON] {
        lock.lock()
        defer { lock.unlock() }
        return records
    }

    public func handle(_ request: EndpointRequest) -> EndpointResponse {
        switch (request.method, request.path) {
        case ("POST", "/actions"): return propose(request.body)
        case ("POST", "/evidence"): return attach(request.body)
        case ("GET", "/policy"):
            let type = request.query["actionType"]
            let chosen = rules.filter { type == nil || $0["when"]?["actionType"]?.stringValue == type }
            return Self.ok(["rules": .array(chosen)])
        case (_, "/actions"), (_, "/evidence"), (_, "/policy"):
            return Self.error(405, "\(request.method) is not allowed on \(request.path)")
        default:
            return Self.error(404, "no route \(request.path); the TRACE endpoint serves POST /actions, POST /evidence, GET /policy")
        }
    }

    private func propose(_ body: [UInt8]) -> EndpointResponse {
        guard let action = try? JSON.parse(body, maxDepth: 32), action.objectValue != nil else { return Self.error(400, "the body must be a JSON object (an action)") }
        guard let id = Self.name(action["id"]) else { return Self.error(422, "action.id must be a non-empty string of at most \(Self.maxNameBytes) bytes") }
        guard let type = Self.name(action["type"]) else { return Self.error(422, "action.type must be a non-empty string of at most \(Self.maxNameBytes) bytes") }
        let params = action["params"] ?? .null
        let (status, rule) = decide(type, params)
        let step = self.step()
        lock.lock()
        defer { lock.unlock() }
        guard proposals[id] == nil else { return Self.error(409, "action '\(id)' was already proposed") }
        guard proposals.count < Self.maxProposals else { return Self.error(429, "more than \(Self.maxProposals) proposals in this episode") }
        proposals[id] = records.count
        records.append([
            "id": .string(id), "type": .string(type), "actor": action["actor"] ?? .null, "target": action["target"] ?? .null,
            "params": params, "decision": .string(status), "rule_id": .string(rule), "evidence": [], "step": .int(step),
        ])
        return Self.ok(["actionId": .string(id), "status": .string(status)])
    }

    private func attach(_ body: [UInt8]) -> EndpointResponse {
        guard let value = try? JSON.parse(body, maxDepth: 32), value.objectValue != nil else { return Self.error(400, "the body must be a JSON object {actionId, checks}") }
        guard let id = Self.name(value["actionId"]) else { return Self.error(422, "actionId must be a non-empty string") }
        guard let checks = value["checks"]?.arrayValue, checks.count <= Self.maxChecksPerAction else {
            return Self.error(422, "checks must be a list of at most \(Self.maxChecksPerAction) {name, pass, note} objects")
        }
        var accepted: [JSON] = []
        for (i, c) in checks.enumerated() {
            guard let name = Self.name(c["name"]), let pass = c["pass"]?.boolValue else {
                return Self.error(422, "checks[\(i)] needs a name (string) and pass (true or false)")
            }
            var check: [String: JSON] = ["name": .string(name), "pass": .bool(pass), "source": "trace"]
            if let note = c["note"]?.stringValue {
                guard note.utf8.count <= 4096 else { return Self.error(422, "checks[\(i)].note is over 4096 bytes") }
                check["note"] = .string(note)
            }
            if let approver = c["approver"]?.stringValue {
                guard approver.utf8.count <= Self.maxNameBytes else { return Self.error(422, "checks[\(i)].approver is over \(Self.maxNameBytes) bytes") }
                check["approver"] = .string(approver)
            }
            accepted.append(.object(check))
        }
        lock.lock()
        defer { lock.unlock() }
        guard let index = proposals[id], case .object(var record) = records[index] else { return Self.error(404, "no proposed action '\(id)'; POST /actions first") }
        let existing = record["evidence"]?.arrayValue ?? []
        guard existing.count + accepted.count <= Self.maxChecksPerAction else {
            return Self.error(422, "action '\(id)' would carry more than \(Self.maxChecksPerAction) checks")
        }
        record["evidence"] = .array(existing + accepted)
        records[index] = .object(record)
        return Self.ok(["actionId": .string(id), "accepted": .int(accepted.count)])
    }

    /// The recording as the artifact keeps it: the hashed `trace_actions`, where each proposal is
    /// numbered (`n`, from 1) instead of carrying the agent's id, and those ids apart (for
    /// `diagnostics`, outside the hash): the client makes a random uuid unless the agent gives
    /// one, which must not make two runs of the same episode differ.
    public static func artifactParts(_ recorded: [JSON]) -> (hashed: [JSON], ids: [String]) {
        var hashed: [JSON] = []
        var ids: [String] = []
        for (i, r) in recorded.enumerated() {
            guard case .object(var o) = r else { continue }
            ids.append(o["id"]?.stringValue ?? "")
            o["id"] = nil
            o["n"] = .int(i + 1)
            hashed.append(.object(o))
        }
        return (hashed, ids)
    }

    static func name(_ value: JSON?) -> String? {
        guard let s = value?.stringValue, !s.isEmpty, s.utf8.count <= maxNameBytes else { return nil }
        return s
    }

    static func ok(_ value: JSON) -> EndpointResponse {
        EndpointResponse(status: 200, body: (try? value.canonicalBytes()) ?? Array("{}".utf8))
    }

    static func error(_ status: Int, _ message: String) -> EndpointResponse {
        EndpointResponse(status: status, body: (try? JSON.object(["error": .string(message)]).canonicalBytes()) ?? Array("{}".utf8))
    }
}

/// The episode's policy as the TRACE endpoint sees it: the episode loop publishes its state
/// before each step; a proposal is decided on a copy, so asking never consumes a count, a rate
/// window or an approval (only actions the world runs do, spec/policy.md).
public final class LivePolicyGate: @unchecked Sendable {
    private let lock = NSLock()
    private var state: PolicyState?
    private var current = 1

    public init(policy: Policy?) {
        state = policy.map(PolicyState.init(policy:))
    }

    /// Called by the runner before it sends the observation of `step`.
    public func publish(_ state: PolicyState?, step: Int) {
        lock.lock()
        self.state = state
        current = step
        lock.unlock()
    }

    public var step: Int {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func decide(type: String, params: JSON) -> (status: String, ruleID: String) {
        lock.lock()
        let snapshot = state
        let step = current
        lock.unlock()
        guard var copy = snapshot else { return ("observed", "default") }
        let record = copy.evaluate(type: type, args: params.objectValue ?? [:], step: step)
        return (record.decision.rawValue, record.ruleID)
    }
}
