import Foundation
import RigorSpec
import RigorTestSupport
import Testing

@Suite("rigor verify and rigor spec check")
struct VerifyCommandTests {
    static var interopFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: RepoPaths.interop)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { "\(RepoPaths.interop)/\($0)" }
    }

    @Test("all 24 TraceCore artifacts verify with the TraceCore recipe")
    func tracecoreVerify() throws {
        let files = Self.interopFiles
        #expect(files.count == 24, "expected the 24 interop artifacts at \(RepoPaths.interop)")
        let r = try CommandLineRun.rigor(["verify", "--json"] + files)
        #expect(r.status == 0, "\(r.stdout)")
        let reports = try #require(try JSON.parse(r.stdout).arrayValue)
        #expect(reports.count == 24)
        for report in reports {
            #expect(report["hash_ok"] == true)
            #expect(report["recipe"] == "tracecore")
        }
    }

    @Test("strict checks pass the 20 complete TraceCore artifacts and reject the 4 without validator, naming it")
    func tracecoreStrict() throws {
        var rejected = 0
        for file in Self.interopFiles {
            let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: file))))
            let r = try CommandLineRun.rigor(["spec", "check", file])
            if artifact["validator"] == nil {
                rejected += 1
                #expect(r.status == 1)
                #expect(r.stdout.contains("validator"), "\(r.stdout)")
            } else {
                #expect(r.status == 0, "\(file): \(r.stdout)")
            }
        }
        #expect(rejected == 4)
    }

    @Test("an altered artifact fails verify with the hash named")
    func tamper() throws {
        let state = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let out = "\(state)/a.json"
        let run = try CommandLineRun.rigor(["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1",
                                            "--seed", "5", "--out", out, "--state-dir", state])
        #expect(run.status == 0)
        #expect(try CommandLineRun.rigor(["verify", out]).status == 0)
        var text = try String(contentsOfFile: out, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"seed\": 5", with: "\"seed\": 6")
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(["verify", out])
        #expect(r.status == 1)
        #expect(r.stdout.contains("artifact_hash"))
    }

    @Test("verify reports a file that is not JSON as bad input")
    func notJSON() throws {
        let dir = RepoPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"half\": ".write(toFile: "\(dir)/half.json", atomically: true, encoding: .utf8)
        let r = try CommandLineRun.rigor(["verify", "\(dir)/half.json"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("not valid JSON"))
    }
}
