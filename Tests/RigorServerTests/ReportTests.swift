import Foundation
import RigorJSON
import RigorServer
import RigorTestSupport
import Testing

/// `rigor report`'s file: self-contained, data embedded safely, drill-down by anchors.
@Suite("HTML report")
struct ReportTests {
    @Test("The report embeds its data as JSON no value can break out of, and needs no network")
    func selfContained() throws {
        let f = try ServerFixture.shared.get()
        let (html, missing) = try HTMLReport(subject: .runs([f.hostile, f.failing, "ffffffffffff"] + f.passing))
            .render(store: f.store, generatedAt: "2026-12-05T00:00:00Z")
        #expect(missing == ["ffffffffffff"])
        // No network: nothing loaded from elsewhere, and the policy forbids it.
        for needle in ["http://", "https://", "src=\"/", "href=\"/"] { #expect(!html.contains(needle), "\(needle) in the report") }
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        // One script element, the data, which holds no '<' at all.
        let start = try #require(html.range(of: "<script type=\"application/json\" id=\"rigor-data\">"))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let data = String(html[start.upperBound..<end.lowerBound])
        #expect(!data.contains("<") && !data.contains(">"))
        #expect(html.components(separatedBy: "<script").count == 2)
        let parsed = try JSON.parse(data)
        #expect(parsed["runs"]?.arrayValue?.count == 4)
        // The planted payloads appear only escaped.
        #expect(html.contains("&lt;/script&gt;&lt;img src=x onerror="))
        for needle in ["<img src=x", "<svg onload", "<script>window"] { #expect(!html.contains(needle)) }
        // Each failed run has a section, and the table links to it.
        for id in [f.hostile, f.failing] {
            #expect(html.contains("id=\"run-\(id)\""))
            #expect(html.contains("href=\"#run-\(id)\""))
        }
    }

    @Test("scriptSafeJSON escapes what could end a script element and still parses to the same value",
          arguments: ["</script>", "<!--", "a&b", "\u{2028}\u{2029}", "]]>", "<\u{0}>"])
    func scriptSafe(text: String) throws {
        let value: JSON = ["s": .string(text), "a": [.string(text)]]
        let safe = HTMLReport.scriptSafeJSON(value)
        #expect(!safe.contains("<") && !safe.contains(">") && !safe.contains("&") && !safe.contains("\u{2028}"))
        #expect(try JSON.parse(safe) == value)
    }

    @Test("rigor report writes the file; ci --report and --latest-gate are wired; bad arguments are usage errors")
    func command() throws {
        let f = try ServerFixture.shared.get()
        let out = "\(f.state)/cli-report.html"
        let r = try CommandLineRun.rigor(["report", f.failing, "latest", "--out", out, "--state-dir", f.state])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
        #expect(try CommandLineRun.rigor(["report", "--out", out, "--state-dir", f.state]).status == 2)
        let noGate = try CommandLineRun.rigor(["report", "--latest-gate", "--out", out, "--state-dir", f.state])
        #expect(noGate.status == 2 && noGate.stderr.contains("rigor ci"), "\(noGate.stderr)")
        let badBatch = "\(f.state)/not-a-batch.json"
        try "{\"x\":1}".write(toFile: badBatch, atomically: true, encoding: .utf8)
        let b = try CommandLineRun.rigor(["report", "--batch", badBatch, "--out", out, "--state-dir", f.state])
        #expect(b.status == 2 && b.stderr.contains("episodes"), "\(b.stderr)")
    }
}
