import RigorJSON
import RigorRunner
import RigorSpec
import RigorStore

/// Query parameters into RigorRunner's typed queries: the filters go through
/// `RunQuery(parameters:)` (spec/views.md §1), so the server accepts and refuses a value exactly
/// as the CLI does; the paging parameters are the server's own.
enum LibraryBridge {
    static func query(_ q: QueryString) throws(DashboardError) -> RunQuery {
        var parameters: [String: String] = [:]
        for name in RunQuery.parameterNames { parameters[name] = q[name] }
        do { return try RunQuery(parameters: parameters) } catch {
            throw .badParameter(name: error.parameter, problem: error.description)
        }
    }

    /// `rigor.runs_page/1`: `limit` 1…`maximumPageSize`, and `cursor` or `offset` (not both).
    static func runsPage(_ store: RunStore, _ q: QueryString, maximumPageSize: Int) throws(DashboardError) -> JSON {
        let query = try query(q)
        let limit = try q.int("limit", default: 50, in: 1...maximumPageSize)
        let offset = try q.int("offset", default: 0, in: 0...100_000_000)
        let cursor = q["cursor"] == nil ? nil : try q.int("cursor", default: 0, in: 0...Int(Int64.max))
        if cursor != nil && offset > 0 { throw .badParameter(name: "cursor", problem: "cursor and offset do not go together") }
        do {
            let page = try store.runsPage(filter: query.filter, limit: limit, cursor: cursor, offset: offset)
            return RunPageView.json(page, query: query, limit: limit, offset: offset, cursor: cursor)
        } catch { throw DashboardViews.storeError(error) }
    }

    /// `rigor.run_metrics/1`.
    static func metrics(_ store: RunStore, _ q: QueryString) throws(DashboardError) -> JSON {
        let query = try query(q)
        do { return try RunMetrics.compute(store, query: query).json } catch {
            throw .unavailable("the metrics could not be computed: \(error.description)")
        }
    }

    /// `rigor.run_summary/1`.
    static func summary(_ store: RunStore, _ q: QueryString) throws(DashboardError) -> JSON {
        let query = try query(q)
        let metrics: RunMetrics
        do { metrics = try RunMetrics.compute(store, query: query) } catch {
            throw .unavailable("the summary could not be computed: \(error.description)")
        }
        do { return metrics.summaryJSON(statistics: try store.statistics()) } catch { throw DashboardViews.storeError(error) }
    }

    static func ledgerVerification(_ v: LedgerVerification) -> JSON { LedgerView.json(v) }
}
