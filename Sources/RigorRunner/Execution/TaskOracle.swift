import RigorAgentHost
import RigorSpec
import RigorTasks

/// The oracle check of a task (`rigor tasks validate`): it is solvable (every reference agent
/// passes on every seed), not trivially passed (a do-nothing agent never passes), deterministic
/// (reference episodes run twice hash the same) and its manifest has no unknown keys.
public struct TaskOracle: Sendable {
    /// The verdict on one task.
    public struct Verdict: Sendable {
        public let task: String
        /// The reference agents (from the pairings, or given) that ran on it.
        public let reference: [String]
        public let solved: Int
        public let attempts: Int
        public let nullPassed: Int
        public let nullAttempts: Int
        /// Why the first failing reference episode failed (`termination_reason: failure_reason`).
        public var firstFailure: String?
        /// The first (pairing, seed) whose second run hashed differently, if any.
        public var nonDeterministic: String?
        /// Unknown manifest keys.
        public var lint: [String] = []
        public var ok: Bool { !reference.isEmpty && solved == attempts && nullPassed == 0 && nonDeterministic == nil && lint.isEmpty }

        /// The row `tasks validate --json` prints.
        public var json: JSON {
            ["task": .string(task), "reference_agents": .array(reference.map(JSON.string)),
             "reference_passed": .int(solved), "reference_total": .int(attempts),
             "do_nothing_passed": .int(nullPassed), "do_nothing_total": .int(nullAttempts), "ok": .bool(ok),
             "first_failure": firstFailure.map(JSON.string) ?? .null,
             "non_deterministic": nonDeterministic.map(JSON.string) ?? .null,
             "lint": .array(lint.map(JSON.string))]
        }
    }

    public var referenceSeeds: [Int]
    public var nullSeeds: [Int]
    /// The do-nothing agent; nil: the project's, else Rigor's own copy (`DoNothingAgent`).
    public var nullAgent: String?
    /// How many of `referenceSeeds` run twice, comparing artifact hashes (0: skip).
    public var determinismSeeds: Int
    /// Only these tasks, by ref or by id (every version); nil: every task.
    public var tasks: Set<String>?
    public var workers: Int
    public var isolation: IsolationLevel?
    public var actTimeoutSeconds: Double?
    public var forkServer: ForkServerUse
    /// Reference agents for every task checked, instead of the ones paired with it (a task
    /// folder no pairing names: TraceCore's own, a colleague's); empty: the pairings'.
    public var referenceAgents: [String] = []

    public init(referenceSeeds: [Int], nullSeeds: [Int], nullAgent: String? = nil, determinismSeeds: Int, tasks: Set<String>? = nil,
                workers: Int, isolation: IsolationLevel? = nil, actTimeoutSeconds: Double? = nil, forkServer: ForkServerUse = .python) {
        self.referenceSeeds = referenceSeeds
        self.nullSeeds = nullSeeds
        self.nullAgent = nullAgent
        self.determinismSeeds = determinismSeeds
        self.tasks = tasks
        self.workers = workers
        self.isolation = isolation
        self.actTimeoutSeconds = actTimeoutSeconds
        self.forkServer = forkServer
    }

    /// Checks every (selected) task in registry order; `checked` hears of each verdict as soon as
    /// it is known. A task that does not load fails the whole check.
    /// Cancelling `handle` stops the batch running and returns the verdicts reached so far.
    public func run(in workspace: Workspace, handle: BatchHandle = BatchHandle(),
                    checked: (Verdict) -> Void = { _ in }) throws(RunnerError) -> [Verdict] {
        let catalog = try workspace.pairings()
        let registry = try workspace.registry()
        let nullAgent: String
        if let given = self.nullAgent { nullAgent = given } else { nullAgent = try DoNothingAgent.path(in: workspace) }
        var verdicts: [Verdict] = []
        for entry in registry.loadAll() {
            let task: LoadedTask
            switch entry {
            case .success(let t): task = t
            case .failure(let e): throw RunnerError.task(e)
            }
            let ref = task.manifest.ref
            if let tasks, !tasks.contains(ref), !tasks.contains(task.manifest.id) { continue }  // a ref, or an id: every version
            let references = referenceAgents.isEmpty
                ? catalog.pairings.filter { $0.task == ref }
                : referenceAgents.enumerated().map { Pairing(name: "reference_\($0.offset + 1)", agent: $0.element, task: ref) }
            let null = Pairing(name: "do_nothing", agent: nullAgent, task: ref)
            var batch = Batch(pairings: references, seeds: referenceSeeds, workers: workers,
                              isolation: isolation, actTimeoutSeconds: actTimeoutSeconds, strictSpec: true)
            var nullBatch = Batch(pairings: [null], seeds: nullSeeds, workers: workers,
                                  isolation: isolation, actTimeoutSeconds: actTimeoutSeconds)
            batch.forkServer = forkServer
            nullBatch.forkServer = forkServer
            let solved = references.isEmpty ? [] : try batch.run(in: workspace, handle: handle)
            let nulls = try nullBatch.run(in: workspace, handle: handle)
            let failed = solved.first { !$0.passed }
            var again = batch
            let twice = Array(referenceSeeds.prefix(determinismSeeds))
            again.items = batch.items.filter { twice.contains($0.seed) }
            let rerun = references.isEmpty || twice.isEmpty ? [] : try again.run(in: workspace, handle: handle)
            let firstHash = Dictionary(solved.map { ("\($0.item.pairing.name)#\($0.item.seed)", $0.artifactHash) }, uniquingKeysWith: { a, _ in a })
            let drift = rerun.first { firstHash["\($0.item.pairing.name)#\($0.item.seed)"] != $0.artifactHash }
            var verdict = Verdict(task: ref, reference: references.map(\.agent), solved: solved.filter(\.passed).count,
                                  attempts: solved.count, nullPassed: nulls.filter(\.success).count, nullAttempts: nulls.count,
                                  firstFailure: failed.map { f in
                                      let reason = f.artifact["failure_reason"]?.stringValue.map { ": \($0)" } ?? ""
                                      return "seed \(f.item.seed), \(f.terminationReason)\(reason)"
                                  })
            verdict.nonDeterministic = drift.map { "\($0.item.pairing.name) seed \($0.item.seed): \(firstHash["\($0.item.pairing.name)#\($0.item.seed)"] ?? "?") then \($0.artifactHash)" }
            // A cancelled check is no verdict on this task.
            if handle.isCancelled { break }
            verdict.lint = ManifestLint.findings(folder: task.directory)
            verdicts.append(verdict)
            checked(verdict)
        }
        return verdicts
    }
}
