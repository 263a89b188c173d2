import RigorSpec
import RigorTasks
import Testing

/// policy.toml as users write it, and as hostile or careless users break it: every bad file is a
/// `PolicyError` naming the field (and the line of its rule), never a crash.
@Suite("Policy files")
struct PolicyFileTests {
    static let good = """
        format = "rigor-policy/1"
        default = "approved"
        on_reject = "continue"

        [approver]
        kind = "asked_first"
        request = "ask"
        match_arg = "action"

        [[rules]]
        id = "etc-read"
        action = "read_*"
        args = { path = "/etc/*" }
        decision = "rejected"

        [[rules]]
        id = "big-transfer"
        action = "transfer"
        args = { amount = { min = 1000 } }
        decision = "requires_approval"
        on_reject = "end"
        """

    func parse(_ text: String) throws(PolicyError) -> Policy {
        try PolicyLayer.parse(text, path: "policy.toml", source: "test").policy
    }

    func problem(_ text: String) -> PolicyError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func aGoodFileReadsEveryField() throws {
        let p = try parse(Self.good)
        #expect(p.rules.map(\.id) == ["etc-read", "big-transfer"])
        #expect(p.onReject == .continue)
        #expect(p.approver == Approver(kind: .askedFirst, request: "ask", matchArg: "action"))
        #expect(p.rules[0].args["path"] == .glob("/etc/*"))
        #expect(p.rules[1].args["amount"] == .bounds(min: 1000, max: nil))
        #expect(p.rules[1].onReject == .end)
        #expect(p.hash.hasPrefix("sha256:"))
    }

    @Test func theHashIgnoresLayoutButNotMeaning() throws {
        let spaced = try parse(Self.good.replacingOccurrences(of: " = ", with: "   =   ") + "\n# a comment\n")
        #expect(spaced.hash == (try parse(Self.good)).hash)
        let changed = try parse(Self.good.replacingOccurrences(of: "min = 1000", with: "min = 1001"))
        #expect(changed.hash != (try parse(Self.good)).hash)
    }

    @Test(arguments: [
        ("format = \"rigor-policy/2\"", "format"),
        ("", "format"),
        ("format = \"rigor-policy/1\"\nrulez = []", "rulez"),
        ("format = \"rigor-policy/1\"\ndefault = \"maybe\"", "default"),
        ("format = \"rigor-policy/1\"\ndefault = \"requires_approval\"", "default"),
        ("format = \"rigor-policy/1\"\non_reject = 3", "on_reject"),
        ("format = \"rigor-policy/1\"\nrules = 5", "rules"),
        ("format = \"rigor-policy/1\"\n[approver]\nkind = \"oracle\"", "approver.kind"),
        ("format = \"rigor-policy/1\"\n[approver]\nkind = \"always\"\nextra = 1", "approver.extra"),
        ("format = \"rigor-policy/1\"\n[[rules]]\ndecision = \"approved\"", "rules[0].id"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"default\"\ndecision = \"approved\"", "rules[0].id"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"../x\"\ndecision = \"approved\"", "rules[0].id"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"", "decision"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"allow\"", "decision"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"", "rules[1].id"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nmax_count = -1", "max_count"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nmax_count = 1.5", "max_count"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nrate = { max = 1, per_steps = 0 }", "per_steps"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nrate = { max = 1 }", "rate"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nmax_count = 1\nrate = { max = 1, per_steps = 2 }", "both"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\naction = []", "action"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\naction = [1]", "action"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nargs = { n = { min = 5, max = 1 } }", "min 5.0 above max"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nargs = { n = { min = \"x\" } }", "args.n.min"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nargs = { n = { regex = \".*\" } }", "args.n"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nargs = { n = [1, 2] }", "args.n"),
        ("format = \"rigor-policy/1\"\n[[rules]]\nid = \"a\"\ndecision = \"approved\"\nwhen = 1", "rules[0].when"),
        ("format = \"rigor-policy/1\"\n[[rules]\nid = \"a\"", "TOML"),
        ("[[[x]]]", "TOML"),
        ("x = [}", "TOML"),
    ])
    func aBadFileSaysWhatIsWrong(_ text: String, _ mention: String) {
        let error = problem(text)
        #expect(error != nil, "accepted: \(text)")
        #expect(error?.description.contains(mention) == true, "\(error?.description ?? "nil") does not mention \(mention)")
    }

    @Test func aBadRuleNamesItsLine() {
        let text = "format = \"rigor-policy/1\"\n\n[[rules]]\nid = \"fine\"\ndecision = \"approved\"\n\n[[rules]]\nid = \"broken\"\ndecision = \"nope\"\n"
        let error = problem(text)
        #expect(error?.description.hasPrefix("policy policy.toml:7:") == true, "\(String(describing: error))")
    }

    @Test func tooManyRulesAreRefused() {
        var text = "format = \"rigor-policy/1\"\n"
        for i in 0...Policy.maxRules { text += "[[rules]]\nid = \"r\(i)\"\ndecision = \"observed\"\n" }
        #expect(problem(text)?.description.contains("at most \(Policy.maxRules)") == true)
    }

    @Test func binaryAndHugeInputIsAnErrorNotACrash() {
        #expect(problem(String(decoding: (0..<512).map { UInt8($0 % 256) }, as: UTF8.self)) != nil)
        #expect(problem("format = \"rigor-policy/1\"\n" + String(repeating: "[", count: 10_000)) != nil)
        #expect(problem("format = \"rigor-policy/1\"\nrules = " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)) != nil)
    }

    @Test func aMissingOrDirectoryFileIsUnreadable() {
        #expect(throws: PolicyError.self) { try PolicyLayer.load(path: "/nonexistent/policy.toml", source: "flag") }
        #expect(throws: PolicyError.self) { try PolicyLayer.load(path: "/tmp", source: "flag") }
    }

    @Test func layersKeepRuleIdsUnique() throws {
        let a = try PolicyLayer.parse("format = \"rigor-policy/1\"\n[[rules]]\nid = \"x\"\ndecision = \"approved\"", path: "a", source: "task")
        let b = try PolicyLayer.parse("format = \"rigor-policy/1\"\n[[rules]]\nid = \"x\"\ndecision = \"rejected\"", path: "b", source: "project")
        #expect(throws: PolicyError.self) { try PolicyLayer.effective([a, b]) }
        let c = try PolicyLayer.parse("format = \"rigor-policy/1\"\ndefault = \"rejected\"\n[[rules]]\nid = \"y\"\ndecision = \"observed\"", path: "c", source: "project")
        let combined = try #require(try PolicyLayer.effective([a, c]))
        #expect(combined.rules.map(\.id) == ["x", "y"])
        #expect(combined.defaultDecision == .rejected)
        #expect(combined.layers == ["task", "project"])
        #expect(combined.hash != a.policy.hash)
    }
}
