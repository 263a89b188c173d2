import RigorSpec

/// Compact spellings for index columns whose text has a common shape, chosen per value so that
/// every value reads back exactly as it was given:
///
/// - a timestamp in Rigor's and TraceCore's shape (`2026-11-22T05:03:36.356149+00:00`) is stored as
///   the INTEGER microseconds since 1970-01-01 (8 bytes instead of 32); any other text stays TEXT;
/// - a hash `sha256:<64 lowercase hex digits>` is stored as its 32-byte BLOB; anything else stays
///   TEXT.
///
/// A value is only stored in the compact form if formatting it back gives the same text, so the
/// columns hold either form and readers accept both.
enum ColumnEncoding {
    // MARK: timestamps

    static func timestamp(_ text: String?) -> SQLValue {
        guard let text else { return .null }
        if let micros = microseconds(text) { return .integer(micros) }
        return .text(text)
    }

    static func timestamp(_ row: Row, _ column: Int32) -> String? {
        if row.isInteger(column), let micros = row.int(column) { return rfc3339(microseconds: Int64(micros)) }
        return row.text(column)
    }

    /// Microseconds since the epoch for text in exactly the shape `rfc3339(microseconds:)` writes.
    static func microseconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 32, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E,
              Array(b[26...]) == Array("+00:00".utf8) else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10), let h = number(11..<13),
              let mi = number(14..<16), let s = number(17..<19), let f = number(20..<26) else { return nil }
        let micros = Int64((Timestamp.days(year: y, month: m, day: d) * 86_400 + h * 3600 + mi * 60 + s)) * 1_000_000 + Int64(f)
        // Out-of-range fields (month 13, second 60) do not come back the same: keep them as text.
        return rfc3339(microseconds: micros) == text ? micros : nil
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` in UTC, as `Timestamp` writes it.
    static func rfc3339(microseconds: Int64) -> String {
        let micros = Int(microseconds)
        let totalSeconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        return Timestamp(seconds: totalSeconds, nanoseconds: (micros - totalSeconds * 1_000_000) * 1000).rfc3339
    }

    // MARK: hashes

    static let sha256Prefix = "sha256:"

    static func prefixedHash(_ text: String?) -> SQLValue {
        guard let text else { return .null }
        if text.hasPrefix(sha256Prefix), let digest = digest(hex: text.dropFirst(sha256Prefix.count)) { return .blob(digest) }
        return .text(text)
    }

    static func prefixedHash(_ row: Row, _ column: Int32) -> String? {
        if row.isBlob(column) { return sha256Prefix + hex(row.bytes(column)) }
        return row.text(column)
    }

    /// The 32 bytes of 64 lowercase hex digits; nil for anything else.
    static func digest(hex: some StringProtocol) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
