import Foundation

/// Where a shard's index and count come from when the engine that starts it sets them
/// (`rigor batch --shard-from ENGINE`): each engine's own variables, so that the one command
/// line in a job script, Job manifest or workflow serves every index.
public enum ShardSource: String, Sendable, CaseIterable {
    /// A Slurm job array: `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` and
    /// `SLURM_ARRAY_TASK_COUNT`. Arrays may start anywhere (`--array=1-4`, `--array=0-3`): the
    /// shard is `ID - MIN + 1` of `COUNT`. An array with gaps or a step (`--array=0-6:2`) has
    /// no contiguous numbering; it is refused when `ID - MIN` reaches `COUNT`.
    case slurm
    /// A Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (from 0), and the count from
    /// `--shard-count` or `RIGOR_SHARD_COUNT` (Kubernetes does not tell a pod the Job's
    /// `completions`; set it in the pod's env).
    case k8s
    /// Anything else (a CI matrix): `RIGOR_SHARD_INDEX` (from 1) and `RIGOR_SHARD_COUNT`.
    case env

    /// The shard these variables name. `count` is `--shard-count`, when given.
    public func shard(environment: [String: String], count: Int? = nil) throws(RunnerError) -> Shard {
        func number(_ name: String) throws(RunnerError) -> Int {
            guard let text = environment[name], !text.isEmpty else {
                throw .usage("--shard-from \(rawValue): \(name) is not set; \(hint)")
            }
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw .usage("--shard-from \(rawValue): \(name) is '\(text.prefix(40))', not an integer; \(hint)")
            }
            return n
        }
        // The count first, so that no message below computes with a count out of range.
        func total(_ name: String) throws(RunnerError) -> Int {
            let n: Int
            if let count { n = count } else { n = try number(name) }
            guard (1...Shard.maximumCount).contains(n) else {
                throw .usage("--shard-from \(rawValue): the shard count (\(count == nil ? name : "--shard-count")) is \(n); it must be between 1 and \(Shard.maximumCount)")
            }
            return n
        }
        switch self {
        case .slurm:
            let id = try number("SLURM_ARRAY_TASK_ID")
            let total = try total("SLURM_ARRAY_TASK_COUNT")
            let minimum = environment["SLURM_ARRAY_TASK_MIN"] == nil ? 0 : try number("SLURM_ARRAY_TASK_MIN")
            let (offset, overflow) = id.subtractingReportingOverflow(minimum)
            guard !overflow, offset >= 0, offset < total else {
                throw .usage("--shard-from slurm: SLURM_ARRAY_TASK_ID \(id) is not a shard: with SLURM_ARRAY_TASK_MIN \(minimum) and "
                    + "SLURM_ARRAY_TASK_COUNT \(total) it must be between \(minimum) and \(minimum > Int.max - (total - 1) ? Int.max : minimum + (total - 1)); "
                    + "submit a contiguous array (sbatch --array=1-\(total), no step, no gaps)")
            }
            return try Shard(index: offset + 1, count: total)
        case .k8s:
            let index = try number("JOB_COMPLETION_INDEX")
            let total = try total("RIGOR_SHARD_COUNT")
            guard index >= 0, index < total else {
                throw .usage("--shard-from k8s: JOB_COMPLETION_INDEX is \(index); it must be between 0 and \(total - 1); set completions to the shard count")
            }
            return try Shard(index: index + 1, count: total)
        case .env:
            let total = try total("RIGOR_SHARD_COUNT")
            let index = try number("RIGOR_SHARD_INDEX")
            guard index >= 1, index <= total else {
                throw .usage("--shard-from env: RIGOR_SHARD_INDEX is \(index); it must be between 1 and \(total) (RIGOR_SHARD_COUNT)")
            }
            return try Shard(index: index, count: total)
        }
    }

    private var hint: String {
        switch self {
        case .slurm: return "run under `sbatch --array=1-N` (or use --shard I/N)"
        case .k8s: return "run in an Indexed Job (completionMode: Indexed) and give the count with --shard-count N or RIGOR_SHARD_COUNT"
        case .env: return "set RIGOR_SHARD_INDEX (1..N) and RIGOR_SHARD_COUNT (N)"
        }
    }
}
