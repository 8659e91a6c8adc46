"""Displacement and entry: new firms take value added from incumbents of their domain, entry
follows the region rather than the number of living firms, the retention subsidy pays its
administration, and W starts after the burn-in."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel, kernels
from simulation.state import ENTRANT
from simulation.world import INSTRUMENT_INDEX, displace_incumbents, init_firms

SMALL = dict(n_universities=2, n_firms=300, intake_per_university=300, horizon_months=36)


def _with_new_firms(share: float, seed: int = 1, n_new: int = 20, diverted: bool = False):
    m = EcosystemModel(rng=seed, displacement_share=share, **SMALL)
    w = m.world
    f = w.firms
    gp = w.p["graduate_premium"]
    if diverted:  # a third of the firms with more staff on projects than they employ
        third = np.flatnonzero(f.alive[: f.n])[::3]
        f.diverted[third] = f.employees[third] + 1.5
    before = f.value_added(np.flatnonzero(f.alive[: f.n]), gp).sum()
    old_rows = np.flatnonzero(f.alive[: f.n])
    old_va = f.value_added(old_rows, gp)
    rows = f.reserve(n_new)
    init_firms(f, rows, w.p, np.random.default_rng(seed), size=np.full(n_new, 30.0),
               origin=ENTRANT, step=0, home=np.zeros(n_new, dtype=np.int64))
    new = np.arange(rows.start, rows.stop)
    new_va = f.value_added(new, gp).sum()
    displace_incumbents(w, new)
    after = f.value_added(np.flatnonzero(f.alive[: f.n]), gp).sum()
    return before, after, new_va, old_rows, old_va, new, f, gp


@pytest.mark.parametrize("diverted", (False, True))
@pytest.mark.parametrize("seed", (1, 2, 3))
def test_full_displacement_moves_value_added_without_creating_it(seed, diverted):
    # Also when some firms have no staff left at work (their labour counts as none, not
    # as negative).
    before, after, new_va, *_ = _with_new_firms(1.0, seed, diverted=diverted)
    assert new_va > 0
    assert after == pytest.approx(before, rel=1e-12)


@pytest.mark.parametrize("share", (0.0, 0.3, 0.5))
def test_partial_displacement_creates_the_rest(share):
    before, after, new_va, *_ = _with_new_firms(share)
    assert after - before == pytest.approx((1.0 - share) * new_va, rel=1e-9)


def test_only_incumbents_of_the_new_firms_domains_lose():
    _, _, _, old_rows, old_va, new, f, gp = _with_new_firms(1.0)
    new_domains = set(np.argmax(f.knowledge[new], axis=1).tolist())
    dom = np.argmax(f.knowledge[old_rows], axis=1)
    now = f.value_added(old_rows, gp)
    other = ~np.isin(dom, list(new_domains))
    assert other.any()
    np.testing.assert_array_equal(now[other], old_va[other])
    assert (now[~other] < old_va[~other]).all()


def _entrants(seed: int, **kw) -> np.ndarray:
    m = EcosystemModel(rng=seed, channel_incubation=False, founder_rate=0.0, **{**SMALL, **kw})
    m.run(36)
    df = m.dataframe()
    return df["firm_entries"].to_numpy()[1:], df["firms_alive"].to_numpy()


def test_entry_does_not_scale_with_living_firms():
    # Kill firms off fast: living firms fall by half or more, but entry keeps its regional rate.
    rate = 0.005 * SMALL["n_firms"]
    calm, harsh = [], []
    for seed in (1, 2, 3):
        e, _ = _entrants(seed)
        calm.append(e.mean())
        e2, alive2 = _entrants(seed, exit_hazard_mature=0.03, exit_hazard_mid=0.03,
                               exit_hazard_young=0.03, exit_size_elasticity=0.0)
        harsh.append(e2.mean())
        assert alive2[-1] < 0.6 * alive2[0]
    # Poisson mean over 3 x 36 months: standard error about sqrt(1.5 / 108) = 0.12.
    assert np.mean(calm) == pytest.approx(rate, abs=0.45)
    assert np.mean(harsh) == pytest.approx(rate, abs=0.45)


@pytest.mark.parametrize("seed", (1, 2))
def test_graduate_start_ups_and_spin_offs_displace(seed):
    kw = dict(SMALL, founder_rate=0.1, spinoff_rate=1.0)
    m = EcosystemModel(rng=seed, **kw).run(12)
    assert m.world.totals["displaced_value_added"] > 0
    none = EcosystemModel(rng=seed, **{**kw, "displacement_share": 0.0}).run(12)
    assert "displaced_value_added" not in none.world.totals
    # Graduate start-ups alone, and spin-offs alone, displace.
    grads = EcosystemModel(rng=seed, **{**kw, "entry_rate": 0.0, "spinoff_rate": 0.0}).run(12)
    assert grads.world.totals["graduate_startups"] > 0
    assert grads.world.totals["displaced_value_added"] > 0
    spin = EcosystemModel(rng=seed, **{**kw, "entry_rate": 0.0, "founder_rate": 0.0}).run(12)
    assert spin.world.totals["spinoffs"] > 0
    assert spin.world.totals["displaced_value_added"] > 0


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_displacement_reads_each_firms_main_domain_of_the_moment(seed, monkeypatch):
    # Entry's displacement takes the incumbents' main domains from the month's growth
    # (kernels.grow_firms): they must be np.argmax of the knowledge at the moment of every
    # displacement (no firm's knowledge may change in between), and a displacement given
    # them must do what one that finds every domain afresh does.
    real, known_calls = kernels.displace, []

    def checked(alive, new, known, n_known, knowledge, productivity, *rest):
        rows = np.flatnonzero(alive[:n_known])
        np.testing.assert_array_equal(known[rows], np.argmax(knowledge[rows], axis=1))
        fresh = productivity.copy()
        want = real(alive, new, known[:0], 0, knowledge, fresh, *rest)
        got = real(alive, new, known, n_known, knowledge, productivity, *rest)
        assert got == want
        np.testing.assert_array_equal(productivity, fresh)
        known_calls.append(len(rows))
        return got

    monkeypatch.setattr(kernels, "displace", checked)
    EcosystemModel(rng=seed, **dict(SMALL, founder_rate=0.1, spinoff_rate=1.0)).run(24)
    assert sum(n > 0 for n in known_calls) >= 24  # entrants and spin-offs, most months


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_displacement_lowers_regional_value_added(seed):
    kw = dict(SMALL, founder_rate=0.1, spinoff_rate=1.0)
    on = EcosystemModel(rng=seed, **kw).run()
    off = EcosystemModel(rng=seed, **{**kw, "displacement_share": 0.0}).run()
    assert on.indicators()["welfare"] < off.indicators()["welfare"]


# --- retention subsidy's running cost ---------------------------------------------------------
@pytest.mark.parametrize("admin", (0.0, 0.1, 0.3))
def test_retention_subsidy_spends_payments_plus_administration(admin):
    m = EcosystemModel(rng=2, retention_admin_share=admin, **SMALL).run(12)
    spent = m.world.gov.spent[INSTRUMENT_INDEX["retention_subsidy"]]
    paid = m.world.totals["retention_payments"]
    assert paid > 0
    assert spent == pytest.approx(paid * (1.0 + admin), rel=1e-9)
    assert m.world.totals.get("retention_admin", 0.0) == pytest.approx(admin * paid, rel=1e-9)


def test_retention_administration_reaches_fewer_graduates_for_the_same_pot():
    # A scarce pot: its administration leaves less for payments.
    kw = dict(SMALL, budget_share_retention_subsidy=0.01, budget_share_block_grants=0.39,
              retention_subsidy=0.05)
    cheap = EcosystemModel(rng=3, retention_admin_share=0.0, **kw).run(12)
    dear = EcosystemModel(rng=3, retention_admin_share=0.3, **kw).run(12)
    assert dear.world.totals["retention_payments"] < cheap.world.totals["retention_payments"]


# --- burn-in ------------------------------------------------------------------------------------
@pytest.mark.parametrize("burn", (0, 7, 24))
def test_welfare_accumulates_discounted_value_added_after_the_burn_in(burn):
    m = EcosystemModel(rng=1, burn_in_months=burn, **SMALL).run()
    df = m.dataframe()
    r = m.parameters["discount_rate"]
    month = df["month"].to_numpy()
    # W counts value added net of firms' link outlays (docs/ODD.md 4.11).
    va = df["value_added"].to_numpy() - df["firm_link_outlays"].to_numpy()
    after = month > burn
    expected = (va[after] / (1.0 + r) ** ((month[after] - burn) / 12.0)).sum()
    assert df["welfare"].iloc[-1] == pytest.approx(expected, rel=1e-12)
    assert (df["welfare"].to_numpy()[month <= burn] == 0).all()


# Every column of a firm row and the value a firm that has done nothing yet holds in it.
FRESH = {"cash": None, "absorptive": 0.0, "exit_step": -1, "alive": True,
         "founder_university": -1, "incubated": False, "platform_member": False,
         "grad_employees": 0, "grad_skill": 0.0, "prior_grads": 0, "prior_grad_skill": 0.0,
         "innovations": 0, "patents": 0, "partners": 0, "last_innovation": -1,
         "last_project": -1, "subsidy": 0.0, "public_money": 0.0, "trust": 0.0,
         "trusted": False}


def _reused_rows(seed: int, n_new: int):
    """A world a year in, with ``n_new`` reserved rows holding another firm's leftovers, so a
    column that init_firms forgot would show."""
    m = EcosystemModel(rng=seed, **SMALL).run(12)
    f = m.world.firms
    rows = f.reserve(n_new)
    rng = np.random.default_rng(seed)
    for name in f._arrays():
        column = getattr(f, name)
        column[rows] = rng.integers(2, 9, column[rows].shape).astype(column.dtype)
    return m.world, f, rows


@pytest.mark.parametrize("seed", (1, 2, 3))
@pytest.mark.parametrize("given", (False, True))
def test_a_new_firm_starts_with_nothing_done(seed, given):
    w, f, rows = _reused_rows(seed, 25)
    rng = np.random.default_rng(seed + 10)
    size = rng.uniform(0.2, 40.0, 25)
    k = w.p["n_domains"]
    knowledge = rng.lognormal(0.0, 1.0, (25, k)) if given else None
    home = rng.integers(0, 2, 25)
    init_firms(f, rows, w.p, np.random.default_rng(seed), size=size, origin=ENTRANT, step=7,
               home=home, knowledge=knowledge)
    for name, value in FRESH.items():
        want = w.p["startup_cash"] if name == "cash" else value
        assert (getattr(f, name)[rows] == want).all(), name
    assert (f.birth_step[rows] == 7).all() and (f.origin[rows] == ENTRANT).all()
    np.testing.assert_array_equal(f.home_university[rows], home)
    np.testing.assert_array_equal(f.size[rows], size)
    np.testing.assert_array_equal(f.employees[rows], np.maximum(1, np.rint(size)))
    assert ((f.digital[rows] > 0) & (f.digital[rows] < 1)).all()
    assert (f.productivity[rows] > 0).all() and (f.rd_intensity[rows] > 0).all()
    # The level productivity reflects is the knowledge held, to the last bit (grow sums the
    # same way): otherwise knowledge_pays would move a new firm's productivity for nothing.
    np.testing.assert_array_equal(f.knowledge_paid[rows], f.knowledge[rows].sum(axis=1))
    if given:
        np.testing.assert_array_equal(f.knowledge[rows], knowledge)
        return
    # A specialist at the level its own R&D sustains: knowledge per employee
    # knowledge_reference at the mean R&D intensity and productivity, scaled by its own.
    rel = (f.rd_intensity[rows] / w.p["rd_intensity"]
           * f.productivity[rows] / w.p["productivity"])
    np.testing.assert_allclose(f.knowledge_paid[rows],
                               w.p["knowledge_reference"] * np.maximum(size, 1.0) * rel,
                               rtol=1e-12)
    top = f.knowledge[rows].max(axis=1) / f.knowledge_paid[rows]
    assert np.median(top) > 2.0 / k  # spiky, not spread evenly


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_a_kernel_row_sum_is_numpys_to_the_last_bit(seed):
    from simulation import kernels

    rng = np.random.default_rng(seed)
    for k in (1, 2, 7, 8, 9, 12, 16, 17, 64, 128, 129, 300):
        table = rng.lognormal(0.0, 3.0, (50, k)) * (rng.random((50, k)) > 0.2)
        want = table.sum(axis=1)
        got = np.array([kernels.row_sum(table[i]) for i in range(50)])
        np.testing.assert_array_equal(got, want, err_msg=f"{k} domains")
    # Zeros keep numpy's sign too: a row of negative zeros (or none) sums to numpy's 0.0.
    for k in (0, 1, 7, 8, 129, 300):
        row = np.full(k, -0.0)
        assert np.signbit(kernels.row_sum(row)) == np.signbit(row.sum()), f"{k} negative zeros"


@pytest.mark.parametrize("seed", (1, 2, 3))
@pytest.mark.parametrize("intake", ([3334.0], [300.0, 300.0, 300.0], [1.0, 5000.0, 40.0, 7.5],
                                    list(np.geomspace(1.0, 1e5, 20))))
def test_new_firms_home_universities_are_generator_choice_by_intake(seed, intake):
    # The replaced draw was rng.choice(U, size=n, p=intake / intake.sum()): the same homes and
    # the generator left where choice leaves it (the stream's next draws are the same).
    from simulation.world import home_universities

    intake = np.array(intake)
    for n in (1, 10, 4000):
        want_rng, got_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        want = want_rng.choice(len(intake), size=n, p=intake / intake.sum())
        got = home_universities(got_rng, intake, n)
        np.testing.assert_array_equal(got, want)
        assert want_rng.random() == got_rng.random()


@pytest.mark.parametrize("seed", (1, 2, 3))
@pytest.mark.parametrize("brokerage", (True, False))
def test_each_universitys_spin_offs_are_a_poisson_draw_at_its_rate(seed, brokerage):
    # ODD: university u founds Poisson(spinoff_rate x (0.3 + 0.7 x its Education Model 3.0
    # share x brokerage)) spin-offs a month. Held to numpy's draw over the universities' rates
    # from the month's stream: the same number for each university, every month.
    from simulation.mechanisms import firm_dynamics
    from simulation.rng import Streams
    from simulation.state import SPINOFF

    m = EcosystemModel(rng=seed, entry_rate=0.0, spinoff_rate=2.0, share_edu_3_0=0.4,
                       channel_brokerage=brokerage, **{**SMALL, "n_universities": 3})
    w = m.world
    founded = 0
    for _ in range(12):
        w.begin_month()
        rate = w.p["spinoff_rate"] * (0.3 + 0.7 * w.share_3_0() * brokerage)
        want = Streams(w.streams.root).get("firms.spinoff", w.month).poisson(rate)
        start = w.firms.n
        firm_dynamics.entry(w)
        new = slice(start, w.firms.n)
        assert (w.firms.origin[new] == SPINOFF).all()
        got = np.bincount(w.firms.founder_university[new], minlength=3)
        np.testing.assert_array_equal(got, want)
        founded += want.sum()
    assert founded > 10


@pytest.mark.parametrize("seed", (1, 2, 3))
@pytest.mark.parametrize("k", (2, 5, 12, 40))
def test_a_new_firms_profile_is_the_dirichlet_draw_of_its_stream(seed, k):
    # The replaced draw was rng.dirichlet(np.full(k, 0.3), size=n) after the productivity and
    # R&D draws: the same shares, and the generator left where dirichlet leaves it.
    m = EcosystemModel(rng=seed, **{**SMALL, "n_domains": k})
    f, n = m.world.firms, 30
    rows = f.reserve(n)
    got_rng, want_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    init_firms(f, rows, m.world.p, got_rng, size=np.full(n, 3.0), origin=ENTRANT, step=1,
               home=np.zeros(n, dtype=np.int64))
    sig = m.world.p["productivity_sigma"]
    want_rng.lognormal(-0.5 * sig**2, sig, n)
    want_rng.lognormal(-0.5, 1.0, n)
    want = want_rng.dirichlet(np.full(k, 0.3), size=n)
    want_rng.beta(2.0, 5.0, n)
    got = f.knowledge[rows] / f.knowledge[rows].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    assert got_rng.random() == want_rng.random()
