"""Hostile: asks the world for /etc/passwd through a read_file action.

Expected: sandbox_violation (the path is outside the task's roots); the attempt is in io_audit
with verdict "denied".
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "read_file", "args": {"path": "/etc/passwd"}}
