"""Sends an action the task does not offer ("teleport") on its first act.

Expected termination_reason: unknown_action (failure_type invalid_action), steps_used 1.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "teleport", "args": {}}
