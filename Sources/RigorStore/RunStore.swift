import Foundation
import RigorSpec

/// The embedded run store: one SQLite file, `<directory>/rigor.db`, holding every recorded run.
///
/// It keeps four things (spec/store.md has the full layout):
/// - a **runs index**, one row per run with the fields listings filter on;
/// - **content-addressed blobs**: the stable part of each artifact, zstd-compressed JCS, stored
///   once however many replays produce it, plus each run's small compressed volatile part (both
///   with zstd dictionaries the store trains on its own content once it holds 64 of them);
/// - an append-only, hash-chained **ledger** that anyone can re-verify from an export;
/// - the **session** (the latest run).
///
/// The file is in WAL mode with a 10 s busy timeout, foreign keys on and `synchronous=NORMAL`;
/// every write is one `BEGIN IMMEDIATE` transaction, so any number of threads (each with its own
/// `RunStore`) and processes can record into the same store without losing a run, and a crash
/// leaves either all of a run or none of it. Opening checks the file before writing anything to
/// it: a file that is not an SQLite database, fails `PRAGMA quick_check`, or was written by a
/// newer schema is reported and left exactly as it was, never recreated.
///
/// A `RunStore` is safe to share between threads: it owns one connection and serialises its use
/// behind a lock (threads that write a lot do better with a store each, which SQLite arbitrates).
public final class RunStore: @unchecked Sendable {
    /// The database's file name inside the store directory.
    public static let fileName = "rigor.db"
    /// References shorter than this are refused rather than matched as prefixes.
    public static let minimumPrefixLength = 4

    /// Path of `rigor.db`.
    public let path: String
    // Guarded by `lock`: every use goes through `withConnection`.
    private let connection: Connection
    private let lock = NSLock()
    /// Digested zstd dictionaries by id (committed ones only; they never change). Guarded by `lock`.
    var dictionaryCache: [Int: ZstdDictionary] = [:]

    private init(path: String, connection: Connection) {
        self.path = path
        self.connection = connection
    }

    /// Opens the store in `directory`, migrating it to the current schema.
    ///
    /// With `create` false a missing `rigor.db` is `StoreError.storeMissing`; with `create` true
    /// the directory and an empty store are made. An existing file is never replaced: if it is not
    /// a healthy Rigor store the error says what is wrong with it.
    public static func open(directory: String, create: Bool) throws(StoreError) -> RunStore {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + fileName
        let files = FileManager.default
        if let attributes = try? files.attributesOfItem(atPath: path) {
            // SQLite treats an empty file as a new database. An empty rigor.db holds nothing to
            // lose, so it is initialised when the caller asked for creation, and reported otherwise.
            if (attributes[.size] as? NSNumber)?.intValue == 0 && !create {
                throw .notADatabase(path: path, detail: "the file is empty")
            }
        } else {
            guard create else { throw .storeMissing(path: path) }
            do {
                try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                if let reason = unwritable(directory) { throw .readOnly(path: path, detail: reason) }
                throw .cannotOpen(path: path, detail: "cannot create directory \(directory): \(error.localizedDescription)")
            }
        }
        // Writing (and even opening a WAL store) needs the file and its directory writable: say
        // so plainly rather than let SQLite fail on the first statement.
        if let reason = unwritable(directory) ?? (files.fileExists(atPath: path) ? unwritable(path) : nil) {
            throw .readOnly(path: path, detail: reason)
        }
        let connection = try Connection(path: path, create: create)
        try checkReadable(connection)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA synchronous = NORMAL")
        try connection.execute("PRAGMA foreign_keys = ON")
        try Schema.migrate(connection)
        return RunStore(path: path, connection: connection)
    }

    /// Opens the store in `directory` for reading only: what `runs list`, `runs show`, `runs
    /// export`, `runs verify`, the ledger commands and `diff` use, so that they work on a store
    /// this process cannot write (a read-only mount, another user's files).
    ///
    /// When the store and its directory are writable this is `open(directory:create: false)`
    /// (which migrates an old schema). Otherwise the file is opened with SQLite's `mode=ro`, and,
    /// when that cannot read it either (a WAL store needs its `-shm` file, which a read-only
    /// directory cannot hold), with `immutable=1`: nothing is created, locked or written, and what
    /// is read is the database as of its last checkpoint. A store whose schema is older than this
    /// build's is refused (`readOnly`): upgrading it needs write access.
    public static func openForReading(directory: String) throws(StoreError) -> RunStore {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + fileName
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { throw .storeMissing(path: path) }
        if (attributes[.size] as? NSNumber)?.intValue == 0 { throw .notADatabase(path: path, detail: "the file is empty") }
        if unwritable(directory) == nil && unwritable(path) == nil { return try open(directory: directory, create: false) }
        let connection: Connection
        do throws(StoreError) {
            let readOnly = try Connection(path: path, mode: .readOnly)
            try checkReadable(readOnly)
            connection = readOnly
        } catch {
            let immutable = try Connection(path: path, mode: .immutable)
            try checkReadable(immutable)
            connection = immutable
        }
        let version = try Schema.userVersion(connection)
        if version < Schema.version {
            throw .readOnly(path: path, detail: "it has schema version \(version), and reading it needs an upgrade to version \(Schema.version), which needs write access once")
        }
        return RunStore(path: path, connection: connection)
    }

    /// Why this process cannot write `path`, or nil when it can.
    static func unwritable(_ path: String) -> String? {
        guard access(path, W_OK) != 0 else { return nil }
        switch errno {
        case EROFS: return "\(path) is on a read-only file system"
        case EACCES, EPERM: return "this user (uid \(getuid())) may not write \(path)"
        case ENOENT: return nil
        default: return "\(path) cannot be written (\(String(cString: strerror(errno))))"
        }
    }

    /// Reads the header and checks the structure before anything writes to the file, so that a
    /// damaged or foreign file is reported untouched. A newer schema is refused here too, before
    /// the journal mode is changed.
    private static func checkReadable(_ connection: Connection) throws(StoreError) {
        let version = try Schema.userVersion(connection)  // fails with SQLITE_NOTADB on garbage
        let problems = try connection.query("PRAGMA quick_check(5)") { $0.text(0) ?? "" }
        if problems != ["ok"] {
            throw .corrupt(path: connection.path, detail: "quick_check: " + problems.joined(separator: "; "))
        }
        try Schema.refuseNewer(version, connection)
    }

    /// Runs `body` with exclusive use of the connection.
    func withConnection<T>(_ body: (Connection) throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }

    /// Counts and sizes, for `rigor store stats` and the compression measurements.
    public func statistics() throws(StoreError) -> StoreStatistics {
        try withConnection { (c) throws(StoreError) in
            func count(_ sql: String) throws(StoreError) -> Int { try c.first(sql) { $0.int(0) ?? 0 } ?? 0 }
            let pageSize = try count("PRAGMA page_size")
            return StoreStatistics(
                runs: try count("SELECT count(*) FROM runs"),
                blobs: try count("SELECT count(*) FROM blobs"),
                ledgerEntries: try count("SELECT count(*) FROM ledger"),
                blobBytes: try count("SELECT coalesce(sum(length(data)), 0) FROM blobs"),
                contentBytes: try count("SELECT coalesce(sum(size), 0) FROM blobs"),
                volatileBytes: try count("SELECT coalesce(sum(length(volatile)), 0) FROM runs"),
                databaseBytes: try count("PRAGMA page_count") * pageSize,
                dictionaries: try count("SELECT count(*) FROM dictionaries WHERE length(data) > 0"),
                dictionaryBytes: try count("SELECT coalesce(sum(length(data)), 0) FROM dictionaries"))
        }
    }
}

/// How much a store holds.
public struct StoreStatistics: Sendable, Equatable {
    public var runs: Int
    public var blobs: Int
    public var ledgerEntries: Int
    /// Compressed bytes of all blobs, as stored.
    public var blobBytes: Int
    /// Uncompressed bytes of all blobs (the JCS of every distinct stable part).
    public var contentBytes: Int
    /// Compressed bytes of all runs' volatile parts.
    public var volatileBytes: Int
    /// Size of the main database file in pages (page count × page size), excluding the WAL.
    public var databaseBytes: Int
    /// zstd dictionaries the store trained on its own content, and their bytes.
    public var dictionaries: Int = 0
    public var dictionaryBytes: Int = 0

    package init(runs: Int, blobs: Int, ledgerEntries: Int, blobBytes: Int, contentBytes: Int, volatileBytes: Int,
                 databaseBytes: Int, dictionaries: Int = 0, dictionaryBytes: Int = 0) {
        self.runs = runs
        self.blobs = blobs
        self.ledgerEntries = ledgerEntries
        self.blobBytes = blobBytes
        self.contentBytes = contentBytes
        self.volatileBytes = volatileBytes
        self.databaseBytes = databaseBytes
        self.dictionaries = dictionaries
        self.dictionaryBytes = dictionaryBytes
    }
}
