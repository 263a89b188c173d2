import Testing

@testable import RigorSpec

struct JSONParserTests {
    @Test("valid documents parse to the expected value", arguments: [
        ("null", JSON.null),
        (" \t\r\n true \n", .bool(true)),
        ("false", .bool(false)),
        ("0", .int(0)),
        ("-0", .int(0)),
        ("42", .int(42)),
        ("-9223372036854775808", .int(Int.min)),
        ("9223372036854775807", .int(Int.max)),
        ("9223372036854775808", .double(9223372036854775808.0)),
        ("123456789012345678901234567890", .double(1.2345678901234568e29)),
        ("1.0", .double(1.0)),
        ("-0.5", .double(-0.5)),
        ("1e3", .double(1000)),
        ("1E+3", .double(1000)),
        ("2.5e-3", .double(0.0025)),
        (#""""#, .string("")),
        (#""a\"b\\c\/d\b\f\n\r\t""#, .string("a\"b\\c/d\u{8}\u{C}\n\r\t")),
        (#""\u00e9\u20AC\ud83d\ude00""#, .string("é€😀")),
        (#""\u0000""#, .string("\u{0}")),
        ("\"héllo 日本 😀\"", .string("héllo 日本 😀")),
        ("[]", .array([])),
        ("[1, [2, [3]], {}]", .array([1, [2, [3]], [:]])),
        (#"{"a": 1, "b": {"c": [true, null]}}"#, ["a": 1, "b": ["c": [true, nil]]]),
        (#"{"":0}"#, ["": 0]),
    ] as [(String, JSON)])
    func valid(text: String, expected: JSON) throws {
        #expect(try JSON.parse(text) == expected)
    }

    @Test("invalid documents are rejected", arguments: [
        "", " ", "nul", "True", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}",
        "// c\n1", "/* c */ 1", "NaN", "Infinity", "-Infinity", "01", "-01", "1.", ".5", "1e", "1e+", "-",
        "+1", "0x10", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"a\u{1}b\"", "\"tab\there\"",
        "[1]]", "{} {}", "1 2", "[", "{", "{\"a\":}", "1e400", "-1e400", "\u{FEFF}1", "[1,,2]", "{,}",
    ])
    func invalid(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test("errors report line, column and offset")
    func errorPosition() {
        do {
            _ = try JSON.parse("{\"a\":1 \"b\":2}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 1)
            #expect(error.column == 8)
            #expect(error.offset == 7)
            #expect(error.description == "line 1, column 8: expected ',' or '}' after object member")
        }
        do {
            _ = try JSON.parse("{\n  \"é\": [1,\n    2,,\n  ]\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 7)
            #expect(error.description.hasPrefix("line 3, column 7: "))
        }
    }

    @Test("nesting beyond maxDepth is rejected, up to it is accepted")
    func depthLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try JSON.parse(Array(ok.utf8))
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParseError.self) { try JSON.parse(Array(deep.utf8)) }
        #expect(throws: JSONParseError.self) { try JSON.parse(Array("{\"a\":{\"b\":1}}".utf8), maxDepth: 1) }
        _ = try JSON.parse(Array("{\"a\":{\"b\":1}}".utf8), maxDepth: 2)
        // Far beyond any sane depth: must fail cleanly, not overflow the stack.
        let hostile = Array(repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(hostile) }
    }

    @Test("duplicate keys are an error that points at the second key")
    func duplicateKeys() {
        do {
            _ = try JSON.parse(#"{"a": 1, "b": 2, "a": 3}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("duplicate key \"a\""))
            #expect(error.column == 18)
        }
        // Escaped spelling of the same key is still the same key.
        #expect(throws: JSONParseError.self) { try JSON.parse(#"{"a": 1, "\u0061": 2}"#) }
    }

    @Test("invalid UTF-8 is rejected", arguments: [
        [0x22, 0xFF, 0x22],  // never valid
        [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
        [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xC3, 0x22],  // truncated sequence
        [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
        [0x22, 0x80, 0x22],  // stray continuation byte
        [0x5B, 0xC3, 0xA9, 0x5D],  // non-ASCII outside a string
    ] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSON.parse(bytes) }
    }

    @Test("valid multi-byte UTF-8 at the edges of each range is accepted")
    func validUTF8Edges() throws {
        let bytes: [UInt8] = [0x22, 0xC2, 0x80, 0xDF, 0xBF, 0xE0, 0xA0, 0x80, 0xED, 0x9F, 0xBF, 0xEE, 0x80, 0x80,
                              0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]
        #expect(try JSON.parse(bytes) == .string("\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{10000}\u{10FFFF}"))
    }

    @Test("lone or mismatched surrogate escapes are rejected", arguments: [
        #""\ud800""#, #""\udc00""#, #""\ud800x""#, #""\ud800\u0041""#, #""\ud800\ud800""#, #""a\udfffb""#,
        #""\ud83d\""#,
    ])
    func loneSurrogates(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test("escaped and unescaped strings decode to the same String")
    func escapedMatchesRaw() throws {
        #expect(try JSON.parse(#"["\u65e5\u672c", "日本"]"#) == ["日本", "日本"])
    }
}
