/// The shortest round-trip decimal digits of a double, and the two ways Rigor prints them.
///
/// ECMAScript's `Number.prototype.toString` and Python's `repr(float)` both print the shortest
/// digit string that reads back as the same double (choosing the closest one on ties), and differ
/// only in layout. Swift's `Double.description` produces exactly those shortest digits, so rather
/// than reimplementing a shortest-digits algorithm we take the digits from it and re-lay them out.
/// This costs one small `String` per non-integral double; integral doubles below 2^53 never get
/// here (the writers print them directly).
struct DoubleDigits {
    /// ASCII digits without leading or trailing zeros (d1 d2 … dk).
    var digits: [UInt8] = []
    /// Decimal point position: the value is 0.d1d2…dk × 10^exponent (ECMAScript's `n`).
    var exponent = 0

    init() { digits.reserveCapacity(24) }

    /// Loads the digits of `value`, which must be finite and positive.
    mutating func load(_ value: Double) {
        digits.removeAll(keepingCapacity: true)
        var integerDigits = 0
        var seenPoint = false
        var exponentPart = 0
        var exponentSign = 1
        var inExponent = false
        for c in value.description.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponentPart = exponentPart * 10 + Int(c - UInt8(ascii: "0"))
                } else {
                    digits.append(c)
                    if !seenPoint { integerDigits += 1 }
                }
            case UInt8(ascii: "."): seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-"): if inExponent { exponentSign = -1 }
            default: break  // "+"
            }
        }
        exponent = integerDigits + exponentSign * exponentPart
        // Normalise to 0.d1…dk: strip leading zeros (moving the point) and trailing zeros.
        var leading = 0
        while leading < digits.count - 1 && digits[leading] == UInt8(ascii: "0") { leading += 1 }
        if leading > 0 {
            digits.removeFirst(leading)
            exponent -= leading
        }
        while digits.count > 1 && digits[digits.count - 1] == UInt8(ascii: "0") { digits.removeLast() }
    }

    /// ECMA-262 Number::toString layout, for k digits and point position n.
    func writeECMAScript(into out: inout [UInt8]) {
        let k = digits.count
        let n = exponent
        if k <= n && n <= 21 {
            out.append(contentsOf: digits)
            for _ in 0..<(n - k) { out.append(UInt8(ascii: "0")) }
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            for _ in 0..<(-n) { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: digits)
        } else {
            writeExponentForm(into: &out, minimumExponentDigits: 1)
        }
    }

    /// CPython `float_repr_style == 'short'` layout (`format_float_short` with mode 'r'):
    /// exponent form when n <= -4 or n > 16, with at least two exponent digits; otherwise
    /// positional, with ".0" appended to integral values.
    func writePythonRepr(into out: inout [UInt8]) {
        let k = digits.count
        let n = exponent
        if n <= -4 || n > 16 {
            writeExponentForm(into: &out, minimumExponentDigits: 2)
        } else if n <= 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            for _ in 0..<(-n) { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: digits)
        } else if n < k {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else {
            out.append(contentsOf: digits)
            for _ in 0..<(n - k) { out.append(UInt8(ascii: "0")) }
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "0"))
        }
    }

    /// `d[.ddd]e±x`: the layout both languages share for very large and very small values.
    func writeExponentForm(into out: inout [UInt8], minimumExponentDigits: Int) {
        out.append(digits[0])
        if digits.count > 1 {
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[1...])
        }
        out.append(UInt8(ascii: "e"))
        let e = exponent - 1
        out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        var magnitude = abs(e)
        var tmp: [UInt8] = []
        repeat {
            tmp.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        while tmp.count < minimumExponentDigits { tmp.append(UInt8(ascii: "0")) }
        out.append(contentsOf: tmp.reversed())
    }
}
