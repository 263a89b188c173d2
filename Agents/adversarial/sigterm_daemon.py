"""Hostile: ignores SIGTERM and starts a daemonised grandchild (double fork + setsid) that
sleeps forever, then keeps listing /app.

Expected: the episode ends normally (budget_exhausted), and afterwards neither the agent nor
its daemon is alive: the runner kills the process group and then every process of the agent's
uid (or the whole pid namespace under bwrap).
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
        return {"type": "list_dir", "args": {"path": "/app"}}
