"""Determinism: the same seed and inputs give the same run, in this process or a worker process;
the random streams are keyed by name (and month), so closing a channel does not shift the
numbers that unrelated mechanisms draw.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from simulation import EcosystemModel
from simulation.rng import Streams, root_sequence, stream
from simulation.state import INCUMBENT

SMALL = dict(n_firms=200, intake_per_university=200, n_universities=2, horizon_months=18,
             platform_on=True, share_edu_3_0=0.3)
CHANNELS = ("joint_research", "student_immersion", "incubation", "platform", "brokerage")


def run_model(params: dict, seed: int) -> pd.DataFrame:
    """Build and run a model; module level so a spawned worker process can import it."""
    model = EcosystemModel(rng=seed, **params)
    model.run()
    return model.datacollector.get_model_vars_dataframe()


def _run(seed: int, **overrides) -> EcosystemModel:
    return EcosystemModel(rng=seed, **{**SMALL, **overrides}).run()


def test_same_seed_same_run() -> None:
    a, b = _run(5), _run(5)
    df_a = a.datacollector.get_model_vars_dataframe()
    df_b = b.datacollector.get_model_vars_dataframe()
    assert len(df_a) == SMALL["horizon_months"] + 1
    assert_frame_equal(df_a, df_b, check_exact=True)
    assert_frame_equal(a.firm_table(), b.firm_table(), check_exact=True)
    assert_frame_equal(a.student_table(), b.student_table(), check_exact=True)
    assert_frame_equal(a.dataframe(), b.dataframe(), check_exact=True)


def test_seed_forms_are_equivalent() -> None:
    """An int seed and the SeedSequence built from it are the same run."""
    a = _run(9)
    b = _run(np.random.SeedSequence(9))
    assert_frame_equal(a.datacollector.get_model_vars_dataframe(),
                       b.datacollector.get_model_vars_dataframe(), check_exact=True)


def test_different_seeds_differ() -> None:
    a, b = _run(5), _run(6)
    df_a = a.datacollector.get_model_vars_dataframe()
    df_b = b.datacollector.get_model_vars_dataframe()
    assert not df_a.equals(df_b)
    assert not a.firm_table().equals(b.firm_table())
    assert not a.student_table().equals(b.student_table())


def test_worker_process_equals_main_process() -> None:
    params = dict(SMALL, horizon_months=14)
    here = run_model(params, 21)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        there = pool.submit(run_model, params, 21).result(timeout=300)
    assert_frame_equal(here, there, check_exact=True)


# --- random streams ------------------------------------------------------------------------
PURPOSES = ("research", "collaboration.search", "firms.growth", "firms.exit", "innovation.hit",
            "labour.graduation", "digital.join")


@pytest.mark.parametrize("name", ["init", "teaching"])
def test_stream_is_keyed_by_name(name: str) -> None:
    root = np.random.SeedSequence(1234)
    alone = stream(root, name).random(8)
    # Creating other streams first, in any order, changes nothing for this name.
    for other in reversed(PURPOSES):
        stream(root, other).random(100)
    np.testing.assert_array_equal(alone, stream(root, name).random(8))
    np.testing.assert_array_equal(alone, stream(np.random.SeedSequence(1234), name).random(8))
    assert not np.array_equal(alone, stream(np.random.SeedSequence(1235), name).random(8))
    assert not np.array_equal(alone, stream(root, name + "x").random(8))


def test_month_streams_depend_only_on_purpose_and_month() -> None:
    root = np.random.SeedSequence(99)
    reference = Streams(root).get("firms.growth", 7).random(16)
    # Another Streams object that used other purposes and earlier months first.
    busy = Streams(np.random.SeedSequence(99))
    for month in range(7):
        for purpose in PURPOSES:
            busy.get(purpose, month).random(50)
    np.testing.assert_array_equal(busy.get("firms.growth", 7).random(16), reference)
    # Different purposes, months and roots give different numbers.
    fresh = Streams(root)
    draws = {(purpose, month): tuple(fresh.get(purpose, month).random(4))
             for month in (1, 2, 3) for purpose in PURPOSES}
    assert len(set(draws.values())) == len(draws)
    assert not np.array_equal(Streams(np.random.SeedSequence(98)).get("firms.growth", 7)
                              .random(16), reference)


def test_month_stream_cannot_be_reused_within_a_month() -> None:
    s = Streams(np.random.SeedSequence(5))
    s.get("research", 3)
    with pytest.raises(RuntimeError):
        s.get("research", 3)
    s.get("research", 4)  # the next month is fine


def test_root_sequence_is_reproducible() -> None:
    a = root_sequence(77).generate_state(4)
    b = root_sequence(np.random.SeedSequence(77)).generate_state(4)
    np.testing.assert_array_equal(a, b)
    g1 = root_sequence(np.random.default_rng(3)).generate_state(4)
    g2 = root_sequence(np.random.default_rng(3)).generate_state(4)
    np.testing.assert_array_equal(g1, g2)
    with pytest.raises(TypeError):
        root_sequence("seven")


CHANNEL_CONFIGS = [
    {"siloed": True},
    *({f"channel_{c}": False} for c in CHANNELS),
    {"channel_joint_research": False, "channel_brokerage": False},
    {"platform_on": False},
]


@pytest.mark.parametrize("config", CHANNEL_CONFIGS, ids=lambda c: ",".join(c))
def test_initial_state_independent_of_channels(config: dict) -> None:
    base = EcosystemModel(rng=3, **SMALL)
    other = EcosystemModel(rng=3, **{**SMALL, **config})
    assert_frame_equal(base.firm_table(), other.firm_table(), check_exact=True)
    assert_frame_equal(base.student_table(), other.student_table(), check_exact=True)
    np.testing.assert_array_equal(base.world.unis.knowledge, other.world.unis.knowledge)


@pytest.mark.parametrize("config", CHANNEL_CONFIGS, ids=lambda c: ",".join(c))
def test_closing_channels_keeps_other_mechanisms_draws(config: dict) -> None:
    """Month 1 (September): nothing a channel does can feed back yet into university
    publications (research runs before collaboration) or incumbents' growth shocks, so those
    must be identical across channel configurations. If the mechanisms shared one stream,
    the collaboration draws a channel removes would shift them.
    """
    base = EcosystemModel(rng=8, **SMALL)
    other = EcosystemModel(rng=8, **{**SMALL, **config})
    base.step()
    other.step()
    assert base.indicators()["publications"] == other.indicators()["publications"]
    np.testing.assert_array_equal(base.world.unis.publications, other.world.unis.publications)
    fb, fo = base.world.firms, other.world.firms
    inc = np.flatnonzero(fb.origin[: fb.n] == INCUMBENT)
    assert inc.size == SMALL["n_firms"]
    np.testing.assert_array_equal(fb.size[inc], fo.size[inc])
    np.testing.assert_array_equal(fb.employees[inc], fo.employees[inc])
    np.testing.assert_array_equal(fb.alive[inc], fo.alive[inc])


@pytest.mark.parametrize("config", CHANNEL_CONFIGS, ids=lambda c: ",".join(c))
def test_closing_channels_keeps_enrolment_history(config: dict) -> None:
    """Admission, dropout and graduation timing draw from streams no channel touches, so who
    is admitted, who drops out and who graduates when is the same in every configuration."""
    base = _run(4)
    other = _run(4, **config)
    a, b = base.student_table(), other.student_table()
    assert len(a) == len(b)
    columns = ["university", "programme", "intake_month", "graduation_month", "interest"]
    assert_frame_equal(a[columns], b[columns], check_exact=True)
    np.testing.assert_array_equal(a["status"] == "dropped_out", b["status"] == "dropped_out")
    assert (a["graduation_month"] >= 0).any()
