import Foundation
import RigorSpec

/// `scripts/fake-model-upstream.py` run for a test: an offline, scripted stand-in for the OpenAI
/// and Anthropic APIs, the upstream of Rigor's model gateway (tests never reach a real model).
///
/// It binds a free port on 127.0.0.1 and says which on its first line; `stop()` (or deinit)
/// kills it with SIGKILL, since SIGTERM is ignored under the test runner, and reaps it.
public final class FakeModelUpstream: @unchecked Sendable {
    public let port: UInt16
    /// Where it logs one JSON line per /v1 request (`--log`), credentials and headers included.
    public let logPath: String
    private let process: Process
    private let lock = NSLock()
    private var stopped = false
    /// The temporary directory made for the log and script, removed on stop.
    private let owned: String?

    /// `script`: a JSON list of reply texts by answered call (`--script`); `faults`: `--fault`
    /// specs (`status:1:500`, `slow:1:60000`, ...); `directory`: where its log and script go
    /// (default: a temporary directory of its own, removed by `stop()`).
    public init(script: JSON? = nil, faults: [String] = [], directory given: String? = nil) throws {
        let directory = given ?? RepoPaths.temporaryDirectory("rigor-fake-upstream")
        owned = given == nil ? directory : nil
        var arguments = ["\(RepoPaths.root)/scripts/fake-model-upstream.py", "--port", "0"]
        logPath = "\(directory)/upstream-\(UUID().uuidString.prefix(8)).log"
        arguments += ["--log", logPath]
        if let script {
            let file = "\(directory)/script-\(UUID().uuidString.prefix(8)).json"
            try Data(try script.canonicalBytes()).write(to: URL(fileURLWithPath: file))
            arguments += ["--script", file]
        }
        for fault in faults { arguments += ["--fault", fault] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        // The first line is `listening on <port>`; nothing else is ever written to stdout.
        let fd = out.fileHandleForReading.fileDescriptor
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(15)
        while !line.contains(10), Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 500) == 1 else { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("listening on "), let port = UInt16(text.dropFirst("listening on ".count)) else {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if let owned { try? FileManager.default.removeItem(atPath: owned) }
            throw Failure(description: "the fake model upstream did not start (it said '\(text)')")
        }
        self.port = port
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `http://127.0.0.1:<port>`, for `--model-upstream openai=…` or `[models.upstreams]`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The logged requests, in order.
    public func log() -> [JSON] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }

    /// Kills it (SIGKILL) and reaps it, and removes its own directory (the log goes with it);
    /// a second call does nothing.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if let owned { try? FileManager.default.removeItem(atPath: owned) }
    }

    deinit { stop() }
}
