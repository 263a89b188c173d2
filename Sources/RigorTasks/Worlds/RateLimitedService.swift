import RigorSpec

/// The mock HTTP service behind the `api` suite: a `/token` endpoint that refuses with
/// `rate_limited` until a seeded moment, fails once with `temporary_failure`, then hands out the
/// token; optionally guarded by a `/handshake` → `/handshake_commit` flow.
///
/// Time is virtual and counted in steps: every executed action takes one unit and
/// `wait(steps)` takes `steps` units. Nothing reads a clock, so the same actions always meet
/// the same answers. The three api tasks differ only in the `Rules` they pass in.
struct RateLimitedService: Sendable {
    /// How the service behaves; everything seeded is drawn by the world kind, not here.
    struct Rules: Sendable {
        /// The secret `/token` returns.
        var token: String
        /// Field → value the `/token` payload must carry. Values may hold `<handshake_id>`,
        /// which stands for the confirmed handshake's id (the template an agent must fill).
        var requiredPayload: [String: String]
        /// Nil: no handshake; `/token` is open to any valid payload.
        var handshake: HandshakeRules?
        /// The first moment `/token` stops answering `rate_limited`.
        var unblockedAt: Int
        /// Added to the block each time `/token` is called again before the announced
        /// `retry_after` has passed. 0 forgives impatience; 1 makes hammering futile, since
        /// the block then grows as fast as the clock.
        var earlyRetryPenalty: Int = 0
        /// Whether `bad_request`, `invalid_handshake` and `wrong_phrase` void the handshake, so
        /// an agent that sends garbage has to start the flow again.
        var errorsVoidHandshake: Bool = false
    }

    struct HandshakeRules: Sendable {
        /// The phrase `/handshake_commit` expects as `response`, with `<handshake_id>` in it.
        var phraseTemplate: String
        /// Steps after `/handshake` during which a commit is accepted; nil: no expiry.
        var window: Int?
        /// Seeded part of every handshake id, so ids are not guessable from the clock alone.
        var idSalt: String
    }

    /// The handshake's life cycle; one place decides each transition.
    enum Session: Sendable, Equatable {
        case none
        case issued(id: String, expiresAt: Int?)
        case confirmed(id: String)

        var id: String? {
            switch self {
            case .none: return nil
            case .issued(let id, _), .confirmed(let id): return id
            }
        }
    }

    /// The longest single `wait`; bounds the clock so no input can overflow it.
    static let maxWait = 1000

    let rules: Rules
    private(set) var now = 0
    private(set) var blockedUntil: Int
    private(set) var session: Session = .none
    private(set) var transientPending = true
    private(set) var tokenIssued = false
    private(set) var rateLimitHits = 0
    private(set) var callAttempts = 0
    private(set) var tokenCalls = 0
    private(set) var payloadErrors = 0

    init(rules: Rules) {
        self.rules = rules
        self.blockedUntil = rules.unblockedAt
    }

    /// Moves virtual time on; the world calls it once after every executed action.
    mutating func advance(by units: Int) { now += units }

    /// `wait(steps)`: checks the argument; the world advances the clock.
    func waitUnits(_ steps: JSON?) -> Result<Int, ServiceError> {
        guard let n = steps?.intValue, n >= 1, n <= Self.maxWait else {
            return .failure(.init(code: "invalid_args", message: "steps must be an integer from 1 to \(Self.maxWait)"))
        }
        return .success(n)
    }

    /// A refusal with its stable code and any extra fields (e.g. `retry_after`).
    struct ServiceError: Error, Sendable {
        var code: String
        var message: String
        var extra: [String: JSON] = [:]

        var json: JSON {
            var o = extra
            o["ok"] = false
            o["error"] = .string(code)
            o["message"] = .string(message)
            return .object(o)
        }
    }

    /// `call_api(endpoint, payload)`. The payload may be an object, a JSON text holding one, or null.
    mutating func call(endpoint: String, payload raw: JSON?) -> JSON {
        callAttempts += 1
        let payload: [String: JSON]?
        switch raw {
        case .none, .some(.null): payload = nil
        case .some(.object(let o)): payload = o
        case .some(.string(let text)):
            guard let parsed = try? JSON.parse(text), let o = parsed.objectValue else {
                return ServiceError(code: "bad_request", message: "payload must be a JSON object").json
            }
            payload = o
        default:
            return ServiceError(code: "bad_request", message: "payload must be a JSON object").json
        }
        let result: Result<JSON, ServiceError>
        switch endpoint {
        case "/handshake" where rules.handshake != nil: result = openHandshake()
        case "/handshake_commit" where rules.handshake != nil: result = commit(payload)
        case "/token": result = token(payload)
        default: result = .failure(.init(code: "not_found", message: "unknown endpoint"))
        }
        switch result {
        case .success(let json): return json
        case .failure(let error):
            if rules.errorsVoidHandshake, ["bad_request", "invalid_handshake", "wrong_phrase"].contains(error.code) {
                session = .none
            }
            return error.json
        }
    }

    private mutating func openHandshake() -> Result<JSON, ServiceError> {
        guard let hs = rules.handshake else { return .failure(.init(code: "not_found", message: "unknown endpoint")) }
        let id = "hs-\(hs.idSalt)-\(now)"
        let expiresAt = hs.window.map { now + $0 }
        session = .issued(id: id, expiresAt: expiresAt)
        var o: [String: JSON] = ["ok": true, "handshake_id": .string(id)]
        if let expiresAt { o["expires_at_step"] = .int(expiresAt) }
        return .success(.object(o))
    }

    private mutating func commit(_ payload: [String: JSON]?) -> Result<JSON, ServiceError> {
        guard let hs = rules.handshake else { return .failure(.init(code: "not_found", message: "unknown endpoint")) }
        guard let payload else { return .failure(.init(code: "invalid_handshake", message: "payload with handshake_id and response required")) }
        guard case .issued(let id, let expiresAt) = session, payload["handshake_id"]?.stringValue == id else {
            return .failure(.init(code: "invalid_handshake", message: "unknown or already confirmed handshake_id"))
        }
        if let expiresAt, now > expiresAt {
            session = .none
            return .failure(.init(code: "handshake_expired", message: "the commit window closed; request a new handshake"))
        }
        let expected = hs.phraseTemplate.replacing("<handshake_id>", with: id)
        guard payload["response"]?.stringValue == expected else {
            return .failure(.init(code: "wrong_phrase", message: "response does not match the handshake template"))
        }
        session = .confirmed(id: id)
        return .success(["ok": true, "message": "handshake_confirmed"])
    }

    private mutating func token(_ payload: [String: JSON]?) -> Result<JSON, ServiceError> {
        tokenCalls += 1
        var confirmedID: String? = nil
        if rules.handshake != nil {
            guard case .confirmed(let id) = session else {
                return .failure(.init(code: "handshake_required", message: "complete /handshake and /handshake_commit first"))
            }
            confirmedID = id
        }
        guard let payload, payloadMatches(payload, handshakeID: confirmedID) else {
            payloadErrors += 1
            return .failure(.init(code: "bad_request", message: "payload is missing required fields or values"))
        }
        if let confirmedID, payload["handshake_id"]?.stringValue != confirmedID {
            return .failure(.init(code: "invalid_handshake", message: "payload names another handshake"))
        }
        if now < blockedUntil {
            // A repeat refusal means the agent did not honour the retry_after it was given.
            if rateLimitHits > 0 { blockedUntil += rules.earlyRetryPenalty }
            rateLimitHits += 1
            return .failure(.init(code: "rate_limited", message: "too many requests; retry after retry_after steps",
                                  extra: ["retry_after": .int(blockedUntil - now)]))
        }
        if transientPending {
            transientPending = false
            return .failure(.init(code: "temporary_failure", message: "upstream hiccup; safe to retry at once"))
        }
        tokenIssued = true
        return .success(["ok": true, "data": ["token": .string(rules.token)]])
    }

    private func payloadMatches(_ payload: [String: JSON], handshakeID: String?) -> Bool {
        for (key, template) in rules.requiredPayload {
            let expected = handshakeID.map { template.replacing("<handshake_id>", with: $0) } ?? template
            guard payload[key]?.stringValue == expected else { return false }
        }
        if handshakeID != nil && payload["handshake_id"] == nil { return false }
        return true
    }

    /// What `inspect_status` shows: the clock, the block, and the handshake, never the secrets.
    var status: JSON {
        var o: [String: JSON] = [
            "now": .int(now), "blocked_until": .int(blockedUntil), "token_retrieved": .bool(tokenIssued),
            "rate_limit_hits": .int(rateLimitHits), "call_attempts": .int(callAttempts),
            "token_calls": .int(tokenCalls), "payload_errors": .int(payloadErrors),
        ]
        if rules.handshake != nil {
            o["handshake_id"] = session.id.map(JSON.string) ?? .null
            if case .confirmed = session { o["handshake_confirmed"] = true } else { o["handshake_confirmed"] = false }
        }
        return .object(o)
    }
}
