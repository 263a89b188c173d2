import ArgumentParser
import Foundation
import RigorRunner
import RigorSpec

extension RunsCommand {
    /// `rigor runs tape RUN`: the model calls of an LLM run, as its tape holds them.
    struct Tape: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tape",
            abstract: "List the model calls of a run (its tape), or print one exchange whole.",
            discussion: """
                Each request the agent made to the model gateway, numbered as `rigor fork --call` \
                takes them, with the step it was made in, the provider and model, the status, \
                whether the answer was streamed, and the tokens. --show N prints request N's body \
                and its answer as recorded (terminal control characters escaped). \
                spec/model-gateway.md §4.
                """)

        @Argument(help: ArgumentHelp("Run id, prefix or latest; or an artifact file.", valueName: "run"))
        var runRef: String

        @Option(help: ArgumentHelp("Print exchange N whole (request and answer).", valueName: "n"))
        var show: Int?

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var workspaceOptions: WorkspaceOptions

        func load() throws -> RigorRunner.ModelTape {
            let workspace = try workspaceOptions.workspace
            do {
                return try ModelFork.tape(of: try RunLookup.artifact(runRef, workspace: workspace), in: workspace)
            } catch let e as RunnerError { throw Console.fail(e) }
        }

        func run() throws {
            let tape = try load()
            if let show {
                guard show >= 1, show <= tape.exchanges.count else {
                    throw Console.fail(.usage("the tape holds exchanges 1 to \(tape.exchanges.count)"))
                }
                let e = tape.exchanges[show - 1]
                if json {
                    Console.printJSON(["n": .int(show), "step": .int(e.step), "method": .string(e.method), "target": .string(e.target),
                                       "request": .string(String(decoding: e.request, as: UTF8.self)), "status": .int(e.status),
                                       "content_type": .string(e.contentType), "response": .string(String(decoding: e.response, as: UTF8.self))])
                } else {
                    Console.line("\(e.method) \(TerminalText.escaped(e.target, keepLayout: false))  (step \(e.step))")
                    Console.line(TerminalText.escaped(String(decoding: e.request, as: UTF8.self)))
                    Console.line("")
                    Console.line("\(e.status) \(TerminalText.escaped(e.contentType, keepLayout: false))")
                    Console.line(TerminalText.escaped(String(decoding: e.response, as: UTF8.self)))
                }
                return
            }
            if json {
                Console.printJSON(.array(tape.exchanges.enumerated().map { i, e in
                    ["n": .int(i + 1), "step": .int(e.step), "provider": .string(e.provider), "model": e.model.map(JSON.string) ?? .null,
                     "method": .string(e.method), "target": .string(e.target), "status": .int(e.status), "streamed": .bool(e.streamed),
                     "input_tokens": .int(e.usage.inputTokens), "output_tokens": .int(e.usage.outputTokens),
                     "request_bytes": .int(e.request.count), "response_bytes": .int(e.response.count)]
                }))
                return
            }
            Console.line("  n  step  provider   model                       status  stream   tokens in/out  target")
            for (i, e) in tape.exchanges.enumerated() {
                let model = TerminalText.escaped(e.model ?? "-", keepLayout: false)
                Console.line(String(format: "%3d  %4d  ", i + 1, e.step) + e.provider.padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                    + String(model.prefix(27)).padding(toLength: 27, withPad: " ", startingAt: 0) + " "
                    + String(format: "%6d  %-6@ %7d/%-6d ", e.status, e.streamed ? "yes" : "no", e.usage.inputTokens, e.usage.outputTokens)
                    + TerminalText.escaped(e.target, keepLayout: false))
            }
        }
    }
}
