"""The government's year end (accounting.close_year): what demand-driven instruments did not
spend is reallocated to the untied ones, returned, or carried over, however small the amount,
whichever instrument had nothing left, and however the untied shares are set."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.parameters import INSTRUMENTS

IDX = {name: i for i, name in enumerate(INSTRUMENTS)}
SMALL = dict(n_universities=2, n_firms=150, intake_per_university=150, horizon_months=13)
# No matching grants at all (nothing left there at the year end) and a retention subsidy of
# zero: the pot is released but nobody is due anything, so its whole, small allocation is left
# over. A year's retention money: 6.0 x 0.10 = 0.6 MCU. (A platform that never opens leaves
# nothing: its money is rerouted at release, policy.py.)
LEFTOVER = dict(gov_budget=6.0, retention_subsidy=0.0, budget_share_retention_subsidy=0.10,
                budget_share_matching_grants=0.0, budget_share_block_grants=0.45)
POT = IDX["retention_subsidy"]


def books_after_year_end(seed: int, **kw):
    model = EcosystemModel(rng=seed, **{**SMALL, **LEFTOVER, **kw})
    model.run(12)
    return model, model.world.gov


@pytest.mark.parametrize("seed", [1, 2])
def test_small_leftovers_are_reallocated_after_an_instrument_with_nothing_left(seed):
    model, gov = books_after_year_end(seed, unspent_policy="reallocate")
    assert gov.spent[POT] == 0 and gov.released[POT] == pytest.approx(0.6)
    assert gov.balance[POT] == 0.0  # moved on, though less than 1 MCU
    assert gov.returned == 0.0
    assert model.world.totals["unspent_reallocate"] >= 0.6 - 1e-12


@pytest.mark.parametrize("seed", [1, 2])
def test_small_leftovers_are_returned(seed):
    model, gov = books_after_year_end(seed, unspent_policy="return")
    assert gov.balance[POT] == 0.0
    assert gov.returned >= 0.6 - 1e-12
    assert model.world.totals["unspent_return"] == pytest.approx(gov.returned)


def test_carry_over_keeps_the_leftover_in_its_pot():
    _, gov = books_after_year_end(1, unspent_policy="carry_over")
    assert gov.balance[POT] == pytest.approx(0.6)
    assert gov.returned == 0.0


def reallocated_to(**shares):
    """Where a year's leftovers went: the change of the untied balances at the year end."""
    model = EcosystemModel(rng=3, **{**SMALL, **LEFTOVER, **shares,
                                     "unspent_policy": "reallocate"})
    model.run(11)
    gov = model.world.gov
    # Month 12: the year end moves the leftovers before this month's untied payments, which pay
    # out whole balances: what each untied instrument spends beyond its month-12 release is
    # the money moved to it (untied pots are empty at the start of a month).
    released = gov.released.copy()
    spent = gov.spent.copy()
    model.step()
    left = model.world.scratch.flows["unspent_reallocate"]
    extra = {n: float((gov.spent[IDX[n]] - spent[IDX[n]])
                      - (gov.released[IDX[n]] - released[IDX[n]]))
             for n in ("block_grants", "rd_subsidies")}
    return left, extra


def test_leftovers_follow_the_untied_shares():
    left, extra = reallocated_to(budget_share_block_grants=0.30, budget_share_rd_subsidies=0.15,
                                 budget_share_research_grants=0.35)
    assert left > 0
    assert extra["block_grants"] == pytest.approx(left * 2 / 3, rel=1e-9)
    assert extra["rd_subsidies"] == pytest.approx(left / 3, rel=1e-9)


def test_leftovers_split_evenly_when_the_untied_shares_are_zero():
    left, extra = reallocated_to(budget_share_block_grants=0.0, budget_share_rd_subsidies=0.0,
                                 budget_share_research_grants=0.80)
    assert left > 0
    assert np.isfinite(list(extra.values())).all()
    assert extra["block_grants"] == pytest.approx(left / 2, rel=1e-9)
    assert extra["rd_subsidies"] == pytest.approx(left / 2, rel=1e-9)
