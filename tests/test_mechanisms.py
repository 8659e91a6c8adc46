"""Analytic and limiting cases of each mechanism: what must hold exactly, by construction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import EcosystemModel
from simulation.knowledge import cosine_distance, inverted_u
from simulation.mechanisms.collaboration import (
    firms_in_projects,
    project_slots,
    within_capacity,
)
from simulation.mechanisms.firm_dynamics import (
    absorb,
    absorptive_inflow,
    absorptive_steady_state,
    exit_hazard,
    growth_shock,
)
from simulation.mechanisms.innovation import gains_from_uniforms, hazard
from simulation.mechanisms.policy import monthly_release
from simulation.mechanisms.research import output_multiplier
from simulation.mechanisms.teaching import current_skills
from simulation.parameters import DEFAULTS, INSTRUMENTS
from simulation.state import DROPPED_OUT, ENROLLED

SMALL = dict(n_universities=2, n_firms=200, intake_per_university=300, horizon_months=24)


def small(rng: int = 3, **kw) -> EcosystemModel:
    return EcosystemModel(rng=rng, **{**SMALL, **kw})


def series(model: EcosystemModel, name: str) -> np.ndarray:
    return model.dataframe()[name].to_numpy()


# --- teaching -------------------------------------------------------------------------------

def expected_classroom_skills(model: EcosystemModel, rows: np.ndarray, s0: np.ndarray,
                              months_taught: int) -> np.ndarray:
    """Skills after ``months_taught`` classroom-only months: 1 - (1 - s0) (1 - R)^(a n)."""
    st_ = model.world.students
    rates = np.array([model.parameters[f"teach_rate_{v}"] for v in ("1_0", "2_0", "3_0")])
    r = rates[st_.programme[rows]]
    a = st_.aptitude[rows].astype(float)[:, None]
    return 1.0 - (1.0 - s0) * (1.0 - r) ** (a * months_taught)


@pytest.mark.parametrize("closed", [dict(channel_student_immersion=False),
                                    dict(channel_joint_research=False, channel_brokerage=False,
                                         capstone_students_per_firm=0.0)])
def test_without_partners_2_0_and_3_0_students_gain_only_classroom_rates(closed):
    # Engagement time taken only from research, so the classroom keeps its full staff.
    model = small(share_edu_2_0=0.4, share_edu_3_0=0.4, engagement_from_teaching=0.0,
                  **closed)
    st_ = model.world.students
    rows = np.flatnonzero((st_.intake_step[: st_.n] == 1) & (st_.programme[: st_.n] > 0))
    s0 = st_.skills[rows].astype(float)
    model.run(8)  # September to April: eight teaching months, no June events yet
    still = st_.status[rows] == ENROLLED
    got = current_skills(model.world, rows[still])
    want = expected_classroom_skills(model, rows[still], s0[still], 8)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_industry_partners_add_to_2_0_and_brokerage_to_3_0_gains():
    open_ = small(share_edu_2_0=0.4, share_edu_3_0=0.4)
    shut = small(share_edu_2_0=0.4, share_edu_3_0=0.4, channel_student_immersion=False)
    for m in (open_, shut):
        m.run(8)
    assert open_.world.projects.active_rows().size > 0
    for programme in (1, 2):
        st_ = open_.world.students
        rows = np.flatnonzero((st_.status[: st_.n] == ENROLLED)
                              & (st_.programme[: st_.n] == programme))
        with_partners = current_skills(open_.world, rows).mean()
        classroom = current_skills(shut.world, rows).mean()
        assert with_partners > classroom


def test_no_teaching_in_summer():
    model = small()
    model.run(9)  # to the end of May... then June, July, August
    model.run(1)  # June: teaching then graduation
    st_ = model.world.students
    rows = np.flatnonzero(st_.status[: st_.n] == ENROLLED)
    before = current_skills(model.world, rows)
    model.run(2)  # July and August
    still = st_.status[rows] == ENROLLED
    np.testing.assert_array_equal(current_skills(model.world, rows[still]), before[still])


def test_skills_stay_in_unit_interval_under_extreme_rates():
    model = small(teach_rate_1_0=(0.5, 0.5, 0.5, 0.5), industry_rate_2_0=(0.5,) * 4,
                  teach_rate_2_0=(0.5,) * 4, aptitude_sigma=2.0, horizon_months=14)
    model.run()
    skills = model.student_table().filter(like="skill_").to_numpy()
    assert np.isfinite(skills).all()
    assert skills.min() >= 0.0 and skills.max() <= 1.0


# --- policy and accounting ------------------------------------------------------------------

def test_zero_budget_funds_nothing():
    model = small(gov_budget=0.0).run()
    df = model.dataframe()
    spend = df[[f"spend_{i}" for i in INSTRUMENTS]].to_numpy()
    assert (spend == 0).all()
    assert model.world.gov.released.sum() == 0
    assert (model.world.firms.subsidy[: model.world.firms.n] == 0).all()


def test_release_is_budget_share_and_closed_channels_reroute_to_untied():
    open_ = small(platform_on=True)
    release = monthly_release(open_.world)
    p = open_.parameters
    want = np.array([p["gov_budget"] / 12 * p[f"budget_share_{i}"] for i in INSTRUMENTS])
    np.testing.assert_allclose(release, want)

    shut = small(channel_platform=False, channel_incubation=False)
    moved = monthly_release(shut.world)
    idx = {name: i for i, name in enumerate(INSTRUMENTS)}
    assert moved[idx["platform_investment"]] == 0 and moved[idx["incubator_support"]] == 0
    assert moved.sum() == pytest.approx(release.sum(), rel=1e-12)
    extra = release[idx["platform_investment"]] + release[idx["incubator_support"]]
    gained = (moved - release)[[idx["block_grants"], idx["rd_subsidies"]]]
    share = np.array([p["budget_share_block_grants"], p["budget_share_rd_subsidies"]])
    np.testing.assert_allclose(gained, extra * share / share.sum())


@pytest.mark.parametrize("policy", ["return", "carry_over", "reallocate"])
def test_idle_platform_money_flows_as_when_the_channel_is_closed(policy):
    """Platform channel open but the platform never live: its money is rerouted at release,
    month by month, exactly as with the channel closed, whatever the unspent policy."""
    idle = small(platform_on=False, unspent_policy=policy, horizon_months=24).run()
    closed = small(platform_on=False, channel_platform=False, unspent_policy=policy,
                   horizon_months=24).run()
    platform = INSTRUMENTS.index("platform_investment")
    gov = idle.world.gov
    assert gov.spent[platform] == 0 and gov.released[platform] == 0
    assert gov.balance[platform] == 0
    np.testing.assert_array_equal(gov.spent, closed.world.gov.spent)
    np.testing.assert_array_equal(idle.dataframe().to_numpy(), closed.dataframe().to_numpy())


def test_gini_of_equal_and_concentrated_values():
    from simulation.indicators import gini
    assert gini(np.full(10, 3.0)) == pytest.approx(0.0, abs=1e-12)
    assert gini(np.r_[np.zeros(9), 5.0]) == pytest.approx(0.9)


# --- research -------------------------------------------------------------------------------

def test_research_multiplier_is_one_at_reference_and_positive_without_money():
    faculty = np.array([100.0, 100.0, 100.0])
    funding = np.array([0.0, 0.5, 1.0])
    mult = output_multiplier(funding, faculty, reference=0.005, elasticity=0.5)
    assert mult[1] == pytest.approx(1.0)
    assert 0 < mult[0] < mult[1] < mult[2]


# --- knowledge and collaboration --------------------------------------------------------------

def test_cosine_distance_bounds():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    d = cosine_distance(a, a)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-12)
    assert d[0, 1] == pytest.approx(1.0)
    np.testing.assert_allclose(d, d.T)


def test_inverted_u_peaks_at_optimal_distance():
    d = np.linspace(0.0, 1.0, 101)
    pay = inverted_u(d, 0.4, 2.0)
    assert pay[0] == 0.0
    assert d[np.argmax(pay)] == pytest.approx(0.4)
    assert pay.max() == pytest.approx(1.0)
    assert (np.diff(pay[d >= 0.4]) < 0).all() and (np.diff(pay[d <= 0.4]) > 0).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=60), st.lists(st.integers(0, 6), min_size=5,
                                                              max_size=5), st.integers(0, 99))
def test_within_capacity_never_exceeds_capacity(groups, capacity, seed):
    groups, capacity = np.array(groups, dtype=np.int64), np.array(capacity)
    keep = within_capacity(groups, capacity, np.random.default_rng(seed))
    kept = np.bincount(groups[keep], minlength=5)
    assert (kept <= capacity).all()
    # It keeps as many as it may: min(members, capacity) per group.
    assert (kept == np.minimum(np.bincount(groups, minlength=5), capacity)).all()


def test_no_matching_grant_spending_when_matching_rate_is_zero():
    """At matching rate 0 the pot pays no grant; what it spends is the broker's office running
    cost of brokered projects (issue 10), which is paid from it whatever the rate."""
    model = small(matching_rate=0.0).run()
    office = model.world.totals.get("brokerage_running_cost", 0.0)
    assert series(model, "spend_matching_grants").sum() == pytest.approx(office, abs=1e-12)
    assert series(model, "projects_started").sum() > 0
    free_office = small(matching_rate=0.0, broker_running_cost=0.0).run()
    assert series(free_office, "spend_matching_grants").sum() == 0


def test_project_slots_one_per_slot_size_and_at_least_one():
    slots = project_slots(np.array([0, 1, 49, 50, 99, 100, 1000]), 50)
    assert slots.tolist() == [1, 1, 1, 1, 1, 2, 20]


def test_no_firm_starts_a_project_beyond_its_slots():
    """Slots are set by the employees at the time of the search (start of the month); a firm
    that starts a project this month runs at most that many at the end of it."""
    model = small(search_rate=1.0, match_probability=1.0, projects_per_faculty=5.0,
                  project_slot_employees=20, broker_rate=1.0, horizon_months=12)
    w, pr = model.world, model.world.projects
    peak = 0
    for _ in range(12):
        slots = project_slots(w.firms.employees[: w.firms.n].copy(), 20)
        model.step()
        act = pr.active_rows()
        started = np.unique(pr.firm[act][pr.start_step[act] == w.month])
        started = started[started < len(slots)]  # firms born this month had no search
        running = firms_in_projects(w)
        assert (running[started] <= slots[started]).all()
        peak = max(peak, int(running.max()))
    assert peak > 1  # large firms do run several projects at once


def _searches(**kw) -> float:
    model = small(horizon_months=24, **kw)
    model.run()
    return model.world.totals.get("searches", 0.0)


def test_search_rises_with_size_elasticity_and_experience():
    """Paired seeds: a positive size elasticity makes the firms above the reference size
    (most of the employment) search more; trust from past projects makes them search again."""
    flat = _searches(search_size_elasticity=0.0, experience_search_boost=0.0, search_rate=0.01)
    sized = _searches(search_size_elasticity=1.0, experience_search_boost=0.0, search_rate=0.01)
    experienced = _searches(search_size_elasticity=1.0, experience_search_boost=5.0,
                            search_rate=0.01)
    assert sized > flat and experienced > sized


def test_projects_never_exceed_university_capacity():
    model = small(projects_per_faculty=0.01, search_rate=1.0, horizon_months=12)
    cap = np.floor(model.world.unis.faculty * 0.01)
    for _ in range(12):
        model.step()
        pr = model.world.projects
        act = pr.active_rows()
        assert (np.bincount(pr.university[act], minlength=2) <= cap).all()


# --- innovation -------------------------------------------------------------------------------

def test_innovation_hazard_rises_with_each_driver():
    p = dict(DEFAULTS)
    zero = np.zeros(1)
    base = hazard(p, zero, zero, zero, zero, zero)
    assert base[0] == pytest.approx(1 - np.exp(-p["innovation_hazard"]))
    for i in range(5):
        args = [zero] * 5
        args[i] = np.ones(1)
        assert hazard(p, *args)[0] > base[0]


def draw_gains(rng: np.random.Generator, n: int, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Gains of ``n`` innovations, as the model draws them (three uniforms each)."""
    return gains_from_uniforms(rng.random((3, n)), p)


def test_no_innovation_without_hazard_and_no_radical_without_share():
    model = small(innovation_hazard=0.0).run()
    assert series(model, "innovations_total")[-1] == 0
    gains, radical = draw_gains(np.random.default_rng(0), 5000,
                                {**DEFAULTS, "radical_share": 0.0})
    assert not radical.any() and (gains >= 0).all()
    gains, _ = draw_gains(np.random.default_rng(0), 5000, {**DEFAULTS, "radical_share": 1.0})
    assert gains.max() <= DEFAULTS["radical_gain_cap"]


def test_radical_innovation_value_is_concentrated():
    gains, _ = draw_gains(np.random.default_rng(1), 200_000, dict(DEFAULTS))
    top = np.sort(gains)[::-1][: len(gains) // 10]
    assert top.sum() / gains.sum() > 0.5  # Scherer & Harhoff: top 10% hold over half


# --- digital ----------------------------------------------------------------------------------

def test_without_platform_digital_maturity_only_decays_until_june_hiring():
    model = small(platform_on=False)
    f = model.world.firms
    before = f.digital[: f.n].copy()
    model.run(8)  # September to April: no graduate hiring, no platform
    rows = np.arange(len(before))
    decay = (1 - model.parameters["digital_decay"]) ** 8
    np.testing.assert_allclose(f.digital[rows], before * decay, rtol=1e-12)


def test_platform_members_only_when_platform_is_live():
    off = small(platform_on=False).run()
    late = small(platform_on=True, platform_launch_month=12).run(11)
    live = small(platform_on=True, platform_launch_month=0).run(11)
    assert series(off, "platform_members").max() == 0
    assert series(late, "platform_members").max() == 0
    assert series(live, "platform_members")[-1] > 0


# --- labour market ----------------------------------------------------------------------------

def test_no_jobs_no_founders_everyone_without_offer_leaves():
    model = small(founder_rate=0.0, graduate_vacancy_rate=0.0, leave_without_offer=1.0,
                  reemployment_rate=0.0, retention_effect=0.0, horizon_months=12).run()
    ind = model.indicators()
    assert ind["graduates_total"] > 0
    assert ind["alumni_left"] == ind["graduates_total"]
    assert ind["alumni_employed"] == 0 and ind["alumni_founders"] == 0
    assert ind["graduate_retention_rate"] == 0


def test_june_graduation_moves_the_final_year_out_of_enrolment():
    model = small()
    st_ = model.world.students
    final = np.flatnonzero((st_.year[: st_.n] == 4) & (st_.status[: st_.n] == ENROLLED))
    model.run(9)
    still_final = final[st_.status[final] == ENROLLED]
    model.run(1)  # June: a few drop out first, the rest graduate
    assert (st_.status[still_final] != ENROLLED).all()
    graduated = still_final[st_.status[still_final] != DROPPED_OUT]
    assert (st_.grad_step[graduated] == 10).all()
    assert 0.95 * len(still_final) < len(graduated)
    assert model.indicators()["graduates_total"] == len(graduated)


def test_september_intake_admits_one_cohort_of_the_planned_size():
    model = small().run(12)
    before = model.world.students.n
    model.run(1)  # month 13 is September
    assert model.world.students.n - before == 2 * SMALL["intake_per_university"]


def test_education_mix_follows_the_shares():
    model = small(share_edu_2_0=0.3, share_edu_3_0=0.5, intake_per_university=2000)
    prog = model.student_table()["programme"].value_counts(normalize=True)
    assert prog["2.0"] == pytest.approx(0.3, abs=0.02)
    assert prog["3.0"] == pytest.approx(0.5, abs=0.02)


# --- firm dynamics ----------------------------------------------------------------------------

def test_growth_shock_is_mean_preserving_with_zero_drift():
    z = np.random.default_rng(0).standard_normal(400_000)
    factor = growth_shock(np.full(z.size, 10.0), 0.3, 0.2, 0.0, z)
    assert factor.mean() == pytest.approx(1.0, abs=0.005)
    small_vol = np.std(np.log(growth_shock(np.full(z.size, 1000.0), 0.3, 0.2, 0.0, z)))
    big_vol = np.std(np.log(growth_shock(np.full(z.size, 10.0), 0.3, 0.2, 0.0, z)))
    assert small_vol < big_vol  # volatility falls with size


def test_without_shocks_exits_or_entry_the_firm_population_is_frozen():
    model = small(growth_sigma=0.0, growth_drift=0.0, exit_hazard_young=0.0,
                  exit_hazard_mid=0.0, exit_hazard_mature=0.0, entry_rate=0.0,
                  channel_incubation=False, founder_rate=0.0, search_rate=0.0,
                  channel_brokerage=False)
    before = model.firm_table()
    model.run(8)
    after = model.firm_table()
    assert len(after) == len(before) and after["alive"].all()
    np.testing.assert_array_equal(after["employees"], before["employees"])


def test_exit_hazard_falls_with_age_band_and_size():
    p = dict(DEFAULTS)
    age = np.array([0, 30, 100])
    h = exit_hazard(age, np.full(3, p["startup_size"]), p)
    np.testing.assert_allclose(h, [p["exit_hazard_young"], p["exit_hazard_mid"],
                                   p["exit_hazard_mature"]])
    assert exit_hazard(age, np.full(3, 1000.0), p)[2] < h[2]


def test_absorptive_capacity_in_unit_interval_and_increasing():
    # Absorptive capacity is a stock now: its steady state rises with R&D and graduates.
    p = dict(DEFAULTS)
    rd = np.linspace(0, 1, 11)
    a = absorptive_steady_state(absorptive_inflow(rd, np.zeros_like(rd), p),
                                p["absorptive_depreciation"])
    assert a[0] == 0 and (np.diff(a) > 0).all() and (a < 1).all()
    g = absorptive_inflow(np.zeros(1), np.ones(1), p)
    assert absorptive_steady_state(g, p["absorptive_depreciation"])[0] > 0
    assert 0 <= absorb(np.ones(1), np.full(1, 50.0), 0.0)[0] <= 1


def test_incubation_channel_off_means_no_spinoffs_or_incubated_firms():
    model = small(channel_incubation=False, horizon_months=24).run()
    ft = model.firm_table()
    assert (ft["origin"] != "university_spinoff").all()
    assert (ft["founder_university"] == -1).all()


def test_university_learning_from_projects_is_bounded_by_the_feedback_rate():
    # Every project at most closes a full profile gap at peak payoff, and a university cannot
    # run more projects than its capacity: its monthly gain is at most feedback_rate x stock.
    model = small(search_rate=1.0, match_probability=1.0, projects_per_faculty=1.0,
                  share_edu_3_0=0.8, share_edu_2_0=0.1, horizon_months=24)
    for _ in range(24):
        before = model.world.unis.knowledge.sum()
        model.step()
        gained = model.world.scratch.flows.get("knowledge_to_universities", 0.0)
        assert gained <= model.parameters["feedback_rate"] * before * (1 + 1e-12)
    assert model.indicators()["active_projects"] > 20
