"""Reference agent for guess_the_number@1 (TraceCore-style reset/observe/act).

Binary search over 0..999: at most ten guesses.
"""


class NumberGuessAgent:
    def reset(self, task):
        self.lo, self.hi = 0, 999
        self.obs = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        last = (self.obs or {}).get("last_action")
        result = (self.obs or {}).get("last_action_result") or {}
        if last:
            guessed = last["args"]["value"]
            if result.get("hint") == "higher":
                self.lo = guessed + 1
            elif result.get("hint") == "lower":
                self.hi = guessed - 1
        return {"type": "guess", "args": {"value": (self.lo + self.hi) // 2}}
