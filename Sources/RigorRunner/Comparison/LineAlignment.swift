import RigorSpec

/// Two texts lined up line by line, the way `diff -y` shows them: equal lines side by side,
/// a changed line next to its replacement, lines only on one side against a blank.
///
/// The alignment is a longest common subsequence of lines. The common head and tail are
/// trimmed first (in a step diff most of the value is shared), and the quadratic table is only
/// built for the part in between when it stays under `maxCells`; past that the lines are paired
/// by position, which is still correct output, only a less tidy one. So a diff never costs more
/// than a bounded amount of memory, whatever the artifacts hold.
public struct LineAlignment: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case same, changed, removed, added
    }

    /// One row of the side-by-side view; `left` is nil for an added line, `right` for a removed one.
    public struct Row: Sendable, Equatable {
        public let kind: Kind
        public let left: String?
        public let right: String?
    }

    /// A stretch of rows to show, or a count of unchanged rows left out.
    public enum Segment: Sendable, Equatable {
        case rows([Row])
        case skipped(Int)
    }

    public let rows: [Row]

    public var hasChanges: Bool { rows.contains { $0.kind != .same } }

    public init(_ left: [String], _ right: [String], maxCells: Int = 4_000_000) {
        var prefix = 0
        while prefix < left.count, prefix < right.count, left[prefix] == right[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < left.count - prefix, suffix < right.count - prefix,
              left[left.count - 1 - suffix] == right[right.count - 1 - suffix] { suffix += 1 }
        let a = Array(left[prefix..<(left.count - suffix)])
        let b = Array(right[prefix..<(right.count - suffix)])

        var rows: [Row] = left[..<prefix].map { Row(kind: .same, left: $0, right: $0) }
        rows += Self.middle(a, b, maxCells: maxCells)
        rows += left[(left.count - suffix)...].map { Row(kind: .same, left: $0, right: $0) }
        self.rows = rows
    }

    /// The pretty-printed lines of a JSON value (`null` for a missing one).
    public static func lines(of value: JSON?) -> [String] {
        guard let value else { return [] }
        guard let bytes = try? value.prettyBytes() else { return ["(a value JSON cannot spell: NaN or infinity)"] }
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Aligns the part between the common head and tail.
    private static func middle(_ a: [String], _ b: [String], maxCells: Int) -> [Row] {
        if a.isEmpty { return b.map { Row(kind: .added, left: nil, right: $0) } }
        if b.isEmpty { return a.map { Row(kind: .removed, left: $0, right: nil) } }
        let n = a.count, m = b.count
        let (cells, overflow) = n.multipliedReportingOverflow(by: m)
        guard !overflow, cells <= maxCells else {
            return pair(a, b)
        }
        // Lines compared as small integers: a string comparison per table cell is the slow part.
        var ids: [String: Int32] = [:]
        let x = a.map { s in ids[s] ?? { let id = Int32(ids.count); ids[s] = id; return id }() }
        let y = b.map { s in ids[s] ?? { let id = Int32(ids.count); ids[s] = id; return id }() }
        // lcs[i * (m + 1) + j] = length of the LCS of x[i...] and y[j...].
        let w = m + 1
        var lcs = [Int32](repeating: 0, count: (n + 1) * w)
        for i in Swift.stride(from: n - 1, through: 0, by: -1) {
            for j in Swift.stride(from: m - 1, through: 0, by: -1) {
                lcs[i * w + j] = x[i] == y[j]
                    ? lcs[(i + 1) * w + j + 1] + 1
                    : max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
            }
        }
        var rows: [Row] = []
        var removed: [String] = [], added: [String] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, x[i] == y[j] {
                rows += pair(removed, added)
                removed = []
                added = []
                rows.append(Row(kind: .same, left: a[i], right: b[j]))
                i += 1
                j += 1
            } else if j == m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                removed.append(a[i])
                i += 1
            } else {
                added.append(b[j])
                j += 1
            }
        }
        return rows + pair(removed, added)
    }

    /// A run of removed lines next to a run of added ones: changed rows first, then the rest.
    private static func pair(_ removed: [String], _ added: [String]) -> [Row] {
        let common = min(removed.count, added.count)
        var rows = (0..<common).map { Row(kind: .changed, left: removed[$0], right: added[$0]) }
        rows += removed[common...].map { Row(kind: .removed, left: $0, right: nil) }
        rows += added[common...].map { Row(kind: .added, left: nil, right: $0) }
        return rows
    }

    /// The rows to show: every change with `context` unchanged rows around it, and a count for
    /// each unchanged stretch of four rows or more. An unchanged text is shown whole when it has at most
    /// `wholeUpTo` lines, else its first `2 × context` lines.
    public func collapsed(context: Int = 3, wholeUpTo: Int = 12) -> [Segment] {
        guard hasChanges else {
            if rows.count <= wholeUpTo { return rows.isEmpty ? [] : [.rows(rows)] }
            let shown = max(1, 2 * context)
            return [.rows(Array(rows[..<shown])), .skipped(rows.count - shown)]
        }
        var keep = [Bool](repeating: false, count: rows.count)
        for (index, row) in rows.enumerated() where row.kind != .same {
            for k in max(0, index - context)...min(rows.count - 1, index + context) { keep[k] = true }
        }
        var segments: [Segment] = []
        var current: [Row] = []
        var index = 0
        while index < rows.count {
            if keep[index] {
                current.append(rows[index])
                index += 1
                continue
            }
            var end = index
            while end < rows.count, !keep[end] { end += 1 }
            if end - index < 4 {
                current += rows[index..<end]  // a marker would save next to nothing
            } else {
                if !current.isEmpty { segments.append(.rows(current)) }
                current = []
                segments.append(.skipped(end - index))
            }
            index = end
        }
        if !current.isEmpty { segments.append(.rows(current)) }
        return segments
    }
}
