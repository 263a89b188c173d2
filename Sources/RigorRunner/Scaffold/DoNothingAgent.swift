import Foundation

/// Rigor's do-nothing agent, the one `rigor tasks validate` runs to prove a task is not passed
/// trivially: a copy of `Agents/do_nothing.py` (a test keeps the two equal), so a project made
/// by `rigor init`, which has no `Agents/`, can validate its tasks too.
public enum DoNothingAgent {
    static let text = #"""
    """Do-nothing agent: busy, never reports. It must fail every task.

    On reset it reads the task's action surface; on every act it sends the first declared action
    (in the order the runner lists them, which is sorted) that is not `set_output`, with its
    arguments filled by type: path -> the first filesystem root, string -> "", integer -> 1,
    object/any -> {}, array -> [], boolean -> false, host -> the first allowed host.
    Since it never calls set_output, no task's validator can succeed; the episode ends when a
    budget runs out (or earlier, if the task rejects the filler arguments).
    """

    FILLERS = {"string": "", "integer": 1, "object": {}, "any": {}, "array": [], "boolean": False}


    def filler_action(task):
        """The first non-set_output action of the task, with arguments filled by type."""
        task = task or {}
        sandbox = task.get("sandbox") or {}
        roots = sandbox.get("filesystem_roots") or ["/"]
        hosts = sandbox.get("network_hosts") or [""]
        for name, spec in (task.get("actions") or {}).items():
            if name == "set_output":
                continue
            args = {}
            for arg, kind in ((spec or {}).get("args") or {}).items():
                if kind == "path":
                    args[arg] = roots[0]
                elif kind == "host":
                    args[arg] = hosts[0]
                else:
                    args[arg] = FILLERS.get(kind, {})
            return {"type": name, "args": args}
        return {"type": "wait", "args": {}}


    class DoNothing:
        def reset(self, task):
            self.action = filler_action(task)

        def observe(self, observation):
            pass

        def act(self):
            return dict(self.action)

    """#

    /// The project's `Agents/do_nothing.py` when it has one, else this copy written to
    /// `<state>/agents/do_nothing.py` (rewritten when it differs).
    public static func path(in workspace: Workspace) throws(RunnerError) -> String {
        let own = "\(workspace.projectRoot)/Agents/do_nothing.py"
        if FileManager.default.fileExists(atPath: own) { return own }
        let path = "\(workspace.stateDirectory)/agents/do_nothing.py"
        if FileManager.default.contents(atPath: path) != Data(text.utf8) {
            try ArtifactFile.writeAtomically(Array(text.utf8), to: path)
        }
        return path
    }
}
