"""Never answers: sleeps for an hour in its first act.

Expected termination_reason: act_timeout (failure_type timeout), steps_used 0, after the
per-act timeout (10 s unless the task's [limits] act_timeout_seconds says otherwise).
"""

import time


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        time.sleep(3600)
        return {"type": "list_dir", "args": {"path": "/app"}}
