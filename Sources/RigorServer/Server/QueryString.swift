/// A URL query (or an `application/x-www-form-urlencoded` body) as names and values: `+` is a
/// space, `%XX` a byte, and the result must be UTF-8. Repeated names keep the first value; a
/// query longer than `maximumBytes` or with more than `maximumPairs` pairs is refused, so no
/// request makes the server hold much.
struct QueryString: Sendable, Equatable {
    static let maximumBytes = 8192
    static let maximumPairs = 64

    private(set) var values: [String: String] = [:]

    init(_ raw: String?) throws(DashboardError) {
        guard let raw, !raw.isEmpty else { return }
        guard raw.utf8.count <= Self.maximumBytes else {
            throw .badParameter(name: "query", problem: "longer than \(Self.maximumBytes) bytes")
        }
        let pairs = raw.split(separator: "&", omittingEmptySubsequences: true)
        guard pairs.count <= Self.maximumPairs else {
            throw .badParameter(name: "query", problem: "more than \(Self.maximumPairs) parameters")
        }
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], what: "a parameter name")
            let value = parts.count > 1 ? try Self.decode(parts[1], what: "parameter '\(name)'") : ""
            if values[name] == nil { values[name] = value }
        }
    }

    subscript(name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }

    static func decode(_ s: Substring, what: String) throws(DashboardError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        func hex(_ b: UInt8?) -> UInt8? {
            guard let b else { return nil }
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while let b = it.next() {
            switch b {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let hi = hex(it.next()), let lo = hex(it.next()) else {
                    throw .badParameter(name: what, problem: "a '%' not followed by two hex digits")
                }
                bytes.append(hi << 4 | lo)
            default: bytes.append(b)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .badParameter(name: what, problem: "not UTF-8")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
            throw .badParameter(name: what, problem: "holds control characters")
        }
        return text
    }

    /// An integer parameter in `range` (absent or empty: `defaultValue`).
    func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(DashboardError) -> Int {
        guard let text = self[name] else { return defaultValue }
        guard let v = Int(text), range.contains(v) else {
            throw .badParameter(name: name, problem: "must be an integer from \(range.lowerBound) to \(range.upperBound) (got '\(String(text.prefix(40)))')")
        }
        return v
    }
}
