import RigorSpec

/// The agent's outputs (`set_output`) and the check of one output key against the hidden
/// answer, shared by every world that is solved by reporting a value.
///
/// A wrong output is not terminal unless the manifest sets `[validator] max_submissions`:
/// then the episode fails for good after that many wrong submissions, so guessing loses.
public struct OutputChecker: Sendable {
    public let key: String
    public let expected: String
    public let maxSubmissions: Int?
    public private(set) var outputs: [String: String] = [:]
    public private(set) var wrongSubmissions = 0

    public init(key: String, expected: String, validator: [String: JSON]) {
        self.key = key
        self.expected = expected
        self.maxSubmissions = validator["max_submissions"]?.intValue
    }

    public mutating func setOutput(key k: String, value: String) -> ActionOutcome {
        outputs[k] = value
        if k == key && value != expected { wrongSubmissions += 1 }
        return ActionOutcome(result: ["ok": true], ioAudit: [["type": "custom", "op": "set_output", "key": .string(k), "verdict": "allowed"]])
    }

    /// `set_output(key, value)` as the action surface checked it.
    public mutating func setOutput(_ action: CheckedAction) -> ActionOutcome {
        setOutput(key: action.args["key"]?.stringValue ?? "", value: action.args["value"]?.stringValue ?? "")
    }

    public func evaluate() -> WorldVerdict {
        if outputs[key] == expected { return .success("\(key) matches the hidden value") }
        if let max = maxSubmissions, wrongSubmissions >= max {
            return .failed("\(wrongSubmissions) wrong \(key) submissions; the task allows \(max)")
        }
        if outputs[key] != nil { return .pending("\(key) is set but does not match yet") }
        return .pending("\(key) not reported yet")
    }
}
