"""A numpy generator's PCG64 state as rng.Streams.start_state writes it (shared by the tests of
the numbers kernels compute from stream positions): read from numpy's own ``state`` property,
so that the tests hold the kernels to numpy, not to the model's conversion."""

from __future__ import annotations

import numpy as np

WORD = (1 << 64) - 1


def start_state(gen: np.random.Generator) -> np.ndarray:
    """uint64[4]: LCG state low, high word, increment low, high word."""
    state = gen.bit_generator.state["state"]
    return np.array([state["state"] & WORD, state["state"] >> 64, state["inc"] & WORD,
                     state["inc"] >> 64], dtype=np.uint64)
