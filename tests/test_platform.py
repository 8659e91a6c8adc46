"""The X-Eco Mall as a platform (issue 10): membership with joining costs, network effects,
matching across universities, running costs, investment with diminishing returns, and a
platform that is never live contributes exactly zero to the Shapley attribution."""

from __future__ import annotations

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from simulation import EcosystemModel
from simulation.mechanisms import digital
from simulation.mechanisms.collaboration import network_value
from simulation.mechanisms.digital import investment_boost
from simulation.mechanisms.policy import set_lever
from simulation.parameters import CHANNELS, DEFAULTS, INSTRUMENTS

REGION = dict(n_universities=3, n_firms=300, intake_per_university=300, horizon_months=24,
              share_edu_3_0=0.4, search_rate=0.05)
SEEDS = (1, 2, 3)


def run(seed: int = 1, **kw) -> EcosystemModel:
    return EcosystemModel(rng=seed, **{**REGION, **kw}).run()


# --- a never-live platform is exactly a closed channel ------------------------------------------
@pytest.mark.parametrize("never_live", [dict(platform_on=False),
                                        dict(platform_on=True, platform_launch_month=100)])
@pytest.mark.parametrize("seed", SEEDS)
def test_never_live_platform_runs_exactly_as_the_closed_channel(never_live, seed):
    idle = run(seed, **never_live)
    closed = run(seed, **never_live, channel_platform=False)
    assert_frame_equal(idle.dataframe(), closed.dataframe(), check_exact=True)
    assert_frame_equal(idle.firm_table(), closed.firm_table(), check_exact=True)
    assert idle.world.gov.spent[INSTRUMENTS.index("platform_investment")] == 0.0


@pytest.mark.parametrize("others_open", [True, False])
def test_never_live_platform_has_zero_shapley_marginals(others_open):
    """Every marginal contribution of an idle platform to W is exactly zero, so its Shapley
    value is zero (shown for the coalitions of all and of none of the other channels)."""
    others = {f"channel_{c}": others_open for c in CHANNELS if c != "platform"}
    for seed in SEEDS:
        with_p = run(seed, platform_on=False, channel_platform=True, **others).world.welfare
        without = run(seed, platform_on=False, channel_platform=False, **others).world.welfare
        assert with_p == without


# --- membership, joining costs and network effects -------------------------------------------
@pytest.mark.parametrize("cost", [0.0, 0.02, 5.0])
def test_joining_costs_the_firm_net_of_the_subsidy_and_needs_the_cash(cost):
    m = EcosystemModel(rng=1, **{**REGION, "platform_on": True, "platform_join_cost": cost,
                                 "platform_join_subsidy": 0.5, "platform_join_rate": 0.5})
    w, f = m.world, m.world.firms
    w.gov.balance[INSTRUMENTS.index("platform_investment")] = 100.0  # a full pot
    cash = f.cash[: f.n].copy()
    digital.apply(w)  # month 0, platform live from launch month 0
    joined = f.platform_member[: f.n]
    assert joined.any()
    assert (cash[joined] >= cost).all()  # only firms that could pay joined
    # The subsidy pays half of each cost as far as this month's allocation, after the
    # running cost, allows.
    monthly = m.parameters["gov_budget"] * m.parameters["budget_share_platform_investment"] / 12
    left = monthly - min(m.parameters["platform_running_cost"], monthly)
    subsidy = min(0.5 * cost * joined.sum(), left)
    assert w.totals.get("platform_join_subsidy", 0.0) == pytest.approx(subsidy)
    np.testing.assert_allclose(f.cash[: f.n][joined], cash[joined] - cost + subsidy / joined.sum())
    np.testing.assert_allclose(f.cash[: f.n][~joined], cash[~joined])
    if cost == 5.0:
        assert (cash < cost).any() and not joined[cash < cost].any()


@pytest.mark.parametrize("seed", SEEDS)
def test_network_effect_raises_membership(seed):
    flat = run(seed, platform_on=True, platform_network_effect=0.0)
    strong = run(seed, platform_on=True, platform_network_effect=20.0)
    assert strong.dataframe()["platform_members"].iloc[-1] > flat.dataframe()[
        "platform_members"].iloc[-1]


def test_network_value_grows_with_number_and_variety_of_members():
    m = EcosystemModel(rng=1, **{**REGION, "platform_on": True})
    w = m.world
    f = w.firms
    assert network_value(w) == 0.0
    alive = np.flatnonzero(f.alive[: f.n])
    main = np.argmax(f.knowledge[alive], axis=1)
    one_domain = alive[main == main[0]]
    f.platform_member[one_domain[:5]] = True
    few_same = network_value(w)
    f.platform_member[one_domain] = True
    many_same = network_value(w)
    # Same number of members as many_same, but spread over every domain present.
    f.platform_member[:] = False
    spread = np.concatenate([alive[main == d][:1] for d in np.unique(main)])
    rest = np.setdiff1d(alive, spread)[: max(len(one_domain) - len(spread), 0)]
    f.platform_member[np.concatenate([spread, rest])] = True
    varied = network_value(w)
    assert 0 < few_same < many_same < varied <= 1
    set_lever(w, "platform_on", False)  # a lever change is run state
    assert network_value(w) == 0.0  # no value while not live


# --- matching, running cost and investment ------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_platform_matches_reach_other_universities(seed):
    m = run(seed, platform_on=True, acceptance_horizon=450)
    pr, f = m.world.projects, m.world.firms
    via = np.flatnonzero(pr.via_platform[: pr.n])
    assert len(via) > 0
    assert (pr.university[via] != f.home_university[pr.firm[via]]).all()
    assert f.platform_member[pr.firm[via]].all()


def test_running_cost_comes_first_and_caps_at_the_allocation():
    monthly = DEFAULTS["gov_budget"] * DEFAULTS["budget_share_platform_investment"] / 12
    m = run(1, platform_on=True, platform_running_cost=10 * monthly)
    spend = m.dataframe()["spend_platform_investment"].to_numpy()[1:]
    np.testing.assert_allclose(spend, monthly, rtol=1e-12)
    assert m.world.totals.get("platform_join_subsidy", 0.0) == 0.0  # nothing left for it


def test_investment_boost_has_diminishing_returns_per_unit_money():
    x = np.linspace(0.0, 1.0, 11)
    b = np.array([investment_boost(v, 2.0, 0.05) for v in x])
    assert b[0] == 1.0 and (np.diff(b) > 0).all() and (np.diff(b, 2) < 0).all()
    assert b[-1] < 3.0
    assert investment_boost(0.05, 2.0, 0.05) == pytest.approx(2.0)
    assert investment_boost(1.0, 0.0, 0.05) == 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_platform_raises_members_digital_maturity(seed):
    off = run(seed, platform_on=False)
    on = run(seed, platform_on=True)
    assert on.dataframe()["mean_digital_maturity"].iloc[-1] > off.dataframe()[
        "mean_digital_maturity"].iloc[-1]
