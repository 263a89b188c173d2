"""Hostile: starts a daemonised grandchild (double fork + setsid, SIGTERM ignored) that sleeps
forever, then never answers, so that the runner is still waiting when it is killed (the test
SIGKILLs it).

Expected: the runner that died cannot clean up, but the next one does: when it starts its first
agent, every process a dead runner's episode left (this agent and its daemon) is killed — by
the agent's uid when the runner is root, by the episode's cgroup where there is one.
"""

import os
import signal
import time


def daemonise():
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(60)


class Agent:
    def reset(self, task):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        daemonise()

    def observe(self, observation):
        pass

    def act(self):
        while True:
            time.sleep(60)
