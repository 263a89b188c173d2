import Foundation

/// The caller's hold on a running batch: it hears each episode as it is recorded (`Event`) and
/// can cancel the batch, this batch only, from any thread (a web request, a signal handler).
///
/// A handle is a cancellation scope: it may be passed to several batches that run one after the
/// other (`rigor ci` runs one per world key, `tasks validate` several per task); once cancelled,
/// the batch running under it stops and any later one under it returns at once with nothing.
///
/// Cancelling never leaves a half-recorded episode: episodes that finished before are written
/// to the store (and handed to the caller); with `.finishRunning` the episodes already running
/// end normally (under their budgets) and are recorded too; with `.abandonRunning` (the caller
/// is about to kill the agents, as an interrupted CLI does) episodes that end from then on are
/// dropped, since they ended because their agents were killed.
public final class BatchHandle: @unchecked Sendable {
    public enum Event: Sendable {
        /// Every pairing resolved; `total` episodes are about to run.
        case started(total: Int)
        /// One episode was recorded; `done` of `total` so far (in recording order).
        case recorded(done: Int, total: Int, outcome: BatchOutcome)
        /// The batch is over: every episode ran, or it was cancelled after `done` of them.
        case finished(done: Int, total: Int, cancelled: Bool)
    }

    public enum Cancellation: Sendable, Equatable {
        /// No episode starts any more; running ones end normally and are recorded.
        case finishRunning
        /// No episode starts, and those that end from now on are not recorded (their agents are
        /// about to be killed); what finished before is still written down.
        case abandonRunning
    }

    private let condition = NSCondition()
    private let onEvent: @Sendable (Event) -> Void
    private var cancellation: Cancellation?
    private var running: (queue: WorkQueue, recorder: Recorder)?
    private var done = 0
    private var total = 0

    /// `onEvent` is called serially, on the batch's recording thread (keep it short).
    public init(onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.onEvent = onEvent
    }

    /// Whether `cancel` was called.
    public var isCancelled: Bool {
        condition.lock(); defer { condition.unlock() }
        return cancellation != nil
    }

    /// Episodes recorded and episodes planned in the batch running now (or last).
    public var progress: (done: Int, total: Int) {
        condition.lock(); defer { condition.unlock() }
        return (done, total)
    }

    /// Stops the batch (see the type's comment); a second call can only make it stricter.
    public func cancel(_ how: Cancellation = .finishRunning) {
        condition.lock()
        if cancellation != .abandonRunning { cancellation = how }
        let current = running
        condition.unlock()
        guard let current else { return }
        current.queue.cancel()
        if how == .abandonRunning { current.recorder.stopIntake() }
    }

    /// After `cancel(.abandonRunning)`: waits (up to `timeoutSeconds`) until the episodes that
    /// finished before are written down. Returns at once when no batch runs.
    public func waitUntilRecorded(timeoutSeconds: Double) {
        condition.lock()
        let current = running
        condition.unlock()
        current?.recorder.waitFinished(until: Date(timeIntervalSinceNow: timeoutSeconds))
    }

    // MARK: What Batch.run calls

    /// Attaches a starting batch; false when the handle is already cancelled (run nothing).
    func attach(queue: WorkQueue, recorder: Recorder, total: Int) -> Bool {
        condition.lock()
        if cancellation != nil {
            condition.unlock()
            return false
        }
        running = (queue, recorder)
        done = 0
        self.total = total
        condition.unlock()
        onEvent(.started(total: total))
        return true
    }

    func recorded(_ outcome: BatchOutcome) {
        condition.lock()
        done += 1
        let (d, t) = (done, total)
        condition.unlock()
        onEvent(.recorded(done: d, total: t, outcome: outcome))
    }

    func detach() {
        condition.lock()
        running = nil
        let (d, t, c) = (done, total, cancellation != nil)
        condition.unlock()
        onEvent(.finished(done: d, total: t, cancelled: c))
    }
}
