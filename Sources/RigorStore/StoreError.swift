/// Everything that can go wrong when opening, reading or writing a run store.
///
/// Each case carries what a user needs to act: which file, which run, which version, and the
/// message (`description`) says what to do next. The CLI maps these to exit codes in one place.
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No `rigor.db` in the directory and the caller did not ask to create one.
    case storeMissing(path: String)
    /// SQLite could not open the file at all (permissions, a directory in the way, ...).
    case cannotOpen(path: String, detail: String)
    /// The file exists but is not an SQLite database (or is empty when it should not be).
    case notADatabase(path: String, detail: String)
    /// The file is an SQLite database that fails `PRAGMA quick_check` or reads as malformed.
    case corrupt(path: String, detail: String)
    /// The store was written by a newer Rigor, with a schema this build does not know.
    case newerSchema(path: String, found: Int, supported: Int)
    /// Another connection held the write lock for longer than the busy timeout (10 s).
    case busy(path: String)
    /// The store cannot be written by this process (a read-only mount, another user's files):
    /// reading still works (`RunStore.openForReading`), recording does not.
    case readOnly(path: String, detail: String)
    case diskFull(path: String)
    /// Any other SQLite failure; `operation` is the start of the SQL that failed.
    case sqlite(path: String, operation: String, code: Int, message: String)
    /// The artifact cannot be stored (not an object, no `run_id`, a NaN, ...).
    case invalidArtifact(String)
    /// A run with this id is already stored with different content.
    case runConflict(runID: String)
    case runNotFound(ref: String)
    case ambiguousRun(ref: String, matches: [String], more: Bool)
    case referenceTooShort(ref: String, minimum: Int)
    case noRuns
    /// A run's stored parts could not be read back (undecodable, wrong shape, missing blob).
    case damagedRun(runID: String, detail: String)
    case invalidLedgerEntry(String)
    /// A ledger row could not be read back as an entry.
    case damagedLedgerEntry(seq: Int, detail: String)
    /// A store location (`--store`, `RIGOR_STORE`, `store =` in rigor.toml) that names no store
    /// Rigor can open: not a `postgres://` URL, a bad port, an unknown option.
    case invalidLocation(location: String, why: String)
    /// The server of a shared store could not be reached (refused, unknown host, timed out).
    case unreachable(location: String, detail: String)
    /// The server refused the login (wrong password, unknown user, pg_hba.conf).
    case authenticationFailed(location: String, detail: String)
    /// The server has no database of the URL's name.
    case databaseMissing(location: String, database: String)
    /// The database holds tables but no Rigor store: it was left untouched.
    case foreignDatabase(location: String, detail: String)
    /// The database has no Rigor store yet and the caller did not ask to create one.
    case emptyDatabase(location: String)
    /// Any other error the server reported; `operation` is the start of the SQL that failed.
    case server(location: String, operation: String, code: String, message: String)
    /// Another store's history cannot be appended to this one (`appendHistory`): why.
    case mergeRefused(String)

    public var description: String {
        switch self {
        case .storeMissing(let path):
            return "no run store at \(path): nothing has been recorded in this directory yet (run an episode first, or point --state-dir at the directory that holds rigor.db)"
        case .cannotOpen(let path, let detail):
            return "cannot open run store \(path): \(detail)"
        case .notADatabase(let path, let detail):
            return "\(path) is not a Rigor run store (\(detail)); it was left untouched: move it aside to start a new store, or restore it from a backup"
        case .corrupt(let path, let detail):
            return "run store \(path) is damaged (\(detail)); it was left untouched: restore it from a backup, or try `sqlite3 \(path) .recover` on a copy"
        case .newerSchema(let path, let found, let supported):
            return "run store \(path) has schema version \(found), but this Rigor only knows versions up to \(supported): upgrade Rigor to read it"
        case .busy(let path):
            return "run store \(path) is locked by another writer for more than 10 s; retry when the other rigor process has finished"
        case .readOnly(let path, let detail):
            return "store at \(path) is read-only: \(detail); reading commands (runs list/show/export/verify, ledger, diff) still work, but recording needs write access to it and its directory (or another --state-dir)"
        case .diskFull(let path):
            return "no space left to write run store \(path); free disk space and retry (nothing was half-written)"
        case .sqlite(let path, let operation, let code, let message):
            return "run store \(path): \(operation) failed (SQLite \(code): \(message))"
        case .invalidArtifact(let why):
            return "cannot store artifact: \(why)"
        case .runConflict(let runID):
            return "run '\(runID)' is already stored with different content; a run id names exactly one artifact (import the other one under a new run_id)"
        case .runNotFound(let ref):
            return "no run '\(ref)' in this store; give a full run id, a unique prefix of at least 4 characters, or 'latest'"
        case .ambiguousRun(let ref, let matches, let more):
            let shown = matches.map { String($0.prefix(12)) + "…" }.joined(separator: ", ")
            return "run '\(ref)' is ambiguous: matches \(shown)\(more ? " and more" : ""); give more characters"
        case .referenceTooShort(let ref, let minimum):
            return "run reference '\(ref)' is too short: give at least \(minimum) characters of the run id, the full id, or 'latest'"
        case .noRuns:
            return "no runs recorded yet, so there is no 'latest' run"
        case .damagedRun(let runID, let detail):
            return "run '\(runID)' cannot be read back: \(detail) (verifying the store's blobs gives a full report)"
        case .invalidLedgerEntry(let why):
            return "cannot append to the ledger: \(why)"
        case .damagedLedgerEntry(let seq, let detail):
            return "ledger entry \(seq) cannot be read: \(detail) (verifying the ledger names the first break)"
        case .invalidLocation(let location, let why):
            return "store location '\(location)' is not usable: \(why); give postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE for a shared store, or leave --store out for the embedded one in the state directory"
        case .unreachable(let location, let detail):
            return "cannot reach the PostgreSQL server of store \(location) (\(detail)): check that the server is running and listening at that host and port (pg_isready -h HOST -p PORT), or correct the URL"
        case .authenticationFailed(let location, let detail):
            return "the PostgreSQL server of store \(location) refused the login (\(detail)): check the user and password in the URL (or PGPASSWORD), and that the server's pg_hba.conf lets this user in"
        case .databaseMissing(let location, let database):
            return "the PostgreSQL server of store \(location) has no database '\(database)': create it (createdb \(database)) or name an existing one in the URL"
        case .foreignDatabase(let location, let detail):
            return "database \(location) is not a Rigor store (\(detail)); it was left untouched: give Rigor a database of its own (createdb rigor)"
        case .emptyDatabase(let location):
            return "no run store in database \(location) yet: nothing has been recorded into it (record a run with --store pointing there first)"
        case .server(let location, let operation, let code, let message):
            return "store \(location): \(operation) failed (PostgreSQL \(code): \(message))"
        case .mergeRefused(let why):
            return "cannot merge: \(why); nothing was written"
        }
    }
}
