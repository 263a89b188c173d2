"""Hostile: looks for a marker a previous episode may have left in its working directory and
home, reports MARKER=present|absent, then writes the marker (and a big file) for the next one.

Expected: every episode reports "absent": the private directory is fresh and removed after
each episode.
"""

import os


class Agent:
    def reset(self, task):
        places = [os.path.join(os.getcwd(), "marker.txt"), os.path.join(os.path.expanduser("~"), "marker.txt")]
        self.state = "present" if any(os.path.exists(p) for p in places) else "absent"
        for p in places:
            try:
                with open(p, "w") as f:
                    f.write("left by a previous episode\n")
            except OSError:
                pass
        try:
            with open("junk.bin", "wb") as f:
                f.write(b"\0" * (1 << 20))
        except OSError:
            pass
        self.reported = False

    def observe(self, observation):
        pass

    def act(self):
        if not self.reported:
            self.reported = True
            return {"type": "set_output", "args": {"key": "MARKER", "value": self.state}}
        return {"type": "list_dir", "args": {"path": "/app"}}
