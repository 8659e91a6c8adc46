"""Displacement and entry: new firms take value added from incumbents of their domain, entry
follows the region rather than the number of living firms, the retention subsidy pays its
administration, and W starts after the burn-in."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.state import ENTRANT
from simulation.world import INSTRUMENT_INDEX, displace_incumbents, init_firms

SMALL = dict(n_universities=2, n_firms=300, intake_per_university=300, horizon_months=36)


def _with_new_firms(share: float, seed: int = 1, n_new: int = 20):
    m = EcosystemModel(rng=seed, displacement_share=share, **SMALL)
    w = m.world
    f = w.firms
    gp = w.p["graduate_premium"]
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


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_full_displacement_moves_value_added_without_creating_it(seed):
    before, after, new_va, *_ = _with_new_firms(1.0, seed)
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
