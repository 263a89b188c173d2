import Foundation
import RigorStore

/// Where a shared store is: a `postgres://` (or `postgresql://`) URL, read the way libpq reads
/// one, for the settings Rigor uses.
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require&connect_timeout=SECONDS]
///
/// A missing password is taken from `PGPASSWORD`, a missing user from `PGUSER` (else
/// `postgres`), a missing database is the user's name, host `localhost`, port 5432. The
/// password never appears in `description`, which is what messages and the CLI print.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP (the default: a server on localhost or a private network).
        case disable
        /// TLS when the server offers it, plain TCP otherwise.
        case prefer
        /// TLS or nothing, with the server's certificate checked against the system's roots.
        case require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var connectTimeoutSeconds: Int

    /// Whether `text` asks for a PostgreSQL store (its scheme), valid or not.
    public static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses `text`; `environment` supplies PGPASSWORD and PGUSER.
    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) {
        func fail(_ why: String) -> StoreError { .invalidLocation(location: Self.redacted(text), why: why) }
        guard Self.isPostgresURL(text) else { throw fail("it is not a postgres:// URL") }
        guard text.utf8.count <= 4096, !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw fail("it is too long or holds control characters")
        }
        guard let components = URLComponents(string: text) else { throw fail("it does not parse as a URL") }
        guard let host = components.host, !host.isEmpty else { throw fail("it names no host (postgres://USER@HOST/DATABASE)") }
        self.host = host
        if let port = components.port {
            guard (1...65535).contains(port) else { throw fail("port \(port) is out of range 1-65535") }
            self.port = port
        } else {
            self.port = 5432
        }
        user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGUSER"] ?? "postgres"
        password = components.password ?? environment["PGPASSWORD"]
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.contains("/") else { throw fail("the database name '\(path)' holds a '/'") }
        database = path.isEmpty ? user : path
        tls = .disable
        connectTimeoutSeconds = 10
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw fail("sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(item.value ?? "")')")
                }
                tls = mode
            case "connect_timeout":
                guard let seconds = item.value.flatMap({ Int($0) }), (1...600).contains(seconds) else {
                    throw fail("connect_timeout must be a number of seconds from 1 to 600 (got '\(item.value ?? "")')")
                }
                connectTimeoutSeconds = seconds
            default:
                throw fail("unknown option '\(item.name)' (known: sslmode, connect_timeout)")
            }
        }
    }

    /// The URL without its password.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)"
    }

    /// `text` with any password replaced, for messages about a URL that did not parse.
    public static func redactedURL(_ text: String) -> String { redacted(text) }

    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
