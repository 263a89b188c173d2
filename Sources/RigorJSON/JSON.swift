/// A JSON value as Rigor reads, builds, hashes and writes it.
///
/// Integers and floating-point numbers are kept apart (`int` vs `double`) because the two hash
/// recipes Rigor implements write them differently: RFC 8785 writes every number the way
/// ECMAScript does (`1.0` becomes `1`), while the TraceCore recipe writes them the way Python's
/// `json.dumps` does (`1.0` stays `1.0`). Objects are unordered: every writer sorts keys.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
}

extension JSON {
    /// The member named `key` when this is an object, else nil.
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int(d)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: [String: JSON]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type name as JSON Schema spells it ("integer" for `int`).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        var o: [String: JSON] = [:]
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSON {
    /// How deeply arrays and objects nest: 0 for a scalar, 1 for `[]` or `{"a": 1}`, as the
    /// parser's `maxDepth` counts. Walked with an explicit stack, so any value can be measured.
    public var nestingDepth: Int {
        var deepest = 0
        var pending: [(JSON, Int)] = [(self, 1)]
        while let (value, depth) = pending.popLast() {
            switch value {
            case .array(let elements):
                deepest = max(deepest, depth)
                for e in elements { if case .array = e { pending.append((e, depth + 1)) } else if case .object = e { pending.append((e, depth + 1)) } }
            case .object(let members):
                deepest = max(deepest, depth)
                for e in members.values { if case .array = e { pending.append((e, depth + 1)) } else if case .object = e { pending.append((e, depth + 1)) } }
            default:
                break
            }
        }
        return deepest
    }
}
