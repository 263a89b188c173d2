"""Hostile: forks four children that each touch 600 MiB and hold it a few seconds, each under
the per-process address-space limit, together far over it. Reports how many children the kernel
killed (KILLED) and how many finished (SURVIVED).

Expected, with a task whose address-space limit (which also bounds the episode's memory as a
whole where Rigor gets a cgroup) is 1 GiB: children are killed (KILLED >= 2) instead of the
episode holding 2.4 GB; the episode still ends normally and its artifact is valid.
"""

import os
import signal
import time

CHILDREN = 4
SIZE = 600 << 20


def hog():
    block = bytearray(SIZE)
    for i in range(0, SIZE, 4096):
        block[i] = 1
    time.sleep(3)
    os._exit(0)


class Agent:
    def reset(self, task):
        self.outputs = None

    def observe(self, observation):
        pass

    def act(self):
        if self.outputs is None:
            pids = []
            for _ in range(CHILDREN):
                pid = os.fork()
                if pid == 0:
                    try:
                        hog()
                    finally:
                        os._exit(1)
                pids.append(pid)
            killed = survived = 0
            for pid in pids:
                _, status = os.waitpid(pid, 0)
                if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                    killed += 1
                elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                    survived += 1
            self.outputs = [("KILLED", str(killed)), ("SURVIVED", str(survived))]
        if self.outputs:
            key, value = self.outputs.pop(0)
            return {"type": "set_output", "args": {"key": key, "value": value}}
        return {"type": "list_dir", "args": {"path": "/app"}}
