"""Hostile: probes what its process may do beyond its own files, and reports each as an output.

KEYRING  adding a key to its user keyring: "ENOSYS" when refused (keys outlive processes, so
         they could carry data to a later episode), else "added".
NNP      /proc/self/status NoNewPrivs (1: set-user-ID programs grant nothing).
CAPS     every capability set it holds, OR-ed: "0" when it holds none.
OTHER    another agent's file (Agents/toy_agent.py, beside this one): "absent", "empty" or
         "readable".

Expected with a uid of its own (the runner is root, process or namespace level, exec'd or
forked): KEYRING=ENOSYS, NNP=1, CAPS=0. Forked from the jailed fork server next to the toy
agent in one batch: OTHER is not "readable".
"""

import ctypes
import errno
import os


def keyring():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    number = {"x86_64": 248, "aarch64": 217}.get(os.uname().machine)
    if number is None:
        return "unknown"
    key = libc.syscall(number, b"user", b"rigor-probe", b"left by an episode", 18, ctypes.c_int(-4))
    if key >= 0:
        return "added"
    return errno.errorcode.get(ctypes.get_errno(), "errno")


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1]
    return "?"


def other():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "toy_agent.py")
    try:
        with open(path, "rb") as f:
            return "readable" if f.read(64) else "empty"
    except OSError:
        return "absent"


class Agent:
    def reset(self, task):
        caps = 0
        for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            caps |= int(status(field), 16)
        self.outputs = [("KEYRING", keyring()), ("NNP", status("NoNewPrivs")), ("CAPS", "%x" % caps), ("OTHER", other())]

    def observe(self, observation):
        pass

    def act(self):
        if self.outputs:
            key, value = self.outputs.pop(0)
            return {"type": "set_output", "args": {"key": key, "value": value}}
        return {"type": "list_dir", "args": {"path": "/app"}}
