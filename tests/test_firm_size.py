"""Innovation scales sensibly with firm size: the hazard rises less than proportionally and an
innovation improves one product line, so it cannot double a large firm (innovation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.mechanisms import innovation
from simulation.mechanisms.innovation import gains_from_uniforms, hazard, line_share
from simulation.parameters import DEFAULTS

SMALL = dict(n_universities=2, n_firms=400, intake_per_university=300, horizon_months=24)
ZERO = np.zeros(3)


def test_hazard_rises_less_than_proportionally_with_size():
    p = dict(DEFAULTS)
    emp = np.array([10.0, 100.0, 10_000.0])
    lam = -np.log1p(-hazard(p, ZERO, ZERO, ZERO, ZERO, ZERO, employees=emp))
    assert (np.diff(lam) > 0).all()
    # Elasticity exactly innovation_size_elasticity, well below 1.
    slope = np.diff(np.log(lam)) / np.diff(np.log(emp))
    np.testing.assert_allclose(slope, p["innovation_size_elasticity"])
    assert p["innovation_size_elasticity"] < 0.5
    assert lam[2] / lam[0] < 1000 / 10


def test_hazard_rises_with_knowledge_per_employee():
    p = dict(DEFAULTS)
    know = np.array([0.5, 1.0, 2.0])
    lam = -np.log1p(-hazard(p, ZERO, ZERO, ZERO, ZERO, ZERO, knowledge=know))
    np.testing.assert_allclose(np.diff(np.log(lam)) / np.diff(np.log(know)),
                               p["hazard_knowledge_elasticity"])
    # At the reference intensity and size the old hazard is unchanged.
    one = hazard(p, ZERO, ZERO, ZERO, ZERO, ZERO, employees=np.full(3, 10.0),
                 knowledge=np.ones(3))
    np.testing.assert_allclose(one, hazard(p, ZERO, ZERO, ZERO, ZERO, ZERO))


def test_line_share_is_one_for_one_line_and_falls_with_size():
    p = dict(DEFAULTS)
    line = p["product_line_employees"]
    emp = np.array([1.0, line, 4 * line, 400 * line])
    share = line_share(emp, p)
    np.testing.assert_allclose(share[:2], 1.0)
    expected = np.array([4.0, 400.0]) ** -p["innovation_scope_elasticity"]
    np.testing.assert_allclose(share[2:], expected)
    assert line_share(emp, {**p, "innovation_scope_elasticity": 0.0}).tolist() == [1.0] * 4


def test_the_same_innovation_raises_a_large_firms_productivity_less():
    p = dict(DEFAULTS)
    u = np.random.default_rng(0).random((3, 1000))
    gain, _ = gains_from_uniforms(u, p)
    small = gain * line_share(np.full(1000, 10.0), p)
    large = gain * line_share(np.full(1000, 20_000.0), p)
    assert (large < small).all() or (gain == 0).any()
    assert large.max() < 0.1  # even the capped radical gain is far from doubling


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_no_innovation_doubles_a_large_firm_in_a_run(seed):
    # Innovation applied to a real world: every innovating firm's productivity rises by at
    # most radical_gain_cap x its line share.
    m = EcosystemModel(rng=seed, innovation_hazard=0.5, radical_share=0.5, **SMALL)
    w = m.world
    w.month = 1
    f = w.firms
    n = f.n
    before = f.productivity[:n].copy()
    innovation.apply(w)
    ratio = f.productivity[:n] / before
    hit = ratio > 1
    assert hit.sum() > 50
    bound = 1 + m.parameters["radical_gain_cap"] * line_share(f.employees[:n], m.parameters)
    assert (ratio[hit] <= bound[hit] + 1e-12).all()
    big = hit & (f.employees[:n] >= 1000)
    if big.any():
        assert ratio[big].max() < 1.2


def test_share_of_firms_innovating_rises_with_size_class():
    # The CIS pattern: the share of firms that innovate in two years rises with size class
    # (10-49, 50-249, 250+ employees), pooled over seeds.
    hits, counts = np.zeros(3), np.zeros(3)
    for seed in (1, 2, 3, 4):
        m = EcosystemModel(rng=seed, **{**SMALL, "n_firms": 500}).run(24)
        f = m.world.firms
        emp, innovated = f.employees[:500], f.innovations[:500] > 0
        classes = [(emp >= 10) & (emp < 50), (emp >= 50) & (emp < 250), emp >= 250]
        hits += [innovated[c].sum() for c in classes]
        counts += [c.sum() for c in classes]
    small_, mid, large = hits / counts
    assert small_ < mid < large
