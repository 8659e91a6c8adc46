"""The collaboration kernels (simulation/kernels/projects.py) against the documented formulas.

The kernels fuse a step's loop; the formula functions that the ODD documents stay the single
source of each formula (collaboration.expected_payoff, Firms.value_added, knowledge.inverted_u
and rowwise_distance, collaboration.capacity_left's definition). These tests state each rule
with those functions on states of real runs (several seeds) and check the kernels' answers.
"""

from __future__ import annotations

import numpy as np
import pytest
from pcg_state import start_state

from simulation import EcosystemModel, kernels
from simulation.knowledge import inverted_u, rowwise_distance
from simulation.mechanisms import ORDER, collaboration
from simulation.mechanisms.collaboration import (
    MATCHING,
    abandon_probability,
    accepts,
    capacity_left,
    expected_payoff,
    free_firms,
    project_cash_need,
    project_slots,
    run_projects,
)

SEEDS = [1, 2, 3]


def mid_run(seed: int, **overrides) -> EcosystemModel:
    """A small region after a year: projects running, staff diverted, graduates employed."""
    model = EcosystemModel(rng=seed, n_universities=3, n_firms=300, intake_per_university=200,
                           horizon_months=14, search_rate=0.2, **overrides)
    for _ in range(12):
        model.step()
    return model


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("pot", ["funded", "empty"])
def test_accepts_takes_the_offers_whose_expected_value_covers_the_cost(seed, pot):
    w = mid_run(seed).world
    if pot == "empty":
        w.gov.balance[MATCHING] = 0.0  # no grant: the firm bears the whole cost
    rng = np.random.default_rng(seed)
    firms = np.flatnonzero(w.firms.alive[: w.firms.n])
    firms = rng.choice(firms, size=min(120, len(firms)), replace=False)
    unis = rng.integers(0, w.unis.count, len(firms))
    social = rng.random(len(firms)) < 0.5
    va = w.firms.value_added(firms, w.p["graduate_premium"])
    # Some firms short of cash: the buffer of acceptance_cash_buffer months binds for them.
    short = rng.random(len(firms)) < 0.3
    w.firms.cash[firms[short]] = 0.5 * w.p["acceptance_cash_buffer"] * va[short]
    value, cost = expected_payoff(w, firms, unis, social)
    rule = (w.firms.cash[firms] >= w.p["acceptance_cash_buffer"] * va) & (value >= cost)
    got = accepts(w, firms, unis, social)
    np.testing.assert_array_equal(got, rule)
    assert 0 < rule.sum() < len(rule)  # both answers occur, so both branches are checked
    assert (value[short] >= cost[short]).any()  # some declined for cash alone
    # Without a social partner the offer is a plain two-party project.
    plain = np.zeros(len(firms), dtype=bool)
    value, cost = expected_payoff(w, firms, unis, plain)
    rule = (w.firms.cash[firms] >= w.p["acceptance_cash_buffer"] * va) & (value >= cost)
    np.testing.assert_array_equal(accepts(w, firms, unis), rule)


@pytest.mark.parametrize("seed", SEEDS)
def test_free_slots_are_the_firms_with_a_slot_and_cash_and_the_universities_places(seed):
    w = mid_run(seed).world
    f, pr = w.firms, w.projects
    act = pr.active_rows()
    running = np.bincount(pr.firm[act], minlength=f.n)
    slots = project_slots(f.employees[: f.n], w.p["project_slot_employees"])
    # Firms already running a project whose cash covers one project but not one more: the
    # cover grows with the projects a firm runs.
    running_some = np.flatnonzero((running > 0) & (running < slots))
    assert len(running_some) > 0
    f.cash[running_some[::2]] = 1.5 * project_cash_need(w)
    want = np.flatnonzero(f.alive[: f.n] & (running < slots)
                          & (f.cash[: f.n] >= project_cash_need(w) * (1 + running)))
    np.testing.assert_array_equal(free_firms(w), want)
    assert 0 < len(want) < f.n
    used = np.bincount(pr.university[act], minlength=w.unis.count)
    places = np.floor(w.unis.faculty * w.p["projects_per_faculty"]) - used
    np.testing.assert_array_equal(capacity_left(w), np.maximum(places, 0))
    assert used.sum() > 0
    # A university with more projects than places (its faculty shrank) has none left.
    busiest = int(np.argmax(used))
    w.unis.faculty[busiest] = 0.0
    assert capacity_left(w)[busiest] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_the_broker_offers_to_the_best_screened_firm_once_per_firm(seed):
    w = mid_run(seed).world
    f, u = w.firms, w.unis
    rng = np.random.default_rng(seed)
    pool = free_firms(w)
    want = np.array([3, 0, 5])
    picks = rng.integers(0, min(len(pool), 8), size=(int(want.sum()), 4))  # repeats likely
    firms, unis, pay = kernels.screen_firms(pool, picks, want, f.knowledge, u.knowledge,
                                            f.trust, w.p["optimal_distance"],
                                            w.p["payoff_shape"])
    assert (np.diff(firms) > 0).all()  # one offer a firm, in row order
    np.testing.assert_allclose(
        pay, inverted_u(rowwise_distance(f.knowledge[firms], u.knowledge[unis]),
                        w.p["optimal_distance"], w.p["payoff_shape"]), rtol=1e-12)
    offer_uni = np.repeat(np.arange(u.count), want)
    screened = pool[picks]
    score = inverted_u(rowwise_distance(f.knowledge[screened.ravel()],
                                        u.knowledge[np.repeat(offer_uni, 4)]),
                       w.p["optimal_distance"], w.p["payoff_shape"]).reshape(screened.shape)
    score = score * (1.0 + f.trust[screened, offer_uni[:, None]])
    for firm, uni in zip(firms, unis, strict=True):
        # The firm's first offer: that offer's best-scoring screened firm, of that university.
        first = np.flatnonzero((screened == firm).any(axis=1)
                               & (screened[np.arange(len(screened)),
                                           np.argmax(score, axis=1)] == firm))[0]
        assert offer_uni[first] == uni
    # Every firm that won some offer gets one.
    winners = np.unique(screened[np.arange(len(screened)), np.argmax(score, axis=1)])
    np.testing.assert_array_equal(firms, winners)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_firm_counts_the_projects_it_ever_started(seed):
    w = mid_run(seed, broker_rate=1.0).world
    pr, f = w.projects, w.firms
    assert pr.brokered[: pr.n].any() and (~pr.brokered[: pr.n]).any()  # both kinds started
    np.testing.assert_array_equal(f.partners[: f.n], np.bincount(pr.firm[: pr.n], minlength=f.n))


@pytest.mark.parametrize("seed", SEEDS)
def test_projects_without_a_matching_grant_cost_the_firm_the_whole_project(seed):
    model = mid_run(seed)
    w, pr = model.world, model.world.projects
    act = pr.active_rows()
    assert len(act) > 0
    pr.gov_funded[act[::2]] = False  # half of them started while the pot was empty
    firms = pr.firm[act]
    share = np.where(pr.social[act], w.p["social_cofunding_rate"], w.p["matching_rate"])
    due = w.p["project_cost"] * share * pr.gov_funded[act]
    assert 0 < due.sum() < w.p["project_cost"] * len(act)
    # The pot holds just the grants due: all of them are paid, and nothing is left for the
    # broker's office (paid after them).
    w.gov.balance[MATCHING] = due.sum()
    spent = float(w.gov.spent[MATCHING])
    cash = w.firms.cash.copy()
    run_projects(w)
    outlay = np.bincount(firms, weights=w.p["project_cost"] - due, minlength=w.firms.n)
    np.testing.assert_allclose(cash[: w.firms.n] - w.firms.cash[: w.firms.n],
                               outlay[: w.firms.n], rtol=1e-12, atol=1e-12)
    assert w.gov.spent[MATCHING] - spent == pytest.approx(due.sum(), rel=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n_unis", [1, 3, 20])
def test_the_searchers_choice_uniforms_are_their_rows_of_numpys_whole_draw(seed, n_unis):
    # The replaced draw was rng.random((n_rows, n_unis)), one row per firm row: the
    # searchers' rows of it, value for value (no searcher, the first and the last row,
    # every row, a few rows).
    cases = np.random.default_rng(seed)
    n_rows = int(cases.integers(1, 300))
    for rows in (np.zeros(0, dtype=np.int64), np.array([0]), np.array([n_rows - 1]),
                 np.arange(n_rows), np.flatnonzero(cases.random(n_rows) < 0.05),
                 np.flatnonzero(cases.random(n_rows) < 0.5)):
        want_rng = np.random.default_rng(int(cases.integers(2**32)))
        got = collaboration.choice_uniforms(start_state(want_rng), rows, n_rows, n_unis)
        np.testing.assert_array_equal(got, want_rng.random((n_rows, n_unis))[rows])
        assert got.shape == (len(rows), n_unis)


@pytest.mark.parametrize("rows", [[3, 1], [2, 2], [0, 5, 4], [10], [-1, 2]])
def test_choice_uniforms_refuses_rows_it_cannot_reach_in_order(rows):
    # Rows out of order, repeated or past the last firm row are a caller's mistake: the
    # numbers exist for any position, so nothing else would catch it.
    start = start_state(np.random.default_rng(1))
    with pytest.raises(ValueError, match="rows must ascend"):
        collaboration.choice_uniforms(start, np.array(rows), 10, 3)


def old_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replaced code's draws back in: every firm row's collaboration.choice
    (random((n, universities))) and collaboration.accept (random(n)) uniforms drawn and the
    searchers' rows read; innovation.gain and .patent drawn for every row as before (the
    kernel reads its innovators' numbers from the start state taken just before)."""
    from simulation.world import World

    sizes = {"innovation.gain": 3, "innovation.patent": 1}

    def rng_start(self, purpose):
        gen = self.rng(purpose)  # the stream's use this month, as the replaced code made it
        if purpose not in sizes:
            return gen, self.firms.n
        start = start_state(gen)
        gen.random((self.firms.n, sizes[purpose]))
        return start

    monkeypatch.setattr(World, "rng_start", rng_start)
    monkeypatch.setattr(collaboration, "choice_uniforms",
                        lambda source, rows, n_rows, n_unis:
                        source[0].random((n_rows, n_unis))[rows])
    monkeypatch.setattr(collaboration.kernels, "uniforms_at",
                        lambda source, rows: source[0].random(source[1])[rows])


@pytest.mark.parametrize("seed", SEEDS)
def test_a_run_with_every_firms_choice_uniforms_drawn_is_the_same_run(seed, monkeypatch):
    # The searchers' uniforms are their rows of one (firm rows, universities) draw and of
    # one firm-row draw of acceptances: a run that draws them all, as the replaced code
    # did, is the same run, month by month and firm by firm (the platform on, so that
    # searchers reach every university).
    def run():
        model = EcosystemModel(rng=seed, n_universities=3, n_firms=300,
                               intake_per_university=150, horizon_months=18, search_rate=0.2,
                               platform_on=True, platform_launch_month=2)
        return model.run()

    computed = run()
    old_draws(monkeypatch)
    drawn = run()
    a = computed.datacollector.get_model_vars_dataframe()
    b = drawn.datacollector.get_model_vars_dataframe()
    assert a["projects_started"].sum() > 0 and a["platform_matches"].sum() > 0
    assert a.equals(b)
    fa, fb = computed.world.firms, drawn.world.firms
    for name in ("trust", "partners", "productivity", "patents", "innovations"):
        np.testing.assert_array_equal(getattr(fa, name)[: fa.n], getattr(fb, name)[: fb.n])
    assert fa.patents[: fa.n].sum() > 0


def busy_run(seed: int, months: int, **overrides) -> EcosystemModel:
    """A small region where many projects start, end, are abandoned and dropped each month."""
    settings = dict(search_rate=0.5, broker_rate=0.5, project_duration=4,
                    projects_per_faculty=0.05)
    model = EcosystemModel(rng=seed, n_universities=3, n_firms=300, intake_per_university=200,
                           horizon_months=months + 2, **{**settings, **overrides})
    for _ in range(months):
        model.step()
    return model


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("platform", [False, True])
def test_the_free_places_kept_through_the_month_are_those_counted_afresh(seed, platform):
    # The month's free places come out of the ending kernel and follow each new project
    # (OpenSlots); counted again from the projects at each point they must be the same.
    model = busy_run(seed, 6, platform_on=platform, platform_launch_month=1)
    w = model.world
    seen = {"full": 0, "left": 0}
    for _ in range(8):
        w.begin_month()
        for mech in ORDER[: ORDER.index(collaboration)]:
            mech.apply(w)
        slots = collaboration.end_projects(w)

        def same(slots=slots):
            fresh = collaboration.open_slots(w)
            np.testing.assert_array_equal(slots.firms, fresh.firms)
            np.testing.assert_array_equal(slots.capacity, fresh.capacity)
            np.testing.assert_array_equal(slots.running, fresh.running)
            assert slots.need == fresh.need

        same()
        before = len(slots.firms)
        collaboration.search_and_match(w, slots)
        same()
        collaboration.broker(w, slots)
        same()
        seen["full"] += int((slots.capacity == 0).any())
        seen["left"] += int(len(slots.firms) < before)
        collaboration.run_projects(w)
        for mech in ORDER[ORDER.index(collaboration) + 1:]:
            mech.apply(w)
    assert seen["full"] > 0 and seen["left"] > 0  # places ran out, firms left the free set


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("optimum", "hazard"), [(0.1, 0.005), (0.8, 0.05)])
def test_the_ending_kernel_abandons_the_projects_whose_draw_is_below_the_hazard(seed, optimum,
                                                                                hazard):
    # Draws a hair below or above each project's abandon_probability: the kernel's decision
    # (which skips the distance when a draw is above a bound of the hazard) is the formula's.
    # A small optimum puts most projects far beyond it, a large one near distance 0: the
    # hazard is high at both ends of the gap, where the bound is tightest.
    model = busy_run(seed, 6, optimal_distance=optimum, abandon_hazard=hazard)
    w = model.world
    f, pr, p = w.firms, w.projects, w.p
    n = pr.n
    act = pr.active_rows()
    firms, unis = pr.firm[act], pr.university[act]
    due = pr.end_step[act] <= w.month + 1
    share = 1.0 - np.where(pr.social[act], p["social_cofunding_rate"],
                           p["matching_rate"]) * pr.gov_funded[act]
    broke = f.cash[firms] < p["project_cost"] * share
    h = abandon_probability(rowwise_distance(f.knowledge[firms], w.unis.knowledge[unis]),
                            f.trust[firms, unis], p)
    rng = np.random.default_rng(seed)
    below = rng.random(len(act)) < 0.5
    u_abandon = np.ones(n)
    u_abandon[act] = np.where(below, h * (1 - 1e-6), h * (1 + 1e-6))
    ep = np.array([collaboration.project_cash_need(w) if name == "cash_need" else float(p[name])
                   for name in collaboration.END_PARAMETERS])
    active = pr.active[:n].copy()
    counts = kernels.end_projects(
        f.alive[: f.n], f.cash, f.employees, f.knowledge, f.trust.copy(), f.trusted.copy(),
        w.unis.knowledge, w.unis.faculty, pr.firm[:n], pr.university[:n], pr.end_step[:n],
        pr.payoff[:n], pr.social[:n], pr.gov_funded[:n], active, pr.failed[:n].copy(), u_abandon,
        np.ones(n), w.month + 1, ep)[0]
    want = below & ~due & ~broke & f.alive[firms]
    assert want.sum() > 0 and (~want & ~due & ~broke).sum() > 0
    assert counts[2] == want.sum()
    np.testing.assert_array_equal(~active[act] & ~due & ~broke, want)


def test_the_search_bound_lies_above_the_search_probability():
    # The bound decides that a firm does not search without its power: it must never lie
    # below the probability (elasticities in [0, 1], sizes below, at and above the reference).
    rng = np.random.default_rng(7)
    for _ in range(20_000):
        # Near 1 the tangent touches the power: only the widening covers rounding there.
        near_one = 1.0 + float(rng.integers(-4, 5)) * 2.0**-52
        size = float(rng.choice([1.0, near_one, rng.uniform(0.01, 1.0),
                                 rng.uniform(1.0, 500.0)]))
        inputs = (float(rng.uniform(0, 1)), float(rng.uniform(0, 5)), size,
                  float(rng.choice([0.0, 1.0, rng.uniform(0, 1)])), float(rng.uniform(1, 3)),
                  float(rng.uniform(0, 1)), float(rng.uniform(1, 2)), float(rng.uniform(1, 3)))
        exact = kernels.search_probability(*inputs)
        bound = kernels.search_probability_bound(*inputs)
        assert exact <= bound <= exact * (1 + 1e-6) + 1e-15 or size != 1.0
        assert exact <= bound


@pytest.mark.parametrize("seed", SEEDS)
def test_a_firm_whose_slots_shrank_keeps_the_projects_it_started_last(seed):
    # Firms running several projects lose staff down to one slot: each keeps the project it
    # started last (the highest row: rows are in start order), as the numpy implementation
    # did; the others end as failed.
    model = busy_run(seed, 8, project_slot_employees=5, project_duration=24)
    w = model.world
    f, pr, p = w.firms, w.projects, w.p
    n = pr.n
    act = pr.active_rows()
    per_firm = np.bincount(pr.firm[act], minlength=f.n)
    crowded = np.flatnonzero(per_firm >= 2)
    assert len(crowded) >= 3
    shrunk = crowded[::2]
    employees = f.employees.copy()
    employees[shrunk] = p["project_slot_employees"]  # one slot
    ep = np.array([0.0 if name == "cash_need" else float(p[name])
                   for name in collaboration.END_PARAMETERS])
    ep[collaboration.END_PARAMETERS.index("project_cost")] = 0.0  # nobody is too poor to pay
    active = pr.active[:n].copy()
    failed = pr.failed[:n].copy()
    counts = kernels.end_projects(
        f.alive[: f.n], f.cash, employees, f.knowledge, f.trust.copy(), f.trusted.copy(),
        w.unis.knowledge, w.unis.faculty, pr.firm[:n], pr.university[:n], pr.end_step[:n],
        pr.payoff[:n], pr.social[:n], pr.gov_funded[:n], active, failed, np.ones(n),
        np.ones(n), w.month, ep)[0]
    ended_otherwise = act[(pr.end_step[act] <= w.month) | ~f.alive[pr.firm[act]]]
    assert not np.isin(pr.firm[ended_otherwise], shrunk).any()  # only trimming ends theirs
    for i in shrunk:
        rows = act[pr.firm[act] == i]
        assert active[rows].tolist() == [False] * (len(rows) - 1) + [True]
        assert failed[rows[:-1]].all()
    assert counts[4] == (per_firm[shrunk] - 1).sum()
    assert counts[3] == len(act) - len(ended_otherwise)  # active before the trim
    others = np.setdiff1d(act, act[np.isin(pr.firm[act], shrunk)])
    np.testing.assert_array_equal(active[others], ~np.isin(others, ended_otherwise))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("elasticity", [0.0, 0.3, 1.0, 1.8])
@pytest.mark.parametrize("trust", ["run", "full"])
def test_the_partner_search_takes_the_firms_whose_draw_is_below_their_probability(seed,
                                                                                  elasticity,
                                                                                  trust):
    # Search draws a hair below or above each free firm's search_probability: the kernel's
    # searchers (it skips the power when a draw is above a bound, for elasticities in [0, 1]
    # only, and before that a cheaper bound at the highest experience trust allows) are
    # those the probability gives, at elasticities below, at and above 1, with the run's
    # trust (mostly none) and with trust throughout its range (at 1 for half the pairs).
    w = mid_run(seed, search_size_elasticity=elasticity).world
    f, p = w.firms, w.p
    if trust == "full":
        pairs = np.random.default_rng(seed + 10).random(f.trust[: f.n].shape)
        f.trust[: f.n] = np.where(pairs < 0.5, 1.0, pairs)
    cand = collaboration.free_firms(w)
    f.employees[cand[:8]] = [0, 1] * 4  # firms of no or one employee count as one
    sp = np.array([0.02, max(p["rd_intensity"], 1e-12),  # a rate that keeps most below 1
                   p["search_reference_employees"], elasticity, p["experience_search_boost"],
                   1.3, 0.0, p["optimal_distance"], p["payoff_shape"], p["choice_noise"],
                   p["match_probability"], 0.0])
    prob = np.array([kernels.search_probability(
        sp[0], f.rd_intensity[i] / sp[1], max(f.employees[i], 1) / sp[2], elasticity,
        1.0 + sp[4] * f.trust[i].max(), f.absorptive[i], sp[5], 1.0) for i in cand])
    rng = np.random.default_rng(seed)
    below = rng.random(len(cand)) < 0.5
    u_search = np.ones(f.n)
    u_search[cand] = np.where(below, prob * (1 - 1e-9), prob * (1 + 1e-9))
    capped = prob >= 1.0  # a firm of probability 1 or more searches whatever its draw
    u_search[cand[capped]] = 0.5
    below |= capped
    rows = kernels.searching_firms(cand, f.employees, f.rd_intensity, f.absorptive, f.trust,
                                   f.platform_member, u_search, False, sp)
    assert (below & ~capped).any() and not below.all()
    np.testing.assert_array_equal(rows, cand[below])


@pytest.mark.parametrize("seed", SEEDS)
def test_every_pair_of_the_trusted_rows_loses_trust_decay_of_its_trust(seed):
    # Step 3 of the ending kernel: with no project ending, every trusted firm row's trust in
    # every university is multiplied by 1 - trust_decay (as one numpy product would); the
    # other rows (whose trust the model keeps at 0: given here, so that a visit would show)
    # and the table's spare rows are left alone.
    w = mid_run(seed, trust_decay=0.07).world
    f, pr, p = w.firms, w.projects, w.p
    n = pr.n
    rng = np.random.default_rng(seed)
    trust = rng.random(f.trust.shape)
    trusted = rng.random(len(trust)) < 0.3
    trusted[f.n:] = True  # spare rows: past the table's rows, never visited
    before = trust.copy()
    ep = np.array([collaboration.project_cash_need(w) if name == "cash_need" else float(p[name])
                   for name in collaboration.END_PARAMETERS])
    kernels.end_projects(
        f.alive[: f.n], f.cash, f.employees, f.knowledge, trust, trusted, w.unis.knowledge,
        w.unis.faculty, pr.firm[:n], pr.university[:n], pr.end_step[:n], pr.payoff[:n],
        pr.social[:n], pr.gov_funded[:n], np.zeros(n, dtype=bool), pr.failed[:n].copy(),
        np.ones(n), np.ones(n), w.month, ep)
    expected = before.copy()
    visited = trusted.copy()
    visited[f.n:] = False
    expected[visited] *= 1.0 - 0.07
    assert f.n < len(trust) and 0 < visited.sum() < f.n  # spare, trusted and other rows
    np.testing.assert_array_equal(trust, expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_only_trusted_rows_hold_trust_and_they_are_the_rows_a_success_raised(seed):
    # The decay visits the trusted rows alone, which is the same run only if every other
    # row's trust is 0: through a run with entry (new rows), exits and many endings, the rows
    # with any trust are trusted ones. Here (trust_gain > 0, trust_loss < 1) trust from a
    # success stays above 0, so the trusted rows are exactly those with trust; with a gain of
    # 0 or a loss of 1 a trusted row may hold 0, which the decay does not mind.
    model = busy_run(seed, 1, entry_rate=0.02, exit_hazard_mature=0.01)
    w = model.world
    f, pr = w.firms, w.projects
    for _ in range(10):
        model.step()
        held = (f.trust[: f.n] != 0).any(axis=1)
        assert not (held & ~f.trusted[: f.n]).any()
        np.testing.assert_array_equal(held, f.trusted[: f.n])
    assert f.trusted[: f.n].sum() > 0 and (pr.failed[: pr.n]).any()
    assert not f.trusted[f.n:].any()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_social_projects_started_are_counted_once_each(seed):
    # A share of brokered projects take a public or social partner: the run's count of
    # social projects started is the number of project rows that have one.
    w = mid_run(seed, broker_rate=1.0, social_partner_share=0.4).world
    pr = w.projects
    social = int(pr.social[: pr.n].sum())
    assert 0 < social < int(pr.brokered[: pr.n].sum())
    assert w.totals["social_projects_started"] == social


@pytest.mark.parametrize("seed", SEEDS)
def test_a_searched_match_succeeds_when_its_draw_is_below_its_acceptance(seed):
    # The match succeeds with probability match_probability x payoff x (1 + broker boost x
    # the chosen university's 3.0 share, World.share_3_0): acceptance draws a hair either
    # side of it decide as the formula does, at universities of different 3.0 shares.
    w = mid_run(seed, share_edu_3_0=0.5).world
    f, p = w.firms, w.p
    w.enrolled[:, 2] *= np.array([0.0, 0.5, 1.0])  # three different 3.0 shares
    rows, cap = collaboration.free_slots(w)
    sp = np.array([1.0, max(p["rd_intensity"], 1e-12), p["search_reference_employees"],
                   p["search_size_elasticity"], p["experience_search_boost"], 1.0, 0.0,
                   p["optimal_distance"], p["payoff_shape"], p["choice_noise"], 0.3, 1.5])
    rng = np.random.default_rng(seed)
    u_choice = rng.random((len(rows), w.unis.count))

    def search(u_accept):
        return kernels.choose_partners(
            rows, f.knowledge, f.trust, f.home_university, f.platform_member, w.unis.knowledge,
            cap, w.enrolled, u_choice, u_accept, False, sp)

    choice, payoff, _, _ = search(np.ones(len(rows)))
    share = w.share_3_0()
    accept = 0.3 * payoff * (1.0 + 1.5 * share[choice])
    below = rng.random(len(rows)) < 0.5
    u_accept = np.where(below, accept * (1 - 1e-9), accept * (1 + 1e-9))  # by searcher
    matched = search(u_accept)[3]
    assert len(np.unique(share[choice])) >= 2 and below.any() and not below.all()
    np.testing.assert_array_equal(matched, below & (accept > 0))


@pytest.mark.parametrize("seed", SEEDS)
def test_a_searcher_picks_the_university_of_best_trusted_payoff_and_noise(seed):
    # The logit choice: the reachable university with places that maximises log(payoff x
    # (1 + trust)) - choice_noise x log(-log u), payoff the inverted U in cognitive distance
    # (knowledge.inverted_u, rowwise_distance). Trust drawn per pair moves some picks away
    # from the best payoff and noise alone, and the payoff returned is the chosen one's, with
    # no trust in it. (Mid-run searchers mostly hold no trust, so runs barely test it.)
    w = mid_run(seed).world
    f, p = w.firms, w.p
    rows, _ = collaboration.free_slots(w)
    n_u = w.unis.count
    cap = np.full(n_u, 10**6, dtype=np.int64)
    sp = np.array([1.0, max(p["rd_intensity"], 1e-12), p["search_reference_employees"],
                   p["search_size_elasticity"], p["experience_search_boost"], 1.0, 0.0,
                   p["optimal_distance"], p["payoff_shape"], p["choice_noise"], 0.3, 1.5])
    rng = np.random.default_rng(seed)
    u_choice = rng.random((len(rows), n_u))
    trust = np.zeros_like(f.trust)
    trust[rows] = rng.random((len(rows), n_u))
    member = np.ones(len(f.platform_member), dtype=f.platform_member.dtype)
    choice, payoff, _, _ = kernels.choose_partners(
        rows, f.knowledge, trust, f.home_university, member, w.unis.knowledge, cap,
        w.enrolled, u_choice, np.ones(len(rows)), True, sp)
    pay = np.column_stack([
        inverted_u(rowwise_distance(f.knowledge[rows],
                                    np.repeat(w.unis.knowledge[[u]], len(rows), axis=0)),
                   p["optimal_distance"], p["payoff_shape"]) for u in range(n_u)])
    noise = -p["choice_noise"] * np.log(-np.log(u_choice))

    def best(score):
        # The pick where it is clear: the best score ahead of the next by more than the
        # rounding of two ways of computing it.
        top = np.sort(score, axis=1)
        return score.argmax(axis=1), top[:, -1] - top[:, -2] > 1e-9

    with_trust, clear = best(np.log(np.maximum(pay * (1.0 + trust[rows]), 1e-12)) + noise)
    without, _ = best(np.log(np.maximum(pay, 1e-12)) + noise)
    assert clear.mean() > 0.9 and (with_trust[clear] != without[clear]).any()
    np.testing.assert_array_equal(choice[clear], with_trust[clear])
    np.testing.assert_allclose(payoff, pay[np.arange(len(rows)), choice], rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_university_with_one_free_place_left_is_in_reach_and_a_full_one_is_not(seed):
    # Every searcher on the platform reaches every university; only university 1 has a
    # place (one): each picks it and, with an acceptance draw of 0, is matched.
    w = mid_run(seed).world
    f, p = w.firms, w.p
    rows, _ = collaboration.free_slots(w)
    cap = np.zeros(w.unis.count, dtype=np.int64)
    cap[1] = 1
    sp = np.array([1.0, max(p["rd_intensity"], 1e-12), p["search_reference_employees"],
                   p["search_size_elasticity"], p["experience_search_boost"], 1.0, 0.0,
                   p["optimal_distance"], p["payoff_shape"], p["choice_noise"], 0.3, 1.5])
    u_choice = np.random.default_rng(seed).random((len(rows), w.unis.count))
    member = np.ones(len(f.platform_member), dtype=f.platform_member.dtype)
    choice, payoff, _, matched = kernels.choose_partners(
        rows, f.knowledge, f.trust, f.home_university, member, w.unis.knowledge, cap,
        w.enrolled, u_choice, np.zeros(len(rows)), True, sp)
    assert len(rows) > 0 and (choice == 1).all() and (payoff > 0).all() and matched.all()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n_unis", [1, 3, 20])
def test_the_brokers_offers_are_numpys_array_draw(seed, n_unis):
    # The replaced draw was np.minimum(rng.poisson(rate * 3.0 students / 12), capacity): the
    # same offers, value for value, and the generator left where numpy leaves it.
    cases = np.random.default_rng(seed)
    for _ in range(20):
        in_3_0 = np.floor(cases.choice([0.0, 5.0, 300.0, 4000.0], n_unis)
                          * cases.uniform(0.5, 1.5, n_unis))
        capacity = cases.integers(0, 12, n_unis)
        rate = float(cases.choice([0.0, 0.01, 0.5, 3.0]))
        stream = int(cases.integers(2**32))
        got_rng, want_rng = np.random.default_rng(stream), np.random.default_rng(stream)
        got = collaboration.broker_offers(got_rng, rate, in_3_0, capacity)
        want = np.minimum(want_rng.poisson(rate * in_3_0 / 12.0), capacity)
        assert got == want.tolist()
        assert got_rng.bit_generator.state == want_rng.bit_generator.state
        assert got_rng.random() == want_rng.random()


@pytest.mark.parametrize("seed", SEEDS)
def test_trust_moves_once_per_pair_first_successes_then_losses(seed):
    # Every project row of a busy month ends at its end month, each pair with several rows
    # (copies of the month's projects, succeeding or failing by their draws): a pair with a
    # success gains trust_gain x (1 - trust) once and marks its firm row trusted, then a pair
    # with a failure of a living firm loses trust_loss of it once, then every pair of the
    # trusted rows (those marked before and now) decays; the other rows are left alone.
    model = busy_run(seed, 6, trust_gain=0.4, trust_loss=0.25, trust_decay=0.05)
    w = model.world
    f, pr, p = w.firms, w.projects, w.p
    act = pr.active_rows()
    rows = np.concatenate([act, act, act])  # each pair at least three times
    rng = np.random.default_rng(seed)
    n = len(rows)
    trust = rng.random(f.trust.shape)
    trusted = rng.random(len(trust)) < 0.2
    was_trusted = trusted.copy()
    before = trust.copy()
    payoff = np.full(n, 0.5)
    u_success = rng.random(n)
    alive = f.alive[: f.n].copy()
    alive[rng.choice(pr.firm[act], size=3)] = False  # exited firms lose no trust
    ep = np.array([0.0 if name == "cash_need" else float(p[name])
                   for name in collaboration.END_PARAMETERS])
    ep[collaboration.END_PARAMETERS.index("project_cost")] = 0.0
    kernels.end_projects(
        alive, f.cash, f.employees, f.knowledge, trust, trusted, w.unis.knowledge,
        w.unis.faculty, pr.firm[rows], pr.university[rows],
        np.zeros(n, dtype=pr.end_step.dtype), payoff, pr.social[rows], pr.gov_funded[rows],
        np.ones(n, dtype=bool), np.zeros(n, dtype=bool), np.ones(n), u_success, w.month, ep)
    want = before.copy()
    key = pr.firm[rows].astype(np.int64) * w.unis.count + pr.university[rows]
    won = u_success < payoff
    lost = ~won & alive[pr.firm[rows]]
    for k in np.unique(key[won]):
        t = want[k // w.unis.count, k % w.unis.count]
        want[k // w.unis.count, k % w.unis.count] = t + 0.4 * (1.0 - t)
    for k in np.unique(key[lost]):
        want[k // w.unis.count, k % w.unis.count] *= 1.0 - 0.25
    marked = was_trusted.copy()
    marked[pr.firm[rows][won]] = True
    np.testing.assert_array_equal(trusted, marked)
    marked[f.n:] = False
    want[marked] *= 1.0 - 0.05
    assert (marked & ~was_trusted).any() and (~marked[: f.n]).any()
    assert np.isin(key[won], key[lost]).any() and (~np.isin(key[lost], key[won])).any()
    assert (~alive[pr.firm[rows]]).any()
    np.testing.assert_array_equal(trust, want)
