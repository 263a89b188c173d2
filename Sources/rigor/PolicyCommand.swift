import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

/// `rigor policy ...`: policies evaluated over recorded runs.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Evaluate policies over recorded runs.",
        subcommands: [Check.self])

    struct Check: ParsableCommand, InputChecked {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Evaluate an IntentProof policy on runs and report its findings.",
            discussion: """
                The policy is an intentproof.policy.v1 document, YAML or JSON. Each run is one \
                flow of events, mapped as `rigor export intentproof` maps it; a .jsonl argument \
                is read as an exported event file, one flow per correlation_id (verify its \
                signatures first with `rigor verify --intentproof`). Rules of the categories \
                required, forbidden, cardinality and ordering are evaluated; temporal, consensus, \
                value_bound and claim_match rules give inconclusive findings saying Rigor does \
                not evaluate them (spec/intentproof.md §4).

                Exit 0 when every flow passes (or is out of the policy's scope), 1 when a finding \
                fails or is inconclusive, 2 when the policy or a run cannot be read.

                Example:
                  rigor policy check --intentproof policy.yaml latest
                """)

        @Option(help: ArgumentHelp("The IntentProof policy file (.yaml or .json).", valueName: "policy"))
        var intentproof: String

        @Argument(help: ArgumentHelp("Runs (id, unique prefix, latest), artifact or baseline files, or exported .jsonl event files.", valueName: "run"))
        var runs: [String]

        @Flag(help: "Print the findings as JSON.")
        var json = false

        @OptionGroup var workspaceOptions: WorkspaceOptions

        func checkInput() throws {
            if runs.isEmpty { throw ValidationError("name at least one run (id, prefix, latest), artifact file or .jsonl event file") }
        }

        func run() throws {
            let workspace = try workspaceOptions.workspace
            let report: IntentProofPolicyReport
            do { report = try workspace.intentProofPolicyCheck(policyFile: intentproof, references: runs) } catch { throw Console.fail(error) }
            if json {
                Console.printJSON(report.json)
            } else {
                Console.line("policy \(report.policy.policyID) v\(report.policy.policyVersion): \(report.status)")
                for source in report.sources {
                    for flow in source.flows {
                        Console.line("\(source.label)  flow \(flow.correlationID): \(flow.status)")
                        for f in flow.findings {
                            let mark = f.outcome == "pass" ? Console.green("pass") : f.outcome == "fail" ? Console.red("FAIL") : Console.yellow("inconclusive")
                            Console.line("  \(mark)  \(f.ruleID) [\(f.severity)] \(f.reason): \(f.summary)")
                        }
                    }
                }
            }
            if report.status == "fail" || report.status == "inconclusive" { throw CLIExit(code: .failed) }
        }
    }
}
