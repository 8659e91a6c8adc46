"""The firm-side kernels' scalar formulas equal the documented formula functions they twin.

The kernels of simulation/kernels/firms.py and simulation/kernels/innovation.py compute some
of the ODD's formulas one row at a time (their scalar twins); the formula functions of the
mechanisms stay the documented source. These tests hold each twin to its formula function on
random inputs that cover every branch (dead and living rows, zero knowledge, firms below one
employee, projects and none), on several seeds and parameter draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from pcg_state import start_state

from simulation import kernels
from simulation.mechanisms import firm_dynamics, innovation
from simulation.parameters import DEFAULTS

SEEDS = (1, 2, 3)


def varied_parameters(rng: np.random.Generator, names: tuple[str, ...]) -> dict:
    """The defaults with each named parameter scaled by a random factor in [0.5, 2]."""
    p = dict(DEFAULTS)
    for name in names:
        p[name] = float(p[name]) * rng.uniform(0.5, 2.0)
    return p


@pytest.mark.parametrize("seed", SEEDS)
def test_innovation_probability_is_the_hazard_of_one_row(seed):
    rng = np.random.default_rng(seed)
    p = varied_parameters(rng, innovation.HAZARD_PARAMETERS)
    n = 400
    employees = rng.integers(0, 3000, n)  # 0 too: both count a firm as at least one employee
    knowledge_sum = rng.lognormal(3.0, 2.0, n) * (rng.random(n) > 0.1)
    absorptive, live, grads, digital = (rng.random(n) for _ in range(4))
    projects = rng.integers(0, 4, n) * (rng.random(n) > 0.5)
    emp = np.maximum(employees, 1)
    want = innovation.hazard(p, absorptive, projects, live, grads, digital, employees=emp,
                             knowledge=knowledge_sum / (emp * p["knowledge_reference"]))
    hz = np.array([float(p[name]) for name in innovation.HAZARD_PARAMETERS])
    got = [kernels.innovation_probability(float(employees[i]), knowledge_sum[i],
                                          absorptive[i], float(projects[i]), live[i],
                                          grads[i], digital[i], hz) for i in range(n)]
    # 1 - exp(-lambda) of a small lambda keeps exp's last-bit difference (1e-16) from numpy's
    # vectorised exp as an absolute error: a relative 1e-12 of hazards near 1e-4.
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


EXIT_PARAMETERS = ("exit_hazard_young", "exit_hazard_mid", "exit_hazard_mature", "startup_size",
                   "exit_size_elasticity")


@pytest.mark.parametrize("seed", SEEDS)
def test_exit_probability_is_the_exit_hazard_of_one_row(seed):
    rng = np.random.default_rng(seed)
    p = varied_parameters(rng, EXIT_PARAMETERS)
    n = 400
    age = rng.integers(0, 200, n)  # every age band and its edges
    age[:4] = (11, 12, 59, 60)
    size = rng.lognormal(1.0, 2.0, n)  # below one employee, start-ups and large firms
    want = firm_dynamics.exit_hazard(age, size, p)
    got = [kernels.exit_probability(int(age[i]), size[i],
                                    *(float(p[name]) for name in EXIT_PARAMETERS))
           for i in range(n)]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_exit_firms_exits_exactly_the_firms_the_exit_rule_names(seed):
    # ODD: a living firm exits when its cash has run out or its uniform draw is below its
    # exit_hazard, cut by incubator_hazard_cut while incubated. Draws near every firm's hazard
    # and firms below, at and above start-up size test the kernel's shortcut for firms that
    # certainly stay.
    rng = np.random.default_rng(seed)
    p = varied_parameters(rng, EXIT_PARAMETERS)
    n, month, months = 2000, 100, 24
    alive = rng.random(n) > 0.1
    birth = month - rng.integers(0, 150, n)
    size = p["startup_size"] * rng.lognormal(0.0, 1.0, n)
    size[:50] = p["startup_size"]
    incubated = rng.random(n) < 0.3
    cash = rng.normal(1.0, 1.0, n)
    age = month - birth
    cut = np.where(incubated & (age <= months), 1.0 - p["incubator_hazard_cut"], 1.0)
    hazard = firm_dynamics.exit_hazard(age, size, p) * cut
    draw = np.clip(hazard * rng.uniform(0.5, 1.5, n), 0.0, 1.0 - 1e-16)
    draw[:25] = p["exit_hazard_young"]  # exactly the age band's hazard: the shortcut's edge
    want = alive & ((draw < hazard) | (cash < 0))
    dead = alive.copy()
    out, _ = kernels.exit_firms(
        dead, birth.astype(np.int32), size, incubated, cash, np.full(n, -1, np.int32),
        np.zeros(n, np.int64), np.zeros(n), np.zeros(n, np.int64), np.zeros(n),
        np.zeros(0, np.int64), np.zeros(0, bool), draw, month,
        *(float(p[name]) for name in EXIT_PARAMETERS), months, p["incubator_hazard_cut"])
    assert 0 < out == want.sum()
    np.testing.assert_array_equal(alive & ~dead, want)


def firm_rows(rng: np.random.Generator, n: int) -> dict:
    """Random firm rows for the innovation kernel: small and large firms, knowledge per
    employee below and above the reference, some with projects."""
    return dict(employees=rng.integers(0, 3000, n), knowledge_sum=rng.lognormal(3.0, 2.0, n),
                absorptive=rng.random(n), live=rng.random(n) * (rng.random(n) > 0.5),
                grads=rng.random(n), digital=rng.random(n),
                projects=rng.integers(0, 4, n) * (rng.random(n) > 0.5))


@pytest.mark.parametrize("seed", SEEDS)
def test_certainly_no_innovation_is_never_wrong_and_is_the_tangent_bound(seed):
    rng = np.random.default_rng(seed)
    p = varied_parameters(rng, innovation.HAZARD_PARAMETERS)
    for name in ("innovation_size_elasticity", "hazard_knowledge_elasticity"):
        p[name] = rng.uniform(0.0, 1.0)  # the bound's range
    n = 4000
    rows = firm_rows(rng, n)
    rows["knowledge_sum"][:20] = 0.0
    emp = np.maximum(rows["employees"], 1)
    hazard = innovation.hazard(p, rows["absorptive"], rows["projects"], rows["live"],
                               rows["grads"], rows["digital"], employees=emp,
                               knowledge=rows["knowledge_sum"] / (emp * p["knowledge_reference"]))
    # The bound the kernel applies, written out: each power below its tangent at 1, and
    # 1 - exp(-lambda) below lambda.
    size = emp / p["innovation_reference_employees"]
    know = rows["knowledge_sum"] / (emp * p["knowledge_reference"])
    multiplier = (1.0 + p["hazard_absorptive"] * rows["absorptive"]
                  + p["hazard_project"] * np.log2(1.0 + rows["projects"])
                  + p["hazard_live_project"] * rows["live"]
                  + p["hazard_graduates"] * rows["grads"] + p["hazard_digital"] * rows["digital"])
    tangent = (p["innovation_hazard"] * (1.0 + p["innovation_size_elasticity"] * (size - 1.0))
               * (1.0 + p["hazard_knowledge_elasticity"] * (know - 1.0)) * multiplier)
    hz = np.array([float(p[name]) for name in innovation.HAZARD_PARAMETERS])
    # Draws just below, at and just above each firm's hazard, and up to twice its tangent bound.
    q = n // 4
    draw = hazard * np.concatenate([rng.uniform(0.9, 1.0, q), np.ones(q),
                                    rng.uniform(1.0, 1.0 + 1e-9, q), np.ones(q)])
    draw[3 * q:] = np.minimum(tangent[3 * q:] * rng.uniform(0.999, 2.0, q), 1.0 - 1e-16)
    certain = np.array([kernels.certainly_no_innovation(
        draw[i], float(rows["employees"][i]), rows["knowledge_sum"][i], rows["absorptive"][i],
        float(rows["projects"][i]), rows["live"][i], rows["grads"][i] * emp[i],
        rows["digital"][i], hz) for i in range(n)])
    assert not certain[draw < hazard].any()  # never wrong
    # Above the tangent bound (by more than its widening), always certain.
    clear = draw >= tangent * (1.0 + 1e-5) + 1e-14
    assert clear.sum() > q // 5 and certain[clear].all()


@pytest.mark.parametrize("seed", SEEDS)
def test_certainly_no_innovation_is_tight_where_the_tangent_touches(seed):
    # At the reference size and knowledge per employee (each power's tangent point) and a tiny
    # hazard, the bound is the hazard up to its widening: a draw a hair below the hazard is
    # never certain, a draw 1e-5 above it always is.
    rng = np.random.default_rng(seed)
    p = varied_parameters(rng, innovation.HAZARD_PARAMETERS)
    p["innovation_hazard"] = 1e-8
    p["innovation_reference_employees"] = int(rng.integers(2, 50))
    n = 500
    rows = firm_rows(rng, n)
    emp = np.full(n, p["innovation_reference_employees"])
    knowledge_sum = emp * p["knowledge_reference"]
    hazard = innovation.hazard(p, rows["absorptive"], rows["projects"], rows["live"],
                               rows["grads"], rows["digital"], employees=emp,
                               knowledge=knowledge_sum / (emp * p["knowledge_reference"]))
    hz = np.array([float(p[name]) for name in innovation.HAZARD_PARAMETERS])
    for scale, want in ((1.0 - 1e-8, False), (1.0 + 1e-5, True)):
        certain = [kernels.certainly_no_innovation(
            hazard[i] * scale, float(emp[i]), knowledge_sum[i], rows["absorptive"][i],
            float(rows["projects"][i]), rows["live"][i], rows["grads"][i] * emp[i],
            rows["digital"][i], hz) for i in range(n)]
        assert all(c == want for c in certain)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("elasticity", [0.25, 1.3])  # inside and outside the bound's range
def test_innovate_innovates_exactly_the_firms_whose_draw_is_below_their_hazard(seed,
                                                                                elasticity):
    rng = np.random.default_rng(seed)
    p = varied_parameters(rng, innovation.HAZARD_PARAMETERS)
    p["innovation_size_elasticity"] = elasticity
    n, k = 2000, 4
    rows = firm_rows(rng, n)
    alive = rng.random(n) > 0.1
    emp = np.maximum(rows["employees"], 1)
    # Each firm's stock split over k domains; its graduates' skill gives its graduate term.
    knowledge = rng.dirichlet(np.ones(k), n) * rows["knowledge_sum"][:, None]
    grad_skill = rows["grads"] * emp
    # Projects: each firm's count, its first one brokered for some firms (one university,
    # whose 3.0 students fill every live-project slot: live-project work 1).
    project_firm = np.repeat(np.arange(n), rows["projects"])
    brokered = np.zeros(len(project_firm), bool)
    first = np.flatnonzero(rows["projects"] > 0)
    brokered[np.searchsorted(project_firm, first)] = rows["live"][first] > 0
    live = np.bincount(project_firm[brokered], minlength=n).astype(float)
    hazard = innovation.hazard(p, rows["absorptive"], rows["projects"], live,
                               grad_skill / emp, rows["digital"], employees=emp,
                               knowledge=knowledge.sum(axis=1) / (emp * p["knowledge_reference"]))
    u_hit = np.clip(hazard * rng.uniform(0.5, 1.5, n), 0.0, 1.0 - 1e-16)
    innovations, patents, productivity = np.zeros(n, np.int64), np.zeros(n, np.int64), np.ones(n)
    # The gain and patent uniforms: the kernel computes its innovators' numbers from the
    # streams' start states; the replaced code drew them for every row.
    gain_rng, patent_rng = np.random.default_rng(seed + 100), np.random.default_rng(seed + 200)
    gain_start, patent_start = start_state(gain_rng), start_state(patent_rng)
    u_gain, u_patent = gain_rng.random((n, 3)), patent_rng.random(n)
    hp = {name: float(p[name]) for name in innovation.KERNEL_PARAMETERS}
    hp["radical_share"] = 0.3  # both kinds of gain among the innovators
    hp["patent_share_incremental"] = 0.5
    kernels.innovate(
        alive, rows["employees"], knowledge, grad_skill, np.zeros(n), productivity, np.zeros(n),
        knowledge.sum(axis=1), innovations, np.full(n, -1, np.int32), patents,
        np.zeros(n), rows["absorptive"], rows["digital"], project_firm,
        np.zeros(len(project_firm), np.int64), np.ones(len(project_firm), bool), brokered,
        np.ones(1), np.ones((1, k)), np.ones(1), u_hit, gain_start, patent_start, 5,
        np.array([hp[name] for name in innovation.KERNEL_PARAMETERS]),
        np.array([float(p[name]) for name in innovation.HAZARD_PARAMETERS]))
    want = alive & (u_hit < hazard)
    assert 0 < want.sum() < alive.sum()
    np.testing.assert_array_equal(innovations, want.astype(np.int64))
    # Each innovator's gain (gains_from_uniforms x line_share) and patent from its row of
    # the every-row draws.
    gain, radical = innovation.gains_from_uniforms(u_gain[want].T, hp)
    gain = gain * innovation.line_share(rows["employees"][want], hp)
    assert radical.any() and not radical.all()
    np.testing.assert_allclose(productivity[want], 1.0 + gain, rtol=1e-13)
    np.testing.assert_array_equal(productivity[~want], 1.0)
    share = np.where(radical, hp["patent_share_radical"], hp["patent_share_incremental"])
    np.testing.assert_array_equal(patents[want], u_patent[want] < share)
    assert patents.any() and not patents[want].all()


GROWTH_PARAMETERS = ("knowledge_output_elasticity", "absorptive_rd_rate",
                     "absorptive_graduate_rate", "absorptive_depreciation")


@pytest.mark.parametrize("seed", SEEDS)
def test_growth_pays_knowledge_and_builds_absorptive_capacity_by_their_formulas(seed):
    """grow_firms' knowledge ratio and absorptive inflow, and pay_and_absorb, against
    knowledge_pays, absorptive_inflow and absorb, on a region a year in (dead rows too) with
    some firms' knowledge or paid-for level set to zero."""
    from simulation import EcosystemModel

    m = EcosystemModel(rng=seed, n_universities=2, n_firms=300, intake_per_university=300,
                       horizon_months=24).run(12)
    f, p = m.world.firms, m.world.p
    rng = np.random.default_rng(seed)
    q = {name: float(p[name]) * rng.uniform(0.5, 2.0) for name in GROWTH_PARAMETERS}
    n, rows = f.n, slice(0, f.n)
    alive = f.alive[rows]
    assert (~alive).any() and alive.any()
    f.knowledge[rows][rng.random(n) < 0.05] = 0.0
    f.knowledge_paid[rows][rng.random(n) < 0.05] = 0.0
    productivity, paid, absorptive = (getattr(f, name)[rows].copy() for name in
                                      ("productivity", "knowledge_paid", "absorptive"))
    level, ratio, neg_inflow = np.empty(n), np.empty(n), np.empty(n)
    main_domain = np.full(n, -1, dtype=np.int32)
    kernels.grow_firms(
        alive, rng.lognormal(0.0, 0.2, n), f.size, f.employees, f.productivity, f.knowledge,
        f.knowledge_paid, f.cash, f.rd_intensity, f.subsidy, f.grad_employees, f.prior_grads,
        f.grad_skill, f.prior_grad_skill, f.diverted, rng.standard_normal(n), level, ratio,
        neg_inflow, main_domain, p["graduate_premium"], p["knowledge_depreciation"],
        p["firm_rd_rate"], p["margin"], p["margin_sigma"], q["absorptive_rd_rate"],
        q["absorptive_graduate_rate"])
    # The main domain displacement reads: np.argmax of the grown knowledge (rows set to zero
    # above test a tie: the first domain).
    np.testing.assert_array_equal(main_domain[alive],
                                  np.argmax(f.knowledge[rows][alive], axis=1))
    # R&D effort (own R&D + subsidy) over this month's value added (state.Firms.value_added).
    va = f.value_added(rows, p["graduate_premium"])
    rd_share = (f.rd_intensity[rows] * va + f.subsidy[rows]) / np.maximum(va, 1e-12)
    want = firm_dynamics.absorptive_inflow(rd_share, f.graduate_term(rows), q)
    np.testing.assert_allclose(-neg_inflow[alive], want[alive], rtol=1e-12)
    np.testing.assert_array_equal(level[~alive], paid[~alive])
    np.testing.assert_allclose(level[alive], f.knowledge[rows][alive].sum(axis=1), rtol=1e-12)
    kernels.pay_and_absorb(alive, ratio ** q["knowledge_output_elasticity"], np.exp(neg_inflow),
                           level, f.productivity, f.knowledge_paid, f.absorptive,
                           q["absorptive_depreciation"])
    np.testing.assert_allclose(
        f.productivity[rows], firm_dynamics.knowledge_pays(
            productivity, level, paid, q["knowledge_output_elasticity"]), rtol=1e-15)
    np.testing.assert_array_equal(f.knowledge_paid[rows], level)
    np.testing.assert_allclose(
        f.absorptive[rows], np.where(alive, firm_dynamics.absorb(
            absorptive, -neg_inflow, q["absorptive_depreciation"]), absorptive), rtol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("beta", [0.0, 0.2, 0.5, 1.0])  # numpy's special exponents too
def test_the_gibrat_exponent_gives_the_growth_shock_to_the_last_bit(seed, beta):
    rng = np.random.default_rng(seed)
    n = 3000
    size = rng.lognormal(1.0, 2.0, n)  # below one employee too: growth_shock floors it at 1
    z = rng.standard_normal(n)
    sigma, drift = rng.uniform(0.05, 0.5), rng.uniform(-0.01, 0.01)
    want = firm_dynamics.growth_shock(size, sigma, beta, drift, z)
    factor = np.maximum(size, 1.0) ** -beta
    kernels.gibrat_exponent(factor, z, sigma, drift)
    np.testing.assert_array_equal(np.exp(factor), want)
