import Foundation
import RigorJSON
import RigorRunner
import RigorSpec
import RigorStore

/// `rigor report`: one self-contained HTML file about a set of stored runs (a batch, a CI gate,
/// or runs named by id) — the file a CI job uploads as its artifact. No network, no script: the
/// page's Content-Security-Policy allows only its inline style and data: images. The data it
/// shows is embedded as JSON in `<script type="application/json" id="rigor-data">` (never
/// executed) with `<`, `>`, `&`, U+2028 and U+2029 escaped as `\uXXXX`, so no value can end
/// the element.
///
/// Contents: the pass rate per pairing with Wilson intervals, the failure taxonomy, the runs
/// table, the CI gate's checks when it is a gate, and a section per run for drill-down (every
/// failed run up to `detailedRunsLimit`, and every run of a small set), each with the window of
/// steps around the failing one. Run links in the tables jump to those sections.
public struct HTMLReport: Sendable {
    /// What the report is about.
    public enum Subject: Sendable {
        case runs([String])
        /// `rigor batch --json` output (its `episodes` name the runs).
        case batch(JSON)
        /// `rigor ci --json` output (its `checks` name the new runs).
        case gate(JSON)
    }

    /// At most this many runs get a detail section (failures first).
    public static let detailedRunsLimit = 60
    /// Steps shown per detailed run (around the failing step).
    public static let stepsPerRun = 20
    /// A set this small details every run, passed or not.
    public static let detailEveryRunUpTo = 20

    public let subject: Subject
    public let title: String

    public init(subject: Subject, title: String? = nil) {
        self.subject = subject
        switch subject {
        case .runs(let ids): self.title = title ?? "Rigor report: \(ids.count) run\(ids.count == 1 ? "" : "s")"
        case .batch(let b): self.title = title ?? "Rigor report: batch of \(b["total"]?.intValue ?? b["episodes"]?.arrayValue?.count ?? 0) episodes"
        case .gate(let g): self.title = title ?? "Rigor report: CI gate \(g["passed"]?.boolValue == true ? "passed" : "failed")"
        }
    }

    /// The run ids the subject names, in order, without repeats.
    public var runIDs: [String] {
        let ids: [String]
        switch subject {
        case .runs(let r): ids = r
        case .batch(let b): ids = (b["episodes"]?.arrayValue ?? []).compactMap { $0["run_id"]?.stringValue }
        case .gate(let g): ids = (g["checks"]?.arrayValue ?? []).compactMap { $0["run_id"]?.stringValue }
        }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The report's HTML, reading each run from `store`. A run the store does not have is named
    /// in the report (and in `missing`) rather than failing the whole report.
    public func render(store: RunStore, generatedAt: String) throws(DashboardError) -> (html: String, missing: [String]) {
        var summaries: [RunSummary] = []
        var missing: [String] = []
        for id in runIDs {
            do { summaries.append(try store.summary(try store.resolve(id))) } catch {
                if case .runNotFound = error { missing.append(id) } else { throw DashboardViews.storeError(error) }
            }
        }
        let rows = summaries.map(\.json)
        let pairings = Self.pairingRates(summaries)
        var failures: [String: Int] = [:]
        for s in summaries where s.success != true { failures[s.failureType ?? "unknown", default: 0] += 1 }
        let passed = summaries.filter { $0.success == true }.count

        var body: HTML = "<div class=\"cards\">"
        body += RunPage.card("runs", .text(String(summaries.count)), .text("\(passed) passed, \(summaries.count - passed) failed"))
        let ci = Statistics.wilson(successes: passed, trials: summaries.count)
        body += RunPage.card("pass rate", .text(summaries.isEmpty ? "—" : Charts.fmt(Double(passed) / Double(summaries.count) * 100) + "%"),
                             .text(summaries.isEmpty ? "" : "95% Wilson \(Charts.fmt(ci.low * 100))–\(Charts.fmt(ci.high * 100))%"))
        body += RunPage.card("generated", .text(generatedAt), .text(missing.isEmpty ? "" : "\(missing.count) runs not in the store"))
        body += "</div>"
        if case .gate(let gate) = subject { body += "<h2>CI gate</h2>" + StorePages.gateSummary(gate, linkRuns: false) }
        body += "<h2>Pass rate per pairing <small>bars with 95% Wilson intervals</small></h2>"
        body += Charts.passRates(pairings.map { p in
            (p.label, p.runs > 0 ? Double(p.passed) / Double(p.runs) : nil, p.low, p.high, p.runs)
        })
        body += "<h2>Failure taxonomy</h2>"
        body += failures.isEmpty ? "<p class=\"mute\">no failures</p>" : Charts.counts(failures.sorted { $0.value > $1.value }.map { (label: $0.key, count: $0.value) })

        let detailed = detailedIDs(summaries)
        body += "<h2>Runs</h2><table id=\"runs\"><tr><th>run</th><th>outcome</th><th>task</th><th>agent</th><th>seed</th><th>steps</th><th>tool calls</th></tr>"
        for r in summaries {
            let id = r.runID
            body += "<tr class=\"run\"><td class=\"mono\">"
            body += detailed.contains(id) ? .link(Link("#run-" + Link.encode(id)), .text(String(id.prefix(12))), cls: "run-link") : .text(String(id.prefix(12)))
            body += "</td>" + RunsPage.outcome(ok: r.success == true, r.json)
            body += "<td>" + .text(r.taskRef ?? "?") + "</td><td>" + .text(r.agentRef ?? "?") + "</td><td class=\"num\">" + .text(r.seed.map(String.init) ?? "?")
            body += "</td><td class=\"num\">" + .text(String(r.stepsUsed ?? 0)) + "</td><td class=\"num\">" + .text(String(r.toolCallsUsed ?? 0)) + "</td></tr>"
        }
        body += "</table>"
        if !missing.isEmpty { body += "<p class=\"warn\">" + .text("Not in the store: " + missing.joined(separator: ", ")) + "</p>" }

        for s in summaries where detailed.contains(s.runID) {
            let artifact: JSON
            do { artifact = try store.artifact(s.runID) } catch { throw DashboardViews.storeError(error) }
            body += HTML(unsafeMarkup: "<section class=\"run-detail\" id=\"run-\(HTMLText.escaped(Link.encode(s.runID)))\">")
            body += "<h2>" + .text("Run \(s.runID)") + " <small><a href=\"#runs\">back to the runs</a></small></h2>"
            body += RunPage.body(RunReadout.json(summary: s, artifact: artifact), from: nil, linkRuns: false, window: Self.stepsPerRun)
            body += "</section>"
        }

        let data: JSON = ["view": "rigor.report/1", "title": .string(title), "generated_at": .string(generatedAt),
                          "runs": .array(rows), "missing": .array(missing.map(JSON.string)),
                          "pairings": .array(pairings.map { ["pairing": .string($0.label), "runs": .int($0.runs), "passed": .int($0.passed),
                                                             "wilson_95": [.double($0.low), .double($0.high)]] }),
                          "gate": { if case .gate(let g) = subject { return g } else { return .null } }()]
        body += HTML(unsafeMarkup: "<script type=\"application/json\" id=\"rigor-data\">\(Self.scriptSafeJSON(data))</script>")
        let layout = Layout(assets: .inline, subtitle: "rigor report")
        var page = layout.page(title: title, current: nil, api: nil, body).markup
        // One file, no network: the policy allows the inline style and nothing else.
        page = page.replacingOccurrences(
            of: "<meta charset=\"utf-8\">",
            with: "<meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">")
        return (page, missing)
    }

    private func detailedIDs(_ summaries: [RunSummary]) -> Set<String> {
        if summaries.count <= Self.detailEveryRunUpTo { return Set(summaries.map(\.runID)) }
        return Set(summaries.filter { $0.success != true }.prefix(Self.detailedRunsLimit).map(\.runID))
    }

    struct PairingRate { let label: String; let runs: Int; let passed: Int; let low: Double; let high: Double }

    static func pairingRates(_ summaries: [RunSummary]) -> [PairingRate] {
        var groups: [String: (runs: Int, passed: Int)] = [:]
        for s in summaries {
            let key = "\(s.agentRef ?? "?") × \(s.taskRef ?? "?")"
            groups[key, default: (0, 0)].runs += 1
            if s.success == true { groups[key, default: (0, 0)].passed += 1 }
        }
        return groups.keys.sorted().map { k in
            let g = groups[k] ?? (0, 0)
            let ci = Statistics.wilson(successes: g.passed, trials: g.runs)
            return PairingRate(label: k, runs: g.runs, passed: g.passed, low: ci.low, high: ci.high)
        }
    }

    /// JSON that is safe inside a `<script>` element: compact, with `<`, `>`, `&`, U+2028 and
    /// U+2029 as `\uXXXX` escapes (still the same JSON to a parser).
    public static func scriptSafeJSON(_ value: JSON) -> String {
        let text = (try? value.canonicalString()) ?? "null"
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
