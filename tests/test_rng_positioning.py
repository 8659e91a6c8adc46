"""A month's stream is PCG64 advanced by month * 2**64 draws, however it is positioned.

``Streams.get`` writes the advanced state into the generator's memory (``rng.state_words``)
instead of through the ``state`` setter; these tests hold it to the draws of a generator
advanced by numpy's own ``PCG64.advance``, over many purposes, months and seeds, after
draws that leave a buffered 32-bit half behind.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import rng
from simulation.rng import Streams, child, month_jump, state_words

PURPOSES = [f"purpose.{i}" for i in range(12)] + ["firms.growth", "labour.graduation",
                                                   "research", "collaboration.search"]


def advanced(root: np.random.SeedSequence, purpose: str, month: int) -> np.random.Generator:
    bits = np.random.PCG64(child(root, purpose))
    bits.advance(month << 64)
    return np.random.Generator(bits)


def draws(gen: np.random.Generator) -> list[np.ndarray]:
    # 32-bit draws first: an odd number leaves half a 64-bit word buffered in the generator,
    # which a positioned stream must not carry into the next month.
    return [gen.integers(0, 1000, size=3, dtype=np.int32), gen.random(5),
            gen.standard_normal(4), gen.poisson(3.0, size=3), gen.integers(0, 2**40, size=2),
            gen.random(3, dtype=np.float32)]


@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
def test_positioned_streams_draw_what_advance_draws(seed: int) -> None:
    root = np.random.SeedSequence(seed)
    streams = Streams(root)
    months = [*range(0, 40), 119, 120, 121, 600, 2**20]
    for month in months:
        for purpose in PURPOSES:
            got, expected = draws(streams.get(purpose, month)), draws(advanced(root, purpose,
                                                                               month))
            for a, b in zip(got, expected, strict=True):
                np.testing.assert_array_equal(a, b)


def test_in_place_positioning_is_used_and_leaves_no_buffered_half() -> None:
    root = np.random.SeedSequence(3)
    streams = Streams(root)
    gen = streams.get("research", 4)
    gen.integers(0, 10, size=1, dtype=np.int32)  # leaves a buffered 32-bit half
    bits = gen.bit_generator
    assert bits.state["has_uint32"] == 1
    assert streams._gens["research"][4] is not None  # this numpy's layout was recognised
    streams.get("research", 5)
    state = bits.state
    assert state["has_uint32"] == 0 and state["uinteger"] == 0
    a, b = month_jump(5)
    start = np.random.PCG64(child(root, "research")).state["state"]
    assert state["state"]["state"] == (a * start["state"] + b * start["inc"]) % 2**128
    assert state["state"]["inc"] == start["inc"]


def test_state_words_read_back_the_documented_state() -> None:
    bits = np.random.PCG64(11)
    words = state_words(bits)
    assert words is not None
    lcg, flags = words
    state = bits.state["state"]["state"]
    assert int(lcg[0]) + (int(lcg[1]) << 64) == state
    assert flags.tolist() == [0, 0]


def test_the_setter_fallback_draws_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    root = np.random.SeedSequence(21)
    monkeypatch.setattr("simulation.rng.state_words", lambda bits: None)
    fallback = Streams(root)
    for month in (0, 1, 5, 37):
        for purpose in PURPOSES[:4]:
            for a, b in zip(draws(fallback.get(purpose, month)),
                            draws(advanced(root, purpose, month)), strict=True):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
@pytest.mark.parametrize("seed", [0, 5])
def test_a_copy_of_the_streams_positions_its_own_generators(copier: str, seed: int) -> None:
    import copy
    import pickle

    original = Streams(np.random.SeedSequence(seed))
    for purpose in PURPOSES[:4]:
        original.get(purpose, 0).random(3)  # generators exist before the copy is made
    twin = (copy.deepcopy(original) if copier == "deepcopy"
            else pickle.loads(pickle.dumps(original)))
    for month in (1, 2, 50):
        for purpose in PURPOSES[:4]:
            got = twin.get(purpose, month).random(4)
            np.testing.assert_array_equal(got, advanced(original.root, purpose, month).random(4))
            # ... and the original's streams are where the original puts them.
            np.testing.assert_array_equal(original.get(purpose, month).random(4), got)


def test_a_copied_model_goes_on_as_the_original_would() -> None:
    import copy

    from simulation import EcosystemModel

    region = dict(n_firms=300, intake_per_university=250, n_universities=2, horizon_months=36)
    for seed in (3, 4):
        model = EcosystemModel(rng=seed, **region).run(5)
        twin = copy.deepcopy(model)
        twin.run(12)
        model.run(12)
        straight = EcosystemModel(rng=seed, **region).run(17)
        assert twin.indicators() == straight.indicators() == model.indicators()


@pytest.mark.parametrize("order", [list(range(0, 30)), [29, 3, 4, 5, 0, 1, 2, 17, 16, 18]])
def test_month_jumps_are_advances_in_whatever_order_they_are_asked_for(monkeypatch, order):
    # A month's jump is derived from the month before when that one is known, and worked out
    # from scratch when not: either way it is the state PCG64.advance reaches.
    monkeypatch.setattr(rng, "_JUMPS", {})
    for month in order:
        a, b = rng.month_jump(month)
        bits = np.random.PCG64(5)
        start = bits.state["state"]
        bits.advance(month << 64)
        assert (a * start["state"] + b * start["inc"]) % 2**128 == bits.state["state"]["state"]


@pytest.mark.parametrize("copier", ["none", "deepcopy", "pickle"])
def test_a_purpose_used_twice_in_a_month_raises(copier: str) -> None:
    # A second use in the same month would repeat the month's numbers; the next month, or
    # another purpose, is fine. A copy remembers which months its streams were used in.
    import copy
    import pickle

    streams = Streams(np.random.SeedSequence(4))
    streams.get("research", 3)
    streams.get("firms.growth", 3)
    if copier != "none":
        streams = (copy.deepcopy(streams) if copier == "deepcopy"
                   else pickle.loads(pickle.dumps(streams)))
    with pytest.raises(RuntimeError, match="'research' used twice in month 3"):
        streams.get("research", 3)
    streams.get("research", 4)
    streams.get("collaboration.search", 4)
    with pytest.raises(RuntimeError, match="used twice in month 4"):
        streams.get("research", 4)
    with pytest.raises(RuntimeError, match="used twice in month 3"):
        streams.get("firms.growth", 3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_standard_normals_are_the_months_numpy_draws(seed: int) -> None:
    # Streams.standard_normal draws in compiled code through the run's typed List of
    # Generators: the numbers and the state after them are numpy's draw of the month's
    # stream, for purposes taken in any order (each has its own place in the List).
    root = np.random.SeedSequence(seed)
    compiled = Streams(root)
    for month in (0, 1, 2, 7, 119):
        for i, purpose in enumerate(PURPOSES[::-1] if month % 2 else PURPOSES):
            n = (0, 1, 3, 3000)[(i + month) % 4]
            got = compiled.standard_normal(purpose, month, n)
            expected = advanced(root, purpose, month)
            np.testing.assert_array_equal(got, expected.standard_normal(n))
            assert (compiled._gens[purpose][0].state["state"]
                    == expected.bit_generator.state["state"])


@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
def test_a_copy_makes_its_own_compiled_draws(copier: str) -> None:
    # A copy made after compiled draws draws from its own generators: the original's
    # streams stay where the original leaves them.
    import copy
    import pickle

    original = Streams(np.random.SeedSequence(8))
    for purpose in PURPOSES[:3]:
        original.standard_normal(purpose, 0, 5)
    twin = (copy.deepcopy(original) if copier == "deepcopy"
            else pickle.loads(pickle.dumps(original)))
    for month in (1, 2):
        for purpose in PURPOSES[:3]:
            got = twin.standard_normal(purpose, month, 6)
            expected = advanced(original.root, purpose, month).standard_normal(6)
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(original.standard_normal(purpose, month, 6), expected)


def test_a_compiled_draw_is_the_months_use_of_its_stream() -> None:
    streams = Streams(np.random.SeedSequence(4))
    streams.standard_normal("firms.growth", 3, 10)
    with pytest.raises(RuntimeError, match=r"'firms\.growth' used twice in month 3"):
        streams.get("firms.growth", 3)
    streams.get("firms.margin", 3)
    with pytest.raises(RuntimeError, match=r"'firms\.margin' used twice in month 3"):
        streams.standard_normal("firms.margin", 3, 10)
    streams.standard_normal("firms.growth", 4, 10)
