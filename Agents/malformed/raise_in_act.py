"""Raises RuntimeError in its first act; the SDK prints the traceback to stderr and the
process exits with code 1 before the episode ends.

Expected termination_reason: agent_exited (failure_type invalid_action), steps_used 0,
diagnostics.agent.exit_status 1.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        raise RuntimeError("raise_in_act: failing on purpose")
