import Foundation

/// The caller's API keys for the model gateway, kept away from agents (spec/model-gateway.md §10).
///
/// The gateway reads a key from the runner's environment and puts it into forwarded requests;
/// the agent's environment holds a placeholder. An agent running as the runner's own user (the
/// `none` level) could still read the runner's environment from `/proc/<pid>/environ`, which
/// shows the block the process started with. `rigor` therefore takes a copy of its environment
/// at start and blanks the keys' values in that block (`captureAndScrub`): from then on the keys
/// exist only in the runner's heap.
public enum ModelKeys {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var snapshot: [String: String]?

    /// Copies the environment (once), then overwrites the values of `names` in the process's
    /// environment block with NUL bytes.
    public static func captureAndScrub(_ names: [String]) {
        lock.lock()
        defer { lock.unlock() }
        if snapshot == nil { snapshot = ProcessInfo.processInfo.environment }
        let wanted = Set(names)
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
