import RigorJSON
@testable import RigorServer
import Testing

/// The run page's TRACE table (spec/trace-endpoint.md): every proposal in order, escaped.
@Suite("Run page: TRACE proposals")
struct RunPageTraceTests {
    @Test("proposals are listed in order with decision, rule and evidence; their text is escaped; none, no section")
    func proposals() {
        let proposals: [JSON] = [
            ["n": 1, "step": 1, "type": "read_file", "actor": "agent", "target": "/srv/a", "decision": "approved", "rule_id": "default"],
            ["n": 2, "step": 3, "type": "remove_path", "actor": "agent", "target": "/srv/<b>cache</b>", "decision": "requires_approval",
             "rule_id": "cleanup.delete-needs-approval", "evidence": [["name": "asked_before_deleting", "pass": true, "source": "trace"],
                                                                      ["name": "<i>x</i>", "pass": false, "source": "trace"]]],
        ]
        let view: JSON = ["run_id": "r1", "success": true, "artifact": ["action_trace": [], "trace_actions": .array(proposals)]]
        let page = RunPage.body(view, from: nil, linkRuns: false).markup
        #expect(page.contains("<h2>TRACE endpoint <small>2 proposals</small></h2>"))
        let first = page.range(of: "<code>read_file</code>"), second = page.range(of: "<code>remove_path</code>")
        #expect(first != nil && second != nil && first!.lowerBound < second!.lowerBound, "in the order proposed")
        #expect(page.contains("<code>cleanup.delete-needs-approval</code></td><td>✓ asked_before_deleting, ✗ &lt;i&gt;x&lt;/i&gt;</td>"), "\(page)")
        #expect(!page.contains("<b>cache</b>") && !page.contains("<i>x</i>"))
        let none = RunPage.body(["run_id": "r2", "artifact": ["action_trace": []]], from: nil, linkRuns: false).markup
        #expect(!none.contains("TRACE endpoint"))
    }
}
