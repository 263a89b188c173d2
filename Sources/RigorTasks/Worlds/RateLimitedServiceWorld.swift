import RigorSpec

/// The world of one episode of an `api` task: a `RateLimitedService`, the documents an agent
/// can ask for (payload template, handshake template, instructions) and the agent's outputs.
///
/// The three api world kinds (`rate_limited_api`, `rate_limited_chain`,
/// `deterministic_rate_service`) build one of these with different rules, so the service logic
/// exists once. Only the actions a task's manifest declares can reach `execute`; the documents
/// a kind does not have answer with a stable error code instead.
public final class RateLimitedServiceWorld: TaskWorld {
    var service: RateLimitedService
    var checker: OutputChecker
    /// What `get_client_config` and `get_required_payload` return as `payload_template`.
    let payloadTemplate: JSON
    let handshakeTemplate: String?
    let instructions: String?

    /// The actions of a service without documents (`rate_limited_api`).
    public static let basicActions = ["call_api", "get_client_config", "get_required_payload", "wait", "inspect_status", "set_output"]
    /// With the handshake template and the instructions (`rate_limited_chain`, `deterministic_rate_service`).
    public static let allActions = basicActions + ["get_handshake_template", "read_instructions"]

    init(service: RateLimitedService, checker: OutputChecker, payloadTemplate: JSON,
         handshakeTemplate: String?, instructions: String?) {
        self.service = service
        self.checker = checker
        self.payloadTemplate = payloadTemplate
        self.handshakeTemplate = handshakeTemplate
        self.instructions = instructions
    }

    /// Whether `/token` has handed out the token in this episode.
    public var tokenIssued: Bool { service.tokenIssued }

    public func execute(_ action: CheckedAction) -> ActionOutcome {
        // Every action takes one unit of virtual time, `wait` takes what it asks for.
        var units = 1
        defer { service.advance(by: units) }
        switch action.name {
        case "call_api":
            let endpoint = action.args["endpoint"]?.stringValue ?? ""
            let result = service.call(endpoint: endpoint, payload: action.args["payload"])
            return ActionOutcome(result: result, ioAudit: [
                ["type": "custom", "op": "call_api", "endpoint": .string(endpoint), "verdict": "allowed"],
            ])
        case "get_client_config", "get_required_payload":
            return ActionOutcome(result: ["ok": true, "payload_template": payloadTemplate])
        case "get_handshake_template":
            guard let handshakeTemplate else { return .failure("template_missing") }
            return ActionOutcome(result: ["ok": true, "template": .string(handshakeTemplate)])
        case "read_instructions":
            guard let instructions else { return .failure("missing_readme") }
            return ActionOutcome(result: ["ok": true, "readme": .string(instructions)])
        case "wait":
            switch service.waitUnits(action.args["steps"]) {
            case .success(let n):
                units = n
                return ActionOutcome(result: ["ok": true, "waited": .int(n)])
            case .failure(let error):
                return ActionOutcome(result: error.json)
            }
        case "inspect_status":
            return ActionOutcome(result: ["ok": true, "status": service.status])
        case "set_output":
            let key = action.args["key"]?.stringValue ?? ""
            guard key == checker.key else {
                return ActionOutcome(result: ["ok": false, "error": "invalid_output_key",
                                              "message": .string("only \(checker.key) may be set in this task")])
            }
            return checker.setOutput(key: key, value: action.args["value"]?.stringValue ?? "")
        default:
            return .failure("unsupported_action")
        }
    }

    /// Solved when the reported token is right and was really fetched from `/token`.
    public func evaluate() -> WorldVerdict {
        let verdict = checker.evaluate()
        if case .success = verdict, !service.tokenIssued {
            return .pending("\(checker.key) matches but was never retrieved from /token")
        }
        return verdict
    }

    public var visibleState: JSON { ["files_seen": []] }
}
