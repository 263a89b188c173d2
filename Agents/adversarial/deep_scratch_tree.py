"""Hostile: builds, in its private directory, a tree far deeper than PATH_MAX (4096 bytes of
path) by making a directory and entering it, again and again (each step is a short relative
path, so nothing refuses it), and leaves a file at the bottom. Reports the depth reached in
bytes of path as DEPTH.

Expected: the episode ends normally (budget_exhausted), and the private directory is gone
afterwards: the runner removes it by descriptor, never by building paths longer than the
kernel accepts.
"""

import os

NAME = "d" * 200
LEVELS = 40  # 40 × 201 bytes: about 8 KiB of path, twice PATH_MAX


class Agent:
    def reset(self, task):
        depth = 0
        try:
            for _ in range(LEVELS):
                os.mkdir(NAME)
                os.chdir(NAME)
                depth += len(NAME) + 1
            with open("bottom.txt", "w") as f:
                f.write("still here\n")
        except OSError:
            pass
        self.outputs = [("DEPTH", str(depth))]

    def observe(self, observation):
        pass

    def act(self):
        if self.outputs:
            key, value = self.outputs.pop(0)
            return {"type": "set_output", "args": {"key": key, "value": value}}
        return {"type": "list_dir", "args": {"path": "/app"}}
