import Foundation
import RigorRunner
import RigorServer
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// A store with real runs for the dashboard tests: the toy agent passing (seeds 0 and 1), the
/// do-nothing agent failing (seed 0), and a hostile agent that plants markup and script in its
/// action arguments, intent, output and log. Built once per test process.
struct ServerFixture: Sendable {
    /// What the hostile agent writes: closes a script element, opens an image whose error
    /// handler sets `window.__xss`, breaks out of a quoted attribute, and of a JS string.
    static let payloads = [
        "</script><img src=x onerror=\"window.__xss=1\">",
        "\"><svg onload=window.__xss=2>",
        "' onmouseover='window.__xss=3' x='",
        "';window.__xss=4;//</script><script>window.__xss=5</script>",
    ]

    static let hostileAgentSource = """
        import sys
        P = \(String(decoding: (try? JSON.array(payloads.map(JSON.string)).canonicalBytes()) ?? [], as: UTF8.self))

        class HostileAgent:
            def reset(self, task_spec):
                self.n = 0

            def observe(self, observation):
                pass

            def act(self):
                self.n += 1
                for p in P:
                    print(p)
                if self.n == 1:
                    return {"type": "read_file", "args": {"path": "/app/" + P[0]}, "intent": P[1]}
                if self.n == 2:
                    return {"type": "list_dir", "args": {"path": "/app"}, "intent": P[2]}
                return {"type": "set_output", "args": {"key": P[3], "value": P[0]}}
        """

    let state: String
    let workspace: Workspace
    let store: RunStore
    let passing: [String]
    let failing: String
    let hostile: String

    static let shared: Result<ServerFixture, any Error> = Result(catching: { try ServerFixture.make() })

    static func make() throws -> ServerFixture {
        let state = RepoPaths.temporaryDirectory("rigor-server")
        let workspace = RepoPaths.workspace(state: state)
        let store = try #require(try workspace.store(create: true) as? RunStore)
        let hostileFile = "\(state)/hostile_agent.py"
        try hostileAgentSource.write(toFile: hostileFile, atomically: true, encoding: .utf8)
        func run(_ agent: String, _ task: String, _ seed: Int) throws -> String {
            let request = try workspace.prepare(RunOptions(agent: agent, task: task, seed: seed, worldKey: TestWorldKey.fixed))
            let result = try Episode.run(request)
            _ = try workspace.keep(result, store: store)
            return result.artifact["run_id"]?.stringValue ?? ""
        }
        let task = "filesystem_hidden_config@1"
        let passing = [try run("Agents/toy_agent.py", task, 0), try run("Agents/toy_agent.py", task, 1)]
        let failing = try run("Agents/do_nothing.py", task, 0)
        let hostile = try run(hostileFile, task, 0)
        return ServerFixture(state: state, workspace: workspace, store: store, passing: passing, failing: failing, hostile: hostile)
    }

    var dashboard: Dashboard { Dashboard(views: DashboardViews(workspace: workspace, store: store)) }
}
