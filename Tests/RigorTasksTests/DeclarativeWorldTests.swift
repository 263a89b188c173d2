import Foundation
import RigorSpec
import RigorTestSupport
import Testing
@testable import RigorTasks

@Suite("Declarative worlds, world actions and manifest lint")
struct DeclarativeWorldTests {
    static let manifest = """
        id = "decl"
        version = 1
        suite = "t"
        description = "d"
        [world]
        kind = "declarative"
        [[world.hidden]]
        name = "code"
        value = 'C-{{string(6, "A-F0-9")}}'
        [[world.hidden]]
        name = "n"
        value = "{{int(3, 5)}}"
        [[world.files]]
        path = "/d/live_{{digits(3)}}.env"
        content = "CODE={{hidden.code}} n={{hidden.n}} {{pick(\\"x\\", \\"y\\")}}\\n"
        [budgets]
        steps = 5
        tool_calls = 5
        [sandbox]
        filesystem_roots = ["/d"]
        [actions.list_dir]
        args = { path = "path" }
        [actions.set_output]
        args = { key = "string", value = "string" }
        [validator]
        output_key = "CODE"
        expected = "{{hidden.code}}"

        """

    /// A task folder holding `text` as its task.toml.
    static func folder(_ text: String) throws -> String {
        let dir = RepoPaths.temporaryDirectory("decl") + "/decl"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: "\(dir)/task.toml", atomically: true, encoding: .utf8)
        return dir
    }

    static func world(_ text: String = manifest, seed: Int) throws -> ReportedAnswerWorld {
        let task = try TaskRegistry.load(folder: try folder(text))
        return try #require(try task.makeWorld(seed: seed, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
    }

    @Test("templates parse into draws, references and text")
    func templateParts() throws {
        let t = try WorldTemplate.parse(#"a{{digits(2)}}b{{ string(3, "A-C_") }}{{int(-1, 1)}}{{pick("p", "q\"")}}{{hidden.k}}"#)
        #expect(t.parts == [.text("a"), .digits(2), .text("b"), .string(3, alphabet: "ABC_"), .int(-1...1), .pick(["p", "q\""]),
                            .hidden("k")])
    }

    @Test("malformed templates are refused with a reason", arguments: [
        "{{digits(0)}}", "{{digits(x)}}", "{{nope(1)}}", "{{string(3, \"Z-A\")}}", "{{int(5, 1)}}", "{{pick(1)}}",
        "{{digits(2)", "x}}", "{{hidden.}}", "{{string(2)}}",
    ])
    func malformedTemplates(_ text: String) {
        #expect(throws: TemplateError.self) { try WorldTemplate.parse(text) }
    }

    @Test("a declarative world follows its templates; the same seed gives the same world, seeds differ")
    func worldFromData() throws {
        var codes = Set<String>()
        for seed in 0..<20 {
            let a = try Self.world(seed: seed), b = try Self.world(seed: seed)
            #expect(a.fileContents == b.fileContents)
            let (path, content) = try #require(a.fileContents.first)
            #expect(a.fileContents.count == 1 && path.hasPrefix("/d/live_") && path.count == "/d/live_000.env".count)
            let code = try #require(content.split(separator: " ").first.map { String($0.dropFirst("CODE=".count)) })
            #expect(code.hasPrefix("C-") && code.count == 8)
            #expect(content.contains(" n=3 ") || content.contains(" n=4 ") || content.contains(" n=5 "))
            #expect(a.checker.expected == code)
            codes.insert(code)
        }
        #expect(codes.count > 15)
    }

    @Test("the draw order is the documented one: hidden values in order, then files, then the expected value")
    func drawOrder() throws {
        let a = try Self.world(seed: 7)
        var rng = PRNG(taskID: "decl", seed: 7, key: TestWorldKey.fixed)
        let code = "C-" + rng.string(6, alphabet: "ABCDEF0123456789")
        let n = rng.int(in: 3...5)
        let digits = rng.digits(3)
        let pick = rng.pick(["x", "y"])
        #expect(a.fileContents == ["/d/live_\(digits).env": "CODE=\(code) n=\(n) \(pick)\n"])
    }

    @Test("manifest errors name the field", arguments: [
        ("expected = \"{{hidden.code}}\"", "expected = \"{{hidden.missing}}\"", "validator.expected"),
        ("value = \"{{int(3, 5)}}\"", "value = \"{{int(3, 5)}} {{hidden.n}}\"", "world.hidden[1].value"),
        ("path = \"/d/live_{{digits(3)}}.env\"", "path = \"/elsewhere/x\"", "world.files[0].path"),
        ("output_key = \"CODE\"", "", "validator.output_key"),
    ])
    func refused(_ from: String, _ to: String, _ field: String) throws {
        let text = Self.manifest.replacingOccurrences(of: from, with: to)
        #expect(text != Self.manifest)
        do {
            _ = try TaskRegistry.load(folder: try Self.folder(text))
            Issue.record("loaded a broken manifest")
        } catch {
            #expect("\(error)".contains("'\(field)'"), "\(error)")
        }
    }

    @Test("a manifest naming an action its built-in world lacks is refused at load, naming what it implements")
    func lackingAction() throws {
        let text = Self.manifest + "[actions.poll_stream]\nargs = {}\n"
        do {
            _ = try TaskRegistry.load(folder: try Self.folder(text))
            Issue.record("loaded a manifest with an action its world lacks")
        } catch {
            #expect("\(error)".contains("actions.poll_stream"))
            #expect("\(error)".contains("does not implement"))
            #expect("\(error)".contains("extract_value, list_dir, read_file, set_output"))
        }
    }

    @Test("every built-in task declares only actions its world implements")
    func builtInSurfaces() throws {
        for case .success(let task) in try TaskRegistry(directory: RepoPaths.tasks).loadAll() {
            guard case .builtIn(let kind) = task.world else { continue }
            #expect(Set(task.manifest.surface.actions.keys).isSubset(of: Set(kind.actions)), "\(task.manifest.ref)")
        }
    }

    @Test("lint names unknown keys in a Rigor manifest, and none in the committed tasks")
    func lint() throws {
        let text = Self.manifest.replacingOccurrences(of: "[budgets]", with: "colour = 1\n[budgets]\ntool_cals = 3")
            + "[actions.read_file]\nargs = { path = \"path\" }\ntoolcall = false\n"
        let findings = ManifestLint.findings(folder: try Self.folder(text))
        #expect(findings.count == 3, "\(findings)")
        #expect(findings.contains { $0.hasPrefix("budgets.tool_cals:") })
        #expect(findings.contains { $0.hasPrefix("actions.read_file.toolcall:") })
        // `colour` lands in the [[world.files]] entry above it
        #expect(findings.contains { $0.hasPrefix("world.files[0].colour:") })
        for folder in try TaskRegistry(directory: RepoPaths.tasks).taskFolders() {
            #expect(ManifestLint.findings(folder: folder).isEmpty, "\(folder)")
        }
    }

    static let service = """
        id = "svc"
        version = 1
        suite = "t"
        description = "d"
        [world]
        kind = "declarative"
        [world.service]
        token = 'tok-{{string(8, "A-Z")}}'
        payload = { nonce = "{{digits(4)}}", client_id = 'c-{{string(3, "a-z")}}' }
        unblocked_at = "{{int(2, 3)}}"
        instructions = "send client_id and nonce to /token"
        [budgets]
        steps = 30
        tool_calls = 30
        [actions.call_api]
        args = { endpoint = "string", payload = "any" }
        [actions.get_client_config]
        args = {}
        [actions.wait]
        args = { steps = "integer" }
        [actions.read_instructions]
        args = {}
        [actions.set_output]
        args = { key = "string", value = "string" }
        [validator]
        output_key = "TOKEN"

        """

    @Test("a declarative service world: rate limited, one transient failure, then the token; drawn in the documented order")
    func serviceWorld() throws {
        let task = try TaskRegistry.load(folder: try Self.folder(Self.service))
        let world = try task.makeWorld(seed: 3, key: TestWorldKey.fixed)
        var rng = PRNG(taskID: "svc", seed: 3, key: TestWorldKey.fixed)
        let token = "tok-" + rng.string(8, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let client = "c-" + rng.string(3, alphabet: "abcdefghijklmnopqrstuvwxyz")  // client_id sorts before nonce
        let nonce = rng.digits(4)
        func act(_ type: String, _ args: [String: JSON]) throws -> JSON {
            let checked = try task.manifest.surface.check(type: type, args: args).get()
            return try world.execute(checked).result
        }
        let config = try act("get_client_config", [:])
        #expect(config["payload_template"] == ["client_id": .string(client), "nonce": .string(nonce)])
        #expect(try act("read_instructions", [:])["readme"] == "send client_id and nonce to /token")
        let payload: JSON = ["client_id": .string(client), "nonce": .string(nonce)]
        var got: JSON = .null
        for _ in 0..<10 {
            let r = try act("call_api", ["endpoint": "/token", "payload": payload])
            if r["ok"] == true { got = r; break }
            _ = try act("wait", ["steps": .int(r["retry_after"]?.intValue ?? 1)])
        }
        #expect("\(got)".contains(token), "\(got)")
        _ = try act("set_output", ["key": "TOKEN", "value": .string(token)])
        #expect(try world.evaluate() == .success("TOKEN matches the hidden value"))
    }

    @Test("a service world refuses file actions and files, and needs no expected value", arguments: [
        ("[actions.set_output]", "[actions.list_dir]\nargs = { path = \"path\" }\n[actions.set_output]", "actions.list_dir"),
        ("[budgets]", "[[world.files]]\npath = \"/x/{{digits(1)}}\"\ncontent = \"\"\n[budgets]", "world.files"),
        ("output_key = \"TOKEN\"", "output_key = \"TOKEN\"\nexpected = \"x\"", "validator.expected"),
    ])
    func serviceRefusals(_ from: String, _ to: String, _ field: String) throws {
        let text = Self.service.replacingOccurrences(of: from, with: to)
        #expect(text != Self.service)
        do {
            _ = try TaskRegistry.load(folder: try Self.folder(text))
            Issue.record("loaded a broken service manifest")
        } catch {
            #expect("\(error)".contains("'\(field)'"), "\(error)")
        }
    }
}
