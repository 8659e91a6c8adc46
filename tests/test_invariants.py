"""Invariants that must hold after every month, over random parameter draws.

Money is conserved in the government's books, every admitted student holds exactly one status,
indicators are finite, stocks are non-negative, shares stay in [0, 1], and graduates are
accounted for. The model is stepped by hand so that every month is checked, not only the end.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import INDICATORS, PARAMETERS, EcosystemModel
from simulation.parameters import INSTRUMENTS, SKILLS
from simulation.state import EMPLOYED, ENROLLED, FOUNDER, UNEMPLOYED

REL = 1e-9
SHARE_INDICATORS = [name for name, (unit, _) in INDICATORS.items() if unit == "share"]
CHANNEL_NAMES = ("joint_research", "student_immersion", "incubation", "platform", "brokerage")


def _in_range(name: str, value: float) -> bool:
    p = PARAMETERS[name]
    return (p.low is None or value >= p.low) and (p.high is None or value <= p.high)


@st.composite
def scenarios(draw) -> dict:
    """A random, valid parameter set for a small region and a short run."""
    n_u = draw(st.integers(1, 3))
    horizon = draw(st.integers(13, 26))
    weight = st.one_of(st.just(0.0), st.floats(0.01, 1.0))
    weights = draw(st.lists(weight, min_size=len(INSTRUMENTS), max_size=len(INSTRUMENTS))
                   .filter(lambda ws: sum(ws) > 0.0))
    total = sum(weights)
    s2 = draw(st.floats(0.0, 1.0))
    s3 = draw(st.floats(0.0, 1.0 - s2))
    params = {
        "n_universities": n_u,
        "n_firms": draw(st.integers(100, 300)),
        "intake_per_university": draw(st.integers(100, 300)),
        "horizon_months": horizon,
        "programme_years": draw(st.integers(1, 5)),
        "gov_budget": draw(st.one_of(st.just(0.0), st.floats(0.0, 2000.0))),
        **{f"budget_share_{name}": w / total for name, w in zip(INSTRUMENTS, weights,
                                                                  strict=True)},
        "share_edu_2_0": s2,
        "share_edu_3_0": s3,
        **{f"channel_{c}": draw(st.booleans()) for c in CHANNEL_NAMES},
        "siloed": draw(st.booleans()),
        "platform_on": draw(st.booleans()),
        "platform_launch_month": draw(st.integers(0, horizon)),
        "unspent_policy": draw(st.sampled_from(PARAMETERS["unspent_policy"].choices)),
        "matching_rate": draw(st.floats(0.0, 1.0)),
        "dropout_rate": draw(st.floats(0.0, 0.5)),
    }
    if draw(st.booleans()):
        mix = []
        for _ in range(n_u):
            m = draw(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3)
                     .filter(lambda ws: sum(ws) > 0.01))
            mix.append(tuple(x / sum(m) for x in m))
        params["edu_mix_by_university"] = mix
    # A few mid-run policy changes, each keeping the parameters valid.
    lever_values = {
        "gov_budget": st.floats(0.0, 2000.0),
        "matching_rate": st.floats(0.0, 1.0),
        "platform_on": st.booleans(),
        "share_edu_3_0": st.floats(0.0, 1.0 - s2),
        "incubator_support": st.floats(0.0, 0.1),
        "retention_subsidy": st.floats(0.0, 0.1),
    }
    events = []
    for _ in range(draw(st.integers(0, 3))):
        lever = draw(st.sampled_from(sorted(lever_values)))
        events.append((draw(st.integers(0, horizon)), lever, draw(lever_values[lever])))
    params["timeline"] = events
    for name, value in params.items():
        if isinstance(value, float):
            assert _in_range(name, value), (name, value)
    return params


# --- the checks ------------------------------------------------------------------------------
def check_government(model: EcosystemModel, released_before: float) -> None:
    w = model.world
    gov = w.gov
    released = float(gov.released.sum())
    spent = float(gov.spent.sum())
    accounted = spent + float(gov.balance.sum()) + gov.returned
    assert math.isclose(released, accounted, rel_tol=REL, abs_tol=1e-9), (
        f"month {w.month}: released {released!r} != spent + balance + returned {accounted!r}")
    assert spent <= released * (1 + REL) + 1e-12, f"month {w.month}: spent more than released"
    assert (gov.balance >= 0).all(), f"month {w.month}: negative balance {gov.balance}"
    assert (gov.spent >= 0).all() and (gov.spent_month >= 0).all()
    assert gov.returned >= 0
    if w.p["unspent_policy"] != "reallocate":
        # No money moves between instruments: each instrument's books close on their own.
        left = gov.released - gov.spent - gov.balance
        assert (left >= -1e-9 * max(released, 1.0)).all(), f"month {w.month}: {left}"
        if w.p["unspent_policy"] == "carry_over":
            np.testing.assert_allclose(left, 0.0, atol=1e-9 * max(released, 1.0))
        assert math.isclose(float(left.sum()), gov.returned, rel_tol=REL, abs_tol=1e-9)
    else:
        assert gov.returned == 0.0
    # The whole monthly twelfth of the budget in force this month is released, however the
    # channels reroute it.
    if w.month > 0:
        expected = w.p["gov_budget"] / 12.0
        assert math.isclose(released - released_before, expected, rel_tol=REL, abs_tol=1e-9), (
            f"month {w.month}: released {released - released_before!r}, budget/12 {expected!r}")
    ind = model.indicators()
    spend = sum(ind[f"spend_{name}"] for name in INSTRUMENTS)
    assert math.isclose(ind["spend_total"], spend, rel_tol=REL, abs_tol=1e-12)
    assert math.isclose(ind["spend_total"], float(gov.spent_month.sum()), rel_tol=REL,
                        abs_tol=1e-12)


def check_students(model: EcosystemModel) -> None:
    w = model.world
    s, n = w.students, w.students.n
    status = s.status[:n]
    assert int(s.status_counts.sum()) == n
    np.testing.assert_array_equal(s.status_counts, np.bincount(status, minlength=6))
    enrolled = status == ENROLLED
    recount = np.zeros((w.unis.count, 3), dtype=np.int64)
    np.add.at(recount, (s.university[:n][enrolled], s.programme[:n][enrolled]), 1)
    np.testing.assert_array_equal(w.enrolled, recount)
    # Enrolled students are in a year of study; everybody else is not.
    years = s.year[:n]
    assert ((years[enrolled] >= 1) & (years[enrolled] <= w.p["programme_years"])).all()
    assert (years[~enrolled] == 0).all()
    # A student has no employer, start-up, tie or graduation month while enrolled (the
    # intake's rows take them from Table.reserve, kernels.enrol_cohort does not write them).
    for column in (s.employer, s.startup, s.tie_firm, s.grad_step):
        assert (column[:n][enrolled] == -1).all()
    # Teaching touches only rows from window_start on: no enrolled student may lie before it.
    assert not enrolled[: s.window_start].any()
    # The kept index of the unemployed is exactly the rows of that status, in row order.
    np.testing.assert_array_equal(w.unemployed, np.flatnonzero(status == UNEMPLOYED))
    # Every enrolled student whose dropout month is still to come is filed under that month.
    assert min(w.dropout_schedule, default=w.month + 1) > w.month
    filed = np.zeros(n, dtype=bool)
    for rows in w.dropout_schedule.values():
        filed[rows] = True
    # The initial cohorts (intake month 1 or before) are admitted at month 0, by build_world.
    admitted = np.where(s.intake_step[:n] <= 1, 0, s.intake_step[:n])
    coming = enrolled & (s.dropout_step[:n] > w.month) & (
        s.dropout_step[:n] <= admitted + 12 * w.p["programme_years"])
    assert filed[coming].all()
    # The staff index finds every alumnus at a living firm: in that firm's segment (built in
    # June) or among the alumni hired since.
    # And what June's rebuild from the last index and the hires since relies on
    # (kernels.index_staff): a segment still held holds only its firm's staff, and no alumnus
    # is in two segments, twice among the recent hires or in both.
    staff, found = w.staff, np.zeros(n, dtype=np.int64)
    np.add.at(found, staff.recent, 1)
    # The recent hires' employers are kept beside them (jobs_lost and June's rebuild read
    # those, not the student table), and hiring's scratch is zero between hires.
    np.testing.assert_array_equal(staff.recent_firm, s.employer[staff.recent])
    assert not staff.hired_digital.any()
    for firm in np.flatnonzero(staff.count):
        seg = staff.rows[staff.start[firm]:staff.start[firm] + staff.count[firm]]
        assert (s.employer[seg] == firm).all()
        found[seg] += 1
    assert found.max(initial=0) <= 1
    at_work = s.employer[:n] >= 0
    at_work[at_work] = w.firms.alive[s.employer[:n][at_work]]
    assert found[at_work].all()
    ind = model.indicators()
    assert ind["students_enrolled"] == enrolled.sum()
    assert ind["enrolled_1_0"] + ind["enrolled_2_0"] + ind["enrolled_3_0"] == enrolled.sum()


def check_indicators_and_stocks(model: EcosystemModel) -> None:
    w = model.world
    ind = model.indicators()
    assert set(ind) == set(INDICATORS)
    bad = {k: v for k, v in ind.items() if not math.isfinite(v)}
    assert not bad, f"month {w.month}: non-finite indicators {bad}"
    for name in SHARE_INDICATORS:
        assert 0.0 <= ind[name] <= 1.0, f"month {w.month}: {name} = {ind[name]}"
    assert 0.0 <= ind["graduate_skill"] <= 1.0

    f, n = w.firms, w.firms.n
    alive = f.alive[:n]
    assert ind["firms_alive"] == alive.sum()
    assert (f.knowledge[:n] >= 0).all() and np.isfinite(f.knowledge[:n]).all()
    assert (w.unis.knowledge >= 0).all() and np.isfinite(w.unis.knowledge).all()
    assert (f.employees[:n] >= 0).all()
    assert (f.employees[:n][alive] >= 1).all()
    assert np.isfinite(f.cash[:n]).all() and np.isfinite(f.productivity[:n]).all()
    # Firms exit when their cash is negative at the end of the month (firm_dynamics.exits),
    # and nothing after the exit check takes cash away, so living firms end a month solvent.
    cash = f.cash[:n][alive]
    assert (cash >= 0).all(), f"month {w.month}: living firms with cash {cash[cash < 0]}"
    assert (f.exit_step[:n][alive] == -1).all()
    dead_exit = f.exit_step[:n][~alive]
    assert ((dead_exit >= 1) & (dead_exit <= w.month)).all()
    for name, arr in (("digital", f.digital[:n]), ("absorptive", f.absorptive[:n]),
                      ("trust", f.trust[:n])):
        assert ((arr >= 0) & (arr <= 1)).all(), f"month {w.month}: {name} outside [0, 1]"
    # Trust decays on the trusted rows only: a row holding trust that is not marked would
    # keep it for ever.
    held = (f.trust[:n] != 0).any(axis=1)
    assert not (held & ~f.trusted[:n]).any(), f"month {w.month}: trust on unmarked rows"

    table = model.student_table()
    skills = table[[f"skill_{k}" for k in SKILLS]].to_numpy()
    assert np.isfinite(skills).all()
    assert ((skills >= 0) & (skills <= 1)).all(), f"month {w.month}: skill outside [0, 1]"

    # Projects: active ones have not reached their end, and universities stay within capacity.
    pr = w.projects
    act = pr.active_rows()
    assert (pr.end_step[act] > w.month).all()
    cap = np.floor(w.unis.faculty * w.p["projects_per_faculty"])
    assert (np.bincount(pr.university[act], minlength=w.unis.count) <= cap).all()


def check_people(model: EcosystemModel) -> None:
    w = model.world
    ind = model.indicators()
    alumni = (ind["alumni_employed"] + ind["alumni_founders"] + ind["alumni_unemployed"]
              + ind["alumni_left"])
    assert ind["graduates_total"] == alumni, (
        f"month {w.month}: {ind['graduates_total']} graduates, {alumni} alumni accounted")
    f, n = w.firms, w.firms.n
    alive = f.alive[:n]
    grads_at_living = int(f.grad_employees[:n][alive].sum())
    assert ind["jobs"] >= grads_at_living
    assert (f.employees[:n][alive] >= f.grad_employees[:n][alive]).all()
    # Per living firm, its graduate staff are exactly the alumni whose employer it is.
    s, m = w.students, w.students.n
    working = np.isin(s.status[:m], (EMPLOYED, FOUNDER))
    employer = s.employer[:m][working]
    assert (employer >= 0).all() and (employer < n).all()
    recount = np.bincount(employer, minlength=n)
    np.testing.assert_array_equal(f.grad_employees[:n][alive], recount[alive])
    # An employer that is gone exited this very month (the job loss is booked next month).
    gone = ~f.alive[employer]
    assert (f.exit_step[employer[gone]] == w.month).all()


def check_all(model: EcosystemModel, released_before: float) -> None:
    check_government(model, released_before)
    check_students(model)
    check_indicators_and_stocks(model)
    check_people(model)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_every_month(params: dict, seed: int) -> None:
    model = EcosystemModel(rng=seed, **params)
    check_all(model, 0.0)
    for _ in range(params["horizon_months"]):
        before = float(model.world.gov.released.sum())
        model.step()
        check_all(model, before)
    assert model.month == params["horizon_months"]
    assert not model.running


def test_invariants_default_mix_over_two_years() -> None:
    """A fixed example so that a failure shows up even when hypothesis draws differently."""
    model = EcosystemModel(rng=11, n_firms=300, intake_per_university=300, n_universities=3,
                           horizon_months=30, platform_on=True, share_edu_3_0=0.4)
    check_all(model, 0.0)
    for _ in range(30):
        before = float(model.world.gov.released.sum())
        model.step()
        check_all(model, before)
    df = model.datacollector.get_model_vars_dataframe()
    # The run did exercise the flows the invariants are about.
    assert df["graduates_total"].iloc[-1] > 0
    assert df["projects_started"].sum() > 0
    assert df["spend_total"].sum() > 0
