import Foundation

/// A real PostgreSQL server for the shared-store tests.
///
/// `RIGOR_TEST_POSTGRES_URL` names one when set (`make test` starts one with
/// `scripts/test-postgres.sh` and exports it); otherwise the first test that asks starts its own
/// from a temporary data directory on a free localhost port, and stops it when the test process
/// exits. Each test takes a database of its own (`freshDatabase`), so tests run in parallel
/// without seeing each other's runs. No server can be started (Debian's postgresql missing) is a
/// failure that says so, never a skip.
public enum PostgresTestServer {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    private static let state = ServerState()

    /// The URL of the server's `rigor` database (a server's maintenance entry point).
    public static func baseURL() throws -> String {
        try state.url()
    }

    /// A new, empty database on the server; returns its URL.
    public static func freshDatabase(_ label: String = "t") throws -> String {
        let base = try baseURL()
        let name = "\(label)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        try sql(base, "CREATE DATABASE \(name)")
        guard let slash = base.lastIndex(of: "/") else { throw Unavailable(description: "bad server URL \(base)") }
        return String(base[...slash]) + name
    }

    /// Runs SQL through `psql` (what a person with database access would do), returning its
    /// unaligned, tuples-only output.
    @discardableResult
    public static func sql(_ url: String, _ statement: String) throws -> String {
        let result = try CommandLineRun.run("/usr/bin/env", ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", statement])
        guard result.status == 0 else {
            throw Unavailable(description: "psql failed (\(result.status)) on \(statement): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    final class ServerState: @unchecked Sendable {
        private let lock = NSLock()
        private var started: Result<String, Unavailable>?
        nonisolated(unsafe) static var directory: String?

        func url() throws -> String {
            lock.lock()
            defer { lock.unlock() }
            let outcome = started ?? Self.start()
            started = outcome
            return try outcome.get()
        }

        private static func start() -> Result<String, Unavailable> {
            if let given = ProcessInfo.processInfo.environment["RIGOR_TEST_POSTGRES_URL"], !given.isEmpty { return .success(given) }
            let dir = NSTemporaryDirectory() + "rigor-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let script = "\(RepoPaths.root)/scripts/test-postgres.sh"
            guard let result = try? CommandLineRun.run("/bin/bash", [script, "start", dir]), result.status == 0 else {
                return .failure(Unavailable(description: "cannot start a PostgreSQL server for the tests (scripts/test-postgres.sh start): install Debian's postgresql (make deps), or set RIGOR_TEST_POSTGRES_URL"))
            }
            directory = dir
            atexit {
                guard let dir = ServerState.directory else { return }
                _ = try? CommandLineRun.run("/bin/bash", ["\(RepoPaths.root)/scripts/test-postgres.sh", "stop", dir])
            }
            return .success(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
