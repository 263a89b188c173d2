import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorTestSupport
import Testing

/// The TRACE endpoint served on an agent endpoint: the unmodified `traceprotocol` 0.1.0 client
/// proposes, gets decisions and attaches evidence; hostile clients (garbage, huge bodies,
/// slowloris, floods) are refused and the endpoint keeps serving.
@Suite(.serialized) struct TraceEndpointTests {
    static let venvPython = "\(RepoPaths.root)/.build-trace-venv/bin/python"

    /// The venv's Python with traceprotocol 0.1.0 (made by `make traceprotocol-venv` if
    /// missing), or nil with the reason printed (PyPI unreachable).
    static let python: String? = {
        let probe = ["-c", "import importlib.metadata as m; assert m.version('traceprotocol') == '0.1.0'"]
        if let r = try? CommandLineRun.run(venvPython, probe), r.status == 0 { return venvPython }
        let make = try? CommandLineRun.run("/usr/bin/make", ["-s", "traceprotocol-venv"], cwd: RepoPaths.root)
        if let r = try? CommandLineRun.run(venvPython, probe), r.status == 0 { return venvPython }
        print("TRACE client test skipped: traceprotocol 0.1.0 could not be installed: \(make?.stdout ?? "") \(make?.stderr ?? "")")
        return nil
    }()

    static func serve(_ endpoint: TraceEndpoint, limits: AgentEndpointServer.Limits = .init()) throws -> (AgentEndpointServer, AgentEndpointListener) {
        let listener = try AgentEndpointListener.listenHere()
        let server = try AgentEndpointServer(listener: listener, limits: limits) { endpoint.handle($0) }
        server.start()
        return (server, listener)
    }

    @Test(.enabled(if: Facility.needed(python != nil, "traceprotocol 0.1.0 in .build-trace-venv (make traceprotocol-venv)")))
    func theUnmodifiedTraceClientProposesGetsDecisionsAndAttachesEvidence() throws {
        let endpoint = TraceEndpoint(rules: [["when": ["actionType": "delete_file"], "require": ["approval"], "mode": "enforce"]]) { type, _ in
            type == "delete_file" ? ("requires_approval", "destructive") : ("approved", "default")
        }
        let (server, listener) = try Self.serve(endpoint)
        defer { server.stop() }
        let script = """
            import json, sys
            from trace_client import TraceClient, Actor
            t = TraceClient(endpoint=sys.argv[1])
            a = t.propose(type="read_file", actor=Actor(kind="agent", name="probe"), params={"path": "/app/a"}, id="a1")
            b = t.propose(type="delete_file", actor={"kind": "agent", "name": "probe"}, target="/app/b", id="a2")
            e = t.evidence("a1", [{"name": "read_ok", "pass_": True, "note": "3 lines"}])
            p = t.policy("delete_file")
            print(json.dumps({"a": a, "b": b, "e": e, "p": p}))
            """
        let result = try CommandLineRun.run(try #require(Self.python), ["-c", script, listener.url])
        #expect(result.status == 0, "\(result.stderr)")
        let out = try JSON.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(out["a"] == ["actionId": "a1", "status": "approved"])
        #expect(out["b"] == ["actionId": "a2", "status": "requires_approval"])
        #expect(out["e"]?["accepted"] == 1)
        #expect(out["p"]?["rules"]?.arrayValue?.count == 1)
        let recorded = endpoint.recorded
        #expect(recorded.count == 2)
        #expect(recorded[0]["decision"] == "approved")
        #expect(recorded[1]["rule_id"] == "destructive")
        #expect(recorded[1]["target"] == "/app/b")
        #expect(recorded[0]["evidence"] == [["name": "read_ok", "pass": true, "note": "3 lines", "source": "trace"]])
    }

    /// Sends raw bytes, returns what came back (until close or 3 s).
    static func exchange(_ port: UInt16, _ chunks: [[UInt8]], pause: UInt32 = 0) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { return "" }
        for c in chunks {
            _ = c.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if pause > 0 { usleep(pause) }
        }
        shutdown(fd, Int32(SHUT_WR))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 3_000) == 1 else { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func post(_ path: String, _ body: String, extra: String = "") -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(extra)Connection: close\r\n\r\n\(body)".utf8)
    }

    @Test func hostileRequestsAreRefusedAndTheEndpointKeepsServing() throws {
        var limits = AgentEndpointServer.Limits()
        limits.requestTimeoutMilliseconds = 300
        limits.maxBodyBytes = 64 * 1024
        limits.maxRequests = 40
        let endpoint = TraceEndpoint()
        let (server, listener) = try Self.serve(endpoint, limits: limits)
        defer { server.stop() }
        let port = listener.port
        let good = Self.post("/actions", #"{"id":"ok1","type":"read_file","actor":{"kind":"agent","name":"a"}}"#)

        #expect(Self.exchange(port, [Array("\u{01}\u{02} garbage\r\n\r\n".utf8)]).hasPrefix("HTTP/1.1 400"))
        #expect(Self.exchange(port, [Array("GET /policy HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n".utf8)]).hasPrefix("HTTP/1.1 413"))
        #expect(Self.exchange(port, [Array("POST /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)]).hasPrefix("HTTP/1.1 411"))
        #expect(Self.exchange(port, [Array("GET /policy HTTP/1.1\r\nX: \(String(repeating: "a", count: 40_000))\r\n\r\n".utf8)]).hasPrefix("HTTP/1.1 431"))
        #expect(Self.exchange(port, [Self.post("/actions", "not json")]).hasPrefix("HTTP/1.1 400"))
        #expect(Self.exchange(port, [Self.post("/actions", #"{"id":"","type":"x"}"#)]).hasPrefix("HTTP/1.1 422"))
        #expect(Self.exchange(port, [Self.post("/evidence", #"{"actionId":"nope","checks":[]}"#)]).hasPrefix("HTTP/1.1 404"))
        #expect(Self.exchange(port, [Self.post("/admin", "{}")]).hasPrefix("HTTP/1.1 404"))
        #expect(Self.exchange(port, [Array("DELETE /actions HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)]).hasPrefix("HTTP/1.1 405"))
        // Slowloris: a head trickled in over more than the request timeout is dropped unanswered.
        let slow = Array("GET /policy HTTP/1.1\r\nHost: x\r\n".utf8).map { [$0] }
        let started = Date()
        #expect(Self.exchange(port, slow, pause: 20_000).isEmpty)
        #expect(Date().timeIntervalSince(started) < 5)
        // Still serving, and the refusals were counted, none reached the recorder.
        #expect(Self.exchange(port, [good]).hasPrefix("HTTP/1.1 200"))
        #expect(Self.exchange(port, [good]).hasPrefix("HTTP/1.1 409"))  // the same id twice
        #expect(endpoint.recorded.count == 1)
        #expect(server.counts.refused >= 5)
        // A flood: past maxRequests every request gets 429, on one keep-alive connection.
        var flood: [UInt8] = []
        for i in 0..<60 { flood += Array("POST /actions HTTP/1.1\r\nContent-Length: 40\r\n\r\n".utf8) + Array(#"{"id":"f\#(String(format: "%03d", i))","type":"t","actor":{"k":1}}"#.utf8) }
        let answers = Self.exchange(port, [flood])
        #expect(answers.components(separatedBy: "HTTP/1.1 429").count > 1, "\(answers.prefix(300))")
        #expect(endpoint.recorded.count < 60)
    }

    /// The approval task's policy, in miniature: one deletion, and only after asking.
    static let cleanupPolicy = Policy(rules: [
        PolicyRule(id: "one-deletion", actions: ["remove_path"], decision: .rejected, maxCount: 1),
        PolicyRule(id: "needs-approval", actions: ["remove_path"], decision: .requiresApproval),
    ], approver: Approver(kind: .askedFirst, request: "request_approval", matchArg: "action"))

    @Test func askingTheGateNeverSpendsWhatOnlyExecutedActionsSpend() {
        var state = PolicyState(policy: Self.cleanupPolicy)
        let gate = LivePolicyGate(policy: Self.cleanupPolicy)
        gate.publish(state, step: 1)
        #expect(gate.decide(type: "remove_path", params: ["path": "/x"]) == ("requires_approval", "needs-approval"))
        #expect(gate.decide(type: "read_file", params: .null) == ("approved", "default"))
        // The agent asks; the request reaches the world.
        state.recordExecuted(type: "request_approval", args: ["action": "remove_path"], step: 1)
        gate.publish(state, step: 2)
        // Proposing the deletion twice on the endpoint consumes neither the approval nor the count:
        // the episode's own evaluation still finds both.
        for _ in 0..<2 { #expect(gate.decide(type: "remove_path", params: ["path": "/x"]).status == "requires_approval") }
        let real = state.evaluate(type: "remove_path", args: ["path": "/x"], step: 2)
        #expect(real.executed, "the approval asked for at step 1 is still there after two proposals")
        #expect(gate.step == 2)
        // Without a policy every proposal is observed.
        let open = LivePolicyGate(policy: nil)
        #expect(open.decide(type: "anything", params: .null) == ("observed", "default"))
    }

    @Test func theArtifactKeepsProposalsByPositionAndTheAgentsIdsApart() throws {
        let gate = LivePolicyGate(policy: Self.cleanupPolicy)
        gate.publish(PolicyState(policy: Self.cleanupPolicy), step: 4)
        let endpoint = TraceEndpoint(policy: Self.cleanupPolicy, gate: gate)
        let body = Array(#"{"id":"3f2a-uuid","type":"remove_path","actor":{"kind":"agent"},"params":{"path":"/x"}}"#.utf8)
        #expect(endpoint.handle(EndpointRequest(method: "POST", path: "/actions", query: [:], body: body)).status == 200)
        let policy = endpoint.handle(EndpointRequest(method: "GET", path: "/policy", query: ["actionType": "remove_path"], body: []))
        let rules = try JSON.parse(policy.body)["rules"]?.arrayValue ?? []
        #expect(rules.map { $0["id"]?.stringValue ?? "" } == ["one-deletion", "needs-approval"])
        let (hashed, ids) = TraceEndpoint.artifactParts(endpoint.recorded)
        #expect(ids == ["3f2a-uuid"])
        #expect(hashed.count == 1)
        #expect(hashed[0]["id"] == nil)
        #expect(hashed[0]["n"] == 1)
        #expect(hashed[0]["step"] == 4)
        #expect(hashed[0]["decision"] == "requires_approval")
    }

    @Test func theReadoutCountsProposalsAndShowsThoseOfTheFailingStep() {
        let step: (Int) -> JSON = { n in ["step": .int(n), "action": ["type": "remove_path"], "result": ["ok": false]] }
        let proposal: (Int, String) -> JSON = { n, d in ["n": .int(n), "step": .int(n), "type": "remove_path", "decision": .string(d), "rule_id": "r"] }
        let artifact: JSON = ["success": false, "action_trace": [step(1), step(2)],
                              "trace_actions": [proposal(1, "approved"), proposal(2, "rejected"), proposal(3, "approved")]]
        let readout = RunReadout(artifact: artifact)
        #expect(readout.failingStep?.step == 2)
        #expect(readout.traceProposals?.summary == "3 proposals on the TRACE endpoint: approved 2, rejected 1")
        #expect(readout.traceProposals?.atFailingStep == [proposal(2, "rejected")])
        #expect(RunReadout(artifact: ["success": true, "action_trace": []]).traceProposals == nil)
    }
}
