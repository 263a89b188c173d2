import RigorSpec

/// US dollars per million tokens, by model: what an episode's model calls cost
/// (spec/model-gateway.md §5). The standard table covers common models; `[models.prices]` in
/// rigor.toml adds to it or replaces entries. A model matches an entry named exactly, or
/// the longest entry that is a prefix of its name (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
/// Cost is reported, never hashed: prices change, the episode does not.
public struct ModelPrices: Sendable, Equatable {
    public struct Price: Sendable, Equatable {
        public var input: Double
        public var output: Double

        public init(input: Double, output: Double) {
            self.input = input
            self.output = output
        }
    }

    public var table: [String: Price]

    public init(table: [String: Price]) {
        self.table = table
    }

    public static let standard = ModelPrices(table: [
        "gpt-4o": Price(input: 2.50, output: 10.00),
        "gpt-4o-mini": Price(input: 0.15, output: 0.60),
        "gpt-4.1": Price(input: 2.00, output: 8.00),
        "gpt-4.1-mini": Price(input: 0.40, output: 1.60),
        "gpt-4.1-nano": Price(input: 0.10, output: 0.40),
        "o3-mini": Price(input: 1.10, output: 4.40),
        "claude-3-5-haiku": Price(input: 0.80, output: 4.00),
        "claude-3-5-sonnet": Price(input: 3.00, output: 15.00),
        "claude-3-7-sonnet": Price(input: 3.00, output: 15.00),
        "claude-sonnet-4": Price(input: 3.00, output: 15.00),
        "claude-opus-4": Price(input: 15.00, output: 75.00),
    ])

    public func price(of model: String) -> Price? {
        if let exact = table[model] { return exact }
        return table.keys.filter { model.hasPrefix($0) }.max { $0.count < $1.count }.flatMap { table[$0] }
    }

    /// The cost of a tape's calls; nil for the calls whose model has no price (listed in `unpriced`).
    public func cost(of tape: ModelTape) -> (usd: Double, unpriced: [String]) {
        var total = 0.0
        var unpriced: Set<String> = []
        for e in tape.exchanges where e.usage.inputTokens > 0 || e.usage.outputTokens > 0 {
            guard let model = e.model, let p = price(of: model) else {
                unpriced.insert(e.model ?? "unknown")
                continue
            }
            total += (Double(e.usage.inputTokens) * p.input + Double(e.usage.outputTokens) * p.output) / 1_000_000
        }
        return ((total * 1e6).rounded() / 1e6, unpriced.sorted())
    }
}
