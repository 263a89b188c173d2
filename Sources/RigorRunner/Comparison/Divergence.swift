import RigorSpec

/// Where two episodes part ways: the first step whose observation, action, result or io_audit
/// differ, and how their outcomes compare. Replay, `--record`, diff and the CI gate all ask
/// this same question, so they all use this one answer.
public struct Divergence: Sendable {
    /// The parts of a step that are compared, in the order they are reported.
    public static let stepParts = ["observation", "action", "intent", "result", "io_audit"]

    /// 1-based step number of the first difference; nil when every shared step is equal.
    public let firstStep: Int?
    /// Which parts differ at that step (`"missing"` when one trace is shorter).
    public let parts: [String]
    /// The two entries at that step (null when one trace has ended).
    public let left: JSON
    public let right: JSON
    /// Outcome fields that differ (success, termination_reason, failure_type, steps_used, ...).
    public let outcomeChanges: [String]

    public var identical: Bool { firstStep == nil && outcomeChanges.isEmpty }

    public static let outcomeFields = ["success", "termination_reason", "failure_type", "failure_reason", "steps_used", "tool_calls_used"]

    public init(_ a: JSON, _ b: JSON) {
        let ta = a["action_trace"]?.arrayValue ?? []
        let tb = b["action_trace"]?.arrayValue ?? []
        var first: Int? = nil
        var parts: [String] = []
        for i in 0..<max(ta.count, tb.count) {
            guard i < ta.count, i < tb.count else {
                first = i + 1
                parts = ["missing"]
                break
            }
            let differing = Divergence.stepParts.filter { !Divergence.sameValue(ta[i][$0], tb[i][$0]) }
            if !differing.isEmpty {
                first = i + 1
                parts = differing
                break
            }
        }
        firstStep = first
        self.parts = parts
        left = first.flatMap { $0 - 1 < ta.count ? ta[$0 - 1] : nil } ?? .null
        right = first.flatMap { $0 - 1 < tb.count ? tb[$0 - 1] : nil } ?? .null
        outcomeChanges = Divergence.outcomeFields.filter { !Divergence.sameValue(a[$0], b[$0]) }
    }

    /// Equality as JSON means it: by canonical bytes (so 1 and 1.0 are the same number).
    static func sameValue(_ x: JSON?, _ y: JSON?) -> Bool {
        if x == y { return true }
        guard let x, let y else { return false }
        return (try? x.canonicalBytes()) == (try? y.canonicalBytes())
    }

    public var json: JSON {
        [
            "identical": .bool(identical),
            "first_divergent_step": firstStep.map(JSON.int) ?? .null,
            "parts": .array(parts.map(JSON.string)),
            "left": left, "right": right,
            "outcome_changes": .array(outcomeChanges.map(JSON.string)),
        ]
    }

    /// One line for people: "step 3 differs in action, result".
    public var summary: String {
        if identical { return "identical" }
        var s: [String] = []
        if let firstStep { s.append("step \(firstStep) differs in \(parts.joined(separator: ", "))") }
        if !outcomeChanges.isEmpty { s.append("outcome differs in \(outcomeChanges.joined(separator: ", "))") }
        return s.joined(separator: "; ")
    }
}
