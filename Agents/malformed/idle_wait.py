"""Sends TraceCore's idle action {"type": "wait", "args": {}}, which filesystem_hidden_config
does not declare.

Expected termination_reason: unknown_action (failure_type invalid_action), steps_used 1.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "wait", "args": {}}
