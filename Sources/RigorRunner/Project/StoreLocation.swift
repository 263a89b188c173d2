import Foundation
import RigorStore
import RigorStorePostgres

/// Where a workspace keeps its runs: the embedded SQLite store (`rigor.db` in a directory, the
/// default: the state directory) or a shared PostgreSQL store (`postgres://...`).
///
/// Chosen, first set wins, by `--store`, the environment variable `RIGOR_STORE`, and
/// `store = "..."` in the project file's `[project]` table; without any, the state directory's
/// embedded store. Only a `postgres://` location needs a server.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// `rigor.db` in this directory.
    case embedded(directory: String)
    /// A PostgreSQL database, by URL (kept as given: it may hold a password).
    case postgres(url: String)

    /// The environment variable that names a store for every command.
    public static let environmentVariable = "RIGOR_STORE"

    /// A location as a user writes it: a `postgres://` URL, or a directory for an embedded store.
    /// Any other `scheme://` is refused, so a typo (`postgre://`) never becomes a directory.
    public init(parsing text: String) throws(StoreError) {
        if PostgresLocation.isPostgresURL(text) {
            self = .postgres(url: text)
        } else if let scheme = text.range(of: "://"), !text[..<scheme.lowerBound].contains("/") {
            throw .invalidLocation(location: text, why: "'\(text[..<scheme.lowerBound])' is not a store Rigor knows (only postgres://)")
        } else if text.isEmpty {
            throw .invalidLocation(location: text, why: "it is empty")
        } else {
            self = .embedded(directory: text)
        }
    }

    /// For messages: the directory, or the URL without its password.
    public var description: String {
        switch self {
        case .embedded(let directory): return directory
        case .postgres(let url): return (try? PostgresLocation(parsing: url).description) ?? PostgresLocation.redactedURL(url)
        }
    }

    public var isShared: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// Opens the store; `create` makes it when missing (the directory and `rigor.db`, or the
    /// tables in an existing database).
    public func open(create: Bool) throws(StoreError) -> any RunStorage {
        switch self {
        case .embedded(let directory): return try RunStore.open(directory: directory, create: create)
        case .postgres(let url): return try PostgresRunStore.open(url: url, create: create)
        }
    }

    /// Opens the store for reading only: an embedded store this process cannot write is read in
    /// place (`RunStore.openForReading`); a shared store is read as its user is allowed to.
    public func openForReading() throws(StoreError) -> any RunStorage {
        switch self {
        case .embedded(let directory): return try RunStore.openForReading(directory: directory)
        case .postgres(let url): return try PostgresRunStore.open(url: url, create: false)
        }
    }
}
