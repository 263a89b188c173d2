import ArgumentParser
import Dispatch
import Foundation
import RigorRunner
import RigorServer
import RigorStore

/// `rigor serve`: the web UI on the store (RigorServer's `DashboardServer`).
struct ServeCommand: ParsableCommand, InputChecked {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a web UI on the store: runs, a run's step timeline, diffs, metrics, baselines and CI, ledger, bundles.",
        discussion: """
            Opens nothing to the network by default: it binds 127.0.0.1. Every page has a JSON \
            twin under /api/ (the same views the CLI's --json prints; routes in spec/views.md):

              /runs?task=&agent=&outcome=&failure_type=&seed=&since=&until=&offset=&limit=
              /runs/RUN        (id, prefix or latest; ?from=N pages the step timeline)
              /diff?a=RUN&b=RUN
              /metrics   /baselines   /ledger   /bundles

            Read-only unless --allow-run: then the runs page has a form that starts an episode \
            (an agent of the project, or a relative path inside it), protected by a CSRF token. \
            Everything an agent wrote is shown escaped; pages run no inline script (a strict \
            Content-Security-Policy forbids it). Stop it with Ctrl-C.
            """)

    @Option(help: ArgumentHelp("Port to listen on (0: any free port).", valueName: "n")) var port = 7700
    @Option(help: ArgumentHelp("Address to bind (default 127.0.0.1; 0.0.0.0 exposes the store to the network).", valueName: "address"))
    var host = "127.0.0.1"
    @Flag(name: .customLong("allow-run"), help: "Let the UI start runs (a form on the runs page, CSRF-protected).") var allowRun = false
    @OptionGroup var workspaceOptions: WorkspaceOptions

    func checkInput() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535 (got \(port))") }
        guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ValidationError("--host must be an address or host name such as 127.0.0.1")
        }
    }

    func run() throws {
        let workspace = try workspaceOptions.workspace
        let opened: any RunStorage
        do {
            // Read-only unless runs may be started: a store on a read-only disk can be served.
            opened = allowRun ? try workspace.store(create: true) : try workspace.readingStore()
        } catch RunnerError.store(.storeMissing) {
            do { opened = try workspace.store(create: true) } catch { throw Console.fail(error) }
        } catch { throw Console.fail(error) }
        guard let store = opened as? RunStore else {
            throw Console.fail(RunnerError.usage("rigor serve is not available on a shared PostgreSQL store yet (\(opened.location)): its pages use the embedded store's paged queries and metrics; serve an embedded store (--store DIR or no --store)"))
        }
        let dashboard = Dashboard(views: DashboardViews(workspace: workspace, store: store), allowRun: allowRun)
        let server = DashboardServer(dashboard: dashboard, host: host, port: port)
        let host = self.host, allowRun = self.allowRun
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do {
                try await server.run { bound in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    print("rigor serve: http://\(shown):\(bound)/  (\(allowRun ? "runs may be started from the UI" : "read-only"); Ctrl-C stops)")
                    fflush(nil)
                }
            } catch { failure.set("cannot serve on \(host):\(port): \(error)") }
            done.signal()
        }
        done.wait()
        if let message = failure.get() { Console.error(message); throw CLIExit(code: .io) }
    }
}

/// The server task's error, read after it ended.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var message: String?
    func set(_ m: String) { lock.lock(); message = m; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return message }
}
