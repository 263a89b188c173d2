import RigorSpec

/// `log_stream_monitor`: a paginated log stream read with `poll_stream(cursor)`. One entry on
/// one page is `CRITICAL` and carries `STREAM_CODE`; a drill entry on another page carries a
/// fake code at `INFO` level, and the noise holds non-critical `ERROR`s.
///
/// Pages are numbered from cursor 0. `poll_stream` answers `entries` (strings), `next_cursor`
/// and `exhausted` (true on the last page and past it); a negative cursor is `invalid_cursor`.
/// Draws, in order: page count (`int(4…7)`), the critical page (`below(pages)`), the drill page
/// (`below(pages)`), the code and the drill's code (`"SC-" + digits(5)`, distinct), then per
/// page the noise count (`int(2…5)`) and per noise entry a template (`below(templates)`) and a
/// number (`int(1…99)`), then on the critical and drill pages the insert positions.
/// Tests: paging to the end of a stream and telling severity from mere mentions.
public enum LogStream: WorldKind {
    public static let kind = "log_stream"
    public static let codeVersion = "2"
    public static let actions = ["poll_stream", "set_output"]

    static let noise = [
        "INFO health check passed", "WARN queue depth %d approaching threshold", "INFO telemetry upload complete",
        "ERROR transient timeout on replica %d (non-critical)", "WARN retry window extended to %ds",
        "INFO cache warmed", "ERROR connection reset by peer (transient)", "DEBUG heartbeat %d",
    ]

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let key = manifest.validator["output_key"]?.stringValue ?? "STREAM_CODE"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let pageCount = rng.int(in: 4...7)
        let critical = rng.below(pageCount)
        let drill = rng.below(pageCount)
        let codes = WorldText.distinct(2) { "SC-" + rng.digits(5) }
        var pages: [[String]] = []
        for _ in 0..<pageCount {
            var page: [String] = []
            for _ in 0..<rng.int(in: 2...5) {
                page.append(noise[rng.below(noise.count)].replacing("%d", with: String(rng.int(in: 1...99))))
            }
            pages.append(page)
        }
        pages[critical].insert("CRITICAL ingest_failure \(key)=\(codes[0])", at: rng.below(pages[critical].count + 1))
        pages[drill].insert("INFO drill replay \(key)=\(codes[1]) (synthetic, ignore)", at: rng.below(pages[drill].count + 1))
        return LogStreamWorld(pages: pages, checker: OutputChecker(key: key, expected: codes[0], validator: manifest.validator))
    }
}

/// The world of one `log_stream` episode: fixed pages, read in any order by cursor.
public final class LogStreamWorld: TaskWorld {
    let pages: [[String]]
    var checker: OutputChecker

    init(pages: [[String]], checker: OutputChecker) {
        self.pages = pages
        self.checker = checker
    }

    public func execute(_ action: CheckedAction) -> ActionOutcome {
        switch action.name {
        case "poll_stream":
            guard let cursor = action.args["cursor"]?.intValue, cursor >= 0 else {
                return ActionOutcome(result: ["ok": false, "error": "invalid_cursor", "message": "cursor must be an integer ≥ 0"])
            }
            let audit: [JSON] = [["type": "custom", "op": "poll_stream", "cursor": .int(cursor), "verdict": "allowed"]]
            guard cursor < pages.count else {
                return ActionOutcome(result: ["ok": true, "entries": [], "next_cursor": .int(cursor), "exhausted": true], ioAudit: audit)
            }
            return ActionOutcome(result: [
                "ok": true, "entries": .array(pages[cursor].map(JSON.string)),
                "next_cursor": .int(cursor + 1), "exhausted": .bool(cursor + 1 >= pages.count),
            ], ioAudit: audit)
        case "set_output":
            return checker.setOutput(action)
        default:
            return .failure("unsupported_action")
        }
    }

    public func evaluate() -> WorldVerdict { checker.evaluate() }

    public var visibleState: JSON { ["files_seen": []] }
}
