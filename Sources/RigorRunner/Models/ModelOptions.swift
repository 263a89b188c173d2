import Foundation
import RigorSpec
import RigorTasks

/// A project's `[models]` table (rigor.toml, spec/model-gateway.md §8).
public struct ProjectModels: Sendable, Equatable {
    public var mode: ModelMode?
    /// Provider → base URL.
    public var upstreams: [String: String] = [:]
    /// Provider → the environment variable that holds its key (default `OPENAI_API_KEY`,
    /// `ANTHROPIC_API_KEY`).
    public var keyVariables: [String: String] = [:]
    public var ignore: [String] = []
    public var prices: [String: ModelPrices.Price] = [:]

    public init() {}
}

/// What the caller asks of the model gateway for one run (`--models`, `--model-upstream`), and
/// what a replay or fork brings (the recording's tape).
public struct ModelOptions: Sendable {
    public static let providers = ["anthropic", "openai"]
    public static let defaultKeyVariables = ["openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"]
    public static let defaultUpstreams = ["openai": "https://api.openai.com", "anthropic": "https://api.anthropic.com"]

    public var mode: ModelMode?
    /// `--model-upstream PROVIDER=URL`.
    public var upstreams: [String: String] = [:]
    /// The recording's tape, by hash (found in the store) or whole (a bundle's).
    public var tapeHash: String?
    public var tape: ModelTape?
    /// A fork: what requests past the parent's tape get (`live` or `record`).
    public var beyondTape: ModelMode?
    public var overrides: [Int: ModelResponseOverride] = [:]
    /// When the gateway would run live, record instead: what is being made is meant to be
    /// replayed (`rigor baseline record`).
    public var recordWhenLive = false

    public init(mode: ModelMode? = nil) {
        self.mode = mode
    }

    /// Whether the caller asked for a gateway at all.
    public var requested: Bool { mode != nil || !upstreams.isEmpty || tapeHash != nil || tape != nil }

    /// Why `url` cannot be an upstream, or nil.
    public static func upstreamProblem(_ url: String) -> String? {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parsed.host, !host.isEmpty else {
            return "'\(PathName.shown(url))' is not an http:// or https:// URL with a host"
        }
        // A key in the URL would reach the agent (in the gateway's 502 message) and the tape, and
        // is readable on the command line: keys come from the environment only (§8).
        if parsed.user != nil || parsed.password != nil {
            return "the URL must not carry credentials (user:password@); the gateway takes keys from the environment ([models.keys])"
        }
        if parsed.query != nil || parsed.fragment != nil { return "'\(PathName.shown(url))' must not carry a query or a fragment" }
        return nil
    }

    /// `openai=https://…` → (provider, URL); a usage error naming what is wrong otherwise.
    public static func parseUpstream(_ text: String) throws(RunnerError) -> (String, String) {
        guard let eq = text.firstIndex(of: "=") else {
            throw .usage("--model-upstream takes PROVIDER=URL (e.g. openai=http://127.0.0.1:8080), got '\(PathName.shown(text))'")
        }
        let provider = String(text[..<eq]), url = String(text[text.index(after: eq)...])
        guard providers.contains(provider) else {
            throw .usage("--model-upstream: '\(PathName.shown(provider))' is no provider Rigor knows; use \(providers.joined(separator: " or "))")
        }
        if let problem = upstreamProblem(url) { throw .usage("--model-upstream \(provider): \(problem)") }
        return (provider, url)
    }

    /// The tape hash an artifact names in `models.tape`, when it has one.
    public static func tapeHash(of artifact: JSON) -> String? {
        artifact["models"]?["tape"]?.stringValue
    }
}

extension Workspace {
    /// The gateway settings for a run of `task` (nil: no gateway). A gateway is offered when the
    /// caller asks for one, the task or the project declares `[models]`, or the run being
    /// replayed had one. The mode: the caller's, else the project's, else `replay` when there is
    /// a tape, else `live`. Keys come from the caller's environment only.
    func modelSettings(_ options: ModelOptions, task: LoadedTask,
                       environment: [String: String] = CallerSecrets.environment) throws(RunnerError) -> ModelGatewaySettings? {
        let projectModels = project?.models
        guard options.requested || task.manifest.models != nil || projectModels != nil else { return nil }
        let hasTape = options.tape != nil || options.tapeHash != nil
        // A project that says replay means it: without a tape, any model call ends the episode.
        let mode = options.mode ?? projectModels?.mode ?? (hasTape ? .replay : .live)
        var settings = ModelGatewaySettings(mode: mode == .live && options.recordWhenLive ? .record : mode)
        settings.upstreams = ModelOptions.defaultUpstreams.merging(projectModels?.upstreams ?? [:]) { _, p in p }
            .merging(options.upstreams) { _, flag in flag }
        CallerSecrets.scrubIfCaptured(Array(projectModels?.keyVariables.values ?? [:].values))
        for provider in ModelOptions.providers {
            let variable = projectModels?.keyVariables[provider] ?? ModelOptions.defaultKeyVariables[provider] ?? ""
            if let key = environment[variable], !key.isEmpty { settings.keys[provider] = key }
        }
        settings.matching = ModelMatching(ignore: (task.manifest.models?.ignore ?? []) + (projectModels?.ignore ?? []))
        if let m = task.manifest.models {
            settings.budgets = ModelBudgets(calls: m.calls, inputTokens: m.inputTokens, outputTokens: m.outputTokens)
        }
        if let prices = projectModels?.prices, !prices.isEmpty {
            settings.prices = ModelPrices(table: ModelPrices.standard.table.merging(prices) { _, p in p })
        }
        settings.beyondTape = options.beyondTape
        settings.overrides = options.overrides
        if mode == .replay || options.beyondTape != nil {
            if let tape = options.tape {
                settings.tape = tape
            } else if let hash = options.tapeHash {
                settings.tape = try ModelTapeStore(stateDirectory: stateDirectory).get(hash)
            } else if mode == .replay {
                // Replay with nothing recorded: any model call ends the episode, saying so.
                settings.tape = nil
            }
        }
        if mode == .replay && options.beyondTape == nil {
            settings.upstreams = [:]
            settings.keys = [:]
        }
        return settings
    }
}
