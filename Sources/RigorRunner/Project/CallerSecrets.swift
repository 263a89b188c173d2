import Foundation

/// Secrets the caller hands `rigor` in its environment, kept away from agents: the model
/// gateway's API keys (spec/model-gateway.md §10) and the world key (`RIGOR_WORLD_KEY`,
/// spec/determinism.md §1.1).
///
/// No agent's environment holds them (agents get a pinned environment; the gateway's keys are
/// placeholders there). But an agent running as the runner's own user (the `none` level) could
/// read the runner's environment from `/proc/<pid>/environ`, which shows the block the process
/// started with. `rigor` therefore takes a copy of its environment at start and blanks these
/// values in that block (`captureAndScrub`): from then on they exist only in the runner's heap,
/// and code that needs them reads `CallerSecrets.environment`.
public enum CallerSecrets {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var snapshot: [String: String]?

    /// Copies the environment (once), then overwrites the values of `names` in the process's
    /// environment block with NUL bytes.
    public static func captureAndScrub(_ names: [String]) {
        lock.lock()
        defer { lock.unlock() }
        if snapshot == nil { snapshot = ProcessInfo.processInfo.environment }
        blank(Set(names))
    }

    /// Blanks `names` too, when the environment was captured (by `rigor` at start); a library
    /// caller that never captured it keeps its environment as it is.
    public static func scrubIfCaptured(_ names: [String]) {
        lock.lock()
        defer { lock.unlock() }
        if snapshot != nil { blank(Set(names)) }
    }

    private static func blank(_ wanted: Set<String>) {
        var cursor = environ
        while let entry = cursor.pointee {
            if let eq = strchr(entry, Int32(UInt8(ascii: "="))) {
                let name = String(decoding: UnsafeRawBufferPointer(start: entry, count: eq - entry), as: UTF8.self)
                if wanted.contains(name) { memset(eq + 1, 0, strlen(eq + 1)) }
            }
            cursor += 1
        }
    }

    /// The environment keys are read from: the copy taken at start, else the live one.
    public static var environment: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return snapshot ?? ProcessInfo.processInfo.environment
    }
}
