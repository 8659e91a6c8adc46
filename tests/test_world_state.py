"""The World holds declared state only: no mailboxes, one month scratch, set-up in build_world.

Mechanisms pass values to each other within a month only through ``World.scratch`` (a
``state.MonthScratch``), which ``World.begin_month`` renews each step. These tests fail if a
mechanism (or the model) leaves an undeclared attribute on World or on one of its parts, if
the scratch survives into the next month, or if the world's set-up moves back out of
``build_world``.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation import mechanisms as mech
from simulation.mechanisms.research import reference_funding
from simulation.parameters import RunParameters, resolve
from simulation.rng import root_sequence
from simulation.state import MonthScratch, Universities
from simulation.world import Government, World, build_world

# A small region that opens every channel (2.0 capstones, 3.0 brokerage, the platform) and
# runs through a June graduation and two Septembers.
BASE = dict(n_universities=2, n_firms=250, intake_per_university=250, horizon_months=15,
            share_edu_2_0=0.3, share_edu_3_0=0.4, platform_on=True, platform_launch_month=2,
            search_rate=0.2)
SEEDS = (2, 5, 11)


def undeclared(obj) -> set[str]:
    return set(vars(obj)) - {f.name for f in fields(obj)}


@pytest.mark.parametrize("seed", SEEDS)
def test_world_has_only_its_declared_fields_after_a_run(seed):
    model = EcosystemModel(rng=seed, **BASE)
    seen = set()
    for _ in range(BASE["horizon_months"]):
        model.step()
        w = model.world
        for obj in (w, w.scratch, w.unis, w.gov):
            seen |= {f"{type(obj).__name__}.{name}" for name in undeclared(obj)}
    assert seen == set(), f"undeclared attributes (mailboxes?) set during the run: {seen}"
    assert type(model.world.scratch) is MonthScratch
    assert {type(model.world.unis), type(model.world.gov)} == {Universities, Government}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_scratch_lives_one_month(seed):
    """Each month starts with a fresh scratch: a flow counted only in September (the intake,
    from the second September on: month 1's cohorts are the initial state) appears only in
    those months, and no month's scratch is the previous one's."""
    model = EcosystemModel(rng=seed, **BASE)
    scratches = []
    for _ in range(BASE["horizon_months"]):
        model.step()
        w = model.world
        scratches.append(w.scratch)
        admitted = w.scratch.flows.get("admitted", 0.0)
        if w.calendar_month == 9 and w.month > 1:
            assert admitted > 0
        else:
            assert admitted == 0.0, f"month {w.month}: September's intake still in the flows"
        assert w.scratch.value_added is not None and w.scratch.live_fill is not None
    assert len({id(s) for s in scratches}) == len(scratches)
    assert all(isinstance(s, MonthScratch) for s in scratches)


@pytest.mark.parametrize("seed", SEEDS)
def test_build_world_returns_a_world_ready_to_step(seed):
    """A world from build_world alone, stepped through the mechanisms, runs exactly as the
    model's: the model's constructor adds nothing to the world."""
    params = resolve(None, **BASE)
    w = build_world(RunParameters(params, {}), root_sequence(seed))
    assert isinstance(w, World)
    assert w.ref_funding == reference_funding(w)
    np.testing.assert_array_equal(w.unis.funding, w.ref_funding * w.unis.faculty)
    assert w.unis.grant_share.shape == (w.unis.count,)
    model = EcosystemModel(rng=seed, parameters=params)
    for _ in range(BASE["horizon_months"]):
        w.begin_month()
        for mechanism in mech.ORDER:
            mechanism.apply(w)
        model.step()
        assert w.welfare == model.world.welfare
        np.testing.assert_array_equal(w.unis.funding, model.world.unis.funding)
        assert w.scratch.flows == model.world.scratch.flows
