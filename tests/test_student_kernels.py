"""The student side's kernels (simulation/kernels/students.py, labour.py) do what the numpy
steps they replaced did, checked against numpy itself on several seeds, and the kept indexes
agree with the student table (the per-month invariants are in tests/test_invariants.py)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel, kernels
from simulation.mechanisms.teaching import current_skills
from simulation.state import EMPLOYED, ENROLLED, FOUNDER, UNEMPLOYED

SEEDS = (1, 2, 3, 4)


@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_picks_are_generator_choice_on_the_same_uniforms(seed):
    # Re-employed graduates' employers: the same rows numpy's Generator.choice gives.
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(5000, 800, replace=False)).astype(np.int64)
    weight = rng.integers(1, 400, len(rows)).astype(float)
    p = weight / weight.sum()
    expected = rows[np.random.default_rng(seed + 10).choice(len(rows), size=300, p=p)]
    got = kernels.weighted_picks(rows, weight, weight.sum(),
                                 np.random.default_rng(seed + 10).random(300))
    np.testing.assert_array_equal(got, expected)
    # A uniform equal to a value of the normalised cdf picks the next row, as choice's search
    # (on the right) of that cdf does: uniforms at, just below and just above those values.
    cdf = p.cumsum()
    cdf /= cdf[-1]
    ties = np.concatenate((cdf[:-1], np.nextafter(cdf[:-1], 0), np.nextafter(cdf[:-1], 1)))
    np.testing.assert_array_equal(kernels.weighted_picks(rows, weight, weight.sum(), ties),
                                  rows[np.searchsorted(cdf, ties, side="right")])


@pytest.mark.parametrize("seed", SEEDS)
def test_job_seekers_are_ranked_as_numpys_stable_sort_ranks_them(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    skills = rng.uniform(0.0, 1.0, size=(n + 100, 4)).astype(np.float32)
    skills[rng.integers(0, n, n // 4)] = skills[7]  # many exact ties, kept in row order
    rest = np.sort(rng.choice(n + 100, n, replace=False)).astype(np.int64)
    noise = rng.standard_normal(n) * 4.0  # negative employabilities too
    employability = skills[rest].mean(axis=1) * (1.0 + 0.1 * noise)
    expected = rest[np.argsort(-employability, kind="stable")]
    np.testing.assert_array_equal(kernels.by_employability(rest, skills, noise), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_vacancies_go_first_to_graduates_of_the_firms_main_domain(seed):
    # Per domain, as many matches as the fewer of its graduates and its slots; every graduate
    # gets at most one offer, every slot at most one graduate, and leftovers meet leftovers.
    rng = np.random.default_rng(seed)
    k, n_firms = 5, 40
    knowledge = rng.random((n_firms, k))
    interest = rng.integers(0, k, 600).astype(np.int8)
    rest = rng.permutation(600).astype(np.int64)[:400]
    vacancies = rng.integers(0, 8, n_firms)
    slots = rng.permutation(np.repeat(np.arange(n_firms), vacancies))
    got_s, got_f = kernels.fill_vacancies(rest, interest, slots, vacancies, knowledge)
    assert len(np.unique(got_s)) == len(got_s) == min(len(rest), len(slots))
    used = np.bincount(got_f, minlength=n_firms)
    assert (used <= np.bincount(slots, minlength=n_firms)).all()
    main = np.argmax(knowledge, axis=1)
    same = main[got_f] == interest[got_s]
    for d in range(k):
        wanted = min((interest[rest] == d).sum(), (main[slots] == d).sum())
        assert (same & (interest[got_s] == d)).sum() == wanted
    # Within a domain the best-ranked graduates (earliest in ``rest``) are served first.
    rank = {s: i for i, s in enumerate(rest)}
    for d in range(k):
        mine = [rank[s] for s in got_s[same & (interest[got_s] == d)]]
        assert mine == sorted(mine)
        ranks = sorted(rank[s] for s in rest if interest[s] == d)
        assert mine == ranks[: len(mine)]
    # Then the graduates left, best first, take the slots left, in the slots' order: domain
    # d's first ``wanted`` slots went to its graduates.
    taken = np.zeros(len(slots), dtype=bool)
    for d in range(k):
        wanted = min((interest[rest] == d).sum(), (main[slots] == d).sum())
        taken[np.flatnonzero(main[slots] == d)[:wanted]] = True
    placed = set(got_s[same].tolist())
    left = [g for g in rest if g not in placed]
    cross = min(len(left), int((~taken).sum()))
    n_domain = int(same.sum())
    assert not same[n_domain:].any()  # domain blocks first, then the cross-domain block
    assert got_s[n_domain:].tolist() == left[:cross]
    assert got_f[n_domain:].tolist() == slots[~taken][:cross].tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_when_the_best_graduates_domain_has_no_vacancy_they_take_the_first_slot_left(seed):
    """The cross-domain pass starts from the best graduate and the first slot left: the best
    graduate wants a domain no firm leads, so they take the first slot no graduate of its
    domain wanted."""
    rng = np.random.default_rng(seed)
    knowledge = np.zeros((6, 3))
    knowledge[:3, 0] = 1.0  # firms 0-2 lead domain 0, firms 3-5 domain 1, none domain 2
    knowledge[3:, 1] = 1.0
    interest = np.array([2] + [1] * 9, dtype=np.int8)  # nobody wants domain 0
    rest = np.arange(10, dtype=np.int64)  # graduate 0 is the best
    slots = rng.permutation(6).astype(np.int64)
    got_s, got_f = kernels.fill_vacancies(rest, interest, slots, np.ones(6, np.int64),
                                          knowledge)
    # Graduates 1-3 take domain 1's slots in the slots' order; then 0, 4 and 5 take domain
    # 0's, in the slots' order.
    assert got_s.tolist() == [1, 2, 3, 0, 4, 5]
    assert got_f.tolist() == [f for f in slots if f >= 3] + [f for f in slots if f < 3]


@pytest.mark.parametrize("seed", (1, 2))
def test_skills_now_are_the_closed_form_of_monthly_teaching(seed):
    # Enrolled students' current skills follow 1 - (1 - s0) exp(a (E - E0)); everybody
    # else keeps the stored skills.
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=100, intake_per_university=200,
                           horizon_months=14).run(14)
    w, st = model.world, model.world.students
    rows = np.arange(st.n)
    s0 = st.skills[: st.n].astype(float)
    gap = w.exposure[st.code[: st.n]] - st.sync[: st.n]
    taught = 1.0 - (1.0 - s0) * np.exp(st.aptitude[: st.n].astype(float)[:, None] * gap)
    enrolled = st.status[: st.n] == ENROLLED
    assert enrolled.any() and (~enrolled).any() and (gap[enrolled] < 0).any()
    expected = np.where(enrolled[:, None], taught, s0)
    np.testing.assert_array_equal(current_skills(w, rows), expected)


def test_immersion_engagement_per_university():
    # Two universities, three active brokered projects (two at university 0), one inactive,
    # two living capstone partners at university 1 and one that has exited.
    active = np.array([True, True, True, False])
    university = np.array([0, 0, 1, 0], dtype=np.int16)
    brokered = np.array([True, True, True, True])
    capstone_firm = np.array([0, 1, 2], dtype=np.int64)
    capstone_uni = np.array([1, 1, 1], dtype=np.int64)
    alive = np.array([True, True, False])
    counts = np.array([[10.0, 0.0, 3.0], [10.0, 8.0, 40.0]])  # enrolled 1.0 / 2.0 / 3.0
    e2, e3, fill, keep, all_alive, mean2, mean3 = kernels.immersion_engagement(
        active, university, brokered, capstone_firm, capstone_uni, alive, counts, 2.0, 4.0)
    # 2.0: 2 partners x 2 places over 8 students at university 1; none without students.
    np.testing.assert_allclose(e2, [0.0, 0.5])
    # 3.0: 8 slots over 3 students (capped at 1); 4 slots over 40 students.
    np.testing.assert_allclose(e3, [1.0, 0.1])
    # Share of the brokered slots that 3.0 students fill: 3 of 8; all 4.
    np.testing.assert_allclose(fill, [3.0 / 8.0, 1.0])
    np.testing.assert_array_equal(keep, [True, True, False])
    assert not all_alive
    assert (mean2, mean3) == (e2.mean(), e3.mean())
    # With every partner alive; means over 3 and over 20 universities (numpy's pairwise sum
    # starts at 8 values) equal numpy's to the last bit.
    for n_u in (3, 20):
        rng = np.random.default_rng(n_u)
        counts = rng.integers(1, 50, (n_u, 3)).astype(float)
        got = kernels.immersion_engagement(
            rng.random(40) < 0.7, rng.integers(0, n_u, 40).astype(np.int16),
            rng.random(40) < 0.5, np.arange(6), rng.integers(0, n_u, 6),
            np.ones(6, dtype=bool), counts, 1.7, 3.3)
        assert got[4]
        assert (got[5], got[6]) == (got[0].mean(), got[1].mean())
        assert 0 < got[5] < 1 and 0 < got[6] < 1


def test_jobs_lost_are_the_staff_of_exited_firms_and_the_rest_stay_indexed():
    # Firms 0 and 2 alive, firm 1 exited. Students 0-5 were indexed in June (0, 3 at firm 0;
    # 1, 4 at firm 1; 5 at firm 2); 6 (firm 0), 7 (firm 1) and 8 (firm 2) were hired since.
    alive = np.array([True, False, True])
    employer = np.array([0, 1, -1, 0, 1, 2, 0, 1, 2], dtype=np.int32)
    none = np.zeros(0, dtype=np.int64)
    hired = np.array([5, 3, 1, 0, 4])
    rows, start, count = kernels.index_staff(none.astype(np.int32), none, none, hired,
                                             employer[hired].astype(np.int64), 3)
    np.testing.assert_array_equal(rows, [3, 0, 1, 4, 5])  # by firm, in hiring order
    recent = np.array([6, 7, 8], dtype=np.int64)
    # Student 4 founded firm 1; student 2 is unemployed.
    status = np.array([EMPLOYED, EMPLOYED, UNEMPLOYED, EMPLOYED, FOUNDER, EMPLOYED, EMPLOYED,
                       EMPLOYED, EMPLOYED], dtype=np.int8)
    counts = np.bincount(status, minlength=6)
    lost, kept, kept_firm = kernels.jobs_lost(alive, employer, status, counts, rows, start,
                                              count, recent, employer[recent].astype(np.int64))
    np.testing.assert_array_equal(lost, [1, 4, 7])
    np.testing.assert_array_equal(kept, [6, 8])  # the recent hires still at work, firm 0's too
    np.testing.assert_array_equal(kept_firm, [0, 2])
    np.testing.assert_array_equal(employer, [0, -1, -1, 0, -1, 2, 0, -1, 2])
    # The founder of the exited firm is unemployed too, like its employees.
    np.testing.assert_array_equal(status, [EMPLOYED, UNEMPLOYED, UNEMPLOYED, EMPLOYED,
                                           UNEMPLOYED, EMPLOYED, EMPLOYED, UNEMPLOYED, EMPLOYED])
    np.testing.assert_array_equal(counts, np.bincount(status, minlength=6))
    assert count[1] == 0  # an exited firm's segment is read once


def assert_full_index(rows: np.ndarray, start: np.ndarray, count: np.ndarray,
                      employer: np.ndarray) -> None:
    # What a pass over the whole employer column gives: the students at work grouped by
    # employer (in any order within a firm).
    at_work = np.flatnonzero(employer >= 0)
    expected = np.bincount(employer[at_work], minlength=len(count))
    np.testing.assert_array_equal(count, expected)
    np.testing.assert_array_equal(start, np.cumsum(expected) - expected)
    assert len(rows) == len(at_work)
    np.testing.assert_array_equal(employer[rows], np.repeat(np.arange(len(count)), count))
    np.testing.assert_array_equal(np.sort(rows), at_work)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_staff_index_rebuilt_from_the_last_one_and_the_hires_since_is_the_full_one(seed):
    # Years of hires (rehires of the unemployed included) and exits: each June's index, built
    # from the previous one and the year's hires, is the one a pass over every student's
    # employer gives, and the exited firms' staff are lost.
    rng = np.random.default_rng(seed)
    n, n_firms = 3000, 10
    employer = np.full(n, -1, dtype=np.int32)
    status, counts = np.full(n, EMPLOYED, dtype=np.int8), np.array([0, n, 0, 0, 0, 0])
    alive = np.ones(200, dtype=bool)
    rows, start, count = np.zeros(0, dtype=np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    recent = recent_firm = np.zeros(0, dtype=np.int64)
    for _year in range(6):
        for _month in range(12):
            idle = np.flatnonzero(employer[:n] < 0)
            hired = rng.choice(idle, min(len(idle), int(rng.integers(0, 60))), replace=False)
            firm = rng.choice(np.flatnonzero(alive[:n_firms]), len(hired))
            employer[hired] = firm
            recent = np.concatenate((recent, hired))
            recent_firm = np.concatenate((recent_firm, firm))
            alive[rng.choice(n_firms, int(rng.random() < 0.2))] = False  # an exit a few months
            before = employer.copy()
            lost, recent, recent_firm = kernels.jobs_lost(alive[:n_firms], employer, status,
                                                          counts, rows, start, count, recent,
                                                          recent_firm)
            gone = np.flatnonzero((before >= 0) & ~alive[np.maximum(before, 0)])
            np.testing.assert_array_equal(lost, gone)
            np.testing.assert_array_equal(recent_firm, employer[recent])
        n_firms += int(rng.integers(0, 4))  # new firms have no segment yet
        rows, start, count = kernels.index_staff(rows, start, count, recent, recent_firm,
                                                 n_firms)
        recent = recent_firm = recent[:0]
        assert counts[UNEMPLOYED] == (status == UNEMPLOYED).sum() > 0
        assert_full_index(rows, start, count, employer)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_graduates_without_a_tie_are_found_in_row_order(seed):
    # A university's cohort grouped by programme (each group in row order, one may be empty):
    # the untied ones of all groups, in row order.
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.permutation(5000)[:3000])
    programme = rng.integers(0, 3, 5000)  # group 3 empty
    grouped, start = kernels.group_rows(rows, programme, 4)
    tie_firm = np.where(rng.random(5000) < 0.3, rng.integers(0, 50, 5000), -1)
    for lo, hi in ((0, 4), (1, 3), (2, 4)):
        bounds = start[lo:hi + 1]
        part = grouped[bounds[0]:bounds[-1]]
        np.testing.assert_array_equal(kernels.without_ties(grouped, bounds, tie_firm),
                                      np.sort(part[tie_firm[part] < 0]))


def test_a_hire_raises_digital_maturity_by_the_employment_before_the_hires():
    # A firm of 1 employee hires 3 graduates (digital skill 0.1 each, rate 0.5): its maturity
    # rises by 0.5 x 0.3 / 1 of the way to 1, and only then is it as large as its graduate
    # staff (3); a firm that hires nobody is untouched.
    skills = np.zeros((3, 4), dtype=np.float32)
    skills[:, 3] = 0.1
    digital, employees, size = np.array([0.2, 0.6]), np.array([1, 4]), np.array([1.0, 4.0])
    counts = np.array([0, 0, 0, 0, 3, 0])
    scratch = np.zeros(2)
    kernels.hire_graduates(np.arange(3), np.zeros(3, dtype=np.int64), EMPLOYED,
                           np.full(3, UNEMPLOYED, dtype=np.int8), np.full(3, -1, np.int32),
                           counts, skills, np.zeros(3, np.int8), np.zeros(2, np.int64),
                           np.zeros(2), np.zeros((2, 4)), digital, size, employees,
                           np.zeros(2, np.int64), 0.0, 0.5, scratch)
    rise = 0.5 * 3 * float(np.float32(0.1)) / 1
    np.testing.assert_allclose(digital, [0.2 + rise * 0.8, 0.6], rtol=1e-12)
    np.testing.assert_array_equal(employees, [3, 4])
    np.testing.assert_array_equal(size, [3.0, 4.0])
    np.testing.assert_array_equal(counts, [0, 3, 0, 0, 0, 0])
    np.testing.assert_array_equal(scratch, [0.0, 0.0])  # hiring's scratch is left zero


@pytest.mark.parametrize("seed", SEEDS)
def test_a_dropout_that_would_come_after_2_to_the_30_months_is_filed_at_2_to_the_30(seed):
    # A tiny hazard draws waits of 10^16 months and more: they are "never", stored as 2**30
    # exactly (not wrapped, not another large month); an ordinary hazard draws months near
    # the admission month. (The cohorts of the build, admitted at month 0, and the intake of
    # month 13.)
    small = dict(n_universities=2, n_firms=100, intake_per_university=100, horizon_months=13)
    never = EcosystemModel(rng=seed, **small, dropout_rate=1e-15).run().world.students
    # (Rows before the enrolment window may have handed their dropout months back.)
    window = slice(never.window_start, never.n)
    assert (never.intake_step[window] == 13).sum() > 100 < (never.intake_step[window] < 13).sum()
    assert (never.dropout_step[window] == 2**30).all()
    some = EcosystemModel(rng=seed, **small, dropout_rate=0.3).run().world.students
    assert (some.dropout_step[: some.n] < 12 * 8).mean() > 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_retention_reaches_the_lowest_draws_the_pot_pays_for(seed):
    # The covered seekers the pot can pay are those numpy's stable argsort puts first (ties in
    # order), for every cap: none, some, all, more than covered, and negative (a slice's end).
    rng = np.random.default_rng(seed)
    n = 2000
    u = rng.random(n).round(2)  # many exact ties
    coverage = 0.4
    n_cov = int((u < coverage).sum())
    for can_pay in (0, 1, 7, n_cov // 2, n_cov - 1, n_cov, n_cov + 5, -3, -(n - n_cov // 3),
                    -2 * n):
        expected = u < coverage
        if expected.sum() > can_pay:
            expected[np.argsort(u, kind="stable")[can_pay:]] = False
        got = kernels.retention_cover(u, coverage, can_pay)
        np.testing.assert_array_equal(got, expected, err_msg=f"can_pay {can_pay}")


@pytest.mark.parametrize("seed", SEEDS)
def test_cohort_skills_are_numpys_mean_to_the_last_bit(seed):
    rng = np.random.default_rng(seed)
    skills = rng.uniform(0.0, 1.0, size=(30000, 4)).astype(np.float32)
    grads = np.sort(rng.choice(30000, 9000 + 1000 * seed, replace=False)).astype(np.int64)
    expected = skills[grads].astype(float).mean(axis=0)
    np.testing.assert_array_equal(kernels.cohort_skills(grads, skills), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_only_living_tie_firms_offer_their_interns_a_job(seed):
    # The seekers whose tie firm is alive and whose draw is below the tie-hire probability,
    # in the seekers' order: the numpy selection the kernel replaced, dead firms included.
    rng = np.random.default_rng(seed)
    n_firms = 60
    tie_firm = np.where(rng.random(5000) < 0.4, rng.integers(0, n_firms, 5000), -1)
    tie_firm = tie_firm.astype(np.int32)
    alive = rng.random(n_firms) < 0.7
    seekers = np.sort(rng.choice(5000, 3000, replace=False)).astype(np.int64)
    draw = rng.random(len(seekers))
    tie = tie_firm[seekers]
    expected = seekers[(tie >= 0) & (draw < 0.6)]
    expected = expected[alive[tie_firm[expected]]]
    tied, firm = kernels.tied_seekers(seekers, draw, tie_firm, alive, 0.6)
    np.testing.assert_array_equal(tied, expected)
    np.testing.assert_array_equal(firm, tie_firm[expected])


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_graduates_receive_every_retention_payment_the_books_record(seed):
    # The retention subsidy paid (the run's books) is what the graduates received.
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=150, intake_per_university=250,
                           horizon_months=26, retention_subsidy=0.01).run(26)
    w, st = model.world, model.world.students
    paid = w.totals.get("retention_payments", 0.0)
    assert paid > 0
    np.testing.assert_allclose(st.public_money[: st.n].sum(), paid, rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_willing_capstone_partners_are_the_formula_over_the_eligible_firms(seed):
    # The firms of recruit_capstones' rule, as numpy computed it with Firms.value_added: alive,
    # big enough, a draw below acceptance x (1 + trust in the home university) and cash of
    # the buffer's months of value added; diverted staff above employment (labour floored at
    # zero), cash at the buffer exactly, and a firm without a home university (-1) among them.
    from simulation.state import Firms

    rng = np.random.default_rng(seed)
    n, n_u, premium, acceptance, buffer = 3000, 4, 0.4, 0.3, 2.0
    f = Firms.empty(n + 50, 5, n_u)
    f.reserve(n)
    f.alive[:n] = rng.random(n) < 0.9
    f.employees[:n] = rng.integers(0, 40, n)
    f.diverted[:n] = rng.uniform(0.0, 30.0, n)
    f.productivity[:n] = rng.uniform(0.5, 2.0, n)
    f.grad_skill[:n] = rng.uniform(0.0, 5.0, n)
    f.prior_grad_skill[:n] = rng.uniform(0.0, 5.0, n)
    f.home_university[:n] = rng.integers(-1, n_u, n)
    f.trust[:n] = rng.uniform(0.0, 1.0, (n, n_u))
    draw = rng.random(n)
    va = f.value_added(slice(0, n), premium)
    f.cash[:n] = np.where(rng.random(n) < 0.3, buffer * va, rng.uniform(0.0, 3.0, n) * va)
    rows = np.flatnonzero(f.alive[:n] & (f.employees[:n] >= 12))
    home = f.home_university[rows].astype(np.int64)
    willing = ((draw[rows] < acceptance * (1.0 + f.trust[rows, home]))
               & (f.cash[rows] >= buffer * f.value_added(rows, premium)))
    got_rows, got_home = kernels.willing_partners(
        draw, f.alive[:n], f.employees, 12, f.home_university, f.productivity, f.diverted,
        f.grad_skill, f.prior_grad_skill, premium, f.trust, f.cash, acceptance, buffer)
    assert 50 < willing.sum() < len(rows)
    assert (f.employees[rows] < f.diverted[rows]).any() and (home[willing] == -1).any()
    np.testing.assert_array_equal(got_rows, rows[willing])
    np.testing.assert_array_equal(got_home, home[willing])
