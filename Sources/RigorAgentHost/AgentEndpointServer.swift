import Foundation
import RigorSpec

/// One HTTP/1.1 request an agent sent to an agent endpoint.
public struct EndpointRequest: Sendable {
    public let method: String
    /// The path without the query (`/actions`).
    public let path: String
    /// The query's `name=value` pairs, percent-decoded.
    public let query: [String: String]
    public let body: [UInt8]
    /// The request target as sent (path and query), for services that pass it on.
    public let target: String
    /// The headers, names lower-cased (a repeated header keeps its last value).
    public let headers: [String: String]

    public init(method: String, path: String, query: [String: String] = [:], body: [UInt8] = [], target: String? = nil,
                headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.target = target ?? path
        self.headers = headers
    }
}

/// The answer: a status and a body (JSON unless `contentType` says otherwise), sent whole with a
/// `Content-Length`, or, when `stream` is set, produced piece by piece and sent as chunks as it
/// comes (`Transfer-Encoding: chunked`: the model gateway tees an upstream's SSE this way).
public struct EndpointResponse: Sendable {
    public let status: Int
    public let body: [UInt8]
    public var contentType = "application/json"
    /// Further headers (`Content-Type`, `Content-Length`, `Transfer-Encoding` and `Connection`
    /// are the server's own and are not taken from here).
    public var headers: [(String, String)] = []
    /// Called on the server's thread with a writer; each call of the writer sends one chunk and
    /// says whether the agent is still there. `body` is ignored when this is set.
    public var stream: (@Sendable (_ write: ([UInt8]) -> Bool) -> Void)? = nil

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    public init(status: Int, contentType: String, headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }

    public init(status: Int, contentType: String, headers: [(String, String)] = [],
                stream: @escaping @Sendable (_ write: ([UInt8]) -> Bool) -> Void) {
        self.status = status
        self.body = []
        self.contentType = contentType
        self.headers = headers
        self.stream = stream
    }
}

/// Serves an `AgentEndpointListener` with a deliberately small HTTP/1.1 server on a thread of its
/// own: one connection at a time (an agent is one client; a new connection waiting while the
/// current one is idle replaces it, as a client pool opening another connection expects),
/// keep-alive, `Content-Length` request bodies only. Everything an agent can send is bounded, so a hostile agent can waste its own time but
/// not the runner's memory or the episode's end:
///
/// - the request head at most `maxHeadBytes`, a body at most `maxBodyBytes` (413, connection
///   closed), chunked bodies refused (411);
/// - a request must arrive whole within `requestTimeoutMilliseconds` of its first byte, and an
///   idle connection is closed after `idleTimeoutMilliseconds` (slowloris);
/// - at most `maxRequests` per episode, then 429 for every further request;
/// - anything that is not HTTP/1.x gets 400 and the connection is closed.
///
/// `stop()` wakes the thread through a pipe, closes the connection and joins.
public final class AgentEndpointServer: @unchecked Sendable {
    public struct Limits: Sendable {
        public var maxHeadBytes = 16 * 1024
        public var maxBodyBytes = 1 << 20
        public var requestTimeoutMilliseconds: Int32 = 5_000
        public var idleTimeoutMilliseconds: Int32 = 30_000
        public var maxRequests = 10_000
        public init() {}
    }

    private let listener: AgentEndpointListener
    private let limits: Limits
    private let handler: @Sendable (EndpointRequest) -> EndpointResponse
    private let wake: (read: Int32, write: Int32)
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var served = 0
    private var refused = 0

    public init(listener: AgentEndpointListener, limits: Limits = Limits(),
                handler: @escaping @Sendable (EndpointRequest) -> EndpointResponse) throws(AgentHostError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .sandboxSetupFailed(reason: "cannot make a pipe for an agent endpoint: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        self.listener = listener
        self.limits = limits
        self.handler = handler
        self.wake = (fds[0], fds[1])
    }

    /// Requests answered by the handler, and requests refused (malformed, too big, too slow, too many).
    public var counts: (served: Int, refused: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (served, refused)
    }

    public func start() {
        let thread = Thread { [self] in
            self.serve()
            self.done.signal()
        }
        thread.name = "rigor-agent-endpoint"
        thread.start()
    }

    /// Stops serving and waits for the thread; the listener is closed too.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        done.wait()
        listener.close()
        close(wake.read)
        close(wake.write)
    }

    private func count(served s: Int = 0, refused r: Int = 0) {
        lock.lock()
        served += s
        refused += r
        lock.unlock()
    }

    /// Waits for `fd` to be readable; false on timeout or when stop() was called.
    private func waitReadable(_ fd: Int32, timeout: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 2, timeout)
            if n < 0 && errno == EINTR { continue }
            return n > 0 && fds[1].revents == 0 && fds[0].revents != 0
        }
    }

    /// Waits, between requests, for the connection's next byte; false on idle timeout, stop(),
    /// or when another connection is waiting to be accepted (the client opened a new one).
    private func waitIdle(_ conn: Int32) -> Bool {
        var fds = [pollfd(fd: conn, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 3, limits.idleTimeoutMilliseconds)
            if n < 0 && errno == EINTR { continue }
            return n > 0 && fds[1].revents == 0 && fds[2].revents == 0 && fds[0].revents != 0
        }
    }

    private var stopped: Bool {
        var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        return poll(&fds, 1, 0) > 0
    }

    private func serve() {
        while !stopped {
            guard waitReadable(listener.fd, timeout: -1) else { return }
            let conn = accept(listener.fd, nil, nil)
            if conn < 0 { continue }
            _ = fcntl(conn, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            _ = setsockopt(conn, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            // An agent that stops reading cannot hold the server (and the episode's end) forever.
            var sendTimeout = timeval(tv_sec: Int(limits.requestTimeoutMilliseconds / 1000) + 5, tv_usec: 0)
            _ = setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
            converse(conn)
            close(conn)
        }
    }

    /// Answers requests on one connection until it closes, misbehaves or idles out.
    private func converse(_ conn: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            // Wait for the next request's first byte (idle timeout), then for all of it.
            if buffer.isEmpty {
                guard waitIdle(conn) else { return }
            }
            let started = DispatchTime.now().uptimeNanoseconds
            var head: (end: Int, request: (String, String, [String: String], Int))?
            while head == nil {
                if let end = Self.headEnd(buffer) {
                    guard let parsed = Self.parseHead(Array(buffer[0..<end])) else {
                        return refuse(conn, 400, "malformed HTTP request")
                    }
                    if parsed.3 < 0 { return refuse(conn, 411, "send a Content-Length body (chunked bodies are not accepted)") }
                    if parsed.3 > limits.maxBodyBytes { return refuse(conn, 413, "the body is over \(limits.maxBodyBytes) bytes") }
                    head = (end + 4, parsed)
                    break
                }
                if buffer.count > limits.maxHeadBytes { return refuse(conn, 431, "the request head is over \(limits.maxHeadBytes) bytes") }
                guard read(conn, into: &buffer, chunk: &chunk, started: started) else { return }
            }
            guard let (bodyStart, (method, target, headers, length)) = head else { return }
            while buffer.count < bodyStart + length {
                guard read(conn, into: &buffer, chunk: &chunk, started: started) else { return }
            }
            let body = Array(buffer[bodyStart..<(bodyStart + length)])
            buffer.removeFirst(bodyStart + length)
            let response: EndpointResponse
            let over: Bool = { lock.lock(); defer { lock.unlock() }; return served >= limits.maxRequests }()
            if over {
                count(refused: 1)
                // Not to be retried: SDKs (OpenAI's, Anthropic's) honour x-should-retry.
                response = EndpointResponse(status: 429, contentType: "application/json", headers: [("x-should-retry", "false")],
                                            body: Self.errorBody("more than \(limits.maxRequests) requests in this episode"))
            } else {
                let (path, query) = Self.split(target)
                response = handler(EndpointRequest(method: method, path: path, query: query, body: body, target: target, headers: headers))
                count(served: 1)
            }
            let close = headers["connection"]?.lowercased() == "close"
            guard send(conn, response, close: close), !close else { return }
        }
    }

    /// Reads more of a request; false when the peer closed, the request took too long, or stop() was called.
    private func read(_ conn: Int32, into buffer: inout [UInt8], chunk: inout [UInt8], started: UInt64) -> Bool {
        let elapsed = Int64((DispatchTime.now().uptimeNanoseconds &- started) / 1_000_000)
        let left = Int64(limits.requestTimeoutMilliseconds) - elapsed
        guard left > 0, waitReadable(conn, timeout: Int32(clamping: left)) else {
            if left <= 0 || !stopped { count(refused: 1) }
            return false
        }
        let n = chunk.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func refuse(_ conn: Int32, _ status: Int, _ message: String) {
        count(refused: 1)
        _ = send(conn, EndpointResponse(status: status, body: Self.errorBody(message)), close: true)
    }

    private func send(_ conn: Int32, _ response: EndpointResponse, close: Bool) -> Bool {
        let reason = [200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                      409: "Conflict", 411: "Length Required", 413: "Payload Too Large", 422: "Unprocessable Entity", 429: "Too Many Requests",
                      431: "Request Header Fields Too Large", 500: "Internal Server Error", 502: "Bad Gateway",
                      503: "Service Unavailable", 504: "Gateway Timeout"][response.status] ?? "Status"
        var head = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(Self.headerValue(response.contentType))\r\n"
        for (name, value) in response.headers {
            let lower = name.lowercased()
            guard !["content-type", "content-length", "transfer-encoding", "connection"].contains(lower),
                  !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 58 }) else { continue }
            head += "\(name): \(Self.headerValue(value))\r\n"
        }
        if let stream = response.stream {
            head += "Transfer-Encoding: chunked\r\n\(close ? "Connection: close\r\n" : "")\r\n"
            guard sendAll(conn, Array(head.utf8)) else { return false }
            var alive = true
            stream { piece in
                guard alive else { return false }
                guard !piece.isEmpty else { return true }
                alive = self.sendAll(conn, Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10])
                return alive
            }
            return alive && sendAll(conn, Array("0\r\n\r\n".utf8))
        }
        head += "Content-Length: \(response.body.count)\r\n\(close ? "Connection: close\r\n" : "")\r\n"
        return sendAll(conn, Array(head.utf8) + response.body)
    }

    /// A header value with no line breaks or other control characters (a value can never end the head).
    static func headerValue(_ value: String) -> String {
        String(decoding: value.utf8.filter { $0 >= 32 && $0 != 127 }, as: UTF8.self)
    }

    private func sendAll(_ conn: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    static func errorBody(_ message: String) -> [UInt8] {
        (try? JSON.object(["error": .string(message)]).canonicalBytes()) ?? Array("{}".utf8)
    }

    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }

    /// Method, target, lower-cased headers and the body length (-1 for chunked), or nil.
    static func parseHead(_ bytes: [UInt8]) -> (String, String, [String: String], Int)? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let lines = text.components(separatedBy: "\r\n")
        let first = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard first.count == 3, first[2].hasPrefix("HTTP/1."), !first[0].isEmpty, first[1].hasPrefix("/") else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["transfer-encoding"] != nil { return (String(first[0]), String(first[1]), headers, -1) }
        guard let length = headers["content-length"].map({ Int($0) }) ?? 0, length >= 0 else { return nil }
        return (String(first[0]), String(first[1]), headers, length)
    }

    static func split(_ target: String) -> (String, [String: String]) {
        guard let q = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let k = kv.first { query[k] = kv.count > 1 ? kv[1] : "" }
        }
        return (String(target[..<q]), query)
    }
}
