import Foundation

/// JSON Schema's notion of equality (for `enum` and `const`): numbers compare by mathematical
/// value (`1 == 1.0`), objects by their member sets, and no type ever equals another type
/// (`false != 0`). `JSON`'s synthesised `==` keeps `int` and `double` apart, so it cannot be used.
enum SchemaEquality {
    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
            return SchemaNumber.compare(a, b) == .orderedSame
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], equal(v, w) else { return false }
            }
            return true
        default:
            return a == b
        }
    }
}

/// Exact comparison between JSON numbers, including `Int` against `Double` beyond 2^53, where
/// converting the integer to a double would round.
enum SchemaNumber {
    static func compare(_ a: JSON, _ b: JSON) -> ComparisonResult {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? .orderedAscending : (x == y ? .orderedSame : .orderedDescending)
        case (.double(let x), .double(let y)): return x < y ? .orderedAscending : (x == y ? .orderedSame : .orderedDescending)
        case (.int(let x), .double(let y)): return compare(x, y)
        case (.double(let x), .int(let y)): return invert(compare(y, x))
        default: return .orderedSame
        }
    }

    static func invert(_ r: ComparisonResult) -> ComparisonResult {
        switch r {
        case .orderedAscending: return .orderedDescending
        case .orderedDescending: return .orderedAscending
        case .orderedSame: return .orderedSame
        }
    }

    static func compare(_ i: Int, _ d: Double) -> ComparisonResult {
        if d.isNaN { return .orderedSame }
        if d >= 9.223372036854775807e18 { return .orderedAscending }  // 2^63: above every Int
        if d < -9.223372036854775807e18 { return .orderedDescending }
        let whole = d.rounded(.down)
        let w = Int(whole)  // exact: |whole| < 2^63 here
        if i < w { return .orderedAscending }
        if i > w { return .orderedDescending }
        return whole == d ? .orderedSame : .orderedAscending
    }
}

/// Rendering values inside violation messages.
enum SchemaText {
    /// Compact JSON (JCS), truncated so that one huge value cannot drown the report.
    static func render(_ value: JSON) -> String {
        let text = (try? value.canonicalString(style: .jcs)) ?? "\(value)"
        if text.count > 80 { return String(text.prefix(77)) + "..." }
        return text
    }

    static func list(_ values: [JSON]) -> String {
        let shown = values.prefix(20).map(render)
        return "[" + shown.joined(separator: ", ") + (values.count > 20 ? ", ..." : "") + "]"
    }

    /// The JSON Schema type name of a value, for "expected X, got Y".
    static func kind(_ value: JSON) -> String {
        switch value {
        case .double(let d) where d.isFinite && d == d.rounded(.towardZero): return "number (integral)"
        default: return value.typeName
        }
    }
}

/// JSON Pointers (RFC 6901) and `$ref` fragments (RFC 3986 percent-encoding on top).
enum SchemaPointer {
    static func encode(_ tokens: [String]) -> String {
        var out = ""
        for t in tokens {
            out += "/"
            out += t.replacingTildeAndSlash()
        }
        return out
    }

    /// Decodes a local reference (`#`, `#/definitions/a~1b`, `#/$defs/x%25y`) into tokens; nil for
    /// anything that is not a same-document JSON Pointer fragment.
    static func decodeFragment(_ ref: String) -> [String]? {
        guard ref.hasPrefix("#") else { return nil }
        let fragment = String(ref.dropFirst())
        guard let decoded = fragment.removingPercentEncoding else { return nil }
        if decoded.isEmpty { return [] }
        guard decoded.hasPrefix("/") else { return nil }  // plain-name anchors need $id support
        var tokens: [String] = []
        for raw in decoded.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            tokens.append(raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~"))
        }
        return tokens
    }

    static func resolve(_ tokens: [String], in document: JSON) -> JSON? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let n = Int(token), n >= 0, n < a.count, token == String(n) else { return nil }
                current = a[n]
            default:
                return nil
            }
        }
        return current
    }
}
