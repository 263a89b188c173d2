import Foundation
import RigorJSON
import RigorRunner
import RigorServer
import RigorStore
import RigorTestSupport
import Testing

/// The dashboard as a function (`Dashboard.respond`): every page and its JSON twin, the filters,
/// the security headers, and hostile requests.
@Suite("Dashboard routes")
struct DashboardTests {
    func fixture() throws -> ServerFixture { try ServerFixture.shared.get() }

    func get(_ d: Dashboard, _ target: String) -> PageResponse {
        let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
        return d.respond(method: "GET", path: parts[0], query: parts.count > 1 ? parts[1] : nil)
    }

    func json(_ r: PageResponse) throws -> JSON { try JSON.parse(r.body) }

    @Test("Every page answers 200 with HTML, and its /api/ twin with JSON", arguments: ["/runs", "/baselines", "/ledger", "/bundles"])
    func pagesAndTwins(path: String) throws {
        let d = try fixture().dashboard
        let page = get(d, path)
        #expect(page.status == 200, "\(page.text)")
        #expect(page.contentType.hasPrefix("text/html"))
        #expect(page.text.contains("href=\"/api\(path)\""), "the page links its JSON twin")
        let api = get(d, "/api" + path)
        #expect(api.status == 200)
        #expect(api.contentType.hasPrefix("application/json"))
        #expect(try json(api)["view"]?.stringValue?.hasPrefix("rigor.") == true)
    }

    @Test("/api/metrics and /api/summary are runs metrics/summary --json over the same filters; /metrics draws them")
    func metrics() throws {
        let f = try fixture()
        let m = try json(get(f.dashboard, "/api/metrics?task=filesystem_hidden_config%401"))
        #expect(m["view"]?.stringValue == "rigor.run_metrics/1")
        #expect(m["runs"]?.intValue == 4 && m["passed"]?.intValue == 2)
        #expect(m["filter"]?["task"]?.stringValue == "filesystem_hidden_config@1")
        let s = try json(get(f.dashboard, "/api/summary"))
        #expect(s["view"]?.stringValue == "rigor.run_summary/1" && s["runs"]?.intValue == 4)
        let page = get(f.dashboard, "/metrics")
        #expect(page.status == 200)
        #expect(page.text.contains("aria-label=\"pass rate per pairing\""))
        #expect(page.text.contains("50.0%"))
    }

    @Test("The runs page and /api/runs list the same runs, newest first")
    func runsListing() throws {
        let f = try fixture()
        let view = try json(get(f.dashboard, "/api/runs"))
        let ids = (view["runs"]?.arrayValue ?? []).compactMap { $0["run_id"]?.stringValue }
        #expect(ids == [f.hostile, f.failing] + f.passing.reversed())
        let page = get(f.dashboard, "/runs").text
        for id in ids { #expect(page.contains("/runs/\(id)")) }
    }

    @Test("Filters narrow the list and are echoed back; paging moves through it")
    func filters() throws {
        let f = try fixture()
        let failures = try json(get(f.dashboard, "/api/runs?outcome=failure"))
        let failed = Set((failures["runs"]?.arrayValue ?? []).compactMap { $0["run_id"]?.stringValue })
        #expect(failed == [f.failing, f.hostile])
        #expect(failures["filter"]?["outcome"]?.stringValue == "failure")
        let byAgent = try json(get(f.dashboard, "/api/runs?agent=toy_agent&outcome=success"))
        #expect((byAgent["runs"]?.arrayValue ?? []).count == 2)
        let page1 = try json(get(f.dashboard, "/api/runs?limit=3"))
        let page2 = try json(get(f.dashboard, "/api/runs?limit=3&offset=3"))
        #expect(page1["runs"]?.arrayValue?.count == 3)
        #expect(page2["runs"]?.arrayValue?.count == 1)
        #expect(!(page1["next_cursor"]?.isNull ?? true))
        let html = get(f.dashboard, "/runs?outcome=failure&task=filesystem_hidden_config%401").text
        #expect(html.contains("<option value=\"failure\" selected>"))
        #expect(html.contains("value=\"filesystem_hidden_config@1\""))
    }

    @Test("A run page shows why it failed, its steps and the agent log; /api/runs/ID is runs show --json")
    func runPage() throws {
        let f = try fixture()
        let view = try json(get(f.dashboard, "/api/runs/\(f.failing)"))
        #expect(view["run_id"]?.stringValue == f.failing)
        #expect(view["artifact"]?["action_trace"] != nil)
        let page = get(f.dashboard, "/runs/\(f.passing[0])")
        #expect(page.status == 200)
        #expect(page.text.contains("class=\"steps\""))
        #expect(page.text.contains("<polyline"))
        #expect(get(f.dashboard, "/runs/latest").text.contains(f.hostile))
        #expect(get(f.dashboard, "/runs/\(f.passing[0].prefix(8))").status == 200)
    }

    @Test("A run page shows each step's policy decision, rule, approver and evidence")
    func policyOnTheRunPage() throws {
        let state = RepoPaths.temporaryDirectory("rigor-server-policy")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let workspace = RepoPaths.workspace(state: state)
        let store = try #require(try workspace.store(create: true) as? RunStore)
        let request = try workspace.prepare(RunOptions(agent: "Agents/approval_cleanup_agent.py", task: "approval_gated_cleanup@1", seed: 0,
                                                       worldKey: TestWorldKey.fixed))
        let result = try Episode.run(request)
        _ = try workspace.keep(result, store: store)
        let id = try #require(result.artifact["run_id"]?.stringValue)
        let page = get(Dashboard(views: DashboardViews(workspace: workspace, store: store)), "/runs/\(id)").text
        #expect(page.contains("<b>policy</b> <span class=\"pill ok\">requires_approval</span> rule <code>cleanup.delete-needs-approval</code> executed"), "\(page)")
        #expect(page.contains("approver <code>asked_first</code>: approved: the agent asked with &#39;request_approval&#39; at step 2"), "\(page)")
        #expect(page.contains("<span class=\"pill ok\">✓ stale_path_confirmed</span> <small>world</small>"))
        #expect(page.contains("rule <code>cleanup.observe-requests</code>"))
    }

    @Test("The diff page shows rigor diff's report of two runs; its twin is diff --format json")
    func diff() throws {
        let f = try fixture()
        let page = get(f.dashboard, "/diff?a=\(f.passing[0])&b=\(f.failing)")
        #expect(page.status == 200, "\(page.text)")
        #expect(page.text.contains("First divergent step"))
        let api = try json(get(f.dashboard, "/api/diff?a=\(f.passing[0])&b=\(f.failing)"))
        #expect(api["verdict"]?.stringValue == "different")
    }

    @Test("Every response carries a strict Content-Security-Policy and nosniff", arguments: ["/runs", "/api/runs", "/nope", "/runs/zzzz"])
    func securityHeaders(path: String) throws {
        let r = get(try fixture().dashboard, path)
        let headers = Dictionary(r.headers, uniquingKeysWith: { a, _ in a })
        let csp = try #require(headers["Content-Security-Policy"])
        #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
        #expect(headers["X-Content-Type-Options"] == "nosniff")
    }

    @Test("The hostile run's payloads appear only escaped in its page, the list and a diff")
    func hostileEscaped() throws {
        let f = try fixture()
        let pages = [get(f.dashboard, "/runs/\(f.hostile)").text, get(f.dashboard, "/runs").text,
                     get(f.dashboard, "/diff?a=\(f.hostile)&b=\(f.passing[0])").text, get(f.dashboard, "/ledger").text]
        #expect(pages[0].contains("&lt;/script&gt;&lt;img src=x onerror="), "the payload is shown, as text")
        for page in pages {
            for needle in ["<img src=x", "<svg onload", "<script>window", "' onmouseover='", "\"><svg"] {
                #expect(!page.contains(needle), "raw '\(needle)' in a page")
            }
            // The only script element is the dashboard's own file.
            #expect(page.components(separatedBy: "<script").count - 1 == (page.contains("src=\"/static/rigor.js\"") ? 1 : 0))
        }
    }
}
