import RigorSpec
import RigorStore

/// Which stored runs a listing or the metrics cover, as a user spells it: the filters of
/// `rigor runs list/metrics/summary` and the query parameters of the web UI's `/api/runs` and
/// `/api/metrics` (spec/views.md). Both shells parse text into this one value, so a filter means
/// the same thing, and is refused with the same words, everywhere.
public struct RunQuery: Sendable, Equatable {
    /// A parameter that does not parse: which one, what it held, and what it must be.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// The parameter's name as the web UI spells it (`failure_type`); the CLI's flag is the
        /// same with dashes (`--failure-type`).
        public let parameter: String
        public let value: String
        public let expected: String

        public var description: String { "\(parameter) must be \(expected) (got '\(TerminalText.shown(String(value.prefix(80))))')" }
    }

    /// Exact task ref (`id@version`).
    public var task: String?
    /// Text the agent_ref contains.
    public var agent: String?
    public var outcome: RunFilter.Outcome?
    public var failureType: FailureType?
    public var seed: Int?
    /// Microseconds since 1970 (UTC), inclusive.
    public var since: Int64?
    /// Microseconds since 1970 (UTC), exclusive.
    public var until: Int64?

    public init(task: String? = nil, agent: String? = nil, outcome: RunFilter.Outcome? = nil, failureType: FailureType? = nil,
                seed: Int? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.task = task
        self.agent = agent
        self.outcome = outcome
        self.failureType = failureType
        self.seed = seed
        self.since = since
        self.until = until
    }

    /// The parameter names `init(parameters:)` knows.
    public static let parameterNames = ["task", "agent", "outcome", "failure_type", "seed", "since", "until"]

    /// Parses the parameters by name (absent or empty: no filter). Unknown names are the caller's
    /// business (a page's other parameters share the query string).
    public init(parameters: [String: String]) throws(Problem) {
        func value(_ name: String) -> String? {
            guard let v = parameters[name], !v.isEmpty else { return nil }
            return v
        }
        if let task = value("task") {
            guard task.utf8.count <= 200, !task.contains(where: { $0.isNewline }) else {
                throw Problem(parameter: "task", value: task, expected: "a task ref such as filesystem_hidden_config@1")
            }
            self.task = task
        }
        if let agent = value("agent") {
            guard agent.utf8.count <= 1000 else { throw Problem(parameter: "agent", value: agent, expected: "at most 1000 bytes") }
            self.agent = agent
        }
        if let outcome = value("outcome") {
            guard let parsed = RunFilter.Outcome(rawValue: outcome) else {
                throw Problem(parameter: "outcome", value: outcome, expected: "success or failure")
            }
            self.outcome = parsed
        }
        if let type = value("failure_type") {
            guard let parsed = FailureType(rawValue: type) else {
                throw Problem(parameter: "failure_type", value: type, expected: "one of \(FailureType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            failureType = parsed
        }
        if let seed = value("seed") {
            guard let parsed = Int(seed) else { throw Problem(parameter: "seed", value: seed, expected: "an integer") }
            self.seed = parsed
        }
        if let since = value("since") { self.since = try Self.instant(since, parameter: "since") }
        if let until = value("until") { self.until = try Self.instant(until, parameter: "until") }
    }

    /// The store's filter.
    public var filter: RunFilter {
        RunFilter(agent: agent.map { .contains($0) }, taskRef: task, outcome: outcome, failureType: failureType?.rawValue,
                  seed: seed, since: since, until: until)
    }

    /// The filters that are set, by parameter name (times as RFC 3339): what a view echoes back.
    public var json: JSON {
        var out: [String: JSON] = [:]
        if let task { out["task"] = .string(task) }
        if let agent { out["agent"] = .string(agent) }
        if let outcome { out["outcome"] = .string(outcome.rawValue) }
        if let failureType { out["failure_type"] = .string(failureType.rawValue) }
        if let seed { out["seed"] = .int(seed) }
        if let since { out["since"] = .string(Self.rfc3339(since)) }
        if let until { out["until"] = .string(Self.rfc3339(until)) }
        return .object(out)
    }

    static func rfc3339(_ micros: Int64) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        return Timestamp(seconds: Int(seconds), nanoseconds: Int(micros - seconds * 1_000_000) * 1000).rfc3339
    }

    static let instantForms = "a UTC date YYYY-MM-DD or time YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+00:00)"

    /// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SS[.f…]` followed by `Z` or `+00:00`,
    /// years 1970-9999, in microseconds since 1970.
    public static func instant(_ text: String, parameter: String = "time") throws(Problem) -> Int64 {
        let problem = Problem(parameter: parameter, value: text, expected: instantForms)
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var v = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D, let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
              (1970...9999).contains(y), (1...12).contains(m), (1...31).contains(d) else { throw problem }
        let days = Timestamp.days(year: y, month: m, day: d)
        // A day that does not exist (February 30) would roll over: refuse it.
        guard String(Timestamp(seconds: days * 86_400, nanoseconds: 0).rfc3339.prefix(10)) == String(decoding: b[0..<10], as: UTF8.self) else { throw problem }
        var micros = Int64(days) * 86_400_000_000
        if b.count == 10 { return micros }
        guard b.count >= 20, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A,
              let h = number(11..<13), let mi = number(14..<16), let s = number(17..<19), h < 24, mi < 60, s < 60 else { throw problem }
        micros += Int64(h * 3600 + mi * 60 + s) * 1_000_000
        var i = 19
        if i < b.count, b[i] == 0x2E {
            i += 1
            var fraction = 0, digits = 0
            while i < b.count, (0x30...0x39).contains(b[i]) {
                if digits < 6 { fraction = fraction * 10 + Int(b[i] - 0x30); digits += 1 }
                i += 1
            }
            guard digits > 0 else { throw problem }
            while digits < 6 { fraction *= 10; digits += 1 }
            micros += Int64(fraction)
        }
        let zone = String(decoding: b[i...], as: UTF8.self)
        guard zone == "Z" || zone == "+00:00" else { throw problem }
        return micros
    }
}

/// Which page of the runs list: the `limit`, `cursor` and `offset` parameters of `/api/runs`
/// (spec/views.md §2), parsed with the same refusals as `RunQuery`.
public struct RunPageRequest: Sendable, Equatable {
    public static let defaultLimit = 50

    public var limit = RunPageRequest.defaultLimit
    /// The `ledger_seq` of the last run of the previous page (`next_cursor`).
    public var cursor: Int?
    public var offset = 0

    public init(limit: Int = RunPageRequest.defaultLimit, cursor: Int? = nil, offset: Int = 0) {
        self.limit = limit
        self.cursor = cursor
        self.offset = offset
    }

    /// Parses `limit` (1–`RunStore.maximumPageSize`), `cursor` (0 or more) and `offset` (0 to
    /// 10,000,000); `cursor` and `offset` do not go together. Absent or empty: the defaults.
    public init(parameters: [String: String]) throws(RunQuery.Problem) {
        func number(_ name: String, _ range: ClosedRange<Int>, _ expected: String) throws(RunQuery.Problem) -> Int? {
            guard let text = parameters[name], !text.isEmpty else { return nil }
            guard let n = Int(text), range.contains(n) else { throw RunQuery.Problem(parameter: name, value: text, expected: expected) }
            return n
        }
        limit = try number("limit", 1...RunStore.maximumPageSize, "an integer from 1 to \(RunStore.maximumPageSize)") ?? Self.defaultLimit
        cursor = try number("cursor", 0...Int.max, "a next_cursor: an integer, 0 or more")
        offset = try number("offset", 0...10_000_000, "an integer from 0 to 10000000") ?? 0
        if cursor != nil && offset > 0 {
            throw RunQuery.Problem(parameter: "offset", value: String(offset), expected: "absent when a cursor is given")
        }
    }

    /// The page of `query`'s runs in `store`, as the view `/api/runs` serves.
    public func view(_ store: RunStore, query: RunQuery) throws(RunnerError) -> JSON {
        do {
            let page = try store.runsPage(filter: query.filter, limit: limit, cursor: cursor, offset: offset)
            return RunPageView.json(page, query: query, limit: limit, offset: offset, cursor: cursor)
        } catch { throw .store(error) }
    }
}
