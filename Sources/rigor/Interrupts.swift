import Dispatch
import Foundation
import RigorAgentHost
import RigorRunner

/// Ctrl-C, SIGTERM and SIGHUP kill every agent process tree before Rigor exits, and Rigor
/// reaps its agents' orphans: no agent process outlives the runner.
enum Interrupts {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install() {
        LiveAgents.becomeSubreaper()
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                // Episodes that finished are written down; the ones the kill below ends are not.
                BatchInterruption.keepFinishedEpisodes()
                LiveAgents.killAll()
                FileHandle.standardError.write(Data("rigor: interrupted (signal \(sig)); every agent process was killed\n".utf8))
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
