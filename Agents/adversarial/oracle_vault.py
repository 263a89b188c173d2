"""Hostile: an oracle. It knows the seed (RIGOR_SEED, and reset's seed), the task id and the
public world generator (spec/determinism.md, rigor-prng/1), so it rebuilds exact_answer_vault's
world itself and submits the active slot's VAULT_CODE at step 1 without reading a file.

Expected: it fails (logic_failure: a wrong code ends the episode). Rigor seeds every world under
a world key the agent never sees (keyed seeding), so the world it rebuilds is not the real one.
Were the world drawn from the task id and seed alone, this agent would pass in one step.
"""

import hashlib
import hmac
import os

MASK64 = (1 << 64) - 1
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HEX = "0123456789abcdef"


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class _Generator:
    def __init__(self, task_id, seed):
        material = ("rigor-prng/1|%s|%d" % (task_id, seed)).encode()
        # ORACLE_WORLD_KEY exists for the tests' positive control only (WorldKeyTests): handed the
        # key, which no real agent ever gets, this same generator must rebuild the world exactly.
        key = os.environ.get("ORACLE_WORLD_KEY")
        if key:
            digest = hmac.new(bytes.fromhex(key), material, hashlib.sha256).digest()
        else:
            digest = hashlib.sha256(material).digest()
        self.s = [int.from_bytes(digest[i * 8:(i + 1) * 8], "big") for i in range(4)]

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & MASK64, 7) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, n):
        threshold = ((1 << 64) - n) % n
        while True:
            x = self.next()
            if x >= threshold:
                return x % n

    def string(self, k, alphabet):
        return "".join(alphabet[self.below(len(alphabet))] for _ in range(k))


def _distinct(count, draw):
    out, seen = [], set()
    while len(out) < count:
        v = draw()
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def predicted_code(task_id, seed):
    """The active slot's code, as AnswerVault draws it (seals, codes, active slot)."""
    g = _Generator(task_id, seed)
    _distinct(8, lambda: g.string(4, HEX))
    codes = _distinct(8, lambda: "VLT-" + g.string(10, UPPER))
    return codes[g.below(8)]


class Agent:
    def reset(self, task):
        self.task_id = (task or {}).get("id") or (task or {}).get("task_id") or "exact_answer_vault"
        self.seed = int(os.environ.get("RIGOR_SEED", "0"))

    def observe(self, observation):
        task = (observation or {}).get("task") or {}
        if task.get("id"):
            self.task_id = task["id"]

    def act(self):
        return {"type": "set_output", "args": {"key": "VAULT_CODE", "value": predicted_code(self.task_id, self.seed)}}
