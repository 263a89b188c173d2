/// A strict RFC 8259 JSON parser.
///
/// Rigor hashes what it parses, so the parser must never "repair" input: two byte strings that a
/// lenient parser would map to the same value (a trailing comma, a duplicate key where the last
/// one wins, invalid UTF-8 replaced by U+FFFD) could otherwise hash identically while meaning
/// different things to another reader. Everything RFC 8259 leaves open is therefore decided in the
/// strict direction: duplicate keys, lone surrogates, invalid UTF-8, numbers that overflow a
/// `Double` and a byte-order mark are all errors.
///
/// The parser works on the raw bytes with an index and only allocates for the values it produces
/// (one `String` per string token; escaped strings go through a reused scratch buffer).

/// Why a JSON text was rejected, and where.
///
/// `offset` is a 0-based byte offset into the input; `line` and `column` are 1-based, with the
/// column counted in Unicode scalars so that it matches what an editor shows for UTF-8 text.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of rejection: the text is not JSON, or it is nested deeper than the reader's
    /// limit (which a caller may report differently, e.g. an agent's `action_too_deep`).
    public enum Kind: Sendable, Equatable {
        case syntax
        case tooDeep
    }

    public let message: String
    public let offset: Int
    public let line: Int
    public let column: Int
    public let kind: Kind

    public init(message: String, offset: Int, line: Int, column: Int, kind: Kind = .syntax) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
        self.kind = kind
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSON {
    /// Parses one JSON text from UTF-8 `bytes`.
    ///
    /// - Parameter maxDepth: the deepest nesting of arrays and objects accepted. The parser is
    ///   recursive, so this bound is what keeps hostile input from exhausting the stack.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONByteParser(buffer, maxDepth: maxDepth)
            do throws(JSONParseError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses one JSON text. A Swift `String` is always valid Unicode, so only the grammar can fail.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8))
    }
}

/// The parser state: the input, a cursor and a scratch buffer for strings with escapes.
struct JSONByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    var scratch: [UInt8] = []
    /// Members of the objects currently being parsed, innermost last. Collecting them here and
    /// building each dictionary once at its closing brace, at its final size, avoids repeated
    /// rehashing as a dictionary grows, and the stack is reused across all objects.
    var memberStack: [(key: String, value: JSON, offset: Int)] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index < bytes.count {
            throw error("unexpected \(describeByte(at: index)) after the JSON value")
        }
        return value
    }

    // MARK: - Errors

    /// Builds an error at `offset` (default: the cursor). Line and column are computed only here,
    /// so the happy path never pays for position tracking.
    func error(_ message: String, at offset: Int? = nil, kind: JSONParseError.Kind = .syntax) -> JSONParseError {
        let offset = min(offset ?? index, bytes.count)
        var line = 1
        var column = 1
        for i in 0..<offset {
            let b = bytes[i]
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {  // count scalars, not continuation bytes
                column += 1
            }
        }
        return JSONParseError(message: message, offset: offset, line: line, column: column, kind: kind)
    }

    func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let b = bytes[offset]
        if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }

    // MARK: - Values

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSON {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected \(describeByte(at: index)), expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let lit = literal.utf8Start
        guard bytes.count - index >= count else { throw error("invalid literal, expected '\(literal)'", at: start) }
        for k in 0..<count where bytes[index + k] != lit[k] {
            throw error("invalid literal, expected '\(literal)'", at: start)
        }
        index += count
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSON {
        if depth > maxDepth { throw error("nesting is deeper than the maximum depth of \(maxDepth)", kind: .tooDeep) }
        index += 1  // '{'
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        let firstMember = memberStack.count
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                    throw error("trailing comma before '}' is not allowed")
                }
                throw error("expected a string key, found \(describeByte(at: index))")
            }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("expected ':' after object key")
            }
            index += 1
            let value = try parseValue(depth: depth)
            memberStack.append((key, value, keyOffset))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input, expected ',' or '}' after object member") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(try buildObject(from: firstMember))
            default: throw error("expected ',' or '}' after object member")
            }
        }
    }

    /// Pops the members pushed since `first` into a dictionary, rejecting duplicate keys.
    mutating func buildObject(from first: Int) throws(JSONParseError) -> [String: JSON] {
        var members = [String: JSON](minimumCapacity: memberStack.count - first)
        for k in first..<memberStack.count {
            let member = memberStack[k]
            // Swift compares String keys by canonical equivalence, so two keys that differ only in
            // Unicode normalisation also count as duplicates here; that is the strict reading.
            if members.updateValue(member.value, forKey: member.key) != nil {
                throw error("duplicate key \"\(member.key)\" in object", at: member.offset)
            }
        }
        memberStack.removeSubrange(first...)
        return members
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSON {
        if depth > maxDepth { throw error("nesting is deeper than the maximum depth of \(maxDepth)", kind: .tooDeep) }
        index += 1  // '['
        var elements: [JSON] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                throw error("trailing comma before ']' is not allowed")
            }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input, expected ',' or ']' after array element") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw error("expected ',' or ']' after array element")
            }
        }
    }

    // MARK: - Numbers

    /// Integers that fit in `Int` stay exact; everything else (fractions, exponents, integers too
    /// large for `Int`) becomes a `Double`. A literal beyond the range of `Double` is an error
    /// rather than infinity, because infinity cannot be written back out as JSON.
    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw error("expected a digit after '-'")
        }
        var isInteger = true
        var accumulator = 0
        var overflow = false
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count && isDigit(bytes[index]) {
                throw error("leading zeros are not allowed in numbers", at: start)
            }
        } else {
            while index < bytes.count && isDigit(bytes[index]) {
                // Accumulate towards the sign so that Int.min parses exactly.
                let digit = Int(bytes[index] &- UInt8(ascii: "0"))
                if !overflow {
                    let (times10, o1) = accumulator.multipliedReportingOverflow(by: 10)
                    let (next, o2) = negative
                        ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                    if o1 || o2 { overflow = true } else { accumulator = next }
                }
                index += 1
            }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("expected a digit after '.'") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("expected a digit in exponent") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if isInteger && !overflow { return .int(accumulator) }
        // Literals are short; a String of at most 15 bytes is stored inline without allocating.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number \(text) is out of range for a double", at: start)
        }
        return .double(value)
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }
}
