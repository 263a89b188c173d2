import RigorJSON
import RigorRunner

/// What the dashboard answers to one request, before any HTTP library sees it: a status, a
/// content type and the body. The Hummingbird shell copies it onto the wire; tests and the
/// benchmark call `Dashboard.respond` directly and read the same value.
public struct PageResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers (`Location` for a redirect, `Set-Cookie` for the CSRF token).
    public var headers: [(String, String)] = []

    public var text: String { String(decoding: body, as: UTF8.self) }

    static func html(_ page: HTML, status: Int = 200) -> PageResponse {
        PageResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(page.markup.utf8))
    }

    static func json(_ value: JSON, status: Int = 200) -> PageResponse {
        var bytes = (try? value.prettyBytes()) ?? Array("{\"error\":\"the view could not be written as JSON\"}\n".utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        return PageResponse(status: status, contentType: "application/json; charset=utf-8", body: bytes)
    }

    static func redirect(_ location: Link) -> PageResponse {
        PageResponse(status: 303, contentType: "text/plain; charset=utf-8", body: Array("see \(location.string)\n".utf8),
                     headers: [("Location", location.string)])
    }
}

/// Why the dashboard could not answer: each case knows its HTTP status and says what to change.
public enum DashboardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No page or API at this path.
    case noSuchPage(String)
    /// A parameter that does not parse (its name, and what it must be).
    case badParameter(name: String, problem: String)
    /// A run, baseline or bundle that does not exist.
    case notFound(String)
    /// The method is not allowed on this path (starting runs needs `--allow-run`, and POST).
    case methodNotAllowed(String)
    /// A form without the CSRF token this server handed out.
    case forbidden(String)
    /// The store or a file could not be read: the server's side.
    case unavailable(String)

    public var status: Int {
        switch self {
        case .noSuchPage, .notFound: 404
        case .badParameter: 400
        case .methodNotAllowed: 405
        case .forbidden: 403
        case .unavailable: 503
        }
    }

    public var description: String {
        switch self {
        case .noSuchPage(let path): "no page at '\(path)': the pages are /runs, /metrics, /baselines, /ledger and /bundles (each with a JSON twin under /api/)"
        case .badParameter(let name, let problem): "parameter '\(name)': \(problem)"
        case .notFound(let what): what
        case .methodNotAllowed(let what): what
        case .forbidden(let what): what
        case .unavailable(let what): what
        }
    }

    var json: JSON { ["error": .string(description), "status": .int(status)] }
}
