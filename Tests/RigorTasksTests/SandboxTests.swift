import RigorSpec
import Testing
@testable import RigorTasks

@Suite("Sandbox paths")
struct SandboxTests {
    let sandbox = Sandbox(filesystemRoots: ["/app"], networkHosts: ["api.example.test"])

    @Test("paths under a root are allowed and normalised", arguments: [
        ("/app", "/app"), ("/app/", "/app"), ("/app//readme.txt", "/app/readme.txt"),
        ("/app/./x/./y", "/app/x/y"), ("/app/.config_1234", "/app/.config_1234"),
    ])
    func allowed(raw: String, normalized: String) {
        #expect(sandbox.authorize(path: raw) == .success(normalized))
    }

    @Test("escapes, NUL, empty and relative paths are refused", arguments: [
        ("/etc/passwd", PathRefusal.outsideRoots(["/app"])),
        ("../../etc/passwd", .relative),
        ("/app/../etc/passwd", .parentSegment),
        ("/app/..", .parentSegment),
        ("", .empty),
        ("app/readme.txt", .relative),
        ("/app/readme\u{0}.txt", .nulByte),
        ("/application", .outsideRoots(["/app"])),
        ("/", .outsideRoots(["/app"])),
    ])
    func refused(raw: String, refusal: PathRefusal) {
        #expect(sandbox.authorize(path: raw) == .failure(refusal))
    }

    @Test("a refused path argument is recorded in io_audit with its verdict")
    func auditOnViolation() throws {
        let surface = ActionSurface([ActionSpec(name: "read_file", args: ["path": .path])])
        let checked = try surface.check(type: "read_file", args: ["path": "/etc/passwd"]).get()
        let decision = sandbox.authorize(checked)
        #expect(decision.violation?.contains("/etc/passwd") == true)
        #expect(decision.audit.count == 1)
        #expect(decision.audit.first?["verdict"] == "denied")
        #expect(decision.audit.first?["type"] == "fs")
        #expect(decision.audit.first?["path"] == "/etc/passwd")
    }

    @Test("hosts outside the allowlist are refused")
    func hosts() throws {
        #expect(sandbox.authorize(host: "api.example.test"))
        #expect(!sandbox.authorize(host: "evil.example"))
        let surface = ActionSurface([ActionSpec(name: "call", args: ["host": .host])])
        let checked = try surface.check(type: "call", args: ["host": "evil.example"]).get()
        let decision = sandbox.authorize(checked)
        #expect(decision.violation != nil)
        #expect(decision.audit.first?["type"] == "net")
    }
}

@Suite("Action surface")
struct ActionSurfaceTests {
    let surface = ActionSurface([
        ActionSpec(name: "list_dir", args: ["path": .path]),
        ActionSpec(name: "set_output", args: ["key": .string, "value": .string]),
    ])

    @Test("declared actions with exact, well-typed args pass")
    func accepts() {
        #expect((try? surface.check(type: "list_dir", args: ["path": "/app"]).get())?.name == "list_dir")
    }

    @Test("unknown actions, including TraceCore's idle wait, are refused")
    func unknown() {
        for type in ["wait", "teleport", ""] {
            guard case .failure(.unknownAction(let m)) = surface.check(type: type, args: [:]) else {
                Issue.record("'\(type)' was accepted")
                continue
            }
            #expect(m.contains("list_dir, set_output"))
        }
    }

    @Test("missing, extra and wrongly typed args are invalid_arguments naming the arg", arguments: [
        (["path": JSON.int(42)], "path"),
        ([:], "path"),
        (["path": "/app", "recursive": true], "recursive"),
    ] as [([String: JSON], String)])
    func invalid(args: [String: JSON], named: String) {
        guard case .failure(.invalidArguments(let m)) = surface.check(type: "list_dir", args: args) else {
            Issue.record("accepted \(args)")
            return
        }
        #expect(m.contains("'\(named)'"))
    }
}
