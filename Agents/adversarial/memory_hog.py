"""Hostile: allocates memory without bound in its first act (64 MiB at a time, touched).

Expected: stopped by the address-space limit (MemoryError → the agent exits: agent_exited) or
killed (agent_crashed); either way an invalid_action artifact is written and the machine is fine.
"""


class Agent:
    def reset(self, task):
        self.hoard = []

    def observe(self, observation):
        pass

    def act(self):
        while True:
            block = bytearray(64 << 20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            self.hoard.append(block)
