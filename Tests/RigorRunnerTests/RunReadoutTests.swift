import Foundation
import RigorRunner
import RigorSpec
import Testing

@Suite("RunReadout: which step failed a run, and the agent's log tail")
struct RunReadoutTests {
    static func step(_ n: Int) -> JSON {
        ["step": .int(n), "action": ["type": "read_file", "args": ["path": .string("/app/\(n)")]], "result": ["ok": true]]
    }

    static func artifact(success: Bool, steps: Int, validator: JSON, log: String = "", dropped: Int = 0) -> JSON {
        ["success": .bool(success), "action_trace": .array((1...max(1, steps)).prefix(steps).map(step)), "validator": validator,
         "diagnostics": ["agent": ["stderr_tail": .string(log), "stderr_bytes_dropped": .int(dropped)]]]
    }

    @Test("the failing step: the validator's when it failed the episode for good, else the last recorded one, none for a success",
          arguments: [
              (false, ["success": false, "terminal": true, "step": 2] as JSON, 2, "validator"),
              (false, ["success": false, "terminal": false, "step": 4] as JSON, 4, "last_step"),
              (false, ["success": false, "terminal": true, "step": 0] as JSON, 4, "last_step"),
              (true, ["success": true, "terminal": true, "step": 4] as JSON, nil, nil),
          ] as [(Bool, JSON, Int?, String?)])
    func failingStep(success: Bool, validator: JSON, expected: Int?, choice: String?) {
        let readout = RunReadout(artifact: Self.artifact(success: success, steps: 4, validator: validator))
        #expect(readout.failingStep?.step == expected)
        #expect(readout.failingStep?.choice.rawValue == choice)
        if let expected { #expect(readout.failingStep?.action["args"]?["path"] == .string("/app/\(expected)")) }
    }

    @Test("a failure before the first step has no failing step")
    func noSteps() {
        #expect(RunReadout(artifact: Self.artifact(success: false, steps: 0, validator: ["success": false])).failingStep == nil)
    }

    @Test("the tail counts the lines and bytes it hides; 0 lines shows everything")
    func tail() throws {
        let log = try #require(RunReadout(artifact: Self.artifact(success: false, steps: 1, validator: .null,
                                                                   log: "a\nbb\nccc\n", dropped: 7)).agentLog)
        #expect(log.lines == ["a", "bb", "ccc"])
        let last = log.tail(lines: 1)
        #expect(last.lines == ["ccc"] && last.hiddenLines == 2 && last.hiddenBytes == 5)
        #expect(log.tail(lines: 0).lines.count == 3 && log.tail(lines: 0).hiddenBytes == 0)
        #expect(log.bytesDroppedByRunner == 7)
        #expect(RunReadout(artifact: ["success": false]).agentLog == nil, "a TraceCore artifact has no agent log")
    }
}
