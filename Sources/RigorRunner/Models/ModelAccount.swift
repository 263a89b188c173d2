import RigorSpec

/// What an episode's model gateway leaves in the artifact (spec/model-gateway.md §7).
///
/// Hashed: `models` (the budgets, the calls and tokens used, the tape's hash) and
/// `determinism.tooling.models` (each provider and model called, with the tape's hash as
/// `version`). A replay that is served the whole tape writes the same tape hash, so the same
/// artifact_hash; a different answer anywhere changes it.
/// Not hashed: `diagnostics.models` (the mode, the cost at today's prices, the URL the agent
/// was given, whether the tape was stored).
public enum ModelAccount {
    /// `diagnostics.models.cost_usd` of an artifact's diagnostics (0 when absent); with
    /// `liveOnly`, `live_cost_usd`: what the calls that reached an upstream cost.
    public static func cost(_ diagnostics: JSON, liveOnly: Bool = false) -> Double {
        switch diagnostics["models"]?[liveOnly ? "live_cost_usd" : "cost_usd"] {
        case .double(let d)?: return d
        case .int(let i)?: return Double(i)
        default: return 0
        }
    }

    static func add(_ gateway: ModelGateway, to record: inout Artifact, store: ModelTapeStore?, agentURL: String?) throws(RunnerError) {
        let settings = gateway.settings
        // Persisted and hashed in its redacted form, as the artifact is.
        let tape = gateway.tape.redacted(by: settings.redactor)
        var tapeHash: String? = nil
        var stored = false
        if !tape.isEmpty {
            tapeHash = try tape.canonical().hash
            // Record (and a fork going on past its parent's tape) keeps the tape; a replay's
            // tape is the one it was served, already there.
            let keeps = settings.mode == .record || settings.beyondTape == .record || !settings.overrides.isEmpty
            if keeps, let store {
                try store.put(tape)
                stored = true
            } else if let store, let tapeHash {
                stored = store.contains(tapeHash)
            }
        }
        let usage = tape.usage
        record.models = [
            "budgets": settings.budgets.json,
            "calls": .int(gateway.callCount),
            "exchanges": .int(tape.exchanges.count),
            "input_tokens": .int(usage.inputTokens),
            "output_tokens": .int(usage.outputTokens),
            "tape": tapeHash.map(JSON.string) ?? .null,
        ]
        record.toolingModels = tape.toolingEntries(version: tapeHash)
        let (cost, unpriced) = settings.prices.cost(of: tape)
        let live = gateway.liveTape
        var diagnostics: [String: JSON] = [
            "mode": .string(settings.mode.rawValue),
            "cost_usd": .double(cost),
            "live_calls": .int(live.exchanges.count),
            "live_cost_usd": .double(settings.prices.cost(of: live).usd),
            "tape_stored": .bool(stored),
            "upstream_failures": .int(gateway.failedUpstreamCalls),
            "url": .string(agentURL ?? ""),
        ]
        if !unpriced.isEmpty { diagnostics["unpriced_models"] = .array(unpriced.map(JSON.string)) }
        if !settings.overrides.isEmpty { diagnostics["overridden_calls"] = .array(settings.overrides.keys.sorted().map(JSON.int)) }
        if case .object(var d) = record.diagnostics {
            d["models"] = .object(diagnostics)
            record.diagnostics = .object(d)
        }
    }
}
