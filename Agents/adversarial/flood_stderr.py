"""Hostile: writes 100 MB to stderr at reset, then lists /app until the budget runs out.

Expected: budget_exhausted; the artifact's diagnostics keep only the last 64 KiB of stderr and
count the ~100 MB dropped; the runner's memory stays bounded.
"""

import sys


class Agent:
    def reset(self, task):
        chunk = "y" * (1 << 20)
        for _ in range(100):
            sys.stderr.write(chunk)
        sys.stderr.write("\nflood done\n")
        sys.stderr.flush()

    def observe(self, observation):
        pass

    def act(self):
        return {"type": "list_dir", "args": {"path": "/app"}}
