import RigorSpec

/// Everything that can be wrong with a task or a task reference, each with a message that says
/// what to do about it.
public enum TaskError: Error, Sendable, CustomStringConvertible, Equatable {
    case tasksDirectoryMissing(path: String)
    case malformedReference(String)
    case notFound(ref: String, known: [String])
    case manifestMissing(path: String)
    case manifestUnreadable(path: String, reason: String)
    case manifestInvalid(path: String, field: String, reason: String)
    case unknownWorld(path: String, kind: String, known: [String])
    /// The task's `policy.toml` is unreadable or invalid.
    case policy(PolicyError)

    public var description: String {
        switch self {
        case .tasksDirectoryMissing(let path):
            return "tasks directory '\(path)' does not exist; run from inside a project (a directory with rigor.toml, see `rigor init`), fix its `tasks` entry, or pass --tasks-dir"
        case .malformedReference(let ref):
            return "task reference '\(ref)' is malformed; write it as <id>@<version>, e.g. filesystem_hidden_config@1"
        case .notFound(let ref, let known):
            let list = known.isEmpty ? "none (is --tasks-dir right?)" : known.joined(separator: ", ")
            return "task '\(ref)' not found; known: \(list)"
        case .manifestMissing(let path):
            return "\(path): task.toml is missing; every task folder needs one (see spec/task-manifest.md)"
        case .manifestUnreadable(let path, let reason):
            return "\(path): cannot read the manifest: \(reason)"
        case .manifestInvalid(let path, let field, let reason):
            return "\(path): field '\(field)' \(reason) (see spec/task-manifest.md)"
        case .unknownWorld(let path, let kind, let known):
            return "\(path): world '\(kind)' is not one Rigor knows; known: \(known.joined(separator: ", "))"
        case .policy(let error):
            return error.description
        }
    }
}
