import RigorSpec
import Testing

/// `PathName`: the one check for names that become paths.
@Suite("names that become paths")
struct PathNameTests {
    @Test("identifiers Rigor writes are accepted", arguments: [
        "28a3ecde984e45caaa3df8b3fc4e1d65", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "toy_filesystem", "filesystem_hidden_config",
        "Run.1", String(repeating: "a", count: 128),
    ])
    func identifiers(_ name: String) throws {
        try PathName.checkIdentifier(name, as: "run_id")
    }

    @Test("identifiers that could climb, hide, look like an option or smuggle bytes are refused", arguments: [
        "", ".", "..", "../x", "../../..", "a/b", "/etc", ".hidden", "-rf", "a\u{0}b", "a b", "é", "a\nb", "a\\b",
        String(repeating: "a", count: 129),
    ])
    func badIdentifiers(_ name: String) {
        #expect(throws: PathName.Refusal.self) { try PathName.checkIdentifier(name, as: "run_id") }
    }

    @Test("relative paths inside a folder are accepted", arguments: ["task.toml", "data/world.json", "sdk/run_agent.py", "a b/ü.txt", "..x", "x.."])
    func relativePaths(_ path: String) throws {
        try PathName.checkRelativePath(path, as: "bundle file")
        #expect(try PathName.confined(path, in: "/base", as: "bundle file") == "/base/\(path)")
    }

    @Test("relative paths that leave the folder, or are not plain, are refused", arguments: [
        "", "/etc/passwd", "..", "../x", "a/../../x", "a/./b", "./a", "a//b", "a/", "a\u{0}b", "a\u{1B}[2Jb", "a\\..\\b",
        String(repeating: "a", count: 256), String(repeating: "a/", count: 600) + "a",
    ])
    func badRelativePaths(_ path: String) {
        #expect(throws: PathName.Refusal.self) { try PathName.confined(path, in: "/base", as: "bundle file") }
    }

    @Test("a file name has no '/'")
    func fileNames() throws {
        try PathName.checkFileName("toy_agent.py", as: "agent file")
        #expect(throws: PathName.Refusal.self) { try PathName.checkFileName("sdk/run_agent.py", as: "agent file") }
    }

    @Test("the refusal names the name, with control characters escaped")
    func message() {
        do {
            try PathName.checkIdentifier("../\u{1B}[2J", as: "run_id")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "run_id '../\\u{1b}[2J' cannot name a file: only ASCII letters, digits, '.', '_' and '-' are allowed")
        }
        #expect(PathName.shown("../\u{1B}[2J") == "../\\u{1b}[2J")
    }
}
