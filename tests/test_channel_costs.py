"""Every cross-helix channel has costs and can fail (issue 10).

Faculty time is a shared capacity; projects divert firm staff, can be abandoned and lower
trust when they fail; offered matches must pay for the firm; learning from a partner is
absorption x novelty; incubator, platform and brokerage carry running costs; publications
follow an inverted U in industry collaboration; no firm ever runs more projects than its slots.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.knowledge import absorption, inverted_u, learning, novelty, rowwise_distance
from simulation.mechanisms.collaboration import (
    abandon_probability,
    firms_in_projects,
    project_slots,
)
from simulation.mechanisms.research import publication_multiplier, time_left
from simulation.parameters import DEFAULTS, INSTRUMENTS

BUSY = dict(n_universities=3, n_firms=300, intake_per_university=300, horizon_months=24,
            share_edu_3_0=0.4, share_edu_2_0=0.3, platform_on=True, search_rate=0.05,
            spinoff_rate=0.5)
SEEDS = (1, 2, 3)


def run(seed: int = 1, months: int | None = None, **kw) -> EcosystemModel:
    model = EcosystemModel(rng=seed, **{**BUSY, **kw})
    return model.run(months)


# --- learning = absorption x novelty --------------------------------------------------------
def _pair(distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors in 2-D at cosine distance ``distance``."""
    cos = 1.0 - distance
    return np.array([[1.0, 0.0]]), np.array([[cos, np.sqrt(1.0 - cos**2)]])


def test_absorption_falls_and_novelty_rises_with_distance():
    d = np.linspace(0.0, 1.0, 21)
    a, v = absorption(d, 0.4, 2.0), novelty(d, 0.4, 2.0)
    assert (np.diff(a) < 0).all() and (np.diff(v) > 0).all()
    assert a[0] == 1.0 and v[0] == 0.0
    # Their product is the inverted U, 1 at d*.
    np.testing.assert_allclose(a * v, inverted_u(d, 0.4, 2.0), rtol=1e-12)


def test_learning_is_zero_from_an_identical_partner_and_peaks_at_the_optimum():
    own = np.array([[3.0, 1.0]])
    assert learning(own, own * 5.0, 0.1, 1.0, 0.4, 2.0).sum() == pytest.approx(0.0, abs=1e-12)
    gains = []
    for d in (0.1, 0.25, 0.4, 0.6, 0.9):
        a, b = _pair(d)
        gains.append(learning(a, b, 0.1, 1.0, 0.4, 2.0).sum())
    assert int(np.argmax(gains)) == 2


def test_learning_at_the_optimum_is_rate_times_own_level_over_capacity_along_partner():
    a, b = _pair(0.4)
    a = a * 10.0  # own level 10
    got = learning(a, b * 7.0, rate=0.05, capacity=4.0, optimum=0.4, decay=2.0)
    # At d* absorption x novelty = 1: rate x level / capacity, split by the partner's profile.
    want = 0.05 * 10.0 / 4.0 * b / b.sum()
    np.testing.assert_allclose(got, want, rtol=1e-9)
    # The partner's size does not matter (learning is relative to the learner's stock) ...
    np.testing.assert_allclose(learning(a, b * 700.0, 0.05, 4.0, 0.4, 2.0), got, rtol=1e-9)


def test_novelty_is_counted_once():
    """Two partners at the same distance teach the same amount, however large the positive
    part of their profile difference (novelty enters through the distance only)."""
    own = np.array([[1.0, 1.0, 0.0, 0.0]])
    near_gap = np.array([[1.0, 0.0, 1.0, 0.0]])
    rot = np.array([[0.0, 1.0, 0.0, 1.0]])
    assert rowwise_distance(own, near_gap)[0] == pytest.approx(rowwise_distance(own, rot)[0])
    np.testing.assert_allclose(learning(own, near_gap, 0.1, 1.0, 0.4, 2.0).sum(),
                               learning(own, rot, 0.1, 1.0, 0.4, 2.0).sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_projects_move_knowledge_each_way_only_with_its_own_rate(seed):
    firms_only = run(seed, 12, feedback_rate=0.0)
    unis_only = run(seed, 12, transfer_rate=0.0)
    assert firms_only.world.totals["knowledge_to_universities"] == 0.0
    assert firms_only.world.totals["knowledge_to_firms"] > 0.0
    assert unis_only.world.totals["knowledge_to_firms"] == 0.0
    assert unis_only.world.totals["knowledge_to_universities"] > 0.0


# --- faculty time ---------------------------------------------------------------------------
def test_time_left_is_one_without_engagement_and_zero_when_engagement_takes_it_all():
    p = dict(DEFAULTS)
    faculty = np.array([100.0, 100.0])
    research, teaching = time_left(np.zeros(2), faculty, p)
    np.testing.assert_array_equal(research, 1.0)
    np.testing.assert_array_equal(teaching, 1.0)
    # 10 FTE engaged, 40% from teaching: 6 FTE of 40 research, 4 of 40 teaching.
    research, teaching = time_left(np.array([10.0, 1e6]), faculty, p)
    assert research[0] == pytest.approx(1 - 6 / 40) and teaching[0] == pytest.approx(1 - 4 / 40)
    assert research[1] == 0.0 and teaching[1] == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_staff_time_on_projects_costs_research_and_teaching(seed):
    none = dict(capstone_staff_fte=0.0, incubator_staff_fte=0.0)
    cheap = run(seed, 18, project_staff_fte=0.0, broker_staff_fte=0.0, **none)
    dear = run(seed, 18, project_staff_fte=3.0, broker_staff_fte=3.0, **none)
    assert (cheap.world.unis.research_time == 1.0).all()
    assert (dear.world.unis.research_time < 0.9).all()
    assert (dear.world.unis.teaching_time < 0.95).all()
    # Research output falls with the research time lost.
    assert dear.world.unis.publications.sum() < cheap.world.unis.publications.sum()


def test_research_led_1_0_learning_falls_with_engagement():
    from simulation.mechanisms.teaching import current_skills
    from simulation.state import ENROLLED

    lost = []
    for seed in SEEDS:
        means = []
        for fte in (0.0, 3.0):
            m = run(seed, 8, project_staff_fte=fte)
            st_ = m.world.students
            rows = np.flatnonzero((st_.status[: st_.n] == ENROLLED) & (st_.programme[: st_.n] == 0))
            means.append(current_skills(m.world, rows)[:, 0].mean())
        lost.append(means[0] - means[1])
    assert min(lost) > 0


# --- firms' costs: money and management time --------------------------------------------------
def test_management_time_counts_against_value_added():
    m = run(1, 6)
    f, pr = m.world.firms, m.world.projects
    act = pr.active_rows()
    assert len(act) > 0
    n = f.n
    per_firm = np.bincount(pr.firm[act], minlength=n) * DEFAULTS["project_firm_fte"]
    np.add.at(per_firm, m.world.unis.capstone_firm, DEFAULTS["capstone_firm_fte"])
    alive = f.alive[:n]  # a firm that exited this month lost its projects after they ran
    np.testing.assert_allclose(f.diverted[:n][alive],
                               np.minimum(per_firm, 0.5 * f.employees[:n])[alive])
    rows = np.flatnonzero((f.diverted[:n] > 0) & alive)
    prem = m.parameters["graduate_premium"]
    # Graduates of years before month 0 (prior_grad_skill) produce like alumni.
    want = f.productivity[rows] * (f.employees[rows] - f.diverted[rows]
                                   + prem * (f.grad_skill[rows] + f.prior_grad_skill[rows]))
    np.testing.assert_allclose(f.value_added(rows, prem), want)


# --- failure and abandonment ------------------------------------------------------------------
def test_abandonment_lowest_at_optimum_and_falls_with_trust():
    p = dict(DEFAULTS)
    d = np.array([0.0, 0.2, 0.4, 0.7, 1.0])
    h = abandon_probability(d, np.zeros(5), p)
    assert int(np.argmin(h)) == 2 and h[2] == pytest.approx(p["abandon_hazard"])
    trusted = abandon_probability(d, np.ones(5), p)
    np.testing.assert_allclose(trusted, h * (1 - p["abandon_trust_protect"]))
    assert (abandon_probability(d, np.zeros(5), {**p, "abandon_hazard": 0.0}) == 0).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_abandoned_projects_end_early_transfer_less_and_cost_trust(seed):
    never = run(seed, 18, abandon_hazard=0.0)
    often = run(seed, 18, abandon_hazard=0.3, trust_loss=1.0)
    assert never.world.totals.get("projects_abandoned", 0) == 0
    assert often.world.totals["projects_abandoned"] > 10
    pr = often.world.projects
    early = pr.failed[: pr.n] & ~pr.active[: pr.n] & (pr.end_step[: pr.n] > 18)
    assert early.any()
    # Abandoned projects ran fewer months, so firms learnt less in total.
    assert often.world.totals["knowledge_to_firms"] < never.world.totals["knowledge_to_firms"]


def test_a_failed_project_lowers_trust():
    """With every project failing (zero payoff means no success) trust can never rise."""
    m = run(2, 24, trust_gain=0.0, trust_loss=0.5)
    assert (m.world.firms.trust[: m.world.firms.n] == 0).all()
    gain = run(2, 24, trust_loss=0.0)
    loss = run(2, 24, trust_loss=1.0)
    assert loss.world.firms.trust.sum() < gain.world.firms.trust.sum()


# --- acceptance of offered matches ------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_offered_matches_are_declined_when_they_cannot_pay(seed):
    # Firms value knowledge by what it pays them (knowledge_output_elasticity): at zero,
    # every offer is worth nothing and is declined.
    worthless = run(seed, 12, knowledge_output_elasticity=0.0)
    assert worthless.world.totals.get("brokered_projects_started", 0) == 0
    assert worthless.world.totals.get("platform_matches", 0) == 0
    assert worthless.world.totals["brokered_offers_declined"] > 0
    valued = run(seed, 12, acceptance_horizon=450)  # the value of elasticity 1 over 36 months
    assert valued.world.totals["brokered_projects_started"] > 0


def test_firms_in_financial_trouble_decline():
    broke = run(1, 12, acceptance_cash_buffer=100.0)
    assert broke.world.totals.get("brokered_projects_started", 0) == 0
    assert broke.world.totals.get("platform_matches", 0) == 0
    # Their own searches at the home university are not offers and still form projects.
    assert broke.world.totals["projects_started"] > 0


# --- slots ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_no_firm_ever_ends_a_month_beyond_its_slots(seed):
    model = EcosystemModel(rng=seed, **{**BUSY, "broker_rate": 1.0, "match_probability": 1.0,
                                        "projects_per_faculty": 5.0, "search_rate": 0.5,
                                        "acceptance_horizon": 450,
                                        "horizon_months": 12})
    w = model.world
    for _ in range(12):
        slots = project_slots(w.firms.employees[: w.firms.n].copy(),
                              w.p["project_slot_employees"])
        model.step()
        running = firms_in_projects(w)[: len(slots)]
        assert (running <= slots).all(), (w.month, int((running - slots).max()))


# --- running costs ----------------------------------------------------------------------------
def _spend(model: EcosystemModel, instrument: str) -> np.ndarray:
    return model.dataframe()[f"spend_{instrument}"].to_numpy()


def test_incubator_running_cost_is_public_money_per_incubated_start_up():
    free = run(1, 24, incubator_running_cost=0.0, incubator_support=0.0)
    dear = run(1, 24, incubator_running_cost=0.01, incubator_support=0.0)
    assert free.world.totals["incubator_running_cost"] == 0.0
    assert _spend(free, "incubator_support").sum() == 0.0
    assert dear.world.totals["incubator_running_cost"] == pytest.approx(
        _spend(dear, "incubator_support").sum())
    assert dear.world.totals["incubator_running_cost"] > 0.0


def test_platform_running_cost_is_spent_every_live_month_only():
    late = run(1, 24, platform_launch_month=13)
    spend = _spend(late, "platform_investment")
    assert (spend[1:13] == 0).all()
    assert (spend[13:] >= min(DEFAULTS["platform_running_cost"],
                              late.parameters["gov_budget"]
                              * late.parameters["budget_share_platform_investment"] / 12)
            * (1 - 1e-12)).all()
    assert late.world.totals["platform_running_cost"] == pytest.approx(
        12 * DEFAULTS["platform_running_cost"])


def test_brokerage_running_cost_is_paid_per_brokered_project_month():
    model = EcosystemModel(rng=1, **{**BUSY, "matching_rate": 0.0, "social_cofunding_rate": 0.0,
                                     "acceptance_horizon": 450})
    w, pr, f = model.world, model.world.projects, model.world.firms
    paid, due = 0.0, 0.0
    for _ in range(12):
        model.step()
        rows = np.arange(pr.n)
        # Brokered projects that ran this month: still active, or ended by their firm's exit
        # later in the month (firm_dynamics runs after collaboration).
        ran = pr.brokered[rows] & (pr.active[rows] | ((f.exit_step[pr.firm[rows]] == w.month)
                                                      & (pr.end_step[rows] > w.month)
                                                      & (pr.start_step[rows] <= w.month)))
        due += DEFAULTS["broker_running_cost"] * ran.sum()
        paid = w.totals.get("brokerage_running_cost", 0.0)
    assert due > 0
    assert paid == pytest.approx(due, rel=1e-9)
    matching = INSTRUMENTS.index("matching_grants")
    assert w.gov.spent[matching] == pytest.approx(paid)


# --- publications -------------------------------------------------------------------------------
def test_publication_multiplier_is_an_inverted_u():
    j = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    m = publication_multiplier(j, 0.2, 0.5)
    assert m[0] == 1.0 and m[2] == pytest.approx(1.2) and m[4] == pytest.approx(1.0)
    assert m[1] < m[2] and m[3] < m[2]
    assert publication_multiplier(np.array([1.0]), 0.2, 0.25)[0] < 1.0  # beyond 2 j*: a loss
    assert publication_multiplier(np.array([1.0]), 2.0, 0.1)[0] == 0.0  # never negative
    assert (publication_multiplier(j, 0.0, 0.5) == 1.0).all()
