import Foundation
import RigorTestSupport
import Testing
@testable import RigorRunner
@testable import RigorTasks

@Suite("Scaffold templates")
struct ScaffoldTemplateTests {
    @Test("Rigor's own copy of the do-nothing agent equals Agents/do_nothing.py")
    func doNothingCopy() throws {
        let file = try String(contentsOfFile: "\(RepoPaths.agents)/do_nothing.py", encoding: .utf8)
        #expect(DoNothingAgent.text == file)
    }

    @Test("the generated data task's manifest loads, lints clean and builds a world", arguments: ["a_task", "b-2"])
    func dataTaskLoads(_ id: String) throws {
        let dir = RepoPaths.temporaryDirectory("scaffold") + "/\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ScaffoldTemplates.dataTask(id).write(toFile: "\(dir)/task.toml", atomically: true, encoding: .utf8)
        let task = try TaskRegistry.load(folder: dir)
        #expect(task.manifest.ref == "\(id)@1")
        #expect(ManifestLint.findings(folder: dir).isEmpty)
        let world = try #require(try task.makeWorld(seed: 1, key: TestWorldKey.fixed) as? ReportedAnswerWorld)
        #expect(world.fileContents.keys.contains { $0.hasPrefix("/data/live_") })
    }
}
