import Foundation
import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// `BatchHandle`: events for one batch, and cancelling that batch alone.
@Suite("batch handle")
struct BatchHandleTests {
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [BatchHandle.Event] = []
        func add(_ e: BatchHandle.Event) { lock.lock(); all.append(e); lock.unlock() }
        var events: [BatchHandle.Event] { lock.lock(); defer { lock.unlock() }; return all }
    }

    static func batch(seeds: ClosedRange<Int>) -> Batch {
        var batch = Batch(pairings: [Pairing(name: "toy", agent: "Agents/toy_agent.py", task: "filesystem_hidden_config@1")],
                          seeds: Array(seeds), workers: 1, isolation: .process)
        batch.worldKey = TestWorldKey.fixed
        batch.forkServer = .never
        return batch
    }

    static func workspace(_ label: String) -> Workspace {
        Workspace(root: RepoPaths.root, stateDirectory: RepoPaths.temporaryDirectory("rigor-batch-handle-\(label)") + "/.rigor")
    }

    @Test("cancelling after the third recorded episode stops the batch; what finished is recorded and returned")
    func cancelMidway() throws {
        let events = Events()
        let box = HandleBox()
        let handle = BatchHandle { event in
            events.add(event)
            if case .recorded(let done, _, _) = event, done == 3 { box.handle?.cancel() }
        }
        box.handle = handle
        let workspace = Self.workspace("cancel")
        let outcomes = try Self.batch(seeds: 0...39).run(in: workspace, handle: handle)
        #expect(handle.isCancelled)
        #expect(outcomes.count >= 3 && outcomes.count < 40)
        // Every outcome returned is in the store, and the store holds nothing else.
        let stored = try workspace.readingStore().runs(limit: 0).map(\.runID)
        #expect(Set(stored) == Set(outcomes.map(\.runID)))
        guard case .started(let total)? = events.events.first else { Issue.record("no started event"); return }
        #expect(total == 40)
        guard case .finished(let done, _, let cancelled)? = events.events.last else { Issue.record("no finished event"); return }
        #expect(cancelled && done == outcomes.count)
        // A handle once cancelled runs nothing more.
        #expect(try Self.batch(seeds: 0...1).run(in: workspace, handle: handle).isEmpty)
    }

    @Test("an uncancelled handle hears every episode, in recording order, and ends with finished")
    func events() throws {
        let events = Events()
        let handle = BatchHandle { events.add($0) }
        let outcomes = try Self.batch(seeds: 0...3).run(in: Self.workspace("events"), handle: handle)
        #expect(outcomes.count == 4 && !handle.isCancelled)
        let recorded = events.events.compactMap { e -> Int? in if case .recorded(let d, _, _) = e { return d } else { return nil } }
        #expect(recorded == [1, 2, 3, 4])
        #expect(handle.progress == (4, 4))
    }

    @Test("a handle cancelled before the batch starts runs nothing and leaves no store behind")
    func cancelledBefore() throws {
        let handle = BatchHandle()
        handle.cancel(.abandonRunning)
        let workspace = Self.workspace("before")
        #expect(try Self.batch(seeds: 0...3).run(in: workspace, handle: handle).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: workspace.stateDirectory + "/rigor.db"))
    }

    final class HandleBox: @unchecked Sendable { var handle: BatchHandle? }
}
