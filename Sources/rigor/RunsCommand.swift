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
        subcommands: [List.self, Show.self, Export.self, Import.self, Verify.self, GC.self],
        defaultSubcommand: List.self)

    /// The store, for a command that only reads it (works on a read-only store).
    static func openStore(_ options: WorkspaceOptions) throws -> RunStore {
        let workspace = try options.workspace
        do { return try workspace.readingStore() } catch { throw Console.fail(error) }
    }

    /// The store, for a command that changes it.
    static func openStoreForWriting(_ options: WorkspaceOptions) throws -> RunStore {
        let workspace = try options.workspace
        do { return try workspace.store(create: false) } catch { throw Console.fail(error) }
    }

    static func fail(_ error: StoreError) -> CLIExit { Console.fail(.store(error)) }

    struct List: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")

        @Option(help: ArgumentHelp("Only runs whose agent_ref contains this text.", valueName: "text")) var agent: String?
        @Option(help: ArgumentHelp("Only runs of this task ref (id@version).", valueName: "ref")) var task: String?
        @Option(help: ArgumentHelp("success or failure.", valueName: "outcome")) var outcome: String?
        @Option(name: .customLong("failure-type"), help: ArgumentHelp("Only runs that failed with this failure_type.", valueName: "type")) var failureType: String?
        @Option(help: ArgumentHelp("How many runs to show (0: all).", valueName: "n")) var limit = 20
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws {
            if let problem = InputRanges.listLimit.problem(limit) { throw ValidationError("--limit \(problem) (0: all)") }
            if let outcome, RunFilter.Outcome(rawValue: outcome) == nil {
                throw ValidationError("--outcome must be success or failure (got '\(outcome)')")
            }
            if let failureType, FailureType(rawValue: failureType) == nil {
                throw ValidationError("--failure-type must be one of: \(FailureType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let filter = RunFilter(agent: agent.map { .contains($0) }, taskRef: task,
                                   outcome: outcome.flatMap(RunFilter.Outcome.init(rawValue:)), failureType: failureType)
            let runs: [RunSummary]
            do { runs = try store.runs(filter: filter, limit: limit) } catch { throw RunsCommand.fail(error) }
            if json { Console.printJSON(.array(runs.map(RunsCommand.json))); return }
            if runs.isEmpty { print("no runs match"); return }
            print("run id                            outcome                            steps  task                        agent")
            for r in runs {
                let outcome = r.success == true ? Console.green("success") : Console.red(r.failureType ?? "failure")
                let pad = String(repeating: " ", count: max(1, 34 - (r.success == true ? 7 : (r.failureType ?? "failure").count)))
                print("\(r.runID)  \(outcome)\(pad)\(String(r.stepsUsed ?? 0).padding(toLength: 6, withPad: " ", startingAt: 0)) \((r.taskRef ?? "?").padding(toLength: 27, withPad: " ", startingAt: 0)) \(r.agentRef ?? "?")")
            }
        }
    }

    static func json(_ r: RunSummary) -> JSON {
        [
            "run_id": .string(r.runID), "agent_ref": r.agentRef.map(JSON.string) ?? .null,
            "task_ref": r.taskRef.map(JSON.string) ?? .null, "seed": r.seed.map(JSON.int) ?? .null,
            "success": r.success.map(JSON.bool) ?? .null, "failure_type": r.failureType.map(JSON.string) ?? .null,
            "termination_reason": r.terminationReason.map(JSON.string) ?? .null,
            "steps_used": r.stepsUsed.map(JSON.int) ?? .null, "tool_calls_used": r.toolCallsUsed.map(JSON.int) ?? .null,
            "artifact_hash": r.artifactHash.map(JSON.string) ?? .null, "runtime": r.runtimeName.map(JSON.string) ?? .null,
            "started_at": r.startedAt.map(JSON.string) ?? .null, "recorded_at": .string(r.recordedAt),
        ]
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one run's summary (and with --trace, its steps).")
        @Argument(help: ArgumentHelp("Run id, prefix or latest.", valueName: "run")) var runRef: String
        @Flag(help: "Also print every step: action, result, budget left.") var trace = false
        @Flag(help: "Print the whole artifact as JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let artifact: JSON
            let summary: RunSummary
            do {
                let id = try store.resolve(runRef)
                summary = try store.summary(id)
                artifact = try store.artifact(id)
            } catch { throw RunsCommand.fail(error) }
            if json { Console.printJSON(artifact); return }
            let ok = summary.success == true
            print("\(ok ? Console.green("PASS") : Console.red("FAIL"))  run \(summary.runID)")
            print("  pairing     \(summary.agentRef ?? "?") × \(summary.taskRef ?? "?")  seed \(summary.seed.map(String.init) ?? "?")")
            print("  outcome     \(summary.terminationReason ?? "?")\(summary.failureType.map { " (\($0))" } ?? "")")
            if let reason = artifact["failure_reason"]?.stringValue { print("  reason      \(reason)") }
            if let note = artifact["diagnostics"]?["agent"]?["network_note"]?.stringValue { print("  " + Console.yellow("note") + "        \(note)") }
            print("  steps       \(summary.stepsUsed ?? 0) / \(summary.budgetSteps ?? 0)    tool calls \(summary.toolCallsUsed ?? 0) / \(summary.budgetToolCalls ?? 0)")
            print("  artifact    \(summary.artifactHash ?? "?")")
            print("  runtime     \(summary.runtimeName ?? "?")   started \(summary.startedAt ?? "?")")
            if trace {
                for step in artifact["action_trace"]?.arrayValue ?? [] {
                    let action = step["action"].flatMap { try? $0.canonicalString() } ?? "?"
                    let result = step["result"].flatMap { try? $0.canonicalString() } ?? "?"
                    let left = step["budget_after_step"].map { "\($0["steps"]?.intValue ?? 0)/\($0["tool_calls"]?.intValue ?? 0)" } ?? "?"
                    print("  \(String(step["step"]?.intValue ?? 0).padding(toLength: 4, withPad: " ", startingAt: 0)) \(truncate(action, 70))")
                    print("       → \(truncate(result, 90))  \(Console.dim("left \(left)"))")
                }
            }
        }

        func truncate(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write a run's artifact (canonical JSON, byte-identical on every export).")
        @Argument(help: ArgumentHelp("Run id, prefix or latest.", valueName: "run")) var runRef: String
        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("File to write (default: stdout).", valueName: "file")) var output: String?
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let bytes: [UInt8]
            do { bytes = try store.exportBytes(try store.resolve(runRef)) } catch { throw RunsCommand.fail(error) }
            if let output {
                do { try ArtifactFile.writeAtomically(bytes, to: output) } catch { throw Console.fail(error) }
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
            let store: RunStore
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
                Console.printJSON(["intact": .bool(v.isIntact), "entries": .int(v.entries), "head_hash": v.headHash.map(JSON.string) ?? .null,
                                   "first_break": v.firstBreak.map { ["seq": .int($0.seq), "description": .string($0.description)] } ?? .null])
            } else {
                print(v.isIntact ? "\(Console.green("intact")): \(v)" : "\(Console.red("broken")): \(v)")
            }
            if !v.isIntact { throw CLIExit(code: .failed) }
        }
    }

    struct List: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List ledger entries.")
        @Option(help: ArgumentHelp("Show the last n entries (0: all).", valueName: "n")) var limit = 20
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
        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("File to write (default: stdout).", valueName: "file")) var output: String?
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let store = try RunsCommand.openStore(workspaceOptions)
            let text: String
            do { text = try store.exportLedger() } catch { throw RunsCommand.fail(error) }
            if let output {
                do { try ArtifactFile.writeAtomically(Array(text.utf8), to: output) } catch { throw Console.fail(error) }
            } else {
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            }
        }
    }
}
