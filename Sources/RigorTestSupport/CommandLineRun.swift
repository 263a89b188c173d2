import Foundation

/// The result of running a command to completion.
public struct CommandResult: Sendable {
    /// The exit code, or the signal's number when `signalled`.
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// True when a signal ended the process (a Swift trap is SIGILL or SIGTRAP, an abort SIGABRT).
    public var signalled = false
}

/// Runs real command lines (the built `rigor` binary) the way a user would.
public enum CommandLineRun {
    public static func run(_ executable: String, _ arguments: [String], cwd: String? = nil, environment: [String: String]? = nil) throws -> CommandResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        // Every test run builds its worlds under one fixed world key, so that runs in different
        // state directories can be compared; a test that exercises the key file passes an
        // environment with RIGOR_WORLD_KEY set to "" (unset, for Rigor).
        var env = environment ?? ProcessInfo.processInfo.environment
        if env["RIGOR_WORLD_KEY"] == nil { env["RIGOR_WORLD_KEY"] = TestWorldKey.fixed.hex }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so neither fills up.
        let errData = LockedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return CommandResult(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self), signalled: p.terminationReason == .uncaughtSignal)
    }

    /// Runs the built `rigor` with `arguments` from the repository root.
    public static func rigor(_ arguments: [String], cwd: String = RepoPaths.root, environment: [String: String]? = nil) throws -> CommandResult {
        try run(RepoPaths.rigorBinary, arguments, cwd: cwd, environment: environment)
    }
}

final class LockedData: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
