import Foundation
import RigorJSON
import RigorTestSupport
import Testing

/// The `rigor serve` shell itself: it prints the URL it serves, answers on it, and refuses bad
/// flags as usage errors.
@Suite("rigor serve command")
struct ServeCommandTests {
    @Test("rigor serve --port 0 prints its URL and serves /api/runs from the store")
    func serves() throws {
        let f = try ServerFixture.shared.get()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RepoPaths.rigorBinary)
        p.arguments = ["serve", "--port", "0", "--state-dir", f.state]
        p.currentDirectoryURL = URL(fileURLWithPath: RepoPaths.root)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        // The first line names the URL: "rigor serve: http://127.0.0.1:PORT/  (read-only; ...)".
        var line = ""
        let reader = out.fileHandleForReading
        while !line.contains("\n") {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") }.map(String.init), "\(line)")
        #expect(line.contains("read-only"))
        let r = try CommandLineRun.run("/usr/bin/curl", ["-s", "-D", "-", url + "api/runs?limit=2"])
        #expect(r.stdout.contains("Content-Security-Policy: default-src 'none'"), "\(r.stdout.prefix(400))")
        let body = try #require(r.stdout.range(of: "\r\n\r\n")).upperBound
        let view = try JSON.parse(String(r.stdout[body...]))
        #expect(view["runs"]?.arrayValue?.count == 2 && view["total"]?.intValue == 4, "\(view)")
        let rebound = try CommandLineRun.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: evil.example", url + "runs"])
        #expect(rebound.stdout == "421")
    }

    @Test("Bad flags are usage errors", arguments: [["--port", "70000"], ["--port", "-1"], ["--host", ""], ["--host", "a b"]])
    func badFlags(flags: [String]) throws {
        let r = try CommandLineRun.rigor(["serve"] + flags)
        #expect(r.status == 2, "\(r.stderr)")
    }
}
