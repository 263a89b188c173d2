import Foundation
import Testing

@testable import RigorSpec

/// Byte-exact checks of both canonical recipes. The JCS vectors come from RFC 8785 (section 3.2.2
/// and Appendix B); the Python vectors were produced by running CPython 3's
/// `json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))` and pasted in.
struct CanonicalJSONTests {
    // MARK: - RFC 8785 numbers

    /// RFC 8785 §3.2.2.3 examples: literals as they appear in input, and their canonical form.
    @Test("JCS writes the RFC 8785 §3.2.2.3 number examples", arguments: [
        ("333333333.33333329", "333333333.3333333"),
        ("1E30", "1e+30"),
        ("4.50", "4.5"),
        ("2e-3", "0.002"),
        ("0.000000000000000000000000001", "1e-27"),
    ])
    func rfcNumberExamples(input: String, expected: String) throws {
        let value = try JSON.parse(input)
        #expect(try value.canonicalString() == expected)
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and the ECMAScript rendering of each.
    @Test("JCS matches the RFC 8785 Appendix B number table", arguments: [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ] as [(UInt64, String)])
    func rfcAppendixB(bits: UInt64, expected: String) throws {
        #expect(try JSON.double(Double(bitPattern: bits)).canonicalString() == expected)
    }

    @Test("JCS follows ECMAScript Number.prototype.toString at the layout boundaries", arguments: [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (-0.0, "0"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (123456789012345680000.0, "123456789012345680000"),
        (0.1, "0.1"),
    ] as [(Double, String)])
    func ecmaScriptBoundaries(value: Double, expected: String) throws {
        #expect(try JSON.double(value).canonicalString() == expected)
    }

    /// spec/hashing.md §1 "Integers": Rigor writes `.int` values exactly even beyond 2^53, where
    /// plain RFC 8785 would round them through a double (Int.max → 9223372036854776000).
    @Test("JCS writes integers exactly, also beyond 2^53 (Rigor hashing spec)", arguments: [
        (9_007_199_254_740_992, "9007199254740992"),
        (9_007_199_254_740_993, "9007199254740993"),
        (Int.max, "9223372036854775807"),
        (Int.min, "-9223372036854775808"),
        (-42, "-42"),
        (0, "0"),
    ])
    func jcsLargeIntegers(value: Int, expected: String) throws {
        #expect(try JSON.int(value).canonicalString() == expected)
    }

    @Test("doubles beyond 2^53 are still written as ECMAScript writes them")
    func jcsLargeIntegralDoubles() throws {
        #expect(try JSON.double(9_223_372_036_854_775_807.0).canonicalString() == "9223372036854776000")
        #expect(try JSON.double(9_007_199_254_740_993.0).canonicalString() == "9007199254740992")
    }

    @Test("non-finite doubles cannot be serialised, and the error names the path")
    func nonFinite() {
        for style in [JSONStyle.jcs, .python] {
            #expect(throws: CanonicalJSONError.self) { try JSON.double(.nan).canonicalBytes(style: style) }
            #expect(throws: CanonicalJSONError.self) { try JSON.double(-.infinity).canonicalBytes(style: style) }
        }
        let nested: JSON = ["a": ["b": [1, .double(.infinity)]]]
        do {
            _ = try nested.canonicalBytes()
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "/a/b/1")
        }
    }

    // MARK: - RFC 8785 strings and ordering

    @Test("JCS escapes strings exactly as the RFC 8785 §3.2.2.2 example")
    func rfcStringExample() throws {
        let input = #"["\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"]"#
        let value = try JSON.parse(input)
        #expect(try value.canonicalString() == #"["€$\u000f\nA'B\"\\\\\"/"]"#)
    }

    @Test("JCS sorts keys by UTF-16 code units (RFC 8785 §3.2.3 example)")
    func rfcSortingExample() throws {
        let input = #"""
            {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
             "\u00f6": "Latin Small Letter O With Diaeresis"}
            """#
        let value = try JSON.parse(input)
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
            + "\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\","
            + "\"😀\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try value.canonicalString() == expected)
    }

    @Test("astral keys sort before U+E000..U+FFFF in JCS but after them in Python")
    func astralKeyOrder() throws {
        let value: JSON = ["\u{1F600}": 1, "\u{E000}": 2, "a": 3, "\u{10000}": 4, "\u{FFFF}": 5]
        #expect(try value.canonicalString(style: .jcs) == "{\"a\":3,\"\u{10000}\":4,\"\u{1F600}\":1,\"\u{E000}\":2,\"\u{FFFF}\":5}")
        #expect(try value.canonicalString(style: .python) == "{\"a\":3,\"\u{E000}\":2,\"\u{FFFF}\":5,\"\u{10000}\":4,\"\u{1F600}\":1}")
    }

    @Test("keys are compared by code units, not by Swift's canonical-equivalence String order")
    func noNormalisationInOrder() throws {
        // "e\u{301}" (decomposed é) sorts by its first byte 'e', before "f"; the precomposed one after.
        let value: JSON = ["f": 1, "e\u{301}": 2, "\u{E9}x": 3]
        #expect(try value.canonicalString() == "{\"e\u{301}\":2,\"f\":1,\"\u{E9}x\":3}")
    }

    // MARK: - Python json.dumps

    @Test("python style writes floats as CPython repr", arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (1e-05, "1e-05"), (1e16, "1e+16"),
        (123456789012345678.0, "1.2345678901234568e+17"), (0.042, "0.042"), (-0.0, "-0.0"), (0.0, "0.0"),
        (100.0, "100.0"), (1e15, "1000000000000000.0"), (1234567890123456.0, "1234567890123456.0"),
        (1.5e16, "1.5e+16"), (0.0001, "0.0001"), (1e-7, "1e-07"), (Double.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (2.5, "2.5"), (-1.25e-10, "-1.25e-10"),
        (1e22, "1e+22"), (333333333.33333329, "333333333.3333333"), (9007199254740993.0, "9007199254740992.0"),
        (12345678.9, "12345678.9"),
    ] as [(Double, String)])
    func pythonFloats(value: Double, expected: String) throws {
        #expect(try JSON.double(value).canonicalString(style: .python) == expected)
    }

    @Test("python style writes integers exactly")
    func pythonIntegers() throws {
        #expect(try JSON.int(Int.min).canonicalString(style: .python) == "-9223372036854775808")
        #expect(try JSON.int(Int.max).canonicalString(style: .python) == "9223372036854775807")
        #expect(try JSON.array([.int(1), .double(1)]).canonicalString(style: .python) == "[1,1.0]")
    }

    @Test("python style escapes control characters and keeps non-ASCII raw")
    func pythonStrings() throws {
        let s: JSON = ["s": .string("a\u{0}b\u{1F}c\u{7F}\"\\/\u{8}\u{C}\n\r\t")]
        #expect(try s.canonicalString(style: .python) == "{\"s\":\"a\\u0000b\\u001fc\u{7F}\\\"\\\\/\\b\\f\\n\\r\\t\"}")
        let a: JSON = ["héllo", "日本語", "😀 emoji", "\u{2028}\u{2029}"]
        #expect(try a.canonicalString(style: .python) == "[\"héllo\",\"日本語\",\"😀 emoji\",\"\u{2028}\u{2029}\"]")
        // Same escaping rules in JCS.
        #expect(try s.canonicalString(style: .jcs) == s.canonicalString(style: .python))
    }

    @Test("python style sorts keys by code point")
    func pythonKeyOrder() throws {
        let value: JSON = [
            "\u{1F600}": 1, "\u{E000}": 2, "a": 3, "é": 4, "Z": 5, "": 6, "ab": 7, "\u{10000}": 8, "\u{FFFF}": 9,
        ]
        let expected = "{\"\":6,\"Z\":5,\"a\":3,\"ab\":7,\"é\":4,\"\u{E000}\":2,\"\u{FFFF}\":9,\"\u{10000}\":8,\"\u{1F600}\":1}"
        #expect(try value.canonicalString(style: .python) == expected)
    }

    // MARK: - Pretty

    @Test("pretty output is indented, sorted and newline-terminated")
    func pretty() throws {
        let value: JSON = ["b": [1, 2.5, 3.0], "a": [:], "c": ["x": .null, "y": []]]
        let expected = """
            {
              "a": {},
              "b": [
                1,
                2.5,
                3
              ],
              "c": {
                "x": null,
                "y": []
              }
            }

            """
        #expect(String(decoding: try value.prettyBytes(), as: UTF8.self) == expected)
        #expect(try JSON.parse(value.prettyBytes()) == (try JSON.parse(value.canonicalBytes())))
    }

    // MARK: - Project vectors

    /// The canonical forms in spec/vectors/hashes.json (written by spec/vectors/hash_reference.py)
    /// must be reproduced byte for byte.
    @Test("canonical forms in spec/vectors/hashes.json are reproduced")
    func specVectors() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec/vectors/hashes.json")
        guard let data = try? Data(contentsOf: url) else {
            Issue.record("cannot read \(url.path)")
            return
        }
        let vectors = try JSON.parse([UInt8](data))
        let rfc = vectors["rfc8785"]
        var checked = 0
        for entry in rfc?["numbers"]?.arrayValue ?? [] {
            guard let hex = entry["ieee754_hex"]?.stringValue, let bits = UInt64(hex, radix: 16),
                  let expected = entry["canonical"]?.stringValue else { continue }
            #expect(try JSON.double(Double(bitPattern: bits)).canonicalString() == expected, "\(hex)")
            checked += 1
        }
        for name in ["key_order", "example"] {
            guard let input = rfc?[name]?["input"]?.stringValue, let expected = rfc?[name]?["canonical"]?.stringValue
            else { Issue.record("missing rfc8785.\(name)"); continue }
            #expect(try JSON.parse(input).canonicalString() == expected)
            checked += 1
        }
        // Serialised hashed parts: re-serialising the parsed text must give the same bytes.
        let texts: [(String, String, JSONStyle)] = [
            ("rigor_artifact", "hashed_part_jcs", .jcs),
            ("tracecore_artifact", "hashed_part_python", .python),
            ("tracecore_artifact", "hashed_part_jcs_for_comparison", .jcs),
            ("task_hash", "document_jcs", .jcs),
        ]
        for (group, key, style) in texts {
            guard let text = vectors[group]?[key]?.stringValue else { Issue.record("missing \(group).\(key)"); continue }
            #expect(try JSON.parse(text).canonicalString(style: style) == text, "\(group).\(key)")
            checked += 1
        }
        if let document = vectors["task_hash"]?["document"], let expected = vectors["task_hash"]?["document_jcs"]?.stringValue {
            #expect(try document.canonicalString() == expected)
        }
        #expect(checked > 20)
    }

    // MARK: - Round trip

    @Test("parse(canonical(v)) == v and canonicalisation is idempotent, for 500 random values",
          arguments: [JSONStyle.jcs, .python])
    func roundTrip(style: JSONStyle) throws {
        var rng = SplitMix64(seed: 0x5EED_0F_816)
        for _ in 0..<500 {
            let value = RandomJSON.value(&rng, depth: 0)
            let bytes = try value.canonicalBytes(style: style)
            let reparsed = try JSON.parse(bytes)
            #expect(RandomJSON.sameAfterRoundTrip(reparsed, value, style: style))
            #expect(try reparsed.canonicalBytes(style: style) == bytes)
        }
    }
}

/// A small deterministic PRNG so the property test is reproducible.
fileprivate struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

fileprivate enum RandomJSON {
    static let alphabet: [Unicode.Scalar] = [
        "a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "€",
        "\u{FB33}", "\u{E000}", "\u{FFFF}", "😀", "\u{10000}", "日",
    ]

    static func string(_ rng: inout SplitMix64) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) { s.append(alphabet.randomElement(using: &rng) ?? "a") }
        return String(s)
    }

    static func double(_ rng: inout SplitMix64) -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return Double(Int.random(in: -1000...1000, using: &rng))
        case 1: return Double.random(in: -1...1, using: &rng)
        case 2: return Double.random(in: -1e6...1e6, using: &rng) * pow10(Int.random(in: -30...30, using: &rng))
        default:
            // Any finite bit pattern.
            var d: Double
            repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
            return d
        }
    }

    static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }

    static func value(_ rng: inout SplitMix64, depth: Int) -> JSON {
        let pick = Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: -(1 << 53)...(1 << 53), using: &rng))
        case 3: return .double(double(&rng))
        case 4: return .string(string(&rng))
        case 5: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var o: [String: JSON] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &rng) { o[string(&rng)] = value(&rng, depth: depth + 1) }
            return .object(o)
        }
    }

    /// JCS models every number as a double (`1.0` is written `1` and reads back as `.int(1)`, and
    /// integral doubles above 2^53 come back as the nearest digits), so after a JCS round trip
    /// numbers are compared as doubles; python style must round-trip exactly.
    static func sameAfterRoundTrip(_ a: JSON, _ b: JSON, style: JSONStyle) -> Bool {
        if style == .python { return a == b }
        switch (a, b) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
            return asDouble(a) == asDouble(b)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { sameAfterRoundTrip($0, $1, style: style) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { sameAfterRoundTrip(v, $0, style: style) } ?? false }
        default:
            return a == b
        }
    }

    static func asDouble(_ v: JSON) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}
