import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `rigor serve`: the dashboard on an HTTP socket (Hummingbird). The shell is thin on purpose:
/// every request goes to `Dashboard.respond` (on a dispatch queue, since it reads SQLite and
/// may run an episode), whose answer is copied onto the wire.
public struct DashboardServer: Sendable {
    public let dashboard: Dashboard
    public let host: String
    public let port: Int

    /// The largest request body read (the run form): anything bigger is refused unread.
    static let maximumBodyBytes = 16 * 1024

    public init(dashboard: Dashboard, host: String = "127.0.0.1", port: Int = 7700) {
        self.dashboard = dashboard
        self.host = host
        self.port = port
    }

    /// Serves until the process gets SIGINT or SIGTERM. `onListening` receives the port bound
    /// (the one asked for, or the one the system chose for port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let dashboard = self.dashboard
        let boundPort = BoundPort()
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let method = request.method.rawValue
            // On loopback, only requests addressed to loopback: a page elsewhere that rebinds
            // its own name to 127.0.0.1 (DNS rebinding) must not read the store or the token.
            if loopback, let authority = request.head.authority, !Self.isLoopback(authority: authority, port: boundPort.get()) {
                return Response(status: .misdirectedRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "this server answers only to 127.0.0.1, localhost and [::1]\n")))
            }
            let body: [UInt8] = request.method == .post ? Array(try await request.collectBody(upTo: Self.maximumBodyBytes).readableBytesView) : []
            let uri = request.uri
            let answer: PageResponse = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(returning: dashboard.respond(method: method, path: uri.path, query: uri.query, body: body))
                }
            }
            var headers = HTTPFields()
            headers[.contentType] = answer.contentType
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
            }
            let status = HTTPResponse.Status(code: answer.status)
            if method == "HEAD" { return Response(status: status, headers: headers) }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        var logger = Logger(label: "rigor.serve")
        logger.logLevel = .error
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "rigor"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                onListening(port)
            },
            logger: logger)
        try await app.runService()
    }

    /// `authority` (the Host header) names this machine's loopback, on `port` when it has one.
    public static func isLoopback(authority: String, port: Int) -> Bool {
        var host = Substring(authority)
        var given: Int? = nil
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]"), host.first != "[" || host.contains("]:") {
            given = Int(host[host.index(after: colon)...])
            host = host[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard ["127.0.0.1", "localhost", "::1"].contains(host.lowercased()) else { return false }
        return given == nil || given == port
    }
}

/// The port bound, once the server runs.
private final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port = 0
    func set(_ p: Int) { lock.lock(); port = p; lock.unlock() }
    func get() -> Int { lock.lock(); defer { lock.unlock() }; return port }
}
