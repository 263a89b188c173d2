"""Tries to read /etc/passwd, outside the task's filesystem root /app.

Expected termination_reason: sandbox_violation (failure_type sandbox_violation),
steps_used 1, tool_calls_used 0; the step's io_audit holds the attempt with
"verdict": "denied".
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "read_file", "args": {"path": "/etc/passwd"}}
