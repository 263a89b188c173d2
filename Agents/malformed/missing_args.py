"""Calls read_file without its required "path" argument.

Expected termination_reason: invalid_arguments (failure_type invalid_action), steps_used 1.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "read_file", "args": {}}
