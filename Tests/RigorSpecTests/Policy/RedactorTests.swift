import RigorSpec
import Testing

/// The redactor's built-in patterns and its rules for short and overlapping secrets.
@Suite("Redactor")
struct RedactorTests {
    @Test(arguments: [
        ("key sk-abcdefghijklmnopqrstuvwx0123 end", "key [REDACTED:openai_key] end"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "[REDACTED:anthropic_key]"),
        ("id AKIAABCDEFGHIJKLMNOP.", "id [REDACTED:aws_access_key]."),
        ("t=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "t=[REDACTED:github_token]"),
        ("xoxb-1234567890-abcdef", "[REDACTED:slack_token]"),
        ("sk-short", "sk-short"),
        ("the ghost of AKIA", "the ghost of AKIA"),
        ("", ""),
    ])
    func builtInPatterns(_ text: String, _ expected: String) {
        #expect(Redactor().redact(text) == expected)
    }

    @Test func secretsLongestFirstShortOnesIgnoredKeysToo() {
        let r = Redactor(secrets: [.init(name: "A", value: "abcd"), .init(name: "B", value: "abcdefgh"), .init(name: "C", value: "xy")])
        #expect(r.redact("abcdefgh abcd xy") == "[REDACTED:B] [REDACTED:A] xy")
        let v: JSON = ["abcd": ["k": "abcdefgh"], "n": 1, "list": ["plain", "abcd!"]]
        #expect(r.redact(v) == ["[REDACTED:A]": ["k": "[REDACTED:B]"], "n": 1, "list": ["plain", "[REDACTED:A]!"]])
        let untouched: JSON = ["a": ["b": "nothing here"]]
        #expect(r.redact(untouched) == untouched)
    }
}
