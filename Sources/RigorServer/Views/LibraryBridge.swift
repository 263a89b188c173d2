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

    /// `rigor.runs_page/1`: `limit`, `cursor`, `offset` parsed by `RunPageRequest` (the same
    /// refusals as the CLI's), capped at the dashboard's page size.
    static func runsPage(_ store: RunStore, _ q: QueryString, maximumPageSize: Int) throws(DashboardError) -> JSON {
        let query = try query(q)
        var parameters: [String: String] = [:]
        for name in ["limit", "cursor", "offset"] { parameters[name] = q[name] }
        let request: RunPageRequest
        do { request = try RunPageRequest(parameters: parameters) } catch {
            throw .badParameter(name: error.parameter, problem: error.description)
        }
        guard request.limit <= maximumPageSize else {
            throw .badParameter(name: "limit", problem: "limit must be from 1 to \(maximumPageSize) in the web UI (got \(request.limit))")
        }
        do { return try request.view(store, query: query) } catch {
            throw .unavailable("the runs could not be listed: \(error.description)")
        }
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
