"""Loops on one cheap, valid action forever and never reports: a budget must end it.

It sends the first declared action other than set_output (sorted order, as the runner lists
them) with arguments filled by type, exactly like Agents/do_nothing.py (kept self-contained so
its agent_hash covers all of its behaviour). Every such action is valid for the task, so the
episode cannot end in invalid_action or sandbox_violation.

Expected: failure_type budget_exhausted (tool_calls_exhausted when the action costs a tool
call, steps_exhausted when it does not).
"""

FILLERS = {"string": "", "integer": 1, "object": {}, "any": {}, "array": [], "boolean": False}


class LoopFirstAction:
    def reset(self, task):
        task = task or {}
        sandbox = task.get("sandbox") or {}
        roots = sandbox.get("filesystem_roots") or ["/"]
        hosts = sandbox.get("network_hosts") or [""]
        self.action = {"type": "wait", "args": {}}
        for name, spec in (task.get("actions") or {}).items():
            if name == "set_output":
                continue
            args = {}
            for arg, kind in ((spec or {}).get("args") or {}).items():
                args[arg] = roots[0] if kind == "path" else hosts[0] if kind == "host" else FILLERS.get(kind, {})
            self.action = {"type": name, "args": args}
            break

    def observe(self, observation):
        pass

    def act(self):
        return dict(self.action)
