import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec
import RigorStore

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Find, show, export, import and check the runs in the store (.rigor/rigor.db).",
        discussion: "A run is named by its id, a unique prefix of at least 4 characters, or `latest`.",
        subcommands: [List.self, Show.self, Tape.self, Metrics.self, Summary.self, Export.self, Import.self, Verify.self, GC.self],
        defaultSubcommand: List.self)

    /// The store, for a command that only reads it (works on a read-only store).
    static func openStore(_ options: WorkspaceOptions) throws -> any RunStorage {
        let workspace = try options.workspace
        do { return try workspace.readingStore() } catch { throw Console.fail(error) }
    }

    /// The embedded store, for what only it offers so far (paged listings, metrics over the
    /// index); a shared PostgreSQL store is refused with what to use instead.
    static func openEmbeddedStore(_ options: WorkspaceOptions, feature: String) throws -> RunStore {
        let store = try openStore(options)
        guard let embedded = store as? RunStore else {
            throw Console.fail(RunnerError.usage("\(feature) is not available on a shared PostgreSQL store yet (\(store.location)); use `rigor runs list` without paging there, or run it on an embedded store (--store DIR or no --store)"))
        }
        return embedded
    }

    /// The store, for a command that changes it.
    static func openStoreForWriting(_ options: WorkspaceOptions) throws -> any RunStorage {
        let workspace = try options.workspace
        do { return try workspace.store(create: false) } catch { throw Console.fail(error) }
    }

    static func fail(_ error: StoreError) -> CLIExit { Console.fail(.store(error)) }

    struct List: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")

        @OptionGroup var filters: RunQueryOptions
        @Option(help: ArgumentHelp("How many runs to show (0, or more than there are: all; with --page at most 1000).", valueName: "n")) var limit = 20
        @Option(help: ArgumentHelp("Skip this many runs first (newest first; 0 or more, past the last run: an empty page).", valueName: "n")) var offset = 0
        @Option(help: ArgumentHelp("Start after the run with this ledger_seq (a page's next_cursor; 0 or more, past the newest run: an empty page).", valueName: "seq")) var cursor: Int?
        @Flag(help: "With --json: print one page as an object with the total count and next_cursor (the view /api/runs serves).") var page = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws {
            if let problem = InputRanges.listLimit.problem(limit) { throw ValidationError("--limit \(problem) (0: all)") }
            if let problem = InputRanges.listOffset.problem(offset) { throw ValidationError("--offset \(problem)") }
            if let cursor, let problem = InputRanges.listOffset.problem(cursor) { throw ValidationError("--cursor \(problem)") }
            if cursor != nil && offset > 0 { throw ValidationError("--cursor and --offset do not go together: a cursor already says where the page starts") }
            _ = try filters.query()
        }

        func run() throws {
            let query = try filters.query()
            let store = try RunsCommand.openStore(workspaceOptions)
            let paged = page || offset > 0 || cursor != nil
            let runs: [RunSummary]
            if paged {
                let size = limit < 1 ? RunStore.maximumPageSize : min(limit, RunStore.maximumPageSize)
                let result: RunPage
                let store = try RunsCommand.openEmbeddedStore(workspaceOptions, feature: "a paged listing (--page, --offset, --cursor)")
                do { result = try store.runsPage(filter: query.filter, limit: size, cursor: cursor, offset: offset) } catch { throw RunsCommand.fail(error) }
                if json && page { Console.printJSON(RunPageView.json(result, query: query, limit: size, offset: offset, cursor: cursor)); return }
                runs = result.runs
            } else {
                do { runs = try store.runs(filter: query.filter, limit: limit) } catch { throw RunsCommand.fail(error) }
            }
            if json { Console.printJSON(.array(runs.map(\.json))); return }
            if runs.isEmpty { print("no runs match"); return }
            printTable(runs)
        }
    }

    /// The listing, each column as wide as its widest value: task refs and agents are never cut.
    static func printTable(_ runs: [RunSummary]) {
        let rows: [(id: String, outcome: String, ok: Bool, seed: String, steps: String, task: String, agent: String)] = runs.map { r in
            (r.runID, r.success == true ? "success" : (r.failureType ?? "failure"), r.success == true,
             r.seed.map(String.init) ?? "?", String(r.stepsUsed ?? 0), r.taskRef ?? "?", r.agentRef ?? "?")
        }
        func width(_ title: String, _ values: [String]) -> Int { max(title.count, values.map(\.count).max() ?? 0) }
        let w = (id: width("run id", rows.map(\.id)), outcome: width("outcome", rows.map(\.outcome)), seed: width("seed", rows.map(\.seed)),
                 steps: width("steps", rows.map(\.steps)), task: width("task", rows.map(\.task)))
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        func left(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        print("\(pad("run id", w.id))  \(pad("outcome", w.outcome))  \(left("seed", w.seed))  \(left("steps", w.steps))  \(pad("task", w.task))  agent")
        for r in rows {
            // Padded before it is painted: the colour marks have no width on a terminal.
            let outcome = pad(r.outcome, w.outcome)
            print("\(pad(r.id, w.id))  \(r.ok ? Console.green(outcome) : Console.red(outcome))  \(left(r.seed, w.seed))  \(left(r.steps, w.steps))  \(pad(r.task, w.task))  \(r.agent)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write a run's artifact (canonical JSON, byte-identical on every export).")
        @Argument(help: ArgumentHelp("Run id, prefix or latest.", valueName: "run")) var runRef: String
        @Option(name: [.short, .customLong("out")], help: ArgumentHelp("File to write (default: stdout).", valueName: "file")) var out: String?
        @Option(name: .customLong("output"), help: .hidden) var output: String?
        /// `--out`, or its old name `--output`.
        var outFile: String? { out ?? output }
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let bytes: [UInt8]
            do { bytes = try store.exportBytes(try store.resolve(runRef)) } catch { throw RunsCommand.fail(error) }
            if let output = outFile {
                do { try ArtifactFile.writeAtomically(bytes, to: output) } catch { throw Console.fail(error) }
            } else if isatty(1) != 0 {
                // An agent's bytes never reach a terminal raw (issue 21.6): the same JSON, its
                // control characters escaped; the canonical bytes go to a file or a pipe.
                let shown = JSON.escapingTerminalControls(bytes)
                FileHandle.standardOutput.write(Data(shown + (shown.last == 0x0A ? [] : [0x0A])))  // the prompt on a line of its own
                if shown != bytes {
                    Console.note("control characters in this artifact are shown escaped; redirect stdout or pass --out FILE for its canonical bytes")
                }
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Add artifacts from elsewhere (Rigor's or TraceCore's) to the store.")
        @Argument(help: ArgumentHelp("Artifact JSON files.", valueName: "file")) var files: [String]
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store: any RunStorage
            let workspace = try workspaceOptions.workspace
            do { store = try workspace.store(create: true) } catch { throw Console.fail(error) }
            var rows: [JSON] = []
            var worst = ExitStatusCode.success
            for file in files {
                do {
                    let artifact = try ArtifactFile.read(file, expected: "an artifact (.json)")
                    // The store verifies the artifact_hash and refuses an edited artifact.
                    let stored = try store.importArtifact(artifact)
                    rows.append(["file": .string(file), "run_id": .string(stored.summary.runID), "new": .bool(stored.inserted)])
                    if !json {
                        print("\(stored.inserted ? "imported" : "already there") \(stored.summary.runID)  \(file)")
                    }
                } catch let e as RunnerError {
                    Console.error(e.description); worst = worst == .io ? .io : ExitStatusCode.forError(e)
                } catch let e as StoreError {
                    Console.error("\(file): \(e.description)"); worst = worst == .io ? .io : ExitStatusCode.forError(e)
                }
            }
            if json { Console.printJSON(.array(rows)) }
            if worst != .success { throw CLIExit(code: worst) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check every stored blob and run: decompress, recompute SHA-256 and artifact_hash; and the ledger.")
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            do {
                let problems = try store.verifyBlobs()
                let ledger = try store.verifyLedger()
                let stats = try store.statistics()
                for p in problems { print("\(Console.red("damaged")) \(p)") }
                if !ledger.isIntact { print("\(Console.red("ledger")) \(ledger)") }
                if problems.isEmpty && ledger.isIntact {
                    print("\(Console.green("OK")) \(stats.runs) runs, \(stats.blobs) blobs, \(stats.ledgerEntries) ledger entries verified")
                } else {
                    throw CLIExit(code: .failed)
                }
            } catch let e as StoreError { throw RunsCommand.fail(e) }
        }
    }

    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Delete blobs no run refers to and compact the database.")
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStoreForWriting(workspaceOptions)
            do {
                let r = try store.gc()
                print("removed \(r.blobsRemoved) blobs (\(r.blobBytesRemoved) bytes); database \(r.databaseBytesBefore) → \(r.databaseBytesAfter) bytes")
            } catch { throw RunsCommand.fail(error) }
        }
    }
}

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "The append-only, hash-chained ledger of recorded runs, baselines and bundle seals.",
        subcommands: [Verify.self, List.self, Export.self],
        defaultSubcommand: List.self)

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the whole chain; name the first bad entry and the kind of break.",
            discussion: "Exit 0 when intact, 1 when broken, 2 when there is no store, 4 when it cannot be read. Works on a read-only store.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let v: LedgerVerification
            do { v = try store.verifyLedger() } catch { throw RunsCommand.fail(error) }
            if json {
                Console.printJSON(LedgerView.json(v))
            } else {
                print(v.isIntact ? "\(Console.green("intact")): \(v)" : "\(Console.red("broken")): \(v)")
            }
            if !v.isIntact { throw CLIExit(code: .failed) }
        }
    }

    struct List: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List ledger entries.")
        @Option(help: ArgumentHelp("Show the last n entries (0, or more than there are: all).", valueName: "n")) var limit = 20
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws {
            if let problem = InputRanges.listLimit.problem(limit) { throw ValidationError("--limit \(problem) (0: all)") }
        }

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            var entries: [LedgerEntry]
            do { entries = try store.ledgerEntries() } catch { throw RunsCommand.fail(error) }
            if limit > 0 { entries = Array(entries.suffix(limit)) }
            if json { Console.printJSON(.array(entries.map(\.json))); return }
            for e in entries {
                let payload = (try? e.payload.canonicalString()) ?? ""
                print("\(String(e.seq).padding(toLength: 6, withPad: " ", startingAt: 0)) \(e.kind.padding(toLength: 12, withPad: " ", startingAt: 0)) \(e.entryHash.prefix(16))…  \(payload.count > 90 ? String(payload.prefix(89)) + "…" : payload)")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the ledger as JSON Lines that anyone can re-verify (recipe in spec/store.md).")
        @Option(name: [.short, .customLong("out")], help: ArgumentHelp("File to write (default: stdout).", valueName: "file")) var out: String?
        @Option(name: .customLong("output"), help: .hidden) var output: String?
        /// `--out`, or its old name `--output`.
        var outFile: String? { out ?? output }
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let text: String
            do { text = try store.exportLedger() } catch { throw RunsCommand.fail(error) }
            if let output = outFile {
                do { try ArtifactFile.writeAtomically(Array(text.utf8), to: output) } catch { throw Console.fail(error) }
            } else {
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            }
        }
    }
}
