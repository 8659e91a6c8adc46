"""Innovation (mechanism 5): innovations are counted per firm, and spill to partner universities.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.mechanisms.innovation import gains_from_uniforms
from simulation.parameters import DEFAULTS

SEEDS = (1, 2, 3)
SMALL = dict(n_universities=2, n_firms=150, intake_per_university=150, horizon_months=12)
# (search_rate raised in SPILL_ONLY: enough projects for innovators to have partners)


@pytest.mark.parametrize("seed", SEEDS)
def test_firms_innovation_counts_add_up_to_the_regions_innovations(seed):
    # Frequent innovation, so that firms innovate more than once: every innovation is counted
    # once for its firm (living or exited) and once in the region's total.
    model = EcosystemModel(rng=seed, **SMALL, innovation_hazard=0.1).run()
    counts = model.firm_table()["innovations"].to_numpy()
    assert counts.max() >= 2
    assert counts.sum() == model.dataframe()["innovations_total"].iloc[-1]


# University knowledge moves only through spillovers here (no research, no project feedback,
# no depreciation), and firm productivity only through innovation (knowledge pays nothing, no
# displacement by entrants), so each month's spillover can be checked against its rule.
SPILL_ONLY = dict(university_research_rate=0.0, feedback_rate=0.0, knowledge_depreciation=0.0,
                  knowledge_output_elasticity=0.0, displacement_share=0.0,
                  innovation_hazard=0.2, spillover_share=0.2, search_rate=0.3)


@pytest.mark.parametrize("seed", SEEDS)
def test_an_innovation_deepens_each_partner_university_by_a_share_of_its_relative_gain(seed):
    # ODD: each university an innovating firm works with deepens its own stock by
    # spillover_share x the innovation's relative gain, divided by its project capacity.
    model = EcosystemModel(rng=seed, **SMALL, **SPILL_ONLY)
    w = model.world
    f, u, pr, p = w.firms, w.unis, w.projects, model.parameters
    capacity = np.maximum(u.faculty * p["projects_per_faculty"], 1.0)
    checked = 0
    for _ in range(10):
        n = f.n
        prod, count, stock = f.productivity[:n].copy(), f.innovations[:n].copy(), \
            u.knowledge.sum(axis=1)
        model.step()
        innovators = np.flatnonzero(f.innovations[:n] > count)
        if not f.alive[innovators].all():  # an exited innovator's projects are closed: skip
            continue
        gain = np.zeros(f.n)
        gain[innovators] = f.productivity[innovators] / prod[innovators] - 1.0
        act = pr.active_rows()
        per_uni = np.bincount(pr.university[act], weights=gain[pr.firm[act]],
                              minlength=u.count)
        want = p["spillover_share"] * per_uni * stock / capacity
        np.testing.assert_allclose(u.knowledge.sum(axis=1) - stock, want, rtol=1e-6,
                                   atol=1e-12)
        checked += int((per_uni > 0).sum())
    assert checked > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_live_project_work_counts_only_where_students_do_it(seed):
    # The live-project term is 3.0 students' work on a firm's brokered projects. With the
    # student-immersion channel closed there are brokered projects but no student on them,
    # so its weight cannot change a single innovation; with students on them it adds some.
    def innovations(weight: float, **kw) -> tuple[float, int]:
        model = EcosystemModel(rng=seed, **SMALL, share_edu_3_0=0.6,
                               hazard_live_project=weight, **kw).run()
        brokered = int(model.world.projects.brokered[: model.world.projects.n].sum())
        return model.dataframe()["innovations_total"].iloc[-1], brokered

    closed = dict(channel_student_immersion=False)
    (without, brokered), (with_, _) = innovations(0.0, **closed), innovations(20.0, **closed)
    assert brokered > 0
    assert with_ == without
    assert innovations(20.0)[0] > innovations(0.0)[0]


@pytest.mark.parametrize("tail", [0.8, 1.2, 3.0])
def test_radical_gains_are_pareto_with_their_scale_and_tail(tail):
    # P(G > x) = (scale / x)^tail: the gain at the uniform's quantile q is scale (1 - q)^(-1/tail),
    # so the median is scale 2^(1/tail) and the 90th percentile scale 10^(1/tail).
    p = {**DEFAULTS, "radical_share": 1.0, "radical_gain_scale": 0.01, "radical_tail": tail,
         "radical_gain_cap": 100.0}
    q = np.array([0.0, 0.5, 0.9])
    gains, radical = gains_from_uniforms(np.vstack([np.zeros(3), np.full(3, 0.5), q]), p)
    assert radical.all()
    np.testing.assert_allclose(gains, 0.01 * np.array([1.0, 2.0, 10.0]) ** (1.0 / tail))


@pytest.mark.parametrize("seed", SEEDS)
def test_an_innovation_is_paid_once_productivity_rises_as_knowledge_does(seed):
    # Knowledge pays (elasticity 0.3) for every change of the knowledge level, but an
    # innovation's gain is already in productivity: with nothing else moving firm knowledge
    # (no R&D, no depreciation, no projects, no hires before June, no displacement), an
    # innovator's productivity rises by exactly the factor its knowledge does, and nobody
    # else's moves.
    model = EcosystemModel(rng=seed, **SMALL, innovation_hazard=0.1, firm_rd_rate=0.0,
                           knowledge_depreciation=0.0, knowledge_output_elasticity=0.3,
                           displacement_share=0.0, channel_joint_research=False,
                           channel_brokerage=False)
    f = model.world.firms
    innovated = 0
    for _ in range(6):  # September to February
        n = f.n
        prod, know, count = (f.productivity[:n].copy(), f.knowledge[:n].sum(axis=1),
                             f.innovations[:n].copy())
        model.step()
        alive = f.alive[:n]
        np.testing.assert_allclose(f.productivity[:n][alive] / prod[alive],
                                   f.knowledge[:n].sum(axis=1)[alive] / know[alive], rtol=1e-9)
        innovated += int((f.innovations[:n][alive] > count[alive]).sum())
    assert innovated > 0
