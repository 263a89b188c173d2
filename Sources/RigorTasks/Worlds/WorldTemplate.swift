import RigorSpec

/// A text of a declarative world with `{{ ... }}` holes, parsed once at load time.
///
/// The holes (spec/task-manifest.md §3, "Declarative worlds") are draws from the world's
/// rigor-prng/1 generator — `digits(N)`, `string(N, "A-Z0-9")`, `int(LO, HI)`, `pick("a", "b")` —
/// or references to hidden values drawn before (`hidden.NAME`). Rendering draws left to right,
/// so the order of holes in the manifest is the order of draws: it defines the world.
public struct WorldTemplate: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case text(String)
        case digits(Int)
        case string(Int, alphabet: String)
        case int(ClosedRange<Int>)
        case pick([String])
        case hidden(String)
    }

    public let parts: [Part]

    /// The longest drawn string or digit run a hole may ask for, so a typo cannot build a
    /// world of gigabytes.
    static let maxLength = 4096

    /// Parses `text`; the error is a reason, without the field (the caller names it).
    public static func parse(_ text: String) throws(TemplateError) -> WorldTemplate {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else {
                throw TemplateError("has a '{{' with no '}}' after it")
            }
            parts.append(try parseHole(String(after[..<close.lowerBound]).trimmingSpaces))
            rest = after[close.upperBound...]
        }
        if rest.contains("}}") { throw TemplateError("has a '}}' with no '{{' before it") }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return WorldTemplate(parts: parts)
    }

    /// The hidden values this template refers to, in order.
    public var references: [String] {
        parts.compactMap { if case .hidden(let name) = $0 { return name } else { return nil } }
    }

    /// Renders the template, drawing from `rng` hole by hole, left to right.
    public func render(_ rng: inout PRNG, hidden: [String: String]) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let s): out += s
            case .digits(let n): out += rng.digits(n)
            case .string(let n, let alphabet): out += rng.string(n, alphabet: alphabet)
            case .int(let range): out += String(rng.int(in: range))
            case .pick(let items): out += rng.pick(items)
            case .hidden(let name): out += hidden[name] ?? ""
            }
        }
        return out
    }

    static func parseHole(_ hole: String) throws(TemplateError) -> Part {
        if hole.hasPrefix("hidden.") {
            let name = String(hole.dropFirst("hidden.".count))
            guard isName(name) else { throw TemplateError("refers to '\(hole)'; a hidden value's name uses only a-z, A-Z, 0-9 and '_'") }
            return .hidden(name)
        }
        guard let paren = hole.firstIndex(of: "("), hole.hasSuffix(")") else {
            throw TemplateError("has '{{\(hole)}}', which is neither a draw (digits, string, int, pick) nor hidden.NAME")
        }
        let function = String(hole[..<paren]).trimmingSpaces
        let args = try arguments(String(hole[hole.index(after: paren)..<hole.index(before: hole.endIndex)]), in: hole)
        func count(_ a: Argument) throws(TemplateError) -> Int {
            guard case .int(let n) = a, (1...maxLength).contains(n) else {
                throw TemplateError("has '{{\(hole)}}': the length must be an integer from 1 to \(maxLength)")
            }
            return n
        }
        switch (function, args.count) {
        case ("digits", 1):
            return .digits(try count(args[0]))
        case ("string", 2):
            guard case .string(let spec) = args[1] else { throw TemplateError("has '{{\(hole)}}': the alphabet must be a quoted string like \"A-Z0-9\"") }
            let alphabet = try expand(spec, in: hole)
            return .string(try count(args[0]), alphabet: alphabet)
        case ("int", 2):
            guard case .int(let lo) = args[0], case .int(let hi) = args[1], lo <= hi,
                  lo >= -1_000_000_000_000, hi <= 1_000_000_000_000 else {
                throw TemplateError("has '{{\(hole)}}': int(LO, HI) needs integers LO <= HI within ±10^12")
            }
            return .int(lo...hi)
        case ("pick", 1...):
            var items: [String] = []
            for a in args {
                guard case .string(let s) = a else { throw TemplateError("has '{{\(hole)}}': pick takes quoted strings") }
                items.append(s)
            }
            return .pick(items)
        default:
            throw TemplateError("has '{{\(hole)}}'; the draws are digits(N), string(N, \"CHARS\"), int(LO, HI), pick(\"a\", ...)")
        }
    }

    enum Argument: Equatable { case int(Int), string(String) }

    /// Comma-separated integers and double-quoted strings (`\"` and `\\` escape inside them).
    static func arguments(_ text: String, in hole: String) throws(TemplateError) -> [Argument] {
        var out: [Argument] = []
        var chars = Array(text)[...]
        func skipSpaces() { while let c = chars.first, c == " " || c == "\t" { chars = chars.dropFirst() } }
        skipSpaces()
        if chars.isEmpty { return [] }
        while true {
            skipSpaces()
            if chars.first == "\"" {
                chars = chars.dropFirst()
                var s = ""
                var closed = false
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\\", let next = chars.first { s.append(next); chars = chars.dropFirst(); continue }
                    if c == "\"" { closed = true; break }
                    s.append(c)
                }
                guard closed else { throw TemplateError("has '{{\(hole)}}' with an unterminated string") }
                out.append(.string(s))
            } else {
                var token = ""
                while let c = chars.first, c != "," { token.append(c); chars = chars.dropFirst() }
                guard let n = Int(token.trimmingSpaces) else {
                    throw TemplateError("has '{{\(hole)}}': '\(token.trimmingSpaces)' is neither an integer nor a quoted string")
                }
                out.append(.int(n))
            }
            skipSpaces()
            if chars.isEmpty { return out }
            guard chars.first == "," else { throw TemplateError("has '{{\(hole)}}': arguments are separated by commas") }
            chars = chars.dropFirst()
        }
    }

    /// `A-Z0-9_` → the characters, ranges expanded in place, in the order written.
    static func expand(_ spec: String, in hole: String) throws(TemplateError) -> String {
        let c = Array(spec)
        var out: [Character] = []
        var i = 0
        while i < c.count {
            if i + 2 < c.count, c[i + 1] == "-", let a = c[i].unicodeScalars.first, let b = c[i + 2].unicodeScalars.first {
                guard a.value <= b.value, b.value - a.value < 1024 else {
                    throw TemplateError("has '{{\(hole)}}': the range \(c[i])-\(c[i + 2]) is backwards or too wide")
                }
                for v in a.value...b.value { if let s = Unicode.Scalar(v) { out.append(Character(s)) } }
                i += 3
            } else {
                out.append(c[i])
                i += 1
            }
        }
        guard !out.isEmpty else { throw TemplateError("has '{{\(hole)}}' with an empty alphabet") }
        return String(out)
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// Why a template is malformed (the caller adds the manifest field).
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
