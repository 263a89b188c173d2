import Dispatch
import Foundation
import RigorAgentHost
import RigorRunner

/// Ctrl-C, SIGTERM and SIGHUP kill every agent process tree before Rigor exits, and Rigor
/// reaps its agents' orphans: no agent process outlives the runner.
///
/// A signal is process-wide, so the batches it stops are the ones this command said it runs
/// (`watch`): each is cancelled through its own handle, and what it finished is written down
/// before the agents are killed. The library keeps no list of running batches.
enum Interrupts {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var batches: [BatchHandle] = []
    private static let lock = NSLock()

    static func install() {
        LiveAgents.becomeSubreaper()
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                lock.lock(); received = sig; lock.unlock()
                // Episodes that finished are written down; the ones the kill below ends are not.
                let running = watched
                for handle in running { handle.cancel(.abandonRunning) }
                for handle in running { handle.waitUntilRecorded(timeoutSeconds: 5) }
                LiveAgents.killAll()
                FileHandle.standardError.write(Data("rigor: interrupted (signal \(sig)); every agent process was killed\n".utf8))
                Foundation.exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal being handled, once one arrived.
    nonisolated(unsafe) private static var received: Int32?

    /// Exits with `code`, unless an interrupt is being handled: then this thread waits for the
    /// handler, which exits with 128 + the signal. A batch the interrupt cancelled returns to
    /// its command, which would otherwise exit first with the batch's own status (1 or 0) while
    /// the handler still records what finished and kills the agents.
    static func exit(_ code: Int32) -> Never {
        lock.lock(); let interrupted = received != nil; lock.unlock()
        if interrupted {
            while true { pause() }
        }
        Foundation.exit(code)
    }

    /// A new handle for a batch this command runs, which an interrupt cancels.
    static func batchHandle() -> BatchHandle {
        let handle = BatchHandle()
        lock.lock(); batches.append(handle); lock.unlock()
        return handle
    }

    private static var watched: [BatchHandle] {
        lock.lock(); defer { lock.unlock() }
        return batches
    }
}
