"""Hostile: looks for a marker a previous episode may have left in its working directory and
home, reports MARKER=present|absent, then writes the marker (and a big file) for the next one.
Does the same in the places every process can write (/tmp, /dev/shm), reported as SHARED, and
reports how many processes it can see in /proc as PROCS.

Expected: every episode reports MARKER=absent: the private directory is fresh and removed after
each episode. Under the namespace level also SHARED=absent (its /tmp and /dev/shm are its own,
with or without a fork server) and a handful of PROCS (its own pid namespace).
"""

import os


def look_and_mark(places):
    """"present" when a marker is already in one of `places`, else "absent"; then leaves one in each."""
    seen = "present" if any(os.path.exists(p) for p in places) else "absent"
    for p in places:
        try:
            with open(p, "w") as f:
                f.write("left by a previous episode\n")
        except OSError:
            pass
    return seen


class Agent:
    def reset(self, task):
        self.state = look_and_mark([os.path.join(os.getcwd(), "marker.txt"), os.path.join(os.path.expanduser("~"), "marker.txt")])
        try:
            with open("junk.bin", "wb") as f:
                f.write(b"\0" * (1 << 20))
        except OSError:
            pass
        self.shared = look_and_mark(["/tmp/rigor-marker.txt", "/dev/shm/rigor-marker.txt"])
        try:
            self.procs = str(sum(1 for name in os.listdir("/proc") if name.isdigit()))
        except OSError:
            self.procs = "unknown"
        self.outputs = [("MARKER", self.state), ("SHARED", self.shared), ("PROCS", self.procs)]

    def observe(self, observation):
        pass

    def act(self):
        if self.outputs:
            key, value = self.outputs.pop(0)
            return {"type": "set_output", "args": {"key": key, "value": value}}
        return {"type": "list_dir", "args": {"path": "/app"}}
