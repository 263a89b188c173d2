"""Hostile: hides a daemon from a sweep that only looks at the pids handed out after the agent's
own. It burns pids (short-lived threads) until the kernel's pid counter has wrapped round below
its own pid, starts a daemonised grandchild there (double fork + setsid, sleeping forever), then
burns pids again until the counter is past its own pid, and keeps listing /app.

Expected: the episode ends normally (budget_exhausted) and afterwards no process of the agent's
uid is alive: the runner kills every process of that uid at the end, whatever the pid counter
did. Reports WRAPPED=yes when it did wrap the counter (it gives up after 200,000 pids).
"""

import os
import threading
import time


def last_pid():
    with open("/proc/sys/kernel/ns_last_pid") as f:
        return int(f.read())


def burn_until(done, budget):
    while budget > 0 and not done():
        for _ in range(64):
            t = threading.Thread(target=int)
            t.start()
            t.join()
        budget -= 64
    return budget


class Agent:
    def reset(self, task):
        me = os.getpid()
        # Below our own pid, with room to spare; an agent that got a pid just after the counter
        # last wrapped (under 1300: a busy machine) has less room below it, so the margin shrinks.
        margin = min(1000, max(0, (me - 300) // 2))
        budget = burn_until(lambda: 300 < last_pid() < me - margin, 200_000)
        self.wrapped = "yes" if budget > 0 else "no"
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(60)
            os._exit(0)
        os.wait()
        burn_until(lambda: last_pid() > me, 200_000)
        self.reported = False

    def observe(self, observation):
        pass

    def act(self):
        if not self.reported:
            self.reported = True
            return {"type": "set_output", "args": {"key": "WRAPPED", "value": self.wrapped}}
        return {"type": "list_dir", "args": {"path": "/app"}}
