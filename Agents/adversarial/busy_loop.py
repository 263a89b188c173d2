"""Hostile: spins the CPU in its first act and never answers.

Expected: timeout / act_timeout after the per-act timeout; the process is killed.
"""


class Agent:
    def reset(self, task):
        pass

    def observe(self, observation):
        pass

    def act(self):
        x = 0
        while True:
            x += 1
