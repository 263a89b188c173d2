import RigorSpec

/// One page of a runs listing, newest first, with the number of runs the filter matches in all:
/// what `rigor runs list --json` prints and what the web UI pages through.
///
/// Pages are addressed by a *cursor*, the `ledger_seq` of the last run of the previous page
/// (`nextCursor`): a page then starts with a range seek on the primary key, so page 1,000 costs
/// what page 1 costs, and runs recorded meanwhile do not shift the pages already seen. An
/// `offset` is also accepted (a page number × size, for a UI that jumps), at the cost of
/// stepping over the skipped rows.
public struct RunPage: Sendable, Equatable {
    public var runs: [RunSummary]
    /// Runs matching the filter, on every page.
    public var total: Int
    /// Pass as `cursor` for the next page; nil on the last page.
    public var nextCursor: Int?
}

extension RunStore {
    /// The largest page a caller may ask for: a listing is for people, who page.
    public static let maximumPageSize = 1000

    /// Runs matching `filter`, newest first: at most `limit` (1...`maximumPageSize`) of them,
    /// after the run whose `ledger_seq` is `cursor` (when given), else after skipping `offset`.
    public func runsPage(filter: RunFilter = RunFilter(), limit: Int = 50, cursor: Int? = nil, offset: Int = 0) throws(StoreError) -> RunPage {
        let size = Swift.max(1, Swift.min(limit, Self.maximumPageSize))
        let (clause, arguments) = filter.sql()
        var pageClause = clause
        var pageArguments = arguments
        if let cursor {
            pageClause = Self.and(clause, "r.ledger_seq < ?")
            pageArguments.append(.integer(Int64(cursor)))
        }
        let skip = cursor == nil ? Swift.max(0, offset) : 0
        return try withConnection { (c) throws(StoreError) in
            try c.readTransaction { () throws(StoreError) in
                // One more than the page: whether a next page exists, without counting again.
                var runs = try c.query(
                    "SELECT \(RunSummary.selectColumns) FROM runs r\(pageClause) ORDER BY r.ledger_seq DESC LIMIT ? OFFSET ?",
                    pageArguments + [.integer(Int64(size + 1)), .integer(Int64(skip))],
                    RunSummary.init(row:))
                let more = runs.count > size
                if more { runs.removeLast() }
                let total = try c.first("SELECT COUNT(*) FROM runs r\(clause)", arguments) { $0.int(0) ?? 0 } ?? 0
                return RunPage(runs: runs, total: total, nextCursor: more ? runs.last?.ledgerSeq : nil)
            }
        }
    }
}
