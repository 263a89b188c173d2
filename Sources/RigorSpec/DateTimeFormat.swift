/// RFC 3339 `date-time` validation (section 5.6), for JSON Schema's `format: "date-time"`.
///
/// Rigor timestamps artifacts, and a timestamp that another tool cannot parse is worse than
/// none, so the check is strict: exactly the RFC 3339 grammar (ASCII digits only, fixed widths,
/// `T`/`t` separator, `Z`/`z` or `±hh:mm` offset), real calendar dates (leap years included), and
/// second 60 only where a leap second can occur, i.e. at 23:59 UTC once the offset is applied.
enum DateTimeFormat {
    static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        // full-date "T" partial-time: YYYY-MM-DDTHH:MM:SS at minimum, then offset.
        guard b.count >= 20 else { return false }
        guard let year = digits(b, 0, 4), b[4] == UInt8(ascii: "-"),
              let month = digits(b, 5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(b, 8, 2),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(b, 11, 2), b[13] == UInt8(ascii: ":"),
              let minute = digits(b, 14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(b, 17, 2)
        else { return false }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return false }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > start else { return false }  // time-secfrac needs at least one digit
        }
        guard i < b.count else { return false }
        var offsetMinutes = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard b.count == i + 6, let oh = digits(b, i + 1, 2), b[i + 3] == UInt8(ascii: ":"),
                  let om = digits(b, i + 4, 2), oh <= 23, om <= 59
            else { return false }
            offsetMinutes = sign * (oh * 60 + om)
            i += 6
        default:
            return false
        }
        guard i == b.count else { return false }
        if second == 60 {
            // Local time minus offset gives UTC; a leap second is only ever inserted at 23:59:60Z.
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            guard utc == 23 * 60 + 59 else { return false }
        }
        return true
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// The value of `count` ASCII digits at `start`, or nil if any is not an ASCII digit.
    static func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= b.count else { return nil }
        var v = 0
        for k in start..<(start + count) {
            guard isDigit(b[k]) else { return nil }
            v = v * 10 + Int(b[k] - UInt8(ascii: "0"))
        }
        return v
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
