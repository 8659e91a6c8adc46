"""The model's qualitative claims (issue 6), as tests of direction on paired seeds.

Each claim compares two arms of one small region on the same seeds: replication ``j`` of both
arms is ``EcosystemModel(rng=SeedSequence(ROOT, spawn_key=(j,)), ...)``, so the arms share their
random numbers and the difference per seed is precise (common random numbers). A claim holds
when the one-sided 95% bound of the paired mean difference is on the claimed side of 0 (the
lower bound of a paired-t interval at 90% two-sided confidence, ``paired_interval``), not just
its mean.

The region is small so that the file runs in seconds: 500 firms, 500 students a year at each of
three universities, faculty and government budget scaled down with them (student-staff ratio and
budget per firm of the default region), four years: long enough for the cohort admitted in
month 1 to graduate (June of its fourth year, month 46) with every month of its teaching inside
the run.

Set ``HELIXSIM_CLAIMS_ROOT`` to re-run every claim on other seeds (the tests were developed on
many roots, each claim with a wide margin).
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
from numpy.random import SeedSequence

from experiments.analysis import Interval, paired_interval
from simulation import EcosystemModel
from simulation.parameters import CHANNELS, SKILLS

ROOT = int(os.environ.get("HELIXSIM_CLAIMS_ROOT", "20240606"))
REGION = dict(n_firms=500, intake_per_university=500, faculty_per_university=120,
              gov_budget=42.5, horizon_months=48)
# 2.0's industry partners are its capstone partner firms (teaching.recruit_capstones).
NO_PARTNERS = dict(capstone_students_per_firm=0.0)
NO_BROKERAGE = dict(channel_brokerage=False)
SKILL_COLUMNS = [f"skill_{s}" for s in SKILLS]


def one_sided(diff: list[float] | np.ndarray) -> Interval:
    """Paired-t interval whose low (high) end is the one-sided 95% lower (upper) bound."""
    return paired_interval(diff, confidence=0.90)


def show(iv: Interval) -> str:
    return f"mean {iv.mean:.4g}, one-sided 95% bounds [{iv.low:.4g}, {iv.high:.4g}], n={iv.n}"


def _graduate_leads(model: EcosystemModel) -> dict[str, float]:
    """Lead of 2.0 and 3.0 graduates over 1.0 graduates of the run, in mean skill (4 skills).

    Graduates of the cohorts admitted during the run only, so that every month of their
    teaching happened under the run's channels (earlier cohorts carry classroom-only years).
    """
    t = model.student_table()
    grads = t[(t.intake_month >= 1) & (t.graduation_month >= 0)]
    skill = grads[SKILL_COLUMNS].mean(axis=1).groupby(grads.programme, observed=False).agg(
        ["mean", "size"])
    assert (skill["size"] >= 20).all(), f"too few graduates per programme: {skill['size']}"
    return {p: float(skill.loc[p, "mean"] - skill.loc["1.0", "mean"]) for p in ("2.0", "3.0")}


def _reach(model: EcosystemModel) -> float:
    """Share of the run's projects whose university is not the firm's home university."""
    pr, f = model.world.projects, model.world.firms
    if pr.n == 0:
        return float("nan")
    firms = pr.firm[: pr.n]
    return float((pr.university[: pr.n] != f.home_university[firms]).mean())


@functools.cache
def summary(j: int, **overrides) -> dict:
    """Outcomes of replication ``j`` of the region with ``overrides`` (cached across tests)."""
    model = EcosystemModel(rng=SeedSequence(ROOT, spawn_key=(j,)), **{**REGION, **overrides})
    model.run()
    df = model.dataframe()
    return {
        "projects_started": float(df.projects_started.sum()),
        "mean_active_projects": float(df.active_projects.iloc[1:].mean()),
        "platform_matches": float(df.platform_matches.sum()),
        "brokered_started": model.world.totals.get("brokered_projects_started", 0.0),
        "capstone_partners": model.world.totals.get("capstone_partners", 0.0),
        "reach": _reach(model),
        "leads": _graduate_leads(model),
        "welfare": df.welfare.to_numpy(),
    }


def paired(seeds: int, outcome, a: dict, b: dict) -> np.ndarray:
    """Per seed: outcome(arm b) - outcome(arm a)."""
    return np.array([outcome(summary(j, **b)) - outcome(summary(j, **a)) for j in range(seeds)])


# --- 1. more matching grants give more university-industry projects ------------------------

MATCHING_SEEDS = 6


@pytest.mark.parametrize("outcome", ["projects_started", "mean_active_projects"])
def test_higher_matching_rate_gives_more_projects(outcome: str) -> None:
    """Matching rate 0.8 against 0.2 (share of a project's cost a grant pays): more projects
    started over the run and more active on average."""
    d = paired(MATCHING_SEEDS, lambda s: s[outcome], dict(matching_rate=0.2),
               dict(matching_rate=0.8))
    iv = one_sided(d)
    assert iv.low > 0, f"{outcome}, rate 0.8 - 0.2: {show(iv)}"


BUDGET_SEEDS = 24
MORE_MATCHING_MONEY = dict(budget_share_matching_grants=0.30, budget_share_block_grants=0.15)


@pytest.mark.xfail(strict=True, reason=(
    "FINDING: in the calibrated default region the matching-grant pot is not binding. Firms' "
    "demand for projects is low (the CIS co-operation target needs a search rate of 0.001), "
    "so grants due use about two thirds of the monthly release (1.4 of 2.1 MCU/month) and "
    "every grant is paid in full; doubling the pot changes no project (paired difference 0 on "
    "every seed), and the unspent money is reallocated to untied instruments at the year end. "
    "More generous grants (a higher matching rate) do raise projects "
    "(test_higher_matching_rate_gives_more_projects): demand, not money, is the constraint."))
def test_more_matching_grant_money_gives_more_projects() -> None:
    """The matching-grant share of the budget doubled (0.15 -> 0.30), taken from block grants,
    at the default matching rate: more active projects on average.

    Money reaches projects only when the pot cannot pay every grant due: a firm's decision to
    search and whether it can afford a project look at the nominal matching rate whenever the
    pot holds any money, which after the monthly release it always does; extra money pays a
    larger share of the grants due, so it reaches projects through firms' cash (fewer
    projects end early for want of it).
    """
    d = paired(BUDGET_SEEDS, lambda s: s["mean_active_projects"], {}, MORE_MATCHING_MONEY)
    iv = one_sided(d)
    assert iv.low > 0, f"mean active projects, matching share 0.30 - 0.15: {show(iv)}"


# --- 2. a platform raises matches ---------------------------------------------------------

PLATFORM_SEEDS = 6


@pytest.mark.parametrize("outcome", ["platform_matches", "projects_started", "reach"])
def test_platform_raises_matches(outcome: str) -> None:
    """platform_on against off: matches through the platform, projects started over the run
    (searches of platform members succeed more often), and firms' reach: the share of
    projects with a university other than the firm's home university (without the platform
    only brokered projects leave home)."""
    d = paired(PLATFORM_SEEDS, lambda s: s[outcome], dict(platform_on=False),
               dict(platform_on=True))
    iv = one_sided(d)
    assert iv.low > 0, f"{outcome}, platform on - off: {show(iv)}"


# --- 3 and 4. 2.0 without industry partners and 3.0 without brokerage lose their edge -------
#
# What "edge" means, from the parameters. Both programmes' classroom rates are below 1.0's in
# specialist and digital skill and above them in entrepreneurial and leadership skill
# (teach_rate_1_0 = (.030, .004, .004, .022), teach_rate_2_0 = (.022, .006, .006, .017),
# teach_rate_3_0 = (.020, .006, .008, .015)); industry_rate_2_0 and immersion_rate_3_0 add to
# all four skills in proportion to the university's project (2.0) or brokered live-project
# (3.0) slots per student. No single skill can carry the edge, so the edge is the lead of the
# programme's graduates over 1.0 graduates of the same run in *mean skill over the four skills*
# (what graduate_premium pays for and the graduate_skill indicator reports). "Loses its edge"
# then has two readings, tested separately:
#   (a) the edge falls: the lead is smaller without partners than with them (paired difference
#       of the leads, lower bound > 0), with partners there is a lead (lower bound > 0) and the
#       partner-less arm really has no projects of the kind the programme needs;
#   (b) no edge is left: without partners the programme's graduates are no better than 1.0's
#       (upper bound of the lead <= 0).
# Reading (b) failed with the first classroom rates, (.024, .010, .010, .018) for 2.0 and
# (.020, .008, .010, .016) for 3.0: spread more evenly over the skills, their gains
# 1 - (1 - r)^40 summed to more than 1.0's (1.80 and 1.64 against 1.59), so a quarter of 2.0's
# edge survived without partners. the ODD says 2.0's extra gains vanish without partners, so
# the classroom rates were lowered to sum to less than 1.0's (1.51 and 1.50).

SKILL_SEEDS = 8


def _leads(programme: str, arm: dict) -> np.ndarray:
    return np.array([summary(j, **arm)["leads"][programme] for j in range(SKILL_SEEDS)])


def test_2_0_edge_falls_without_industry_partners() -> None:
    """Reading (a) for 2.0: without capstone partner firms 2.0 keeps only its classroom rates
    and its lead over 1.0 falls."""
    assert all(summary(j, **NO_PARTNERS)["capstone_partners"] == 0 for j in range(SKILL_SEEDS))
    assert all(summary(j)["capstone_partners"] > 0 for j in range(SKILL_SEEDS))
    with_partners, without = _leads("2.0", {}), _leads("2.0", NO_PARTNERS)
    assert one_sided(with_partners).low > 0, \
        f"2.0 lead with partners: {show(one_sided(with_partners))}"
    iv = one_sided(with_partners - without)
    assert iv.low > 0, f"2.0 lead with partners - without: {show(iv)}"


def test_2_0_without_industry_partners_has_no_edge_left() -> None:
    """Reading (b) for 2.0: without partners 2.0 graduates are no better than 1.0's."""
    iv = one_sided(_leads("2.0", NO_PARTNERS))
    assert iv.high <= 0, f"2.0 lead without partners: {show(iv)}"


def test_3_0_edge_falls_without_brokerage() -> None:
    """Reading (a) for 3.0: with the brokerage channel closed there are no brokered projects,
    so no live-project slots and 3.0 keeps only its classroom rates; its lead over 1.0 falls.
    (Whether there is a lead with brokerage at all is the next test's finding.)"""
    assert all(summary(j, **NO_BROKERAGE)["brokered_started"] == 0 for j in range(SKILL_SEEDS))
    assert all(summary(j)["brokered_started"] > 0 for j in range(SKILL_SEEDS))
    iv = one_sided(_leads("3.0", {}) - _leads("3.0", NO_BROKERAGE))
    assert iv.low > 0, f"3.0 lead with brokerage - without: {show(iv)}"


@pytest.mark.xfail(strict=True, reason=(
    "FINDING (issue 10, after the recalibration of 2026-12-01): brokered matches are offers "
    "that firms accept only when the knowledge they expect (at knowledge_output_elasticity) "
    "pays for their cost share and management time, so in this region only 4-13 brokered "
    "projects start in 48 months (root 20240606, 8 seeds). Their live-project slots lift 3.0 "
    "graduates by +0.033 in mean skill (paired, one-sided 95% bounds [+0.024, +0.042]) from "
    "-0.035 without brokerage to -0.002 [-0.014, +0.009] with it: level with 1.0, no "
    "lead. Before issue 10 (every brokered match accepted) the lead was +0.071."))
def test_3_0_leads_1_0_with_brokerage() -> None:
    """With brokerage, 3.0 graduates lead 1.0's in mean skill (the other half of reading (a))."""
    iv = one_sided(_leads("3.0", {}))
    assert iv.low > 0, f"3.0 lead with brokerage: {show(iv)}"


def test_3_0_without_brokerage_has_no_edge_left() -> None:
    """Reading (b) for 3.0: without brokerage 3.0 graduates are no better than 1.0's."""
    iv = one_sided(_leads("3.0", NO_BROKERAGE))
    assert iv.high <= 0, f"3.0 lead without brokerage: {show(iv)}"


# --- 5. the siloed run has zero dividend ----------------------------------------------------

SILO_SEEDS = 6


def test_siloed_run_has_zero_dividend() -> None:
    """A scenario with every channel closed is the siloed counterfactual itself: welfare is
    identical, month by month, on every seed, so the dividend is exactly 0 with interval
    [0, 0]. The platform is switched on in both arms, so that the comparison would notice a
    platform that kept running with its channel closed."""
    closed = {f"channel_{c}": False for c in CHANNELS}
    d = []
    for j in range(SILO_SEEDS):
        scenario = summary(j, platform_on=True, **closed)["welfare"]
        siloed = summary(j, platform_on=True, siloed=True)["welfare"]
        assert np.array_equal(scenario, siloed), f"seed {j}: welfare differs"
        d.append(scenario[-1] - siloed[-1])
    iv = one_sided(d)
    assert (iv.mean, iv.low, iv.high) == (0.0, 0.0, 0.0), show(iv)
