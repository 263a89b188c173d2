"""World of dice_game@1, written with the Rigor task SDK (Agents/tasks_sdk).

A die shows faces from a sequence drawn from env.rng (seeded from the runner's keyed world
seed): first the position of the first 4 (randint(1, 8)), then, for each roll before it, a face
from 1, 2, 3, 5, 6 (choice), then for the rolls after it, faces from 1..6 (randint). So a 4
always comes up within eight rolls. roll_dice() shows the next face; after MAX_ROLLS it answers
max_rolls_exceeded. The agent wins by reporting, once, the number of the first roll that showed
a 4 (WINNING_ROLL); a second report, or a wrong one, loses for good.
"""

MAX_ROLLS = 10
TARGET = 4


def setup(env):
    rng = env.rng
    first = rng.randint(1, 8)
    faces = [rng.choice([1, 2, 3, 5, 6]) for _ in range(first - 1)] + [TARGET]
    faces += [rng.randint(1, 6) for _ in range(MAX_ROLLS - first)]
    env.set_hidden_state("faces", faces)
    env.set_hidden_state("rolled", 0)
    env.set_hidden_state("reports", 0)
    env.set_hidden_state("winning_roll", str(first))


def roll_dice(env):
    rolled = env.get_hidden_state("rolled")
    if rolled >= MAX_ROLLS:
        return {"ok": False, "error": "max_rolls_exceeded"}
    face = env.get_hidden_state("faces")[rolled]
    env.set_hidden_state("rolled", rolled + 1)
    return {"ok": True, "roll": rolled + 1, "face": face}


def set_output(env, key, value):
    if key == "WINNING_ROLL":
        env.set_hidden_state("reports", env.get_hidden_state("reports") + 1)
    env.set_agent_output(key, value)
    return {"ok": True}


def validate(env):
    reports = env.get_hidden_state("reports")
    if reports == 0:
        return {"ok": False, "message": "WINNING_ROLL not reported yet"}
    if reports == 1 and env.get_agent_output("WINNING_ROLL") == env.get_hidden_state("winning_roll"):
        return {"ok": True, "message": "WINNING_ROLL is the first roll that showed a 4"}
    return {"ok": False, "terminal": True, "message": "WINNING_ROLL is wrong (one report is allowed)"}
