import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the stores of a sharded batch into one, as if one machine had run it.",
        discussion: """
            Each SHARD is the state directory (holding rigor.db) that a `rigor batch ... --shard \
            I/N` (or --shard-from) wrote to. Before anything is written, every shard is checked: \
            its ledger re-verifies, every run recomputes to its artifact_hash, its batch_shard \
            entry holds exactly its part of the matrix; all shards must have run the same batch \
            spec (tasks and agents by hash, budgets, seeds, world key), none may come twice and \
            none may be missing. A refusal names the shard and what differs.

            The merged store gets each shard's runs and its whole ledger history, closed by a \
            "merge" entry holding the shard's chain head: `rigor ledger verify` on it re-proves \
            every shard's chain. The summary printed (or --json, the shape of `rigor batch \
            --json`, for `rigor compare`) is what a one-machine batch of the matrix gives: same \
            artifact hashes, pass counts and statistics.

              rigor merge shards/1 shards/2 shards/3 shards/4 --into merged
              rigor merge shards/* --into merged --json > merged.json
              rigor compare one-machine.json merged.json

            Exit 0 when every merged episode passed, 1 when one failed, 2 when a shard is \
            refused (with --allow-partial, a missing shard is not), 4 when the target store \
            cannot be written.
            """)

    @Argument(help: ArgumentHelp("The shards' state directories (each holding rigor.db).", valueName: "shard"))
    var shards: [String] = []

    @Option(help: ArgumentHelp("The store to merge into (created if missing; must not hold these shards already).", valueName: "dir"))
    var into: String

    @Flag(name: .customLong("allow-partial"), help: "Merge even when shards are missing, and say which (and how many episodes).")
    var allowPartial = false

    @Flag(help: "Print the merged batch summary as JSON (rigor batch --json's shape, plus a \"merge\" object).")
    var json = false

    @Flag(help: "Print only the summary line and any missing shards.")
    var quiet = false

    func run() throws {
        let report: ShardMerge.Report
        do {
            report = try ShardMerge.merge(shards, into: into, allowPartial: allowPartial)
        } catch { throw Console.fail(error) }
        if json {
            Console.printJSON(report.json)
        } else {
            Console.line("merged \(report.merged.count) of \(report.count) shards of batch \(report.spec.hash) into \(report.into): "
                + "\(report.runsAdded) runs, \(report.entriesAdded) ledger entries")
            if !report.missing.isEmpty {
                Console.line(Console.yellow("missing: shard\(report.missing.count == 1 ? "" : "s") \(report.missing.map(\.description).joined(separator: ", ")) "
                    + "(\(report.missingCells) of \(report.spec.cells.count) episodes)"))
            }
            if !quiet {
                Console.line("")
                BatchReport.print(report.summary)
            }
        }
        if !report.missing.isEmpty && !quiet && !json {
            Console.note("partial merge: the summary covers \(report.summary.total) of \(report.spec.cells.count) episodes")
        }
        if report.summary.failed > 0 { throw CLIExit(code: .failed) }
    }
}
