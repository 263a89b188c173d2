"""Lists /app on its first act, then kills itself with SIGKILL on its second.

Expected termination_reason: agent_crashed (failure_type invalid_action), steps_used 1,
diagnostics.agent.signal 9.
"""

import os
import signal


class Agent:
    def reset(self, task):
        self.acts = 0

    def observe(self, observation):
        pass

    def act(self):
        self.acts += 1
        if self.acts == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return {"type": "list_dir", "args": {"path": "/app"}}
