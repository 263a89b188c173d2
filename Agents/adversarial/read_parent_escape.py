"""Hostile: climbs out of the task's root with '..' (../../etc/passwd, then /app/../../etc/passwd).

Expected: sandbox_violation on the first attempt (relative and '..' paths are refused lexically).
"""


class Agent:
    def reset(self, task):
        self.n = 0

    def observe(self, observation):
        pass

    def act(self):
        self.n += 1
        path = "../../etc/passwd" if self.n == 1 else "/app/../../etc/passwd"
        return {"type": "read_file", "args": {"path": path}}
