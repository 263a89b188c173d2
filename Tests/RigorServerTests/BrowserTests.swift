import Foundation
import RigorJSON
import RigorServer
import RigorSpec
import RigorTestSupport
import Testing

/// The real server (Hummingbird, on a loopback port) and a real report file, driven in headless
/// Chromium through Selenium (Tests/Browser/dashboard_check.py): every page loads, the runs are
/// filtered through the form, a run and a diff open from the list, a report link is followed,
/// and the hostile run's payloads neither execute nor become elements. Screenshots go to
/// `.build/browser-screenshots/`.
///
/// Chromium and chromedriver come from Debian (`make deps`), selenium from PyPI into
/// `.build-venv-tools` (`make tools-venv`, which `make test` runs). Skipped, saying why, only
/// when they cannot be installed.
@Suite("Dashboard in a browser", .serialized)
struct BrowserTests {
    static let venvPython = "\(RepoPaths.root)/.build-venv-tools/bin/python"

    static let ready: String? = {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (make deps installs chromium and chromium-driver)"
        }
        let probe = ["-c", "import selenium"]
        if let r = try? CommandLineRun.run(venvPython, probe), r.status == 0 { return nil }
        _ = try? CommandLineRun.run("/usr/bin/make", ["-s", "tools-venv"], cwd: RepoPaths.root)
        if let r = try? CommandLineRun.run(venvPython, probe), r.status == 0 { return nil }
        return "selenium could not be installed into .build-venv-tools (is PyPI reachable?)"
    }()

    @Test("Pages, filters, a run, a diff and the report work in Chromium, and the planted XSS stays inert")
    func dashboardInChromium() async throws {
        if let reason = Self.ready {
            print("browser test skipped: \(reason)")
            return
        }
        let f = try ServerFixture.shared.get()
        let report = "\(f.state)/report.html"
        let rendered = try HTMLReport(subject: .runs([f.hostile, f.failing] + f.passing)).render(store: f.store, generatedAt: "2026-12-05T00:00:00Z")
        try rendered.html.write(toFile: report, atomically: true, encoding: .utf8)

        let port = PortBox()
        let server = DashboardServer(dashboard: f.dashboard, host: "127.0.0.1", port: 0)
        let task = Task { try await server.run { port.set($0) } }
        defer { task.cancel() }
        var bound = 0
        for _ in 0..<200 where bound == 0 {
            try await Task.sleep(nanoseconds: 25_000_000)
            bound = port.get()
        }
        #expect(bound > 0, "the server did not start")
        let shots = "\(RepoPaths.root)/.build/browser-screenshots"
        let r = try CommandLineRun.run(Self.venvPython, ["\(RepoPaths.root)/Tests/Browser/dashboard_check.py", "http://127.0.0.1:\(bound)", report, shots, f.hostile])
        let result = try JSON.parse(r.stdout.split(separator: "\n").last.map(String.init) ?? "{}")
        let failures = (result["failures"]?.arrayValue ?? []).compactMap(\.stringValue)
        let checks = (result["checks"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(r.status == 0 && failures.isEmpty, "\(failures)\n\(r.stderr.suffix(2000))")
        #expect(checks.count >= 25, "\(checks.count) checks passed: \(checks)")
        for name in ["dashboard.png", "run.png", "diff.png", "report.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(name)"), "no screenshot \(name)")
        }
    }
}

/// The bound port, set by the server's task.
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port = 0
    func set(_ p: Int) { lock.lock(); port = p; lock.unlock() }
    func get() -> Int { lock.lock(); defer { lock.unlock() }; return port }
}
