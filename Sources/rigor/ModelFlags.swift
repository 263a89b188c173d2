import ArgumentParser
import RigorRunner

/// `--models` and `--model-upstream`, as every command that runs episodes takes them
/// (spec/model-gateway.md §8).
struct ModelFlags: ParsableArguments {
    @Option(name: .customLong("models"),
            help: ArgumentHelp("The model gateway (spec/model-gateway.md): live (forward the agent's OpenAI/Anthropic calls to the upstream, with the key from your environment), record (forward, and keep every exchange on the episode's tape in the store), or replay (answer from a tape, no upstream; a request not on it ends the episode, saying how it differs from the nearest recorded one). The agent finds the gateway in OPENAI_BASE_URL, ANTHROPIC_BASE_URL and RIGOR_MODEL_URL at every isolation level. Default: replay when the run being re-run (replay, ci) has a tape; else rigor.toml's [models] mode; else live when the task or project declares [models] or --model-upstream is given; else no gateway.", valueName: "mode"))
    var models: String?

    @Option(name: .customLong("model-upstream"), parsing: .singleValue,
            help: ArgumentHelp("Where the gateway forwards a provider's calls, PROVIDER=URL (openai or anthropic; default https://api.openai.com, https://api.anthropic.com, or [models.upstreams] in rigor.toml). Repeatable.", valueName: "provider=url"))
    var modelUpstream: [String] = []

    func validate() throws {
        _ = try parsed(defaultMode: nil)
    }

    /// What the flags ask for; nil when neither is given. `defaultMode`: the mode when only
    /// `--model-upstream` is.
    func parsed(defaultMode: ModelMode?) throws -> ModelOptions? {
        guard models != nil || !modelUpstream.isEmpty else { return nil }
        var m = ModelOptions(mode: defaultMode)
        if let models {
            guard let mode = ModelMode(rawValue: models) else { throw ValidationError("--models must be one of: live, record, replay (got '\(models)')") }
            m.mode = mode
        }
        m.upstreams = try Self.upstreams(modelUpstream)
        return m
    }

    /// `PROVIDER=URL` flags, checked (ModelOptions.parseUpstream).
    static func upstreams(_ given: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for text in given {
            do {
                let (provider, url) = try ModelOptions.parseUpstream(text)
                out[provider] = url
            } catch { throw ValidationError("\(error)") }
        }
        return out
    }
}
