"""Hostile: a fork bomb. Its first act never returns: every process forks forever.

Expected: contained by the process limit (RLIMIT_NPROC on the agent's own uid; the pid
namespace under bwrap), the act times out (timeout / act_timeout), every process is killed and
reaped, and the runner goes on unharmed.
"""

import os
import time


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.001)
