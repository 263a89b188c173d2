"""Reference agent for dice_game@1 (TraceCore-style reset/observe/act).

Rolls until the die shows a 4, then reports that roll's number as WINNING_ROLL, once.
"""


class DiceGameAgent:
    def reset(self, task):
        self.obs = None
        self.reported = False

    def observe(self, observation):
        self.obs = observation

    def act(self):
        last = (self.obs or {}).get("last_action") or {}
        result = (self.obs or {}).get("last_action_result") or {}
        if not self.reported and last.get("type") == "roll_dice" and result.get("ok") and result.get("face") == 4:
            self.reported = True
            return {"type": "set_output", "args": {"key": "WINNING_ROLL", "value": str(result["roll"])}}
        return {"type": "roll_dice", "args": {}}
