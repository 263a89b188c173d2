"""Lists /app on its first two acts, then calls sys.exit(0) on its third.

Expected termination_reason: agent_exited (failure_type invalid_action), steps_used 2,
diagnostics.agent.exit_status 0.
"""

import sys


class Agent:
    def reset(self, task):
        self.acts = 0

    def observe(self, observation):
        pass

    def act(self):
        self.acts += 1
        if self.acts == 3:
            print("exit_mid_episode: leaving now")
            sys.exit(0)
        return {"type": "list_dir", "args": {"path": "/app"}}
