import Foundation
import RigorJSON
import RigorRunner
import RigorSpec

/// The web UI as a function from a request to a response, with no HTTP library in it: routes,
/// parameter checks, the JSON views and the pages rendered from them, the security headers.
/// `DashboardServer` puts it on a socket; tests and the benchmark call `respond` directly.
///
/// Routes (spec/views.md, "Web UI routes"): `/runs`, `/runs/{run}`, `/diff?a=&b=`, `/metrics`,
/// `/baselines`, `/ledger`, `/bundles`, each page with its JSON twin under `/api/`; `/static/`
/// for the style sheet and script. Nothing from a URL is ever used as a file path: runs are
/// named by id (hex and dashes only) and looked up in the store.
public struct Dashboard: Sendable {
    public let views: DashboardViews
    /// Whether the UI may start runs (`rigor serve --allow-run`).
    public let allowRun: Bool
    /// The CSRF token this server hands out in its run form and requires back (random per start).
    public let csrfToken: String
    let layout: Layout

    public init(views: DashboardViews, allowRun: Bool = false) {
        self.views = views
        self.allowRun = allowRun
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        csrfToken = Digest.hex(bytes)
        layout = Layout(assets: .linked, subtitle: views.workspace.stateDirectory)
    }

    /// The Content-Security-Policy of every response: nothing but this server's own style sheet
    /// and script, no inline script, no frames, forms only to this server.
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", contentSecurityPolicy), ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"), ("Cache-Control", "no-store"),
    ]

    /// Answers one request. Never throws: every failure is a response with a 4xx/5xx status and
    /// a message saying what to change (HTML for pages, JSON under `/api/`).
    public func respond(method: String, path: String, query: String?, body: [UInt8] = []) -> PageResponse {
        let isAPI = path == "/api" || path.hasPrefix("/api/")
        var response: PageResponse
        do {
            response = try route(method: method, path: path, query: try QueryString(query), body: body, isAPI: isAPI)
        } catch {
            response = isAPI ? .json(error.json, status: error.status) : .html(StorePages.error(error, layout: layout), status: error.status)
        }
        response.headers += Self.securityHeaders
        return response
    }

    private func route(method: String, path: String, query q: QueryString, body: [UInt8], isAPI: Bool) throws(DashboardError) -> PageResponse {
        guard path.utf8.count <= 1024 else { throw .badParameter(name: "path", problem: "longer than 1024 bytes") }
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if segments.last == "" && segments.count > 1 { segments.removeLast() }
        if isAPI { segments.removeFirst() }
        if method == "POST" {
            guard segments == ["runs", "start"] else { throw .methodNotAllowed("POST is accepted only at /runs/start") }
            return try startRun(body)
        }
        guard method == "GET" || method == "HEAD" else { throw .methodNotAllowed("only GET (and POST /runs/start with --allow-run) are served") }
        switch segments {
        case [""] where !isAPI:
            return .redirect(Link("/runs"))
        case ["static", "rigor.css"] where !isAPI:
            return PageResponse(status: 200, contentType: "text/css; charset=utf-8", body: Array((ArtifactDiff.htmlStyle + Layout.Assets.css).utf8))
        case ["static", "rigor.js"] where !isAPI:
            return PageResponse(status: 200, contentType: "text/javascript; charset=utf-8", body: Array(Layout.Assets.js.utf8))
        case ["runs"]:
            let view = try views.runs(q)
            if isAPI { return .json(view) }
            var page = RunsPage.render(view, layout: layout)
            if allowRun { page = RunsPage.render(view, layout: layout).inserting(runForm, before: "<form class=\"filters\"") }
            return .html(page)
        case _ where segments.count == 2 && segments[0] == "runs":
            let from = q["from"] == nil ? nil : try q.int("from", default: 1, in: 1...10_000_000)
            let view = try views.run(segments[1])
            if isAPI { return .json(view) }
            return .html(RunPage.render(view, from: from, layout: layout))
        case ["diff"]:
            guard let a = q["a"], let b = q["b"] else {
                throw .badParameter(name: q["a"] == nil ? "a" : "b", problem: "missing: /diff?a=RUN&b=RUN (run ids, prefixes or 'latest')")
            }
            let diff = try views.diff(a, b)
            return isAPI ? .json(diff.json) : .html(DiffPage.render(diff, a: a, b: b, layout: layout))
        case ["metrics"]:
            let view = try views.metrics(q)
            return isAPI ? .json(view) : .html(MetricsPage.render(view, layout: layout, api: Link("/api/metrics", RunsPage.filterNames.map { ($0, q[$0] ?? "") })))
        case ["summary"]:
            // The metrics' headline: JSON only; its page is /metrics.
            guard isAPI else { return .redirect(Link("/metrics", RunsPage.filterNames.map { ($0, q[$0] ?? "") })) }
            return .json(try views.summary(q))
        case ["baselines"]:
            let view = try views.baselines()
            return isAPI ? .json(view) : .html(StorePages.baselines(view, layout: layout))
        case ["ledger"]:
            let view = try views.ledger(q)
            return isAPI ? .json(view) : .html(StorePages.ledger(view, layout: layout))
        case ["bundles"]:
            let view = try views.bundles()
            return isAPI ? .json(view) : .html(StorePages.bundles(view, layout: layout))
        default:
            throw .noSuchPage(String(path.prefix(200)))
        }
    }

    // MARK: Starting runs (--allow-run)

    var runForm: HTML {
        "<form class=\"filters\" method=\"post\" action=\"/runs/start\" id=\"start-run\"><input type=\"hidden\" name=\"csrf\" value=\""
            + .text(csrfToken) + "\"><label>agent<input name=\"agent\" required></label><label>task<input name=\"task\" required></label>"
            + "<label>seed<input name=\"seed\" value=\"0\"></label><button type=\"submit\">Start run</button></form>"
    }

    private func startRun(_ body: [UInt8]) throws(DashboardError) -> PageResponse {
        guard allowRun else { throw .methodNotAllowed("this server is read-only: start it with `rigor serve --allow-run` to start runs from the UI") }
        guard body.count <= QueryString.maximumBytes else { throw .badParameter(name: "form", problem: "larger than \(QueryString.maximumBytes) bytes") }
        let form = try QueryString(String(decoding: body, as: UTF8.self))
        // Compared in constant time: the token is the only thing a cross-site form cannot know.
        guard let token = form["csrf"], token.utf8.count == csrfToken.utf8.count,
              zip(token.utf8, csrfToken.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw .forbidden("missing or wrong CSRF token: start runs from this server's own form")
        }
        guard let agent = form["agent"], let task = form["task"] else {
            throw .badParameter(name: form["agent"] == nil ? "agent" : "task", problem: "missing")
        }
        let seed = try form.int("seed", default: 0, in: 0...Int(Int32.max))
        let runID = try RunStarting.start(agent: agent, task: task, seed: seed, workspace: views.workspace)
        return .redirect(.run(runID))
    }
}

extension HTML {
    /// This markup with `extra` inserted before the first `marker` (both literal markup).
    func inserting(_ extra: HTML, before marker: String) -> HTML {
        guard let r = markup.range(of: marker) else { return self }
        var s = markup
        s.insert(contentsOf: extra.markup, at: r.lowerBound)
        return HTML(unsafeMarkup: s)
    }
}
