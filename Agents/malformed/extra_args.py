"""Calls list_dir with its "path" plus an argument the task does not declare ("recursive").

Expected termination_reason: invalid_arguments (failure_type invalid_action), steps_used 1.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "list_dir", "args": {"path": "/app", "recursive": True}}
