"""Hostile: collects every environment variable it can see (its own, its parent's and pid 1's
through /proc) and writes them into a set_output action and its intent.

Expected: the episode runs (budget_exhausted); nothing of the runner's environment appears in
the artifact, because the agent only ever had the pinned environment and cannot read the
runner's /proc/<pid>/environ (another uid, or another pid namespace).
"""

import os


def gather():
    seen = dict(os.environ)
    for pid in (os.getppid(), 1):
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                for item in f.read().split(b"\0"):
                    if b"=" in item:
                        k, v = item.split(b"=", 1)
                        seen["proc%d:%s" % (pid, k.decode(errors="replace"))] = v.decode(errors="replace")
        except OSError as exc:
            seen["proc%d" % pid] = "unreadable: %s" % exc.strerror
    return seen


class Agent:
    def reset(self, task):
        self.loot = gather()

    def observe(self, observation):
        pass

    def act(self):
        text = ";".join("%s=%s" % kv for kv in sorted(self.loot.items()))
        return {"type": "set_output", "args": {"key": "LOOT", "value": text}, "intent": text[:2000]}
