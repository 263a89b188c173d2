import RigorSpec

/// `deterministic_rate_service`: the chained flow of `rate_limited_chain`, stricter. The
/// required payload is a template with `<handshake_id>` placeholders that must be filled
/// (including a signature field), any `bad_request`, `invalid_handshake` or `wrong_phrase`
/// voids the handshake, and calling `/token` again before `retry_after` has passed extends the
/// block by two steps. The commit has no expiry.
///
/// Draws, in order: the token (`string(20, A–Z0–9)`), the client id suffix
/// (`string(6, a–z0–9)`), the nonce (`digits(6)`), the phrase code (`string(6, A–Z0–9)`), the
/// handshake id salt (`string(4, a–z0–9)`), the unblock moment (`int(4…8)`).
public enum DeterministicRateService: WorldKind {
    public static let kind = "deterministic_rate_service"
    public static let codeVersion = "2"
    public static let actions = RateLimitedServiceWorld.allActions

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let key = manifest.validator["output_key"]?.stringValue ?? "ACCESS_TOKEN"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let token = "tok-" + rng.string(20, alphabet: RateLimitedAPI.upper)
        let clientID = "rigor-drs-" + rng.string(6, alphabet: RateLimitedAPI.lower)
        let nonce = rng.digits(6)
        let code = rng.string(6, alphabet: RateLimitedAPI.upper)
        let salt = rng.string(4, alphabet: RateLimitedAPI.lower)
        let unblockedAt = rng.int(in: 4...8)
        let phrase = "DRS-<handshake_id>-\(code)"
        let payload = [
            "client_id": clientID, "nonce": nonce, "handshake_id": "<handshake_id>",
            "signature": "SIG-\(nonce)-<handshake_id>",
        ]
        var rules = RateLimitedService.Rules(
            token: token, requiredPayload: payload,
            handshake: .init(phraseTemplate: phrase, window: nil, idSalt: salt), unblockedAt: unblockedAt)
        rules.earlyRetryPenalty = 2
        rules.errorsVoidHandshake = true
        let template = """
            Deterministic Rate Service. To confirm the session, respond with: \(phrase)
            Every <handshake_id> stands for the id /handshake returned.
            """
        let instructions = """
            # Deterministic Rate Service
            1. call_api /handshake returns handshake_id.
            2. call_api /handshake_commit with {"handshake_id": ..., "response": ...}; the phrase is in get_handshake_template.
            3. call_api /token with get_required_payload's template, every <handshake_id> replaced by the id.
            4. rate_limited: wait exactly retry_after steps before the next /token; calling early extends the block.
            5. temporary_failure: retry /token at once.
            6. bad_request, invalid_handshake or wrong_phrase void the handshake: start again at step 1.
            7. Report the token with set_output key \(key).
            """
        return RateLimitedServiceWorld(
            service: RateLimitedService(rules: rules),
            checker: OutputChecker(key: key, expected: token, validator: manifest.validator),
            payloadTemplate: .object(payload.mapValues(JSON.string)),
            handshakeTemplate: template, instructions: instructions)
    }
}
