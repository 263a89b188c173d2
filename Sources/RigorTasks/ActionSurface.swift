import RigorSpec

/// The type an action argument must have. `path` and `host` are strings that are also checked
/// against the task's sandbox allowlists before the action runs.
public enum ArgType: String, Sendable, CaseIterable {
    case string, path, host, integer, boolean, object, array, any

    func accepts(_ value: JSON) -> Bool {
        switch (self, value) {
        case (.any, _): return true
        case (.string, .string), (.path, .string), (.host, .string): return true
        case (.integer, .int): return true
        case (.integer, .double(let d)): return d.rounded() == d
        case (.boolean, .bool), (.object, .object), (.array, .array): return true
        default: return false
        }
    }
}

/// One action a task offers: its arguments and whether it costs a tool call.
public struct ActionSpec: Sendable, Equatable {
    public var name: String
    /// Argument name → type, all required.
    public var args: [String: ArgType]
    public var costsToolCall: Bool

    public init(name: String, args: [String: ArgType], costsToolCall: Bool = true) {
        self.name = name
        self.args = args
        self.costsToolCall = costsToolCall
    }

    public var json: JSON {
        var o: [String: JSON] = ["args": .object(args.mapValues { .string($0.rawValue) })]
        if !costsToolCall { o["tool_call"] = false }
        return .object(o)
    }
}

/// An action the surface accepted: its name, arguments and spec.
public struct CheckedAction: Sendable {
    public let spec: ActionSpec
    public let args: [String: JSON]
    public var name: String { spec.name }
}

/// Why the surface refused an action.
public enum SurfaceRejection: Error, Sendable, Equatable {
    case unknownAction(String)
    case invalidArguments(String)
}

/// The actions a task declares. An action the task does not declare is `unknown_action`, even
/// TraceCore's idle `wait`; arguments must match exactly (no missing, no extra, right types).
public struct ActionSurface: Sendable, Equatable {
    public var actions: [String: ActionSpec]

    public init(_ actions: [ActionSpec]) {
        var d: [String: ActionSpec] = [:]
        for a in actions { d[a.name] = a }
        self.actions = d
    }

    public var json: JSON { .object(actions.mapValues(\.json)) }

    public func check(type: String, args: [String: JSON]) -> Result<CheckedAction, SurfaceRejection> {
        guard let spec = actions[type] else {
            let known = actions.keys.sorted().joined(separator: ", ")
            return .failure(.unknownAction("action '\(type)' is not offered by this task; it offers: \(known)"))
        }
        for (name, argType) in spec.args.sorted(by: { $0.key < $1.key }) {
            guard let value = args[name] else {
                return .failure(.invalidArguments("action '\(type)' is missing argument '\(name)' (\(argType.rawValue))"))
            }
            if !argType.accepts(value) {
                return .failure(.invalidArguments(
                    "action '\(type)' argument '\(name)' must be \(argType.rawValue), got \(value.typeName)"))
            }
        }
        if let extra = args.keys.sorted().first(where: { spec.args[$0] == nil }) {
            let expected = spec.args.keys.sorted().joined(separator: ", ")
            return .failure(.invalidArguments(
                "action '\(type)' has unexpected argument '\(extra)'; it takes: \(expected.isEmpty ? "no arguments" : expected)"))
        }
        return .success(CheckedAction(spec: spec, args: args))
    }
}
