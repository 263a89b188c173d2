import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

/// Progress of a batch (or `ci`, `baseline record`) on stderr, in one of three shapes.
///
/// On a terminal, one line redrawn in place: a bar, the count, the failures, the elapsed time and
/// an estimate of what is left. Elsewhere (a CI log, a pipe) a redrawn line would be a new line
/// per episode — 200 episodes, 200 lines nobody reads — so a line is written only when another
/// tenth of the batch is done or, for a slow batch, when `heartbeatSeconds` passed without one:
/// a 0..199 batch writes about ten. `--quiet`, and `--json` off a terminal, write nothing.
final class BatchProgress: @unchecked Sendable {
    enum Shape: Equatable {
        case bar
        case lines
        case silent
    }

    /// The longest a non-terminal log stays silent while episodes finish.
    static let heartbeatSeconds = 30.0
    /// The bar is redrawn at most this often (a fast batch finishes hundreds of episodes a second).
    static let redrawSeconds = 0.1

    let total: Int
    let shape: Shape
    private let started = MonotonicClock.nanoseconds()
    private var failed = 0
    private var lastTenth = 0
    private var lastWrite: UInt64 = 0
    private var drewBar = false

    init(total: Int, quiet: Bool, json: Bool) {
        self.total = total
        if quiet { shape = .silent }
        else if isatty(2) != 0 { shape = .bar }
        else { shape = json ? .silent : .lines }
    }

    private var elapsed: Double { Double(MonotonicClock.nanoseconds() - started) / 1e9 }

    /// Called serially by the batch, once per finished episode.
    func report(done: Int, _ o: BatchOutcome) {
        if !o.passed { failed += 1 }
        let now = MonotonicClock.nanoseconds()
        let sinceWrite = Double(now - lastWrite) / 1e9
        switch shape {
        case .silent:
            return
        case .bar:
            guard done == total || sinceWrite >= Self.redrawSeconds else { return }
            let width = 30
            let filled = total == 0 ? width : done * width / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            // \e[K clears what a longer previous line left behind.
            FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total)  failed \(failed)  \(timing(done: done))\u{1B}[K".utf8))
            drewBar = true
        case .lines:
            let tenth = total == 0 ? 10 : done * 10 / total
            guard done == total || tenth > lastTenth || sinceWrite >= Self.heartbeatSeconds else { return }
            lastTenth = tenth
            let percent = total == 0 ? 100 : done * 100 / total
            FileHandle.standardError.write(Data("[\(done)/\(total)] \(percent)%  failed \(failed)  \(timing(done: done))\n".utf8))
        }
        lastWrite = now
    }

    /// "12 s, about 40 s left" (or, at the end, the time it took).
    func timing(done: Int) -> String {
        let seconds = elapsed
        guard done < total else { return "done in \(Self.duration(seconds))" }
        guard done > 0 else { return Self.duration(seconds) }
        let left = seconds / Double(done) * Double(total - done)
        return "\(Self.duration(seconds)), about \(Self.duration(left)) left"
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return String(format: "%d h %02d min", s / 3600, s % 3600 / 60)
    }

    func finish() {
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// `--quiet`, shared by the commands that run many episodes.
struct ProgressOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Print only the summary: no progress bar or progress lines, no line per item.")
    var quiet = false
}
