import Foundation
import RigorAgentHost
import RigorTestSupport
import Testing

/// Agent endpoints: a listener the runner makes inside an agent's network namespace is
/// reachable from the agent under `bwrap --unshare-net`, while the runner's own loopback and
/// every other host stay unreachable from there.
@Suite struct AgentEndpointTests {
    /// What the sandboxed Python process does: connect to the endpoint (retrying while the
    /// runner sets it up), say hello, read the answer; then try the runner's own loopback
    /// listener and an outside address, which must both fail. Prints one JSON line.
    static let client = """
        import json, socket, sys, time
        port, host_port = int(sys.argv[1]), int(sys.argv[2])
        out = {}
        deadline = time.time() + 10
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError as e:
                if time.time() > deadline:
                    out["endpoint"] = "unreachable: %s" % e; print(json.dumps(out)); sys.exit(0)
                time.sleep(0.05)
        s.sendall(b"hello\\n")
        out["endpoint"] = s.makefile().readline().strip()
        for name, addr in (("host_loopback", ("127.0.0.1", host_port)), ("outside", ("1.1.1.1", 80))):
            try:
                socket.create_connection(addr, timeout=1).close(); out[name] = "reached"
            except OSError as e:
                out[name] = "blocked"
        print(json.dumps(out))
        """

    static func acceptLine(_ listener: AgentEndpointListener, reply: String) -> String? {
        var pfd = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 15_000) == 1 else { return nil }
        let conn = accept(listener.fd, nil, nil)
        guard conn >= 0 else { return nil }
        defer { close(conn) }
        var buffer = [UInt8](repeating: 0, count: 64)
        var got: [UInt8] = []
        while !got.contains(0x0A) {
            var cfd = pollfd(fd: conn, events: Int16(POLLIN), revents: 0)
            guard poll(&cfd, 1, 5_000) == 1 else { return nil }
            let n = read(conn, &buffer, buffer.count)
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        _ = Array((reply + "\n").utf8).withUnsafeBytes { write(conn, $0.baseAddress, $0.count) }
        return String(decoding: got, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    static func child(of pid: Int32) -> Int32? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Int32($0) }
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap"), "needs root and bwrap"))
    func anEndpointInTheAgentsNamespaceIsReachableAndNothingElseIs() throws {
        let host = try AgentEndpointListener.listenHere()
        defer { host.close() }
        let port = UInt16.random(in: 20_000...40_000)  // any port: the namespace is new and empty
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/bwrap")
        process.arguments = ["--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                             "/usr/bin/python3", "-c", Self.client, String(port), String(host.port)]
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // bwrap's child is the process inside the new namespaces (bwrap --info-fd reports it too).
        var sandboxed: Int32?
        for _ in 0..<200 where sandboxed == nil {
            sandboxed = Self.child(of: process.processIdentifier)
            if sandboxed == nil { usleep(10_000) }
        }
        let inside = try #require(sandboxed, "bwrap started no child")
        let endpoint = try AgentEndpointListener.listen(inNetworkNamespaceOf: inside, port: port)
        defer { endpoint.close() }
        #expect(endpoint.port == port)
        #expect(Self.acceptLine(endpoint, reply: "world") == "hello")
        process.waitUntilExit()
        let report = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(report.contains("\"endpoint\": \"world\""), "\(report)")
        #expect(report.contains("\"host_loopback\": \"blocked\""), "\(report)")
        #expect(report.contains("\"outside\": \"blocked\""), "\(report)")
    }

    @Test func aPidWithoutANamespaceToJoinIsRefusedWithAReason() {
        #expect(throws: AgentHostError.self) { try AgentEndpointListener.listen(inNetworkNamespaceOf: 0x7FFF_FFF0) }
    }
}
