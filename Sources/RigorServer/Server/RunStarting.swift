import RigorJSON
import RigorRunner

/// Starting a run from the UI (`rigor serve --allow-run`): the same library path as `rigor run`
/// (prepare, run the episode, keep it in the store), for an agent the workspace already knows —
/// a name from the project's agents, or a relative path inside the project (no `..`, not
/// absolute) — so a form cannot point the runner at an arbitrary executable.
enum RunStarting {
    static func start(agent: String, task: String, seed: Int, workspace: Workspace) throws(DashboardError) -> String {
        let knownName = workspace.agents[agent] != nil
        let parts = agent.split(separator: "/", omittingEmptySubsequences: false)
        guard knownName || (!agent.hasPrefix("/") && !agent.isEmpty && agent.utf8.count <= 300 && !parts.contains("..") && !parts.contains("")) else {
            throw .badParameter(name: "agent", problem: "must be one of the project's agents or a relative path inside the project (no '..')")
        }
        guard task.utf8.count <= 200 else { throw .badParameter(name: "task", problem: "longer than 200 bytes") }
        do {
            let request = try workspace.prepare(RunOptions(agent: agent, task: task, seed: seed))
            let store = try workspace.store(create: true)
            let result = try Episode.run(request)
            _ = try workspace.keep(result, store: store)
            return result.artifact["run_id"]?.stringValue ?? "latest"
        } catch {
            throw .badParameter(name: "run", problem: error.description)
        }
    }
}
