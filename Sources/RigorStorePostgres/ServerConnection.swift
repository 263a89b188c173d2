import Foundation
import PostgresNIO
import RigorStore

/// A value bound to a query parameter.
enum SQLParameter: Sendable {
    case text(String)
    case int(Int)
    case bool(Bool)
    case bytes([UInt8])
    case null

    init(_ value: String?) { self = value.map(SQLParameter.text) ?? .null }
    init(_ value: Int?) { self = value.map(SQLParameter.int) ?? .null }
    init(_ value: Bool?) { self = value.map(SQLParameter.bool) ?? .null }
}

/// One row of a result, read by column index; a NULL or undecodable cell reads as nil.
struct ResultRow {
    let cells: PostgresRandomAccessRow

    func text(_ i: Int) -> String? { i < cells.count ? (try? cells[i].decode(String?.self)) ?? nil : nil }
    func int(_ i: Int) -> Int? { i < cells.count ? (try? cells[i].decode(Int?.self)) ?? nil : nil }
    func bool(_ i: Int) -> Bool? { i < cells.count ? (try? cells[i].decode(Bool?.self)) ?? nil : nil }
    func bytes(_ i: Int) -> [UInt8] {
        guard i < cells.count, let buffer = (try? cells[i].decode(ByteBuffer?.self)) ?? nil else { return [] }
        return Array(buffer.readableBytesView)
    }
    func isNull(_ i: Int) -> Bool { i >= cells.count || cells[i].bytes == nil }
}

/// One connection to the server, used synchronously.
///
/// Rigor's store API is synchronous (the runner records from plain threads), and postgres-nio
/// is asynchronous. The bridge: every request runs on NIO's shared event loop group and the
/// calling thread blocks on the future (`wait()`). The caller is never a thread of Swift's
/// cooperative pool (the runner's workers and writer are `Thread`s, the CLI's main thread is
/// not in the pool), and the event loop threads never block, so the wait cannot deadlock: the
/// event loop that completes the future is always free to run. Requests on one connection are
/// serialised by `lock`, as the server handles one at a time anyway.
final class ServerConnection: @unchecked Sendable {
    let location: PostgresLocation
    private let connection: PostgresConnection
    private let logger: Logger
    private let lock = NSLock()

    private init(location: PostgresLocation, connection: PostgresConnection, logger: Logger) {
        self.location = location
        self.connection = connection
        self.logger = logger
    }

    /// postgres-nio insists that a connection is closed before it goes away: closing waits
    /// for the server's goodbye (never on an event loop thread, which cannot block).
    deinit {
        let closing: EventLoopFuture<Void> = connection.close()
        if !connection.eventLoop.inEventLoop { try? closing.wait() }
    }

    /// Connects and logs in; every failure is a `StoreError` that says what to do.
    static func connect(_ location: PostgresLocation) throws(StoreError) -> ServerConnection {
        var logger = Logger(label: "rigor.store.postgres")
        logger.logLevel = .critical
        let tls: PostgresConnection.Configuration.TLS
        switch location.tls {
        case .disable:
            tls = .disable
        case .prefer, .require:
            do {
                let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                tls = location.tls == .prefer ? .prefer(context) : .require(context)
            } catch {
                throw .invalidLocation(location: location.description, why: "TLS cannot be set up here (\(error))")
            }
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(Int64(location.connectTimeoutSeconds))
        let group = MultiThreadedEventLoopGroup.singleton
        do {
            let connection = try PostgresConnection.connect(
                on: group.next(), configuration: configuration, id: 1, logger: logger).wait()
            return ServerConnection(location: location, connection: connection, logger: logger)
        } catch {
            throw Self.storeError(error, location: location, operation: "connecting")
        }
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLParameter] = []) throws(StoreError) -> [ResultRow] {
        var bindings = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .text(let value): bindings.append(value)
            case .int(let value): bindings.append(value)
            case .bool(let value): bindings.append(value)
            case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
            case .null: bindings.appendNull()
            }
        }
        let statement = PostgresQuery(unsafeSQL: sql, binds: bindings)
        lock.lock()
        defer { lock.unlock() }
        do {
            let result = try connection.query(statement, logger: logger).wait()
            return result.rows.map { ResultRow(cells: $0.makeRandomAccess()) }
        } catch {
            throw Self.storeError(error, location: location, operation: Self.operation(sql))
        }
    }

    /// The first row's first column as an integer.
    func integer(_ sql: String, _ parameters: [SQLParameter] = []) throws(StoreError) -> Int {
        try query(sql, parameters).first?.int(0) ?? 0
    }

    /// Runs `body` in a transaction (`begin` is its BEGIN statement), committing when it returns
    /// and rolling back when it throws. A transaction the server aborted because of a
    /// concurrent writer (serialization failure, deadlock, a unique key taken meanwhile) is run
    /// again, up to `attempts` times.
    func transaction<T>(_ begin: String = "BEGIN", attempts: Int = 5,
                        _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        var attempt = 1
        while true {
            do throws(StoreError) {
                try query(begin)
                let value = try body()
                try query("COMMIT")
                return value
            } catch {
                _ = try? query("ROLLBACK")
                guard attempt < attempts, Self.isRetryable(error) else { throw error }
                attempt += 1
                usleep(useconds_t(1000 * attempt * attempt))
            }
        }
    }

    static func isRetryable(_ error: StoreError) -> Bool {
        guard case .server(_, _, let code, _) = error else { return false }
        // serialization_failure, deadlock_detected, unique_violation (a ledger seq taken meanwhile)
        return ["40001", "40P01", "23505"].contains(code)
    }

    /// The first words of a statement, naming it in errors.
    static func operation(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(4)
        return words.joined(separator: " ")
    }

    /// A postgres-nio error as the store error that tells the user what to do.
    static func storeError(_ error: any Error, location: PostgresLocation, operation: String) -> StoreError {
        let shown = location.description
        guard let psql = error as? PSQLError else {
            // Connection refused, unknown host, a timeout: NIO's own errors.
            return .unreachable(location: shown, detail: "\(error)")
        }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? "?"
            let message = info[.message] ?? "no message"
            switch state {
            case "28P01", "28000": return .authenticationFailed(location: shown, detail: message)
            case "3D000": return .databaseMissing(location: shown, database: location.database)
            case "53300", "57P03": return .unreachable(location: shown, detail: message)
            default: return .server(location: shown, operation: operation, code: state, message: message)
            }
        }
        switch psql.code {
        case .authMechanismRequiresPassword:
            return .authenticationFailed(location: shown, detail: "the server asks for a password and none was given (put it in the URL or in PGPASSWORD)")
        case .unsupportedAuthMechanism, .saslError:
            return .authenticationFailed(location: shown, detail: "\(psql.code)")
        case .sslUnsupported:
            return .invalidLocation(location: shown, why: "the server does not offer TLS; use sslmode=disable or prefer")
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            let detail = psql.underlying.map { "\($0)" } ?? "\(psql.code)"
            return .unreachable(location: shown, detail: detail)
        default:
            return .server(location: shown, operation: operation, code: "\(psql.code)", message: psql.underlying.map { "\($0)" } ?? "\(psql.code)")
        }
    }
}
