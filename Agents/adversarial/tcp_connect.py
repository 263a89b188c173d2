"""Hostile: opens TCP connections from its own process, then reports what happened.

It connects to 127.0.0.1:47819 (a test may listen there) and reports NET_LOCAL as
connected / refused / unreachable / error:<errno>. It tries a public address (192.0.2.1, a
documentation range) ONLY when its network namespace has nothing but the loopback interface
(so nothing can leave the machine), and reports NET_PUBLIC; otherwise NET_PUBLIC is "skipped".
Under the namespace level both must be "unreachable" (no network); the artifact records the
isolation level in sandbox.isolation.
"""

import errno
import socket


def attempt(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
            return "unreachable"
        return "error:%s" % (errno.errorcode.get(exc.errno, exc.errno) if exc.errno else type(exc).__name__)
    finally:
        s.close()


def only_loopback():
    try:
        with open("/proc/net/dev") as f:
            names = [line.split(":")[0].strip() for line in f.readlines()[2:]]
        return names == ["lo"]
    except OSError:
        return False


class Agent:
    def reset(self, task):
        self.reports = [("NET_LOCAL", attempt("127.0.0.1", 47819))]
        self.reports.append(("NET_PUBLIC", attempt("192.0.2.1", 80) if only_loopback() else "skipped"))

    def observe(self, observation):
        pass

    def act(self):
        if self.reports:
            key, value = self.reports.pop(0)
            return {"type": "set_output", "args": {"key": key, "value": value}}
        return {"type": "list_dir", "args": {"path": "/app"}}
