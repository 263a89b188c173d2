import Foundation
import RigorRunner
import RigorSpec
import RigorStore

/// Rigor's exit codes, the only place they are defined.
enum ExitStatusCode: Int32 {
    case success = 0
    /// The episode failed, or a check found problems.
    case failed = 1
    /// Bad usage or bad input (unknown task, missing file, malformed JSON).
    case usage = 2
    /// A bug in Rigor.
    case `internal` = 3
    /// A file or the store could not be read or written: permissions, a read-only store, a full
    /// disk, a damaged or locked store. Nothing is wrong with the command line.
    case io = 4

    static func forError(_ error: RunnerError) -> ExitStatusCode {
        switch error {
        case .task, .agent, .usage: return .usage
        case .project(.unreadable): return .io
        case .project: return .usage
        case .policy(.unreadable): return .io
        case .policy: return .usage
        case .io: return .io
        case .store(let e): return forError(e)
        case .internal: return .internal
        }
    }

    static func forError(_ error: StoreError) -> ExitStatusCode {
        switch error {
        case .cannotOpen, .notADatabase, .corrupt, .busy, .readOnly, .diskFull, .sqlite, .damagedRun, .damagedLedgerEntry,
             .unreachable, .authenticationFailed, .foreignDatabase, .server:
            return .io
        case .storeMissing, .newerSchema, .invalidArtifact, .runConflict, .runNotFound, .ambiguousRun, .referenceTooShort, .noRuns,
             .invalidLedgerEntry, .invalidLocation, .databaseMissing, .emptyDatabase, .mergeRefused:
            return .usage
        }
    }
}

/// Thrown by commands after they have printed what they had to say.
struct CLIExit: Error {
    let code: ExitStatusCode
}

enum RigorVersion {
    static var text: String { "rigor \(RigorIdentity.version) (\(RigorIdentity.specVersion), protocol \(RigorIdentity.protocolVersion))" }
}

/// Every line `rigor` prints for people goes through here (it shadows `Swift.print` in this
/// module), so none can forget to escape what an agent, a world or a file put in it
/// (`TerminalText`). Rigor's own colours survive: see `Console.paint`.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(Console.shown(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}

/// Terminal output: colour only on a terminal and never with NO_COLOR.
enum Console {
    static let colour: Bool = isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func paint(_ text: String, _ code: String) -> String { colour ? TerminalText.paint(text, code) : text }

    /// `text` as it may reach a terminal (`TerminalText.shown`): escaped, with Rigor's colours.
    static func shown(_ text: String) -> String { TerminalText.shown(text) }
    static func green(_ t: String) -> String { paint(t, "32;1") }
    static func red(_ t: String) -> String { paint(t, "31;1") }
    static func dim(_ t: String) -> String { paint(t, "2") }
    static func yellow(_ t: String) -> String { paint(t, "33") }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("rigor: error: \(shown(message))\n".utf8))
    }

    /// One line for people on stdout, escaped and coloured as `print` does it (for the reports
    /// whose own static `print` hides the module's).
    static func line(_ text: String) { Swift.print(shown(text)) }

    /// Writes human text that is not printed line by line (a whole report), escaped as `print` does.
    static func write(_ text: String, toError: Bool = false) {
        (toError ? FileHandle.standardError : FileHandle.standardOutput).write(Data(shown(text).utf8))
    }

    /// A line for the user on stderr (never on stdout, which `--json` keeps for machines).
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("rigor: note: \(message)\n".utf8))
    }

    static func printJSON(_ value: JSON) {
        if let bytes = try? value.prettyBytes() { FileHandle.standardOutput.write(Data(bytes)) }
    }

    /// Reports a runner error and exits with its code.
    static func fail(_ error: RunnerError) -> CLIExit {
        Console.error(error.description)
        return CLIExit(code: ExitStatusCode.forError(error))
    }
}
