"""EcosystemModel.change_lever: a lever moved while a run is under way (the dashboard's Compare
page) acts from the next month, is a timeline event, and is refused as a scenario's is."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.model import EcosystemModel
from simulation.parameters import ParameterError
from simulation.scenarios import load

SMALL = {"n_firms": 120, "intake_per_university": 60, "horizon_months": 24}
SEEDS = (1, 7, 23)


def _model(seed: int, **extra) -> EcosystemModel:
    return EcosystemModel(rng=seed, parameters=load("baseline").parameters.replace(
        **SMALL, **extra))


@pytest.mark.parametrize("seed", SEEDS)
def test_a_change_acts_from_the_next_month_and_not_before(seed: int) -> None:
    changed, untouched = _model(seed), _model(seed)
    changed.run(6)
    untouched.run(6)
    assert changed.change_lever("gov_budget", 0.0) == (7, "gov_budget", 0.0)
    assert changed.world.p["gov_budget"] > 0  # month 6 is done; nothing acts before month 7
    released = changed.world.gov.released.sum()
    changed.step()
    untouched.step()
    # No budget released in month 7, while the untouched run releases its twelfth.
    assert changed.world.gov.released.sum() == released < untouched.world.gov.released.sum()
    assert changed.world.p["gov_budget"] == 0.0
    assert changed.levers["gov_budget"] == 0.0
    a, b = changed.dataframe(), untouched.dataframe()
    pd.testing.assert_frame_equal(a.loc[:6], b.loc[:6])  # the months before stay as they were
    assert not a.loc[7].equals(b.loc[7])


@pytest.mark.parametrize("seed", SEEDS)
def test_the_parameters_replay_a_run_changed_mid_way(seed: int) -> None:
    live = _model(seed)
    live.run(5)
    live.change_lever("matching_rate", 0.9)
    live.run(4)
    live.change_lever("retention_subsidy", 0.0)
    live.run()
    assert live.lever_changes == [(6, "matching_rate", 0.9), (10, "retention_subsidy", 0.0)]
    assert [ev for ev in live.parameters["timeline"] if ev[0] in (6, 10)] == live.lever_changes
    replay = EcosystemModel(rng=seed, parameters=live.parameters).run()
    pd.testing.assert_frame_equal(live.dataframe(), replay.dataframe())
    plain = _model(seed).run()
    assert not live.dataframe().equals(plain.dataframe())


def test_a_change_has_the_last_word_in_its_month() -> None:
    """A scenario event for the same lever in the same month does not undo the change."""
    m = _model(3, timeline=((4, "matching_rate", 0.1),))
    m.run(3)
    m.change_lever("matching_rate", 0.7)
    m.step()
    assert m.world.p["matching_rate"] == 0.7


@pytest.mark.parametrize("name, value, fragment", [
    ("n_firms", 100, "not a policy lever"),
    ("matching_rate", 1.5, "outside its valid range"),
    ("platform_on", "maybe", "platform_on"),
    ("budget_share_block_grants", 0.9, "must sum to 1"),
])
def test_a_refused_change_changes_nothing(name: str, value, fragment: str) -> None:
    m = _model(1)
    m.run(2)
    before = m.parameters
    with pytest.raises(ParameterError, match=fragment):
        m.change_lever(name, value)
    assert m.parameters is before and m.lever_changes == []
    assert m.world.p.parameters is before


def test_no_change_after_the_horizon() -> None:
    m = _model(1).run()
    with pytest.raises(ParameterError, match="at its horizon"):
        m.change_lever("matching_rate", 0.5)
