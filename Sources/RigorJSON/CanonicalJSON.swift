/// Canonical (hashable) JSON serialisation.
///
/// Rigor hashes JSON values, and a hash is only reproducible if every writer produces the same
/// bytes for the same value. Two byte-exact recipes are supported:
///
/// - `.jcs`: RFC 8785, the JSON Canonicalization Scheme. Keys sorted by UTF-16 code units,
///   doubles written as ECMAScript's `Number.prototype.toString` would write them, and integers
///   written exactly (Rigor's one documented departure from RFC 8785, see `writeInt`).
/// - `.python`: whatever Python 3 produces for
///   `json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`, so that hashes
///   computed by Python tooling (the TraceCore recipe) can be reproduced byte for byte.
///
/// Both writers append straight into a `[UInt8]`; strings are escaped by scanning their UTF-8
/// bytes, and integers are written digit by digit, so no `String` is built per value (doubles
/// that are not small integers are the one exception; see `DoubleDigits`).

/// Which byte-exact serialisation recipe to use.
public enum JSONStyle: Sendable, Hashable {
    /// RFC 8785 (JSON Canonicalization Scheme).
    case jcs
    /// Python 3 `json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))`.
    case python
}

/// The only thing that can stop a JSON value from being serialised: a NaN or infinite double,
/// which JSON has no spelling for. `path` is the JSON Pointer of the offending value.
public struct CanonicalJSONError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public let path: String

    public init(message: String, path: String) {
        self.message = message
        self.path = path
    }

    public var description: String { "\(path.isEmpty ? "/" : path): \(message)" }

    /// The same error, located one level further out (used while unwinding).
    func prefixed(with token: String) -> CanonicalJSONError {
        let escaped = token.replacingTildeAndSlash()
        return CanonicalJSONError(message: message, path: "/" + escaped + path)
    }
}

extension String {
    /// Escapes a JSON Pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
    public func replacingTildeAndSlash() -> String {
        guard utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return self }
        var out = ""
        for c in unicodeScalars {
            switch c {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension JSON {
    /// The canonical bytes of this value in `style`.
    public func canonicalBytes(style: JSONStyle = .jcs) throws(CanonicalJSONError) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        try write(into: &buffer, style: style)
        return buffer
    }

    /// The canonical text of this value in `style`.
    public func canonicalString(style: JSONStyle = .jcs) throws(CanonicalJSONError) -> String {
        String(decoding: try canonicalBytes(style: style), as: UTF8.self)
    }

    /// Appends the canonical bytes of this value to `buffer`.
    public func write(into buffer: inout [UInt8], style: JSONStyle = .jcs) throws(CanonicalJSONError) {
        var writer = JSONWriter(style: style, pretty: false)
        try writer.write(self, into: &buffer, level: 0)
    }

    /// A human-readable rendering: two-space indentation, `": "` after keys, keys sorted as in
    /// JCS, numbers and strings written as JCS writes them, and a final newline. It is
    /// deterministic (so it diffs well) but is not a hashing format.
    public func prettyBytes() throws(CanonicalJSONError) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        var writer = JSONWriter(style: .jcs, pretty: true)
        try writer.write(self, into: &buffer, level: 0)
        buffer.append(0x0A)
        return buffer
    }
}

/// The serialiser shared by all three public entry points.
struct JSONWriter {
    let style: JSONStyle
    let pretty: Bool
    /// Reused digit buffer for doubles.
    var digits = DoubleDigits()

    init(style: JSONStyle, pretty: Bool) {
        self.style = style
        self.pretty = pretty
    }

    mutating func write(_ value: JSON, into out: inout [UInt8], level: Int) throws(CanonicalJSONError) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        case .int(let i): writeInt(i, into: &out)
        case .double(let d): try writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (n, element) in elements.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(level + 1, into: &out) }
                do throws(CanonicalJSONError) {
                    try write(element, into: &out, level: level + 1)
                } catch {
                    throw error.prefixed(with: String(n))
                }
            }
            if pretty && !elements.isEmpty { newline(level, into: &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Sort dictionary indices rather than (key, value) pairs: indices are plain integers,
            // so ordering them copies no values (and retains nothing).
            var order = Array(members.indices)
            let utf16 = style != .python
            order.sort { JSONKeyOrder.less(members[$0].key, members[$1].key, utf16: utf16) }
            for (n, index) in order.enumerated() {
                let member = members[index]
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(level + 1, into: &out) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                do throws(CanonicalJSONError) {
                    try write(member.value, into: &out, level: level + 1)
                } catch {
                    throw error.prefixed(with: member.key)
                }
            }
            if pretty && !members.isEmpty { newline(level, into: &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    func newline(_ level: Int, into out: inout [UInt8]) {
        out.append(0x0A)
        for _ in 0..<(level * 2) { out.append(0x20) }
    }

    // MARK: - Numbers

    /// Writes an integer as its exact decimal digits, in both styles.
    ///
    /// RFC 8785 models every number as an IEEE double, so strictly an `.int` beyond ±2^53 would be
    /// printed as ECMAScript prints the nearest double (`Int.max` → `9223372036854776000`). Rigor's
    /// hashing spec (spec/hashing.md §1, "Integers", and its reference `hash_reference.py`) instead
    /// keeps integers exact, because seeds go up to 2^63−1 and must survive hashing unrounded. For
    /// |i| ≤ 2^53 the two agree byte for byte; above it Rigor deliberately follows its spec.
    func writeInt(_ i: Int, into out: inout [UInt8]) {
        writeDecimal(i, into: &out)
    }

    func writeDecimal(_ i: Int, into out: inout [UInt8]) {
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = i.magnitude
        if magnitude < 10 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        // At most 20 digits; fill a fixed tuple-free scratch from the right.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { tmp in
            var p = 20
            while magnitude > 0 {
                p -= 1
                tmp[p] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: tmp[p..<20]))
        }
    }

    mutating func writeDouble(_ d: Double, into out: inout [UInt8]) throws(CanonicalJSONError) {
        guard d.isFinite else {
            throw CanonicalJSONError(message: "cannot serialise non-finite number \(d) as JSON", path: "")
        }
        switch style {
        case .jcs:
            // ES prints both zeros as "0"; small integral values need no digit generation.
            if d == 0 { out.append(UInt8(ascii: "0")); return }
            if d.magnitude < 9.007199254740992e15, d == d.rounded(.towardZero) {
                writeDecimal(Int(d), into: &out)
                return
            }
            if d < 0 { out.append(UInt8(ascii: "-")) }
            digits.load(d.magnitude)
            digits.writeECMAScript(into: &out)
        case .python:
            if d.sign == .minus { out.append(UInt8(ascii: "-")) }
            if d == 0 { out.append(contentsOf: [0x30, 0x2E, 0x30]); return }  // 0.0
            if d.magnitude < 1e15, d == d.rounded(.towardZero) {
                writeDecimal(Int(d.magnitude), into: &out)
                out.append(contentsOf: [0x2E, 0x30])  // .0
                return
            }
            digits.load(d.magnitude)
            digits.writePythonRepr(into: &out)
        }
    }

    // MARK: - Strings

    /// Escapes as RFC 8785 §3.2.2.2 requires, which is also exactly what Python's `json.dumps`
    /// does with `ensure_ascii=False`: `\"`, `\\`, `\b \f \n \r \t`, other C0 controls as
    /// `\u00xx` (lowercase hex), and everything else, including `/`, DEL and non-ASCII, raw.
    func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { escape($0, into: &out) }
        if done == nil {
            let copy = Array(s.utf8)
            copy.withUnsafeBufferPointer { escape($0, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    func escape(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var runStart = 0
        var i = 0
        while i < count {
            let b = base[i]
            // Only C0 controls, '"' and the backslash need work; everything else is copied in runs.
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                // Pretty output is for terminals too: DEL, C1 controls and bidi overrides, which
                // JCS writes raw, are written as \u escapes (same value, nothing a terminal obeys).
                if pretty && b >= 0x7F, let scalar = JSONWriter.terminalControl(base, at: i, count: count) {
                    if runStart < i { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart)) }
                    i += scalar.length
                    runStart = i
                    JSONWriter.appendUnicodeEscape(scalar.value, to: &out)
                    continue
                }
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart)) }
            i += 1
            runStart = i
            out.append(0x5C)
            switch b {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                let low = b & 0xF
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(0x30 + (b >> 4))  // always 0 or 1 for a C0 control
                out.append(low < 10 ? 0x30 + low : 0x57 + low)  // lowercase a-f
            }
        }
        if runStart < count { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart)) }
    }
}

extension JSON {
    /// JSON text (canonical or not) with every DEL, C1 control and bidi override or isolate that
    /// it holds raw written as a `\\u` escape instead: the same JSON value, nothing a terminal
    /// obeys, but no longer the canonical bytes. Outside strings JSON text holds none of them, so
    /// the text stays valid. For JSON about to be shown on a terminal.
    public static func escapingTerminalControls(_ text: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { buffer -> [UInt8] in
            guard let base = buffer.baseAddress else { return [] }
            var out: [UInt8] = []
            out.reserveCapacity(buffer.count)
            var i = 0
            while i < buffer.count {
                let b = base[i]
                if b >= 0x7F, let scalar = JSONWriter.terminalControl(base, at: i, count: buffer.count) {
                    JSONWriter.appendUnicodeEscape(scalar.value, to: &out)
                    i += scalar.length
                } else {
                    out.append(b)
                    i += 1
                }
            }
            return out
        }
    }
}

extension JSONWriter {
    /// `\\u` and the four lowercase hex digits of `value` (at most U+FFFF).
    @inline(__always)
    static func appendUnicodeEscape(_ value: UInt32, to out: inout [UInt8]) {
        out.append(0x5C)
        out.append(UInt8(ascii: "u"))
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = UInt8((value >> UInt32(shift)) & 0xF)
            out.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }

    /// The scalar at `i` when it is DEL (7F), a C1 control (U+0080–U+009F: C2 80–C2 9F) or a
    /// bidi override or isolate (U+202A–U+202E: E2 80 AA–AE; U+2066–U+2069: E2 81 A6–A9), with its
    /// length in bytes; else nil.
    static func terminalControl(_ base: UnsafePointer<UInt8>, at i: Int, count: Int) -> (value: UInt32, length: Int)? {
        let b = base[i]
        if b == 0x7F { return (0x7F, 1) }
        if b == 0xC2, i + 1 < count, (0x80...0x9F).contains(base[i + 1]) { return (UInt32(base[i + 1]), 2) }
        if b == 0xE2, i + 2 < count {
            let (b1, b2) = (base[i + 1], base[i + 2])
            if b1 == 0x80, (0xAA...0xAE).contains(b2) { return (0x2000 | UInt32(b2 - 0x80), 3) }
            if b1 == 0x81, (0xA6...0xA9).contains(b2) { return (0x2040 | UInt32(b2 - 0x80), 3) }
        }
        return nil
    }
}

/// Key orders. Swift's `String <` compares by canonical equivalence, which neither recipe uses.
enum JSONKeyOrder {
    /// True when key `a` sorts before key `b`: by UTF-16 code units (RFC 8785) when `utf16`,
    /// else by Unicode code point (Python's `sorted()` on `str`), which equals UTF-8 byte order.
    ///
    /// Both compare UTF-8 bytes. UTF-16 order differs from code-point order in one case only:
    /// a supplementary character (surrogates D800–DBFF in UTF-16, lead byte F0–F4) sorts before
    /// U+E000–U+FFFF (lead byte EE/EF). The first differing byte is a lead byte whenever the two
    /// characters differ in length, so checking it there is enough.
    @inline(__always)
    static func less(_ a: String, _ b: String, utf16: Bool) -> Bool {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            guard let x = ia.next() else { return ib.next() != nil }
            guard let y = ib.next() else { return false }
            if x == y { continue }
            if utf16 {
                if (x == 0xEE || x == 0xEF) && y >= 0xF0 { return false }
                if (y == 0xEE || y == 0xEF) && x >= 0xF0 { return true }
            }
            return x < y
        }
    }
}
