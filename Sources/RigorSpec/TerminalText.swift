/// Text that came from an agent, a world or a file, made safe to print on a terminal.
///
/// An agent controls its action arguments, its intent, its stderr and so the failure reasons
/// that quote them; a task author controls descriptions; any file can hold anything. Printed raw,
/// their escape sequences would drive the reader's terminal: clear the screen, move the cursor,
/// print a fake `PASS` over a `FAIL`. So everything Rigor prints for people passes through this
/// one function: C0 controls (except newline and tab when kept), DEL, C1 controls, and the bidi
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069, which reorder what a line *shows*)
/// become visible escapes (`\x1b`, `\u202e`). Machine output (`--json`) is escaped by the JSON
/// writer instead.
public enum TerminalText {
    /// `text` with every character a terminal would obey written as a visible escape.
    /// `keepLayout`: newline and tab pass through (multi-line reports); false escapes them too
    /// (a value that must stay on its line).
    public static func escaped(_ text: String, keepLayout: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0, keepLayout: keepLayout) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            guard isControl(scalar, keepLayout: keepLayout) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16)
            out += scalar.value < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                                        : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return out
    }

    /// True for the scalars `escaped` rewrites.
    public static func isControl(_ scalar: Unicode.Scalar, keepLayout: Bool = true) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return !keepLayout
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    // MARK: Colours

    /// Marks where a report wants a colour. A report is escaped as a whole just before it is
    /// printed (`shown`), so a colour cannot be an escape sequence while the report is built: it
    /// is this mark (a private-use character and a random number drawn per process, which no
    /// agent or file can know in advance) followed by the SGR code, and `shown` turns exactly
    /// these marks, and nothing else, into escape sequences.
    public static let colourMark = "\u{E000}" + String(UInt64.random(in: 0...UInt64.max), radix: 36) + "\u{E001}"

    /// `text` in the colour of SGR `code` ("31;1"), once `shown`.
    public static func paint(_ text: String, _ code: String) -> String { "\(colourMark)\(code)m\(text)\(colourMark)0m" }

    /// `text` as it may reach a terminal: every control character escaped, then `paint`'s colour
    /// marks turned into SGR sequences. Apply it once, to the finished text.
    public static func shown(_ text: String) -> String {
        let pieces = text.components(separatedBy: colourMark)
        var out = escaped(pieces.first ?? "")
        for piece in pieces.dropFirst() {
            let code = piece.prefix { $0.isASCII && ($0.isNumber || $0 == ";") }
            let rest = piece.dropFirst(code.count)
            guard !code.isEmpty, rest.hasPrefix("m") else { out += escaped(piece); continue }
            out += "\u{1B}[\(code)m" + escaped(String(rest.dropFirst()))
        }
        return out
    }
}
