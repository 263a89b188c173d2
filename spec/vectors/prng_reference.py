#!/usr/bin/env python3
"""Reference implementation of the Rigor world PRNG, "rigor-prng/1".

Normative text: spec/determinism.md. This file exists so that any
implementation (Rigor's Swift code included) can be checked against
spec/vectors/prng.json, which this script regenerates:

    python3 spec/vectors/prng_reference.py > spec/vectors/prng.json

Standard library only; Python 3.9 or later.
"""

import hashlib
import hmac
import json
import sys

MASK64 = (1 << 64) - 1
DOMAIN = "rigor-prng/1"
SEED_MIN = -(1 << 63)
SEED_MAX = (1 << 63) - 1


def seed_material(task_id, seed):
    """The bytes that are hashed to form the initial state."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError("seed must be an integer")
    if not SEED_MIN <= seed <= SEED_MAX:
        raise ValueError("seed outside the signed 64-bit range")
    # str() of a Python int is plain decimal with a leading '-' for negatives.
    return ("%s|%s|%d" % (DOMAIN, task_id, seed)).encode("utf-8")


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class RigorPRNG:
    """xoshiro256** seeded from SHA-256("rigor-prng/1|<task_id>|<seed>"), or, with a world key
    (keyed seeding, what every Rigor world uses), from HMAC-SHA256(key, the same material)."""

    def __init__(self, task_id, seed, key=None):
        if key is None:
            digest = hashlib.sha256(seed_material(task_id, seed)).digest()
        else:
            if len(key) != 32:
                raise ValueError("a world key is 32 bytes")
            digest = hmac.new(key, seed_material(task_id, seed), hashlib.sha256).digest()
        self.digest = digest
        s = [int.from_bytes(digest[i * 8:(i + 1) * 8], "big") for i in range(4)]
        if s == [0, 0, 0, 0]:
            # Unreachable in practice (SHA-256 would have to output 32 zero bytes);
            # kept so the generator is a total function. See determinism.md.
            s[0] = 0x9E3779B97F4A7C15
        self.s = s

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
        """Uniform integer in [0, n) by rejection sampling (no modulo bias)."""
        if n < 1:
            raise ValueError("below(n) needs n >= 1")
        threshold = ((1 << 64) - n) % n
        while True:
            x = self.next()
            if x >= threshold:
                return x % n

    def pick(self, alphabet):
        return alphabet[self.below(len(alphabet))]

    def string(self, k, alphabet):
        return "".join(self.pick(alphabet) for _ in range(k))

    def digits(self, k):
        return self.string(k, "0123456789")

    def shuffle(self, items):
        """Fisher-Yates in place, from the last index down to 1."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]
        return items


TASK_ID = "filesystem_hidden_config"
SEEDS = [0, 1, 42, -1, 9223372036854775807]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def vectors():
    cases = []
    for seed in SEEDS:
        g = RigorPRNG(TASK_ID, seed)
        nexts = ["%016x" % g.next() for _ in range(8)]
        g = RigorPRNG(TASK_ID, seed)
        below10 = [g.below(10) for _ in range(10)]
        g = RigorPRNG(TASK_ID, seed)
        d4 = g.digits(4)
        s24 = g.string(24, ALNUM)
        g = RigorPRNG(TASK_ID, seed)
        shuffled = g.shuffle(list(range(10)))
        cases.append({
            "task_id": TASK_ID,
            "seed": seed,
            "material": seed_material(TASK_ID, seed).decode("utf-8"),
            "sha256": RigorPRNG(TASK_ID, seed).digest.hex(),
            "next_u64_hex": nexts,
            "below_10": below10,
            "digits_4_then_string_24": {
                "alphabet": ALNUM,
                "digits_4": d4,
                "string_24": s24,
            },
            "shuffle_0_to_9": shuffled,
        })
    keyed = []
    for key in [bytes(range(32)), bytes([0xff] * 32)]:
        for seed in [0, 42]:
            g = RigorPRNG(TASK_ID, seed, key)
            keyed.append({
                "task_id": TASK_ID,
                "seed": seed,
                "key_hex": key.hex(),
                "key_id": "sha256:" + hashlib.sha256(b"rigor-world-key-id/1|" + key).hexdigest(),
                "state_hmac_sha256": g.digest.hex(),
                "next_u64_hex": ["%016x" % g.next() for _ in range(4)],
            })
    return {
        "generator": DOMAIN,
        "note": "Each group of values starts from a fresh generator; digits_4 and "
                "string_24 come from the same generator, in that order. keyed_cases: "
                "keyed seeding (HMAC-SHA256 under the world key) and the key's id.",
        "cases": cases,
        "keyed_cases": keyed,
    }


if __name__ == "__main__":
    json.dump(vectors(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
