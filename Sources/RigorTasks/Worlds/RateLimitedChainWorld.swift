import RigorSpec

/// `rate_limited_chain`: `/handshake` gives an id, `/handshake_commit` must answer with a
/// phrase built from that id within a short window, and only then does `/token` (rate
/// limited, one transient failure) give `ACCESS_TOKEN` to a payload that names the handshake.
///
/// Draws, in order: the token (`string(20, A–Z0–9)`), the client id suffix
/// (`string(6, a–z0–9)`), the nonce (`digits(6)`), the phrase code (`string(6, A–Z0–9)`), the
/// handshake id salt (`string(4, a–z0–9)`), the commit window (`int(2…4)` steps), the unblock
/// moment (`int(5…9)`). It tests following a documented multi-step protocol under time
/// pressure: a slow agent sees `handshake_expired` and has to start over. As in
/// `rate_limited_api`, each early `/token` retry extends the block by one step.
public enum RateLimitedChain: WorldKind {
    public static let kind = "rate_limited_chain"
    public static let codeVersion = "2"
    public static let actions = RateLimitedServiceWorld.allActions

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let key = manifest.validator["output_key"]?.stringValue ?? "ACCESS_TOKEN"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let token = "tok-" + rng.string(20, alphabet: RateLimitedAPI.upper)
        let clientID = "rigor-chain-" + rng.string(6, alphabet: RateLimitedAPI.lower)
        let nonce = rng.digits(6)
        let code = rng.string(6, alphabet: RateLimitedAPI.upper)
        let salt = rng.string(4, alphabet: RateLimitedAPI.lower)
        let window = rng.int(in: 2...4)
        let unblockedAt = rng.int(in: 5...9)
        let phrase = "CHAIN-<handshake_id>-\(code)"
        let payload = ["client_id": clientID, "nonce": nonce]
        let rules = RateLimitedService.Rules(
            token: token, requiredPayload: payload,
            handshake: .init(phraseTemplate: phrase, window: window, idSalt: salt), unblockedAt: unblockedAt,
            earlyRetryPenalty: 1)
        let template = """
            Commit the handshake by sending its id and, as `response`, respond with: \(phrase)
            The commit is accepted for \(window) steps after /handshake; after that, ask for a new handshake.
            """
        let instructions = """
            # Chained token service
            1. call_api /handshake (no payload) returns handshake_id and expires_at_step.
            2. call_api /handshake_commit with {"handshake_id": ..., "response": ...}; the response phrase is in get_handshake_template.
            3. call_api /token with the fields of get_required_payload plus "handshake_id".
            4. /token is rate limited: on rate_limited, wait retry_after steps (inspect_status shows the clock). temporary_failure may be retried at once.
            5. Report the token with set_output key \(key).
            """
        return RateLimitedServiceWorld(
            service: RateLimitedService(rules: rules),
            checker: OutputChecker(key: key, expected: token, validator: manifest.validator),
            payloadTemplate: .object(payload.mapValues(JSON.string)),
            handshakeTemplate: template, instructions: instructions)
    }
}
