import CSQLite

/// A value bound to, or read from, an SQL statement.
enum SQLValue: Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    /// Text given as its bytes, bound exactly (even if they are not valid UTF-8).
    case textBytes([UInt8])

    init(_ s: String?) { self = s.map(SQLValue.text) ?? .null }
    init(_ i: Int?) { self = i.map { .integer(Int64($0)) } ?? .null }
    init(_ b: Bool?) { self = b.map { .integer($0 ? 1 : 0) } ?? .null }
}

/// `SQLITE_TRANSIENT`: SQLite copies bound bytes before the call returns, so Swift buffers only
/// need to live for the duration of the bind.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by itself: `RunStore` owns exactly one and serialises every use of it behind
/// a lock, and two threads that want to write at the same time should each open their own
/// `RunStore` (SQLite then arbitrates between connections with its file locks and the busy
/// timeout). The connection is opened with `SQLITE_OPEN_NOMUTEX` for that reason.
final class Connection {
    let path: String
    private let db: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    /// How a connection opens its file.
    enum Mode {
        /// Reading and writing; with `create`, a missing file becomes a new database.
        case readWrite(create: Bool)
        /// Reading only (`mode=ro`): SQLite writes nothing, but reading a WAL database still
        /// needs its `-shm` file, or the right to create it.
        case readOnly
        /// Reading only, assuming nobody changes the file meanwhile (`immutable=1`): no locks,
        /// no `-shm`, no WAL read. What is left when the directory cannot be written at all.
        case immutable
    }

    /// Opens `path`; with `create` false a missing file is an error rather than a new database.
    convenience init(path: String, create: Bool) throws(StoreError) {
        try self.init(path: path, mode: .readWrite(create: create))
    }

    init(path: String, mode: Mode) throws(StoreError) {
        var handle: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX
        let filename: String
        switch mode {
        case .readWrite(let create):
            flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
            filename = path
        case .readOnly:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            filename = Connection.uri(path, query: "mode=ro")
        case .immutable:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            filename = Connection.uri(path, query: "mode=ro&immutable=1")
        }
        let code = sqlite3_open_v2(filename, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw .cannotOpen(path: path, detail: message)
        }
        self.path = path
        self.db = handle
        sqlite3_busy_timeout(db, 10_000)
    }

    /// A `file:` URI for `path` (RFC 3986: every byte but unreserved ones and `/` percent-encoded,
    /// so `?`, `#` and `%` in a directory name stay part of the path).
    static func uri(_ path: String, query: String) -> String {
        var out = "file:"
        for byte in path.utf8 {
            let unreserved = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E || byte == 0x2F
            out += unreserved ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
        return out + "?" + query
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(db)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(db)) }

    /// The rowid of the last row inserted on this connection.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }

    /// Runs one or more statements that take no parameters and return nothing of interest.
    func execute(_ sql: String) throws(StoreError) {
        let code = sqlite3_exec(db, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, sql) }
    }

    /// Runs one statement, discarding any rows.
    func run(_ sql: String, _ arguments: [SQLValue] = []) throws(StoreError) {
        _ = try query(sql, arguments) { _ in () }
    }

    /// Runs one statement and maps each result row.
    func query<T>(_ sql: String, _ arguments: [SQLValue] = [], _ map: (Row) throws(StoreError) -> T) throws(StoreError) -> [T] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in arguments.enumerated() {
            try bind(value, at: Int32(index + 1), in: statement, sql: sql)
        }
        var rows: [T] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error(code, sql) }
            rows.append(try map(Row(statement: statement)))
        }
    }

    /// The first row of a query, if any.
    func first<T>(_ sql: String, _ arguments: [SQLValue] = [], _ map: (Row) throws(StoreError) -> T) throws(StoreError) -> T? {
        try query(sql, arguments, map).first
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    ///
    /// IMMEDIATE takes the database's write lock at the start, so a writer never reads a state
    /// that another writer is about to change (the ledger's head, for example), and contention
    /// shows up as waiting in `BEGIN` (bounded by the busy timeout) instead of as a failed COMMIT.
    func immediateTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` inside a read transaction: every query in it sees the same snapshot, and
    /// writers are not blocked (WAL).
    func readTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN DEFERRED", body)
    }

    private func transaction<T>(_ begin: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // The rollback can only fail if there is no transaction left to roll back.
            _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    private func prepared(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, sql) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer, sql: String) throws(StoreError) {
        let code: Int32
        switch value {
        case .null: code = sqlite3_bind_null(statement, index)
        case .integer(let i): code = sqlite3_bind_int64(statement, index, i)
        case .text(let s):
            code = bindText(Array(s.utf8), at: index, in: statement)
        case .textBytes(let bytes):
            code = bindText(bytes, at: index, in: statement)
        case .blob(let bytes):
            if bytes.isEmpty {
                // A nil pointer would bind NULL; an empty blob must stay an empty blob.
                code = sqlite3_bind_zeroblob(statement, index, 0)
            } else {
                code = bytes.withUnsafeBytes { raw in
                    sqlite3_bind_blob(statement, index, raw.baseAddress, Int32(raw.count), transient)
                }
            }
        }
        guard code == SQLITE_OK else { throw error(code, sql) }
    }

    /// Binds text with an explicit length, so it is stored exactly as these bytes.
    private func bindText(_ bytes: [UInt8], at index: Int32, in statement: OpaquePointer) -> Int32 {
        if bytes.isEmpty { return sqlite3_bind_text(statement, index, "", 0, transient) }
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                sqlite3_bind_text(statement, index, chars.baseAddress, Int32(chars.count), transient)
            }
        }
    }

    /// Maps an SQLite result code to the `StoreError` a user can act on.
    func error(_ code: Int32, _ sql: String) -> StoreError {
        let message = String(cString: sqlite3_errmsg(db))
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy(path: path)
        case SQLITE_NOTADB: return .notADatabase(path: path, detail: message)
        case SQLITE_CORRUPT: return .corrupt(path: path, detail: message)
        case SQLITE_FULL: return .diskFull(path: path)
        case SQLITE_READONLY: return .readOnly(path: path, detail: message)
        default:
            let operation = sql.split(separator: " ", maxSplits: 2).prefix(2).joined(separator: " ")
            return .sqlite(path: path, operation: operation, code: Int(code), message: message)
        }
    }
}

/// One result row; valid only inside the `query` callback that received it.
struct Row {
    fileprivate let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func isInteger(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_INTEGER }
    func isBlob(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_BLOB }

    func int(_ column: Int32) -> Int? {
        isNull(column) ? nil : Int(sqlite3_column_int64(statement, column))
    }

    func bool(_ column: Int32) -> Bool? { int(column).map { $0 != 0 } }

    func text(_ column: Int32) -> String? {
        isNull(column) ? nil : String(decoding: bytes(column), as: UTF8.self)
    }

    /// The column's raw bytes (text or blob), exactly as stored.
    func bytes(_ column: Int32) -> [UInt8] {
        // Ask for the pointer first: sqlite3_column_bytes is only meaningful after it.
        guard let pointer = sqlite3_column_blob(statement, column) else { return [] }
        let count = Int(sqlite3_column_bytes(statement, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
