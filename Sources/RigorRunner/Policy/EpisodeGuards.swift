import Foundation
import RigorAgentHost
import RigorSpec
import RigorTasks

/// The policy and the redactor an episode of this workspace runs under (spec/policy.md).
extension Workspace {
    /// The task's own policy, then `--policy FILE` (`flag`), else the project's (`[project]
    /// policy`). Nil when there is none at all.
    public func policy(for task: LoadedTask, flag: String? = nil) throws(RunnerError) -> Policy? {
        var layers: [PolicyLayer] = []
        if let own = task.policy { layers.append(own) }
        do {
            if let flag {
                layers.append(try PolicyLayer.load(path: flag, source: "flag"))
            } else if let file = project?.policy {
                layers.append(try PolicyLayer.load(path: file, source: "project"))
            }
            return try PolicyLayer.effective(layers)
        } catch {
            throw .policy(error)
        }
    }

    /// Everything the episode must never persist: the agent's declared secrets, the project's
    /// `[redaction] secrets` and API-key variables of this process's environment (by value),
    /// and the built-in and project patterns.
    public func redactor(agent: AgentCommand, environment: [String: String] = ProcessInfo.processInfo.environment) -> Redactor {
        var r = redactor(environment: environment)
        for (name, value) in agent.declaredEnvironment.secretsForRedaction { r.add(.init(name: name, value: value)) }
        return r
    }
}
