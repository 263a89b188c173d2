/// The range every number Rigor reads from a user, a file or a bundle must fall in.
///
/// Numbers arrive from command-line flags, task manifests, baselines and bundles, and end up
/// as rlimits, deadlines in nanoseconds, thread counts and loop bounds; a value outside what
/// those can hold used to trap (`--act-timeout 1e30`) or be taken silently (`--workers -3`).
/// Every such input is checked against its range here, and the error names the input, the value
/// and the range (`InputRange.check`), so the CLI, the manifest reader and the replay of a bundle
/// all say the same thing. spec/task-manifest.md and spec/runtime.md list the same ranges.
public struct InputRange<Value: Comparable & Sendable>: Sendable {
    public let bounds: ClosedRange<Value>
    /// What the number counts ("seconds", "MiB"), for messages.
    public let unit: String

    public init(_ bounds: ClosedRange<Value>, unit: String) {
        self.bounds = bounds
        self.unit = unit
    }

    public func contains(_ value: Value) -> Bool { bounds.contains(value) }

    /// "between 0.001 and 86400 seconds".
    public var allowed: String { "between \(bounds.lowerBound) and \(bounds.upperBound)" + (unit.isEmpty ? "" : " \(unit)") }

    /// Nil when `value` is in range, else the reason, e.g. "is 1e+30; it must be between 0.001
    /// and 86400 seconds". NaN is never in range.
    public func problem(_ value: Value) -> String? {
        contains(value) ? nil : "is \(value); it must be \(allowed)"
    }

    /// `value` moved into the range: for numbers that are hints from the surroundings (the
    /// terminal's width in `COLUMNS`), not requests a user typed, so that a narrow terminal
    /// still gets a report and an absurd one cannot make Rigor allocate without bound.
    public func clamped(_ value: Value) -> Value {
        min(max(value, bounds.lowerBound), bounds.upperBound)
    }
}

public enum InputRanges {
    /// `--workers`: threads, each running one episode at a time.
    public static let workers = InputRange(1...1024, unit: "workers")
    /// Per-act timeout, from `--act-timeout`, `[limits] act_timeout_seconds`, a baseline or a
    /// bundle: positive, at most a day (it becomes a deadline in nanoseconds).
    public static let actTimeoutSeconds = InputRange(0.001...86_400.0, unit: "seconds")
    /// `[budgets] steps` and `tool_calls`.
    public static let budgetCount = InputRange(0...100_000_000, unit: "")
    /// `[models] input_tokens` / `output_tokens`: at most 10^12 tokens.
    public static let tokenCount = InputRange(0...1_000_000_000_000, unit: "tokens")
    /// `[budgets] wall_clock_seconds`: at most 30 days.
    public static let wallClockSeconds = InputRange(0...2_592_000, unit: "seconds")
    /// `[limits] cpu_seconds` (0: no limit).
    public static let cpuSeconds = InputRange(0...2_592_000, unit: "seconds")
    /// `[limits] address_space_mb` and `file_size_mb` (0: no limit): at most 1 TiB, so that the
    /// byte count fits an rlimit.
    public static let megabytes = InputRange(0...(1 << 20), unit: "MiB")
    /// `[limits] open_files` and `processes` (0: no limit).
    public static let processCount = InputRange(0...(1 << 20), unit: "")
    /// A task's `version`.
    public static let taskVersion = InputRange(0...1_000_000_000, unit: "")
    /// `[validator] max_submissions`.
    public static let maxSubmissions = InputRange(1...1_000_000, unit: "")
    /// `rigor diff --width`, in columns. The terminal's width (`COLUMNS`, else the tty's) is
    /// clamped into the same range.
    public static let diffWidth = InputRange(60...1000, unit: "columns")
    /// `--limit` of `runs list` and `ledger show` (0: all), `runs show --log-lines`, `tasks
    /// validate --determinism-seeds`: a count that means "all" from 0 or past what there is.
    public static let listLimit = InputRange(0...Int.max, unit: "")
    /// `runs list --offset` and `--cursor`: past the last run, an empty page.
    public static let listOffset = InputRange(0...Int.max, unit: "")
    /// How many seeds one `--seeds` list may name in all.
    public static let seedCount = 1_000_000
}
