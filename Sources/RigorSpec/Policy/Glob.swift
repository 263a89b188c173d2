/// Shell-style globs over action types and string arguments: `*` matches any run of
/// characters (including `/`: an action type has no path structure, and a path rule that must
/// stop at `/` is better written with the sandbox), `?` exactly one character, everything else
/// itself. No character classes, no escapes: a rule that needs a literal `*` uses `equals`.
///
/// Matching is linear in practice (the classic backtrack-to-last-star algorithm, O(n·m) at worst)
/// and works on Unicode scalars, so `?` is one character, not one byte.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        // The common cases, without building arrays: `*`, and a pattern with no wildcard.
        if pattern == "*" { return true }
        if !pattern.utf8.contains(where: { $0 == 0x2A || $0 == 0x3F }) { return pattern == text }
        let p = Array(pattern.unicodeScalars)
        let t = Array(text.unicodeScalars)
        var i = 0, j = 0
        var star = -1, mark = 0
        while j < t.count {
            if i < p.count && (p[i] == "?" || (p[i] != "*" && p[i] == t[j])) {
                i += 1
                j += 1
            } else if i < p.count && p[i] == "*" {
                star = i
                mark = j
                i += 1
            } else if star >= 0 {
                i = star + 1
                mark += 1
                j = mark
            } else {
                return false
            }
        }
        while i < p.count && p[i] == "*" { i += 1 }
        return i == p.count
    }

    /// Whether the text holds a wildcard (a string condition without one is an exact match).
    public static func isPattern(_ text: String) -> Bool {
        text.utf8.contains(where: { $0 == 0x2A || $0 == 0x3F })
    }
}
