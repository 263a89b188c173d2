/// The one check for a name that Rigor turns into (part of) a file path: a run id, a task id, a
/// pairing name, a file inside a bundle or a task folder, a baseline's artifact file.
///
/// These names come from input Rigor does not control — an imported artifact, a bundle, a
/// pairings file, a committed baseline — and Rigor often runs as root. A name that holds `..`, a
/// leading `/` or a NUL would let whoever wrote it choose where Rigor writes. Every place that
/// joins such a name to a directory goes through here (`confined`), so the rule lives in one
/// place and the error says which name was refused and why (spec/runtime.md, "Names that
/// become paths").
///
/// The check is lexical: it does not look at the file system. That is enough because Rigor
/// only ever joins these names under directories it created or was pointed at, never under a
/// symbolic link the name itself names.
public enum PathName {
    /// A name that cannot become a path, and why.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// What the name is ("run_id", "pairing name", "bundle file").
        public let what: String
        public let name: String
        public let reason: String

        public var description: String { "\(what) '\(PathName.shown(name))' cannot name a file: \(reason)" }
    }

    /// Longest identifier accepted: well above a UUID (36) or a SHA-256 in hex (64).
    public static let maximumIdentifierLength = 128
    /// Longest single component of a relative path, in UTF-8 bytes (Linux's NAME_MAX).
    public static let maximumComponentBytes = 255
    /// Longest relative path, in UTF-8 bytes.
    public static let maximumPathBytes = 1024

    /// An identifier used as one path component (a run id, a task id, a pairing name): 1 to
    /// 128 ASCII letters, digits, `.`, `_` and `-`, not beginning with `.` or `-` (so it is
    /// neither hidden, nor `.`/`..`, nor read as an option).
    public static func checkIdentifier(_ name: String, as what: String) throws(Refusal) {
        func refuse(_ reason: String) -> Refusal { Refusal(what: what, name: name, reason: reason) }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw refuse("it is empty") }
        guard bytes.count <= maximumIdentifierLength else { throw refuse("it is longer than \(maximumIdentifierLength) characters") }
        for b in bytes {
            let allowed = (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                || b == 0x2E || b == 0x5F || b == 0x2D
            guard allowed else { throw refuse("only ASCII letters, digits, '.', '_' and '-' are allowed") }
        }
        guard bytes[0] != 0x2E && bytes[0] != 0x2D else { throw refuse("it must not begin with '.' or '-'") }
    }

    /// A relative path inside a folder (a file of a task folder or of a bundle): components
    /// separated by single `/`, none empty, `.` or `..`, none longer than 255 bytes, and no NUL,
    /// backslash or control character anywhere; at most 1024 bytes in all.
    public static func checkRelativePath(_ path: String, as what: String) throws(Refusal) {
        func refuse(_ reason: String) -> Refusal { Refusal(what: what, name: path, reason: reason) }
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { throw refuse("it is empty") }
        guard bytes.count <= maximumPathBytes else { throw refuse("it is longer than \(maximumPathBytes) bytes") }
        guard bytes[0] != 0x2F else { throw refuse("it is absolute") }
        for scalar in path.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\\" {
            throw refuse("it holds a control character or a backslash")
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw refuse("it has an empty component ('//' or a trailing '/')") }
            if component == "." || component == ".." { throw refuse("it has a '\(component)' component") }
            if component.utf8.count > maximumComponentBytes { throw refuse("a component is longer than \(maximumComponentBytes) bytes") }
        }
    }

    /// A single file name: a relative path of one component.
    public static func checkFileName(_ name: String, as what: String) throws(Refusal) {
        try checkRelativePath(name, as: what)
        if name.contains("/") { throw Refusal(what: what, name: name, reason: "it must be a file name, without '/'") }
    }

    /// `directory/relative` once `relative` passes `checkRelativePath`: a path that cannot
    /// leave `directory`.
    public static func confined(_ relative: String, in directory: String, as what: String) throws(Refusal) -> String {
        try checkRelativePath(relative, as: what)
        return directory.hasSuffix("/") ? directory + relative : "\(directory)/\(relative)"
    }

    /// `directory/<identifier><suffix>` once `identifier` passes `checkIdentifier`.
    public static func confined(identifier: String, suffix: String = "", in directory: String, as what: String) throws(Refusal) -> String {
        try checkIdentifier(identifier, as: what)
        return try confined(identifier + suffix, in: directory, as: what)
    }

    /// The name as it can be shown on a terminal: control characters and backslashes escaped,
    /// and cut after 200 characters.
    public static func shown(_ name: String) -> String {
        var out = ""
        for (i, scalar) in name.unicodeScalars.enumerated() {
            if i == 200 { out += "…"; break }
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar == "\\" {
                out += scalar == "\\" ? "\\\\" : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
