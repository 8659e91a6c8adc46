"""The direction of every policy lever, the teaching calendar and the exit-hazard age bands.

Each lever is moved on paired seeds (common random numbers), everything else equal, and the
outcome it acts on directly must move the way docs/ODD.md says, on every seed. Outcomes are
chosen close to the lever (departures for the retention subsidy, projects for the matching
rate, survival of incubated start-ups for incubator support, ...), so the tests say which way
a mechanism pushes without pinning the size of the push, which the model may change.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.mechanisms.teaching import current_skills
from simulation.state import ENROLLED, INCUMBENT

SMALL = dict(n_universities=2, n_firms=300, intake_per_university=300, horizon_months=24)
SEEDS = (1, 2, 3, 5)
FIRST_JUNE = 10  # month 1 is September


def run(seed: int, months: int | None = None, **kw) -> EcosystemModel:
    model = EcosystemModel(rng=seed, **{**SMALL, **kw})
    return model.run(months)


def total(model: EcosystemModel, key: str) -> float:
    return float(model.world.totals.get(key, 0.0))


# --- government levers ---------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_retention_subsidy_lowers_departures(seed):
    """At the first graduation nothing else differs yet: the covered graduates are a superset
    and each is less likely to leave, so fewer leave, on every seed."""
    rich_pot = dict(budget_share_retention_subsidy=0.30, budget_share_block_grants=0.10)
    none = run(seed, FIRST_JUNE, retention_subsidy=0.0, **rich_pot)
    paid = run(seed, FIRST_JUNE, retention_subsidy=0.003, **rich_pot)
    assert none.indicators()["graduates_total"] == paid.indicators()["graduates_total"] > 0
    assert paid.indicators()["spend_retention_subsidy"] > 0
    assert none.indicators()["spend_retention_subsidy"] == 0
    assert paid.indicators()["alumni_left"] < none.indicators()["alumni_left"]
    # A stronger effect of the same payment: fewer departures still.
    strong = run(seed, FIRST_JUNE, retention_subsidy=0.003, retention_effect=0.9, **rich_pot)
    assert strong.indicators()["alumni_left"] < paid.indicators()["alumni_left"]


@pytest.mark.parametrize("seed", SEEDS)
def test_matching_rate_raises_collaboration(seed):
    none = run(seed, matching_rate=0.0)
    full = run(seed, matching_rate=1.0)
    assert total(full, "searches") > total(none, "searches")
    assert total(full, "projects_started") > total(none, "projects_started")
    # The matching pot also pays the broker's office (broker_running_cost), whatever the rate:
    # what goes to the firms is the rest.
    grants = {m: m.dataframe()["spend_matching_grants"].sum()
              - total(m, "brokerage_running_cost") for m in (none, full)}
    assert grants[none] == pytest.approx(0.0, abs=1e-12)
    assert grants[full] > 0


# Spin-offs only: whether a graduate founds depends on the jobs the surviving firms offer, so
# the support would change which graduate start-ups are incubated (founder_rate=0).
STARTUPS = dict(spinoff_rate=1.0, startup_cash=0.02, margin_sigma=0.2, founder_rate=0.0)


def incubated_alive(model: EcosystemModel) -> tuple[int, int]:
    f = model.world.firms
    inc = f.incubated[: f.n]
    return int(inc.sum()), int(f.alive[: f.n][inc].sum())


def test_incubator_support_keeps_more_incubated_start_ups_alive():
    """Summed over the seeds: on one seed in twenty the support's feedbacks (a richer start-up
    takes on projects and their costs) cost one start-up more than it saves."""
    gained = 0
    for seed in SEEDS:
        n0, alive0 = incubated_alive(run(seed, incubator_support=0.0, **STARTUPS))
        n1, alive1 = incubated_alive(run(seed, incubator_support=0.05, **STARTUPS))
        assert n0 == n1 > 0  # the same start-ups were incubated
        gained += alive1 - alive0
    assert gained > 0


def test_incubator_hazard_cut_keeps_more_incubated_start_ups_alive():
    gained = 0
    for seed in SEEDS:
        n0, alive0 = incubated_alive(run(seed, incubator_hazard_cut=0.0, **STARTUPS))
        n1, alive1 = incubated_alive(run(seed, incubator_hazard_cut=1.0, **STARTUPS))
        assert n0 == n1 > 0
        assert alive1 >= alive0, seed
        gained += alive1 - alive0
    assert gained > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_platform_brings_members_digital_maturity_and_platform_matches(seed):
    off = run(seed, platform_on=False, search_rate=0.1)
    on = run(seed, platform_on=True, search_rate=0.1)
    d_off, d_on = off.dataframe(), on.dataframe()
    assert d_off["platform_members"].max() == 0 and d_off["platform_matches"].sum() == 0
    assert d_on["platform_members"].iloc[-1] > 0
    assert d_on["platform_matches"].sum() > 0
    assert d_on["mean_digital_maturity"].iloc[-1] > d_off["mean_digital_maturity"].iloc[-1]
    # More effect of the service investment: members' maturity rises faster (joining depends on
    # a firm's own maturity and the network value, not on the investment: docs/ODD.md).
    more = run(seed, platform_on=True, search_rate=0.1, platform_investment_effect=20.0)

    def members_maturity(model: EcosystemModel) -> float:
        f = model.world.firms
        members = f.alive[: f.n] & f.platform_member[: f.n]
        return float(f.digital[: f.n][members].mean())

    assert members_maturity(more) > members_maturity(on)


@pytest.mark.parametrize("seed", SEEDS)
def test_budget_shares_move_money_to_their_instruments(seed):
    """Moving 15% of the budget from R&D subsidies to research grants gives universities
    more money and knowledge and firms less subsidised R&D. (Publications are Poisson draws
    whose means move little: on paired seeds they do not rise on every seed.)"""
    firms_first = run(seed, budget_share_rd_subsidies=0.20, budget_share_research_grants=0.15)
    unis_first = run(seed, budget_share_rd_subsidies=0.05, budget_share_research_grants=0.30)
    a, b = firms_first.dataframe(), unis_first.dataframe()
    assert b["spend_research_grants"].sum() > a["spend_research_grants"].sum()
    assert b["spend_rd_subsidies"].sum() < a["spend_rd_subsidies"].sum()
    assert b["university_knowledge"].iloc[-1] > a["university_knowledge"].iloc[-1]
    assert total(unis_first, "rd_spending") < total(firms_first, "rd_spending")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_larger_budget_funds_more_research_and_more_rd(seed):
    small_budget, large_budget = run(seed, gov_budget=50.0), run(seed, gov_budget=500.0)
    assert (large_budget.dataframe()["spend_total"].sum()
            > small_budget.dataframe()["spend_total"].sum())
    assert (large_budget.indicators()["university_knowledge"]
            > small_budget.indicators()["university_knowledge"])
    assert total(large_budget, "rd_spending") > total(small_budget, "rd_spending")


@pytest.mark.parametrize("seed", SEEDS)
def test_more_education_model_3_0_means_more_brokered_projects(seed):
    low = run(seed, share_edu_3_0=0.1, share_edu_2_0=0.1)
    high = run(seed, share_edu_3_0=0.8, share_edu_2_0=0.1)
    assert total(high, "brokered_projects_started") > total(low, "brokered_projects_started")


# --- the teaching calendar -----------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS[:2])
def test_teaching_runs_september_to_june_and_stops_in_july_and_august(seed):
    model = EcosystemModel(rng=seed, **{**SMALL, "programme_years": 4})
    w = model.world
    st = w.students
    # First-year students of month 1 are enrolled through both years (unless they drop out).
    rows = np.flatnonzero((st.year[: st.n] == 1) & (st.status[: st.n] == ENROLLED))
    taught = []
    for _ in range(24):
        before = current_skills(w, rows)
        model.step()
        still = st.status[rows] == ENROLLED
        gain = (current_skills(w, rows[still]) - before[still]).sum(axis=1)
        taught.append((w.calendar_month, bool((gain > 0).all()), bool((gain == 0).all())))
    months = [m for m, _, _ in taught]
    assert months[:12] == [9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8]
    for month, everyone_gained, nobody_gained in taught:
        if month in (7, 8):
            assert nobody_gained, f"teaching in calendar month {month}"
        else:
            assert everyone_gained, f"no teaching in calendar month {month}"


# --- exit-hazard age bands -----------------------------------------------------------------

BANDS = {"exit_hazard_young": (0, 12), "exit_hazard_mid": (12, 60),
         "exit_hazard_mature": (60, 10_000)}


@pytest.mark.parametrize("band", sorted(BANDS))
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_exit_hazard_age_bands_first_year_years_two_to_five_and_mature(band, seed):
    """Only one band's hazard is 1 (the others 0, no size effect, cash plentiful): in month 1
    exactly the firms whose age falls in that band exit. Ages: first year 0-11 months,
    years 2-5 12-59 months, mature from 60 months."""
    hazards = dict.fromkeys(BANDS, 0.0) | {band: 1.0}
    model = EcosystemModel(rng=seed, **{**SMALL, **hazards, "n_firms": 1500,
                                        "exit_size_elasticity": 0.0,
                                        "initial_cash_months": 1000.0, "entry_rate": 0.0})
    f = model.world.firms
    inc = np.flatnonzero(f.origin[: f.n] == INCUMBENT)
    model.step()
    age = model.world.month - f.birth_step[inc]  # age at the exit check of month 1
    lo, hi = BANDS[band]
    in_band = (age >= lo) & (age < hi)
    np.testing.assert_array_equal(~f.alive[inc], in_band)
    # The edges of the band were populated, so an off-by-one shift would show.
    edges = {lo, hi - 1} - {0} if hi < 10_000 else {lo}
    for edge in edges:
        assert (age == edge).any(), edge
    for outside in (lo - 1, hi):
        if 0 < outside < 240:
            assert (age == outside).any() and f.alive[inc][age == outside].all(), outside


# --- levers changed during a run (the timeline) -------------------------------------------

MIXES = {"share_edu_3_0": (0.8, (0.0, 0.2, 0.8)), "share_edu_2_0": (0.7, (0.2, 0.7, 0.1)),
         "edu_mix_by_university": (((0.5, 0.0, 0.5), (0.5, 0.0, 0.5)), (0.5, 0.0, 0.5))}


@pytest.mark.parametrize("lever", sorted(MIXES))
def test_a_scheduled_mix_change_shapes_the_next_intake_only(lever):
    value, want = MIXES[lever]
    model = EcosystemModel(rng=SEEDS[0], **{**SMALL, "intake_per_university": 1500,
                                            "share_edu_2_0": 0.2, "share_edu_3_0": 0.1,
                                            "timeline": [(6, lever, value)]})
    model.run(13)  # the change at month 6; the next intake in September, month 13
    st = model.world.students
    prog = st.programme[: st.n]
    new, first = st.intake_step[: st.n] == 13, st.intake_step[: st.n] == 1
    shares = np.bincount(prog[new], minlength=3) / new.sum()
    np.testing.assert_allclose(shares, want, atol=0.03)
    np.testing.assert_allclose(np.bincount(prog[first], minlength=3) / first.sum(),
                               (0.7, 0.2, 0.1), atol=0.03)


def test_a_scheduled_budget_cut_releases_less_from_that_month():
    model = EcosystemModel(rng=SEEDS[0], **{**SMALL, "timeline": [(5, "gov_budget", 60.0),
                                                                  (7, "matching_rate", 0.2)]})
    released = []
    for _ in range(8):
        before = float(model.world.gov.released.sum())
        model.step()
        released.append(float(model.world.gov.released.sum()) - before)
    np.testing.assert_allclose(released[:4], model.parameters["gov_budget"] / 12.0)
    np.testing.assert_allclose(released[4:], 60.0 / 12.0)
    assert model.world.p["matching_rate"] == 0.2
