import Foundation
import RigorJSON
import RigorServer
import RigorStore
import RigorTestSupport
import Testing

/// Path traversal and bad parameters on every route: each gets a clear 4xx (JSON under /api/,
/// saying which parameter and what it must be), never a crash, a 5xx, or a file's content.
@Suite("Dashboard hostile requests")
struct HostileRequestTests {
    static let traversals = [
        "/runs/..%2F..%2F..%2Fetc%2Fpasswd", "/runs/../../etc/passwd", "/api/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/../../../../etc/passwd", "/static/..%2f..%2fetc%2fpasswd", "/static/rigor.css/../../rigor.db",
        "/api/runs/....//....//etc/passwd", "/runs/%00", "/api/runs/latest%00.json", "/etc/passwd", "/.rigor/rigor.db",
        "/api/../../etc/passwd", "//etc/passwd", "/runs/" + String(repeating: "a", count: 5000),
        "/api/bundles/../../bundles", "/runs/\u{202E}abcd", "/api/ledger/1",
    ]

    static let badQueries: [(path: String, parameter: String)] = [
        ("/api/runs?outcome=maybe", "outcome"), ("/api/runs?failure_type=%3Cscript%3E", "failure_type"),
        ("/api/runs?limit=0", "limit"), ("/api/runs?limit=99999999999999999999", "limit"), ("/api/runs?limit=-1", "limit"),
        ("/api/runs?offset=abc", "offset"), ("/api/runs?seed=1e9", "seed"), ("/api/runs?since=yesterday", "since"),
        ("/api/runs?until=2026-02-30", "until"), ("/api/runs?task=%ZZ", "task"), ("/api/runs?agent=%FF%FE", "agent"),
        ("/api/runs?task=a%0Ab", "task"), ("/api/diff?a=latest", "b"), ("/api/diff?a=../../etc&b=latest", "a"),
        ("/api/diff?a=latest&b=%3Cimg%3E", "b"), ("/api/ledger?limit=100000", "limit"),
        ("/api/runs/latest?from=0", "from"), ("/runs/latest?from=-5", "from"),
        ("/api/runs?" + String(repeating: "x=1&", count: 100), "query"), ("/api/runs?task=" + String(repeating: "a", count: 9000), "query"),
    ]

    func dashboard() throws -> Dashboard { try ServerFixture.shared.get().dashboard }

    func get(_ d: Dashboard, _ target: String, method: String = "GET") -> PageResponse {
        let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
        return d.respond(method: method, path: parts[0], query: parts.count > 1 ? parts[1] : nil)
    }

    @Test("Traversal attempts are 4xx and never return a file", arguments: traversals)
    func traversal(path: String) throws {
        let r = get(try dashboard(), path)
        #expect((400...499).contains(r.status), "\(path) → \(r.status)")
        #expect(!r.text.contains("root:x:0:0"), "\(path) leaked /etc/passwd")
        #expect(!r.text.contains("SQLite format"), "\(path) leaked the store")
    }

    @Test("Bad parameters are 400 naming the parameter", arguments: badQueries)
    func badParameter(target: (path: String, parameter: String)) throws {
        let r = get(try dashboard(), target.path)
        // seed/since/until are refused as bad values (or as not yet filterable): both 400.
        #expect(r.status == 400, "\(target.path) → \(r.status): \(r.text)")
        if target.path.hasPrefix("/api/") {
            let error = try JSON.parse(r.body)["error"]?.stringValue ?? ""
            #expect(error.contains(target.parameter), "\(target.path): \(error)")
        }
    }

    @Test("Unknown runs are 404; methods other than GET are refused", arguments: ["/runs/ffffffff", "/api/runs/0000-0000"])
    func unknownRun(path: String) throws {
        #expect(get(try dashboard(), path).status == 404)
    }

    @Test("POST, PUT and DELETE are refused on a read-only server", arguments: ["POST", "PUT", "DELETE", "PATCH"])
    func readOnly(method: String) throws {
        let d = try dashboard()
        for path in ["/runs", "/runs/start", "/api/runs"] {
            let r = d.respond(method: method, path: path, query: nil, body: Array("agent=x&task=y&csrf=\(d.csrfToken)".utf8))
            #expect(r.status == 405, "\(method) \(path) → \(r.status)")
        }
    }

    @Test("Starting a run needs --allow-run and this server's CSRF token")
    func csrf() throws {
        let f = try ServerFixture.shared.get()
        let d = Dashboard(views: f.dashboard.views, allowRun: true)
        #expect(d.respond(method: "GET", path: "/runs", query: nil).text.contains("name=\"csrf\" value=\"\(d.csrfToken)\""))
        let form = "agent=Agents%2Ftoy_agent.py&task=filesystem_hidden_config%401&seed=3"
        #expect(d.respond(method: "POST", path: "/runs/start", query: nil, body: Array(form.utf8)).status == 403)
        let other = Dashboard(views: f.dashboard.views, allowRun: true)
        #expect(d.respond(method: "POST", path: "/runs/start", query: nil, body: Array("\(form)&csrf=\(other.csrfToken)".utf8)).status == 403)
        for agent in ["%2Fbin%2Fsh", "..%2F..%2Fbin%2Fsh", "Agents%2F..%2F..%2Fx"] {
            let r = d.respond(method: "POST", path: "/runs/start", query: nil,
                              body: Array("agent=\(agent)&task=filesystem_hidden_config%401&csrf=\(d.csrfToken)".utf8))
            #expect(r.status == 400, "agent \(agent) → \(r.status)")
        }
    }

    @Test("With --allow-run and the token, the form runs an episode as rigor run does and redirects to it")
    func startsRun() throws {
        let state = RepoPaths.temporaryDirectory("rigor-server-run")
        let workspace = RepoPaths.workspace(state: state)
        let d = Dashboard(views: DashboardViews(workspace: workspace, store: try #require(try workspace.store(create: true) as? RunStore)), allowRun: true)
        let form = "agent=Agents%2Ftoy_agent.py&task=filesystem_hidden_config%401&seed=2&csrf=\(d.csrfToken)"
        let r = d.respond(method: "POST", path: "/runs/start", query: nil, body: Array(form.utf8))
        #expect(r.status == 303, "\(r.text)")
        let location = try #require(r.headers.first { $0.0 == "Location" }?.1)
        let run = try JSON.parse(d.respond(method: "GET", path: "/api" + location, query: nil).body)
        #expect(run["agent_ref"]?.stringValue == "Agents/toy_agent.py" && run["seed"]?.intValue == 2 && run["success"]?.boolValue == true)
        let unknown = d.respond(method: "POST", path: "/runs/start", query: nil, body: Array("agent=Agents%2Ftoy_agent.py&task=nope%401&csrf=\(d.csrfToken)".utf8))
        #expect(unknown.status == 400 && unknown.text.contains("nope@1"), "\(unknown.text)")
    }

    @Test("Random bytes as path and query never crash and never answer 5xx")
    func fuzz() throws {
        let d = try dashboard()
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("/.%?&=+-_abcdef0123456789runsapidiffmetricsledger<>\"'\\\u{0}\u{7F}é".unicodeScalars)
        for _ in 0..<2000 {
            let n = Int.random(in: 0...60, using: &rng)
            let s = String(String.UnicodeScalarView((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }))
            let parts = s.split(separator: "?", maxSplits: 1).map(String.init)
            let r = d.respond(method: "GET", path: "/" + (parts.first ?? ""), query: parts.count > 1 ? parts[1] : nil)
            #expect(r.status < 500 || r.status == 503, "'\(s)' → \(r.status)")
        }
    }
}

/// DNS rebinding: on loopback the server answers only requests addressed to loopback.
@Suite("Dashboard Host check")
struct HostCheckTests {
    @Test("Loopback names on the bound port pass; other names and ports do not",
          arguments: [("127.0.0.1:7700", true), ("localhost:7700", true), ("[::1]:7700", true), ("LOCALHOST", true), ("[::1]", true),
                      ("evil.example:7700", false), ("127.0.0.1.evil.example:7700", false), ("127.0.0.1:80", false),
                      ("localhost:7700:1", false), ("", false), ("[::2]:7700", false)])
    func loopback(authority: String, allowed: Bool) {
        #expect(DashboardServer.isLoopback(authority: authority, port: 7700) == allowed)
    }
}
