import RigorAgentHost
import RigorSpec
import RigorStore
import RigorTasks

/// Errors that stop Rigor before or outside an episode (an episode itself never throws: it
/// ends in an artifact). Each maps to an exit code in one place, the CLI's `ExitCode`.
public enum RunnerError: Error, Sendable, CustomStringConvertible {
    case task(TaskError)
    case agent(AgentHostError)
    case store(StoreError)
    /// The project file (`rigor.toml`) cannot be read or is wrong.
    case project(ProjectFileError)
    /// A policy file (`--policy`, the project's) cannot be read or is wrong.
    case policy(PolicyError)
    case usage(String)
    case io(String)
    case `internal`(String)

    public var description: String {
        switch self {
        case .task(let e): return e.description
        case .agent(let e): return e.description
        case .store(let e): return e.description
        case .project(let e): return e.description
        case .policy(let e): return e.description
        case .usage(let m), .io(let m): return m
        case .internal(let m): return "internal error: \(m) (please report it)"
        }
    }
}
