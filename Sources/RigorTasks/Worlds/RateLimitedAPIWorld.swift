import RigorSpec

/// `rate_limited_api`: fetch `ACCESS_TOKEN` from a `/token` endpoint that answers
/// `rate_limited` (with `retry_after`) until a seeded moment, then fails once with
/// `temporary_failure`, then gives the token to a request carrying the client payload.
///
/// Draws, in order: the token (`string(20, A–Z0–9)`), the client id suffix
/// (`string(6, a–z0–9)`), the nonce (`digits(6)`), the unblock moment (`int(3…7)`).
/// Calling `/token` again while still blocked extends the block by one step, so an agent that
/// hammers instead of waiting never gets through (as in TraceCore, where time only moves on
/// `wait`). It tests patience, telling a transient failure from a refusal, and reading the
/// client config before calling.
public enum RateLimitedAPI: WorldKind {
    public static let kind = "rate_limited_api"
    public static let codeVersion = "2"
    public static let actions = RateLimitedServiceWorld.basicActions

    static let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    static let lower = "abcdefghijklmnopqrstuvwxyz0123456789"

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let key = manifest.validator["output_key"]?.stringValue ?? "ACCESS_TOKEN"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let token = "tok-" + rng.string(20, alphabet: upper)
        let clientID = "rigor-client-" + rng.string(6, alphabet: lower)
        let nonce = rng.digits(6)
        let unblockedAt = rng.int(in: 3...7)
        let payload = ["client_id": clientID, "nonce": nonce]
        let rules = RateLimitedService.Rules(
            token: token, requiredPayload: payload, handshake: nil, unblockedAt: unblockedAt, earlyRetryPenalty: 1)
        return RateLimitedServiceWorld(
            service: RateLimitedService(rules: rules),
            checker: OutputChecker(key: key, expected: token, validator: manifest.validator),
            payloadTemplate: .object(payload.mapValues(JSON.string)),
            handshakeTemplate: nil, instructions: nil)
    }
}
