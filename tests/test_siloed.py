"""The siloed counterfactual and the channel switches.

With ``siloed=True`` no cross-helix flow happens (projects, internships, platform matches,
brokerage, incubation) and the tied instruments spend nothing, yet the government spends the
same money as in the integrated run by the end of every budget year. Each channel switch closes
exactly its own flows, and ``siloed=True`` is the same run as all five channels closed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from test_invariants import scenarios

from simulation import EcosystemModel
from simulation.world import INSTRUMENT_INDEX

CHANNELS = ("joint_research", "student_immersion", "incubation", "platform", "brokerage")
# A region where every channel is busy within two years: a large 3.0 share for brokerage and
# live projects, the platform from the start, frequent spin-offs.
BUSY = dict(n_firms=300, intake_per_university=300, n_universities=3, horizon_months=24,
            platform_on=True, share_edu_3_0=0.4, spinoff_rate=0.5, search_rate=0.05)
SEED = 17
CROSS_HELIX_INDICATORS = ("projects_started", "active_projects", "active_brokered_projects",
                          "platform_matches", "platform_members", "internships",
                          "share_firms_collaborating", "network_density",
                          "spend_matching_grants", "spend_incubator_support",
                          "spend_platform_investment")


def _run(seed: int = SEED, **overrides) -> EcosystemModel:
    return EcosystemModel(rng=seed, **{**BUSY, **overrides}).run()


def _df(model: EcosystemModel) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


@pytest.fixture(scope="module")
def integrated() -> EcosystemModel:
    return _run()


@pytest.fixture(scope="module")
def integrated_df(integrated: EcosystemModel) -> pd.DataFrame:
    return _df(integrated)


def test_integrated_run_exercises_every_channel(integrated: EcosystemModel,
                                                integrated_df: pd.DataFrame) -> None:
    """The other tests compare against this run: every flow they expect to vanish exists."""
    df, w = integrated_df, integrated.world
    for name in CROSS_HELIX_INDICATORS:
        assert df[name].sum() > 0, name
    pr = w.projects
    assert pr.brokered[: pr.n].any() and (~pr.brokered[: pr.n]).any()
    assert pr.via_platform[: pr.n].any()
    table = integrated.firm_table()
    assert (table["origin"] == "university_spinoff").any()
    assert w.firms.incubated[: w.firms.n].any()
    assert (w.students.tie_firm[: w.students.n] >= 0).any()


# --- siloed -------------------------------------------------------------------------------
@pytest.mark.parametrize("platform_on", [True, False])
def test_siloed_has_no_cross_helix_flows(platform_on: bool) -> None:
    model = _run(siloed=True, platform_on=platform_on)
    df, w = _df(model), model.world
    for name in CROSS_HELIX_INDICATORS:
        assert (df[name] == 0).all(), f"{name} is not zero in the siloed run"
    assert w.projects.n == 0
    assert w.totals.get("brokered_projects_started", 0) == 0
    assert not w.firms.platform_member[: w.firms.n].any()
    table = model.firm_table()
    assert not (table["origin"] == "university_spinoff").any()
    assert not w.firms.incubated[: w.firms.n].any()
    assert (table["founder_university"] == -1).all()
    assert (w.students.tie_firm[: w.students.n] == -1).all()
    # Students get only the classroom part of their programme.
    assert w.scratch.flows.get("engagement_2_0", 0.0) == 0.0
    assert w.scratch.flows.get("engagement_3_0", 0.0) == 0.0
    # Graduates still leave study and the untied instruments are paid.
    assert df["graduates_total"].iloc[-1] > 0
    assert df["spend_block_grants"].sum() > 0 and df["spend_rd_subsidies"].sum() > 0


def test_siloed_equals_all_channels_closed() -> None:
    siloed = _run(siloed=True)
    closed = _run(**{f"channel_{c}": False for c in CHANNELS})
    assert_frame_equal(_df(siloed), _df(closed), check_exact=True)
    assert_frame_equal(siloed.firm_table(), closed.firm_table(), check_exact=True)
    assert_frame_equal(siloed.student_table(), closed.student_table(), check_exact=True)


@pytest.mark.parametrize("horizon", [12, 24])
@pytest.mark.parametrize("seed", [1, 2])
def test_siloed_spends_the_same_money_by_year_end(horizon: int, seed: int) -> None:
    integrated = _df(_run(seed, horizon_months=horizon))
    siloed = _df(_run(seed, horizon_months=horizon, siloed=True))
    total_i, total_s = integrated["spend_total"].sum(), siloed["spend_total"].sum()
    assert total_i > 0
    assert math.isclose(total_i, total_s, rel_tol=1e-9), (total_i, total_s)
    # Nothing is left over either way: the year end sweeps the tied pots into untied ones.
    assert integrated["gov_unspent"].iloc[-1] == pytest.approx(0.0, abs=1e-9)
    assert siloed["gov_unspent"].iloc[-1] == pytest.approx(0.0, abs=1e-9)


def test_same_money_released_every_month_spent_by_each_year_end() -> None:
    """Mid-year the integrated run holds demand-driven money (matching grants, incubator
    support, platform investment) that it sweeps into untied instruments only at the year end
    (accounting.close_year), while the siloed run reroutes those releases to untied instruments
    every month (policy.monthly_release). So cumulative spending differs mid-year by design;
    what both runs share every month is the money released, and at every year end (month 12,
    24, ...) and at the horizon (the books close there too) the money spent.
    """
    integrated = _df(_run(3, horizon_months=30))
    siloed = _df(_run(3, horizon_months=30, siloed=True))
    released_i = integrated["spend_total"].cumsum() + integrated["gov_unspent"] \
        + integrated["gov_returned"]
    released_s = siloed["spend_total"].cumsum() + siloed["gov_unspent"] + siloed["gov_returned"]
    np.testing.assert_allclose(released_i.to_numpy(), released_s.to_numpy(), rtol=1e-9,
                               atol=1e-9)
    spent_i, spent_s = integrated["spend_total"].cumsum(), siloed["spend_total"].cumsum()
    for month in (12, 24, 30):
        assert math.isclose(spent_i.iloc[month], spent_s.iloc[month], rel_tol=1e-9)
    # Mid-year the integrated run holds tied money the siloed run has already spent.
    assert spent_i.iloc[18] < spent_s.iloc[18]
    assert integrated["gov_unspent"].iloc[30] == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=scenarios(), seed=st.integers(0, 2**32 - 1), horizon=st.sampled_from([12, 24]))
def test_year_end_spending_parity_over_random_parameters(params: dict, seed: int,
                                                        horizon: int) -> None:
    params = {**params, "horizon_months": horizon, "unspent_policy": "reallocate",
              "siloed": False,
              "timeline": [e for e in params["timeline"] if e[0] <= horizon]}
    integrated = _df(EcosystemModel(rng=seed, **params).run())
    siloed = _df(EcosystemModel(rng=seed, **{**params, "siloed": True}).run())
    total_i, total_s = integrated["spend_total"].sum(), siloed["spend_total"].sum()
    assert math.isclose(total_i, total_s, rel_tol=1e-9, abs_tol=1e-9), (total_i, total_s)


@pytest.mark.parametrize("no_rd", [{"rd_intensity": 0.0}, {"productivity": 0.0}],
                         ids=["rd_intensity=0", "productivity=0"])
def test_year_end_parity_when_firms_do_no_rd(no_rd: dict) -> None:
    """Regression: R&D subsidies used to stay unpaid when no living firm had positive own
    R&D, so the siloed run (which routes more money there) spent less."""
    params = dict(n_firms=100, intake_per_university=100, n_universities=1, horizon_months=12,
                  **no_rd)
    integrated = EcosystemModel(rng=0, **params).run()
    siloed = EcosystemModel(rng=0, siloed=True, **params).run()
    rd = INSTRUMENT_INDEX["rd_subsidies"]
    # Untied instruments pay out their whole balance (accounting.py docstring).
    assert integrated.world.gov.balance[rd] == pytest.approx(0.0, abs=1e-9)
    assert siloed.world.gov.balance[rd] == pytest.approx(0.0, abs=1e-9)
    assert math.isclose(_df(integrated)["spend_total"].sum(), _df(siloed)["spend_total"].sum(),
                        rel_tol=1e-9)


# --- one channel at a time --------------------------------------------------------------------
def test_no_projects_without_joint_research_and_brokerage(integrated_df) -> None:
    model = _run(channel_joint_research=False, channel_brokerage=False)
    df = _df(model)
    for name in ("projects_started", "active_projects", "active_brokered_projects",
                 "platform_matches", "spend_matching_grants"):
        assert (df[name] == 0).all(), name
    assert model.world.projects.n == 0
    assert integrated_df["projects_started"].sum() > 0
    # Without projects the only ties left are 2.0 capstones (student immersion, not projects).
    st_ = model.world.students
    tied = st_.tie_firm[: st_.n] >= 0
    assert (st_.programme[: st_.n][tied] == 1).all()


def test_only_brokered_projects_without_joint_research() -> None:
    model = _run(channel_joint_research=False)
    pr = model.world.projects
    assert pr.n > 0, "brokerage alone should still start projects in this region"
    assert pr.brokered[: pr.n].all()
    assert (_df(model)["platform_matches"] == 0).all()


def test_no_brokered_projects_without_brokerage(integrated_df) -> None:
    model = _run(channel_brokerage=False)
    df, pr = _df(model), model.world.projects
    assert (df["active_brokered_projects"] == 0).all()
    assert not pr.brokered[: pr.n].any()
    assert model.world.totals.get("brokered_projects_started", 0) == 0
    assert df["projects_started"].sum() > 0  # joint research still runs
    assert integrated_df["active_brokered_projects"].sum() > 0


def test_no_internships_without_student_immersion(integrated_df) -> None:
    model = _run(channel_student_immersion=False)
    df, w = _df(model), model.world
    assert (df["internships"] == 0).all()
    assert (w.students.tie_firm[: w.students.n] == -1).all()
    assert w.totals.get("internships", 0) == 0
    assert df["projects_started"].sum() > 0  # projects still run, without students on them
    assert integrated_df["internships"].sum() > 0


def test_no_platform_without_platform_channel(integrated_df) -> None:
    model = _run(channel_platform=False, platform_on=True)
    df, w = _df(model), model.world
    for name in ("platform_members", "platform_matches", "spend_platform_investment"):
        assert (df[name] == 0).all(), name
    assert not w.firms.platform_member[: w.firms.n].any()
    assert not w.projects.via_platform[: w.projects.n].any()
    assert not any(u.runs_platform for u in model.universities)
    assert integrated_df["platform_matches"].sum() > 0
    assert integrated_df["platform_members"].iloc[-1] > 0


def test_no_platform_before_launch() -> None:
    model = EcosystemModel(rng=SEED, **{**BUSY, "platform_launch_month": 13})
    for _ in range(12):
        model.step()
        ind = model.indicators()
        assert ind["platform_members"] == 0 and ind["platform_matches"] == 0
        assert ind["spend_platform_investment"] == 0
    model.run()
    assert _df(model)["platform_members"].iloc[-1] > 0


def test_no_incubation_without_incubation_channel(integrated: EcosystemModel) -> None:
    model = _run(channel_incubation=False)
    table, w = model.firm_table(), model.world
    assert not (table["origin"] == "university_spinoff").any()
    assert not w.firms.incubated[: w.firms.n].any()
    assert (table["founder_university"] == -1).all()
    assert (_df(model)["spend_incubator_support"] == 0).all()
    assert w.totals.get("spinoffs", 0) == 0
    reference = integrated.firm_table()
    assert (reference["origin"] == "university_spinoff").any()
    assert integrated.world.firms.incubated[: integrated.world.firms.n].any()
