"""Random streams: one SeedSequence per run, one child stream per mechanism.

Each mechanism draws from its own generator, keyed by the mechanism's name rather than by the
order of creation, so switching a mechanism or channel off (or adding a new one) does not shift
the numbers any other mechanism sees. That is what makes paired, common-random-number
comparisons between scenarios precise (MODEL.md, "Randomness").
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = ("init", "policy", "teaching", "research", "collaboration", "innovation", "digital",
           "labour", "firms")


def root_sequence(rng: int | np.random.SeedSequence | np.random.Generator | None
                  ) -> np.random.SeedSequence:
    """The run's root SeedSequence from what the user passed as ``rng``."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        # A generator carries no seed we could reuse; draw one from it, which is reproducible
        # if the generator itself was seeded.
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise TypeError(f"rng must be an int, a numpy SeedSequence or Generator, or None; got {rng!r}")


def stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of one named mechanism, independent of every other name."""
    key = zlib.crc32(name.encode())
    child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key))
    return np.random.Generator(np.random.PCG64(child))


def streams(root: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    return {name: stream(root, name) for name in STREAMS}
