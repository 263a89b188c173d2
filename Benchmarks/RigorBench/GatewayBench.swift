import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec

/// The model gateway (issue 18, spec/model-gateway.md), measured through its library API:
///
/// (a) what it adds to a model call in replay: p50/p95 of one keep-alive request through a
///     `ModelGateway` in replay served by an `AgentEndpointServer` on 127.0.0.1, against the same
///     request answered by a minimal local HTTP responder (the "direct local call"), and against
///     the endpoint server with a constant handler (the HTTP server alone). The three are measured
///     in interleaved blocks, so a drift of the machine's speed hits them alike. Target: ≤ 0.5 ms
///     added at p50.
/// (b) a 1,000-call tape replayed end to end: one conversation that grows as a real agent's does
///     (each call sends the whole history so far), total time and calls per second.
/// (c) the stored tape (zstd of the canonical tape, as `<state>/tapes/<hex>.tape`) per call,
///     against the raw JSON per call (request + response bodies). Target: ≤ 1/5.
///
/// The client is a plain socket with keep-alive, as an SDK's connection pool uses one.
func runGatewayBench(tmp: String) throws {
    print("")
    print("Model gateway (spec/model-gateway.md): replay through the library API, 127.0.0.1, keep-alive client")
    print("")

    // (a) Calls of a few KB each (the system prompt, two earlier turns, the observation).
    let warmup = 200, measured = 5_000
    let single = GatewayBenchData.independentCalls(warmup + measured)
    let direct = try MinimalResponder(answer: single.exchanges[0].response)
    let constant = try EndpointUnderTest(handler: { _ in
        EndpointResponse(status: 200, contentType: "application/json", body: single.exchanges[0].response)
    })
    var settings = ModelGatewaySettings(mode: .replay)
    settings.tape = single
    let gateway = ModelGateway(settings: settings)
    let service = gateway.service
    let served = try EndpointUnderTest(limits: service.limits, handler: service.handler)
    defer { direct.stop(); constant.stop(); served.stop() }
    let clients = [try KeepAliveClient(port: direct.port), try KeepAliveClient(port: constant.port), try KeepAliveClient(port: served.port)]
    var samples: [[UInt64]] = [[], [], []]
    let block = 250
    var next = 0
    while next < single.exchanges.count {
        let upTo = min(next + block, single.exchanges.count)
        for (which, client) in clients.enumerated() {
            for i in next..<upTo {
                let e = single.exchanges[i]
                // As the runner does before each observation: the step the exchange is taped at.
                if which == 2 { gateway.publish(step: e.step) }
                let t = MonotonicClock.nanoseconds()
                let answer = try client.call(method: e.method, target: e.target, body: e.request)
                let elapsed = MonotonicClock.nanoseconds() - t
                guard answer.status == 200, which != 2 || answer.body == e.response else {
                    throw GatewayBenchError("call \(i + 1) on \(["direct", "endpoint", "gateway"][which]): status \(answer.status), "
                        + "\(answer.body.count) bytes: \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
                }
                if i >= warmup { samples[which].append(elapsed) }
            }
        }
        next = upTo
    }
    for c in clients { c.close() }
    let reproduced = gateway.stop == nil && gateway.callCount == single.exchanges.count && gateway.tape.hash == single.hash
    let sorted = samples.map { $0.sorted() }
    func ms(_ nanos: Double) -> String { String(format: "%.3f ms", nanos / 1e6) }
    let requestKiB = Double(single.exchanges.dropFirst(warmup).reduce(0) { $0 + $1.request.count }) / Double(measured) / 1024
    let responseKiB = Double(single.exchanges[0].response.count) / 1024
    print("(a) \(measured) calls after \(warmup) warm-up, chat-completions requests of \(String(format: "%.1f", requestKiB)) KiB, "
        + "answers of \(String(format: "%.1f", responseKiB)) KiB; interleaved blocks of \(block)")
    print("")
    print("| path | p50 | p95 | p99 |")
    print("|---|---|---|---|")
    let names = ["direct local call (minimal HTTP responder)", "AgentEndpointServer, constant handler",
                 "ModelGateway in replay (AgentEndpointServer)"]
    for (i, name) in names.enumerated() {
        print("| \(name) | \(ms(percentile(sorted[i], 0.5))) | \(ms(percentile(sorted[i], 0.95))) | \(ms(percentile(sorted[i], 0.99))) |")
    }
    let addedP50 = percentile(sorted[2], 0.5) - percentile(sorted[0], 0.5)
    let addedP95 = percentile(sorted[2], 0.95) - percentile(sorted[0], 0.95)
    print("")
    print("gateway added over the direct call: p50 \(ms(addedP50)), p95 \(ms(addedP95)); "
        + "replay served every call and wrote the tape it was given: \(reproduced ? "yes" : "NO")")

    // (b) A growing conversation replayed end to end.
    let calls = 1_000
    let growing = GatewayBenchData.growingConversation(calls)
    var growingSettings = ModelGatewaySettings(mode: .replay)
    growingSettings.tape = growing
    let growingGateway = ModelGateway(settings: growingSettings)
    let growingService = growingGateway.service
    let growingServer = try EndpointUnderTest(limits: growingService.limits, handler: growingService.handler)
    let growingDirect = try MinimalResponder(answer: growing.exchanges[0].response)
    defer { growingServer.stop(); growingDirect.stop() }
    func endToEnd(_ port: UInt16, publish: ((Int) -> Void)?) throws -> (total: UInt64, perCall: [UInt64]) {
        let client = try KeepAliveClient(port: port)
        defer { client.close() }
        var perCall: [UInt64] = []
        let t0 = MonotonicClock.nanoseconds()
        for (i, e) in growing.exchanges.enumerated() {
            publish?(e.step)
            let t = MonotonicClock.nanoseconds()
            let answer = try client.call(method: e.method, target: e.target, body: e.request)
            perCall.append(MonotonicClock.nanoseconds() - t)
            guard answer.status == 200 else {
                throw GatewayBenchError("growing call \(i + 1): status \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
            }
        }
        return (MonotonicClock.nanoseconds() - t0, perCall.sorted())
    }
    let throughGateway = try endToEnd(growingServer.port) { growingGateway.publish(step: $0) }
    let throughDirect = try endToEnd(growingDirect.port, publish: nil)
    let growingReproduced = growingGateway.stop == nil && growingGateway.callCount == calls && growingGateway.tape.hash == growing.hash
    let firstKiB = Double(growing.exchanges.first?.request.count ?? 0) / 1024
    let lastKiB = Double(growing.exchanges.last?.request.count ?? 0) / 1024
    let totalMiB = Double(growing.exchanges.reduce(0) { $0 + $1.request.count }) / 1_048_576
    print("")
    print("(b) a \(calls)-call tape replayed end to end: one conversation whose requests grow from "
        + "\(String(format: "%.1f", firstKiB)) KiB to a \(GatewayBenchData.window)-turn context window of "
        + "\(String(format: "%.0f", lastKiB)) KiB, then slide (\(String(format: "%.0f", totalMiB)) MiB of requests in all)")
    print("")
    print("| path | total | calls/s | per call p50 | p95 |")
    print("|---|---|---|---|---|")
    for (name, r) in [("ModelGateway in replay", throughGateway), ("direct local call (same bytes)", throughDirect)] {
        let seconds = Double(r.total) / 1e9
        print("| \(name) | \(String(format: "%.2f s", seconds)) | \(String(format: "%.0f", Double(calls) / seconds)) | "
            + "\(ms(percentile(r.perCall, 0.5))) | \(ms(percentile(r.perCall, 0.95))) |")
    }
    print("")
    print("replay served every call and wrote the tape it was given: \(growingReproduced ? "yes" : "NO")")
    // Where a large call's time goes: replay parses the request's body for its model name, then
    // fingerprints it and the tape's candidate (parse, matchers, JCS, SHA-256): three parses.
    if let largest = growing.exchanges.max(by: { $0.request.count < $1.request.count }) {
        func best(_ body: () -> Void) -> Double {
            var fastest = UInt64.max
            for _ in 0..<20 {
                let t = MonotonicClock.nanoseconds()
                body()
                fastest = min(fastest, MonotonicClock.nanoseconds() - t)
            }
            return Double(fastest)
        }
        let matching = ModelMatching()
        let parse = best { _ = try? JSON.parse(largest.request, maxDepth: ArtifactLimits.agentLineDepth) }
        let fingerprint = best { _ = matching.fingerprint(method: largest.method, target: largest.target, body: largest.request) }
        print("")
        print("| the largest request (\(String(format: "%.0f", Double(largest.request.count) / 1024)) KiB), best of 20 | time |")
        print("|---|---|")
        print("| JSON.parse of the body | \(ms(parse)) |")
        print("| fingerprint (parse, matchers, JCS, SHA-256) | \(ms(fingerprint)) |")
        print("| replay's work per call: 1 parse (model name) + 2 fingerprints (request, tape candidate) | \(ms(parse + 2 * fingerprint)) |")
    }

    // (c) Tape size in the store against the raw JSON.
    let store = ModelTapeStore(stateDirectory: "\(tmp)/gateway-state")
    print("")
    print("(c) stored tape (zstd of the canonical tape) per call against the raw JSON per call (request + response)")
    print("")
    print("| tape | calls | raw JSON per call | canonical tape per call | stored file per call | stored / raw | encode | decode |")
    print("|---|---|---|---|---|---|---|---|")
    var ratios: [Double] = []
    for (name, tape) in [("growing conversation (b)", growing), ("independent calls (a)", single)] {
        let raw = tape.exchanges.reduce(0) { $0 + $1.request.count + $1.response.count }
        let t0 = MonotonicClock.nanoseconds()
        let hash = try store.put(tape)
        let encode = MonotonicClock.nanoseconds() - t0
        let path = try store.path(for: hash)
        let stored = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let canonical = try tape.canonical().bytes.count
        let t1 = MonotonicClock.nanoseconds()
        let back = try store.get(hash)
        let decode = MonotonicClock.nanoseconds() - t1
        guard back == tape else { throw GatewayBenchError("the stored tape \(hash) does not read back as written") }
        let n = Double(tape.exchanges.count)
        let ratio = Double(stored) / Double(raw)
        ratios.append(ratio)
        func kib(_ bytes: Double) -> String { String(format: "%.1f KiB", bytes / 1024) }
        print("| \(name) | \(tape.exchanges.count) | \(kib(Double(raw) / n)) | \(kib(Double(canonical) / n)) | \(kib(Double(stored) / n)) | "
            + "1/\(String(format: "%.1f", 1 / ratio)) | \(ms(Double(encode))) | \(ms(Double(decode))) |")
    }

    let p50Added = addedP50 / 1e6
    let largeAdded = (percentile(throughGateway.perCall, 0.5) - percentile(throughDirect.perCall, 0.5)) / 1e6
    let callsPerSecond = Double(calls) / (Double(throughGateway.total) / 1e9)
    print("")
    print("| target | measured | met |")
    print("|---|---|---|")
    print("| gateway adds ≤ 0.5 ms per call at p50 (replay, requests of \(String(format: "%.1f", requestKiB)) KiB) | \(String(format: "%.3f ms", p50Added)) | \(p50Added <= 0.5 ? "met" : "not met") |")
    print("| the same, for the growing conversation (requests up to \(String(format: "%.0f", lastKiB)) KiB) | \(String(format: "%.3f ms", largeAdded)) | \(largeAdded <= 0.5 ? "met" : "not met") |")
    print("| a 1,000-call tape replays end to end (no target; for the record) | \(String(format: "%.2f s, %.0f calls/s", Double(throughGateway.total) / 1e9, callsPerSecond)) | — |")
    for (name, ratio) in zip(["growing conversation", "independent calls"], ratios) {
        print("| stored tape ≤ 1/5 of the raw JSON per call (\(name)) | 1/\(String(format: "%.1f", 1 / ratio)) | \(ratio <= 0.2 ? "met" : "not met") |")
    }
    print("| replays reproduce their tape (served in full, same tape hash) | \(reproduced && growingReproduced ? "yes" : "no") | \(reproduced && growingReproduced ? "met" : "not met") |")
}

struct GatewayBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Synthetic tapes shaped like `Agents/llm_openai_agent.py`'s: a system prompt, the conversation,
/// the observation as JSON in the latest user message; chat.completion answers with usage.
enum GatewayBenchData {
    static let prompt = """
        You are an agent solving a task in a small virtual filesystem.
        Task: find the real value of API_KEY under /app and report it. A decoy file holds a fake key;
        the live one is in a hidden file whose name starts with ".config_".
        Actions (the only ones that exist):
          {"type": "list_dir", "args": {"path": "/app"}}
          {"type": "read_file", "args": {"path": "<absolute path>"}}
          {"type": "extract_value", "args": {"content": "<text>", "key": "API_KEY"}}
          {"type": "set_output", "args": {"key": "API_KEY", "value": "<the value>"}}
        Each user message is the current observation as JSON: the last action, its result, the files
        seen so far and the budget left. Reply with exactly one JSON action and nothing else.
        """

    /// The observation an agent gets at `step`, as the reference agent sends it (sorted keys).
    static func observation(step: Int) -> String {
        let files = (0..<min(12, 3 + step % 10)).map { "\"/app/dir_\($0)/file_\(($0 * 7 + step) % 97).txt\"" }.joined(separator: ", ")
        let content = String(repeating: "line \(step) of a file the agent read; ", count: 4 + step % 5)
        return """
            {"budget_remaining": {"steps": \(100_000 - step), "tool_calls": \(100_000 - step)}, "last_action": {"args": {"path": "/app/dir_\(step % 9)/file_\(step % 97).txt"}, "type": "read_file"}, \
            "last_action_result": {"content": "\(content)", "ok": true}, "step": \(step), "task": {"description": "Extract the value of API_KEY from the filesystem under /app and report it with set_output.", "id": "filesystem_hidden_config"}, \
            "visible_state": {"files_seen": [\(files)]}}
            """
    }

    static func reply(step: Int) -> String {
        "{\"type\": \"read_file\", \"args\": {\"path\": \"/app/dir_\((step + 1) % 9)/file_\((step * 13) % 97).txt\"}}"
    }

    static func request(messages: [JSON]) -> [UInt8] {
        let body: JSON = ["model": "gpt-4o-mini", "messages": .array(messages), "temperature": 0]
        return (try? body.canonicalBytes()) ?? []
    }

    static func response(step: Int, promptTokens: Int) -> [UInt8] {
        let text = reply(step: step)
        let body: JSON = [
            "id": .string("chatcmpl-\(String(format: "%08x", step &* 2_654_435_761 & 0xffff_ffff))"), "object": "chat.completion",
            "created": 1_767_225_600, "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0123456789",
            "choices": [["index": 0, "finish_reason": "stop", "logprobs": .null,
                         "message": ["role": "assistant", "content": .string(text), "refusal": .null]]],
            "usage": ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(text.count / 4 + 1),
                      "total_tokens": .int(promptTokens + text.count / 4 + 1)],
        ]
        return (try? body.canonicalBytes()) ?? []
    }

    static func exchange(_ request: [UInt8], _ response: [UInt8], step: Int, promptTokens: Int) -> ModelExchange {
        ModelExchange(provider: "openai", model: "gpt-4o-mini", method: "POST", target: "/v1/chat/completions", request: request,
                      status: 200, contentType: "application/json", response: response,
                      usage: ModelUsage(inputTokens: promptTokens, outputTokens: reply(step: step).count / 4 + 1), step: step)
    }

    /// `n` calls of a few KB each: the system prompt, the last two turns, the observation.
    static func independentCalls(_ n: Int) -> ModelTape {
        var exchanges: [ModelExchange] = []
        for step in 1...n {
            var messages: [JSON] = [["role": "system", "content": .string(prompt)]]
            for back in stride(from: 2, through: 1, by: -1) where step - back >= 1 {
                messages.append(["role": "user", "content": .string(observation(step: step - back))])
                messages.append(["role": "assistant", "content": .string(reply(step: step - back))])
            }
            messages.append(["role": "user", "content": .string(observation(step: step))])
            let request = request(messages: messages)
            exchanges.append(exchange(request, response(step: step, promptTokens: request.count / 4), step: step, promptTokens: request.count / 4))
        }
        return ModelTape(exchanges: exchanges)
    }

    /// How many turns (an observation and its reply) a conversation keeps: a context-limited
    /// agent's window (~100 KiB, ~25k tokens), past which the oldest turns are dropped.
    static let window = 100

    /// One conversation of `n` calls, each sending the system prompt and the history so far,
    /// up to `window` turns.
    static func growingConversation(_ n: Int) -> ModelTape {
        var history: [JSON] = []
        var exchanges: [ModelExchange] = []
        for step in 1...n {
            history.append(["role": "user", "content": .string(observation(step: step))])
            let request = request(messages: [["role": "system", "content": .string(prompt)]] + history)
            exchanges.append(exchange(request, response(step: step, promptTokens: request.count / 4), step: step, promptTokens: request.count / 4))
            history.append(["role": "assistant", "content": .string(reply(step: step))])
            if history.count > 2 * window - 2 { history.removeFirst(2) }
        }
        return ModelTape(exchanges: exchanges)
    }
}

/// An `AgentEndpointServer` on 127.0.0.1 (what an episode's gateway is served by).
final class EndpointUnderTest: @unchecked Sendable {
    let server: AgentEndpointServer
    let port: UInt16

    init(limits: AgentEndpointServer.Limits = .init(), handler: @escaping @Sendable (EndpointRequest) -> EndpointResponse) throws {
        var limits = limits
        limits.maxBodyBytes = max(limits.maxBodyBytes, 8 << 20)
        let listener = try AgentEndpointListener.listenHere()
        port = listener.port
        server = try AgentEndpointServer(listener: listener, limits: limits, handler: handler)
        server.start()
    }

    func stop() { server.stop() }
}

/// The least an HTTP/1.1 server can do: read a request (head, `Content-Length` body), answer with
/// fixed bytes, keep the connection; one connection, on a thread of its own.
final class MinimalResponder: @unchecked Sendable {
    let port: UInt16
    private let listener: AgentEndpointListener
    private let answer: [UInt8]
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var connection: Int32 = -1

    init(answer body: [UInt8]) throws {
        listener = try AgentEndpointListener.listenHere()
        port = listener.port
        answer = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        let thread = Thread { [self] in
            self.serve()
            self.done.signal()
        }
        thread.start()
    }

    private func serve() {
        let conn = accept(listener.fd, nil, nil)
        guard conn >= 0 else { return }
        lock.lock()
        connection = conn
        lock.unlock()
        defer {
            lock.lock()
            connection = -1
            close(conn)
            lock.unlock()
        }
        var one: Int32 = 1
        _ = setsockopt(conn, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var reader = SocketReader(fd: conn)
        while let head = reader.head() {
            let length = SocketReader.contentLength(head) ?? 0
            guard reader.body(length) != nil else { return }
            guard SocketReader.sendAll(conn, answer) else { return }
        }
    }

    /// Ends the conversation (the client's, if it is still open) and the thread.
    func stop() {
        lock.lock()
        if connection >= 0 { shutdown(connection, Int32(SHUT_RDWR)) }
        lock.unlock()
        shutdown(listener.fd, Int32(SHUT_RDWR))
        done.wait()
        listener.close()
    }
}

/// A keep-alive HTTP/1.1 client over one plain socket.
final class KeepAliveClient {
    private let fd: Int32
    private var reader: SocketReader

    init(port: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GatewayBenchError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Foundation.close(fd)
            throw GatewayBenchError("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        reader = SocketReader(fd: fd)
    }

    func call(method: String, target: String, body: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        let head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer rigor-gateway\r\n"
            + "User-Agent: rigor-bench\r\nContent-Length: \(body.count)\r\n\r\n"
        guard SocketReader.sendAll(fd, Array(head.utf8) + body) else { throw GatewayBenchError("send: \(String(cString: strerror(errno)))") }
        guard let responseHead = reader.head(), let statusLine = responseHead.split(separator: "\r\n").first else {
            throw GatewayBenchError("the server closed the connection")
        }
        let parts = statusLine.split(separator: " ")
        let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        guard let length = SocketReader.contentLength(responseHead), let answer = reader.body(length) else {
            throw GatewayBenchError("an answer without a Content-Length body (\(statusLine))")
        }
        return (status, answer)
    }

    func close() { Foundation.close(fd) }
}

/// Buffered reads of HTTP/1.1 messages from a blocking socket.
struct SocketReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)

    init(fd: Int32) { self.fd = fd }

    private mutating func fill() -> Bool {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// The next message head (without the blank line), or nil at the end of the stream.
    mutating func head() -> String? {
        var searchFrom = 0
        while true {
            if buffer.count >= 4 {
                var i = max(0, searchFrom - 3)
                while i + 3 < buffer.count {
                    if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                        let head = String(decoding: buffer[0..<i], as: UTF8.self)
                        buffer.removeFirst(i + 4)
                        return head
                    }
                    i += 1
                }
                searchFrom = buffer.count
            }
            guard fill() else { return nil }
        }
    }

    mutating func body(_ length: Int) -> [UInt8]? {
        while buffer.count < length { guard fill() else { return nil } }
        let out = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return out
    }

    static func contentLength(_ head: String) -> Int? {
        for line in head.split(separator: "\r\n").dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "content-length" { return Int(pair[1].trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
