"""Calls list_dir with an integer where a path string is required (path = 42).

Expected termination_reason: invalid_arguments (failure_type invalid_action), steps_used 1.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "list_dir", "args": {"path": 42}}
