"""Uniforms computed at stream positions (kernels.uniforms_at) are numpy's draws, bit for bit.

Mechanisms whose per-row uniforms only a few rows read take the month's start state
(rng.Streams.start_state) and compute those rows' numbers; these tests hold the numbers to
``Generator.random(N)[offsets]`` of the generator at that state, over seeds, months and
kinds of offsets (the first and the last, every one, sparse, out of order, gaps past 2**20),
and the start state to the one ``Streams.get`` positions its generator at.
"""

from __future__ import annotations

import numpy as np
import pytest
from pcg_state import start_state

from simulation import kernels
from simulation.rng import Streams

SEEDS = [0, 1, 7, 2**40 + 3, 2**63 + 11]


def offset_sets(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    return [np.zeros(0, dtype=np.int64), np.array([0]), np.array([n - 1]), np.array([0, n - 1]),
            np.arange(n), np.flatnonzero(rng.random(n) < 0.01), np.flatnonzero(rng.random(n) < 0.5),
            np.sort(rng.choice(n, 40, replace=False)), np.array([5, 5, 6]),  # repeated
            rng.permutation(n)[:60]]  # out of order: reached from the start again


@pytest.mark.parametrize("seed", SEEDS)
def test_uniforms_at_are_numpys_draws_at_those_positions(seed: int) -> None:
    cases = np.random.default_rng(seed % 2**32)
    n = 5000
    want = np.random.default_rng(seed).random(n)
    start = start_state(np.random.default_rng(seed))
    for offsets in offset_sets(cases, n):
        offsets = offsets.astype(np.int64)
        got = kernels.uniforms_at(start, offsets)
        assert got.dtype == np.float64 and got.shape == offsets.shape
        np.testing.assert_array_equal(got, want[offsets])


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_uniforms_at_jump_gaps_past_a_million_positions(seed: int) -> None:
    # numpy's own advance stands for the draws in between: positions 0, 2**20 + 17,
    # 2**33 + 5 and 2**62 (a gap with many set bits, one with few, one near the top).
    positions = [0, 2**20 + 17, 2**20 + 18, 2**33 + 5, 2**62]
    gen = np.random.default_rng(seed)
    start, want, at = start_state(gen), [], 0
    for position in positions:
        gen.bit_generator.advance(position - at)
        want.append(gen.random())
        at = position + 1
    got = kernels.uniforms_at(start, np.array(positions, dtype=np.int64))
    np.testing.assert_array_equal(got, want)


def test_uniforms_at_refuse_a_negative_position() -> None:
    with pytest.raises(ValueError, match="never negative"):
        kernels.uniforms_at(start_state(np.random.default_rng(1)), np.array([3, -1]))


@pytest.mark.parametrize("seed", [0, 3, 2**40 + 3])
def test_a_months_start_state_is_where_get_positions_the_stream(seed: int) -> None:
    # The start state of a purpose's month, and the numbers at its positions, are those of
    # the generator Streams.get gives for that month (another Streams on the same root).
    root = np.random.SeedSequence(seed)
    words, generators = Streams(root), Streams(root)
    cases = np.random.default_rng(seed % 2**32)
    for month in (0, 1, 2, 13, 119, 120, 600):
        for purpose in ("innovation.gain", "innovation.patent", "collaboration.accept",
                        "collaboration.choice"):
            start = words.start_state(purpose, month)
            gen = generators.get(purpose, month)
            assert start.dtype == np.uint64 and start.shape == (4,)
            np.testing.assert_array_equal(start, start_state(gen))
            want = gen.random(3000)
            offsets = np.flatnonzero(cases.random(3000) < 0.02)
            np.testing.assert_array_equal(kernels.uniforms_at(start, offsets), want[offsets])


def test_a_start_state_counts_as_the_months_use_of_the_stream() -> None:
    # Asking for the start state uses the month's stream as get does: either after the other
    # in the same month raises; the next month, or another purpose, is fine.
    streams = Streams(np.random.SeedSequence(4))
    streams.start_state("innovation.gain", 3)
    with pytest.raises(RuntimeError, match=r"'innovation\.gain' used twice in month 3"):
        streams.start_state("innovation.gain", 3)
    with pytest.raises(RuntimeError, match=r"'innovation\.gain' used twice in month 3"):
        streams.get("innovation.gain", 3)
    streams.get("innovation.patent", 3)
    with pytest.raises(RuntimeError, match=r"'innovation\.patent' used twice in month 3"):
        streams.start_state("innovation.patent", 3)
    streams.start_state("innovation.gain", 4)
    streams.get("innovation.patent", 4)
