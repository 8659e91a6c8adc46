"""Research (mechanism 3): university knowledge is a stock; project work raises publications.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel

SEEDS = (1, 2, 3)
SMALL = dict(n_universities=2, n_firms=200, intake_per_university=150, horizon_months=6)


@pytest.mark.parametrize("seed", SEEDS)
def test_university_knowledge_is_a_stock_that_research_adds_to(seed):
    # Without depreciation nothing takes university knowledge away: research (and project
    # feedback, spillovers) only add to it, so the stock never falls and keeps what it had.
    model = EcosystemModel(rng=seed, **SMALL, knowledge_depreciation=0.0)
    u = model.world.unis
    before = u.knowledge.sum(axis=1)
    for _ in range(4):
        model.step()
        now = u.knowledge.sum(axis=1)
        assert (now >= before).all()
        assert (now > before).any()
        before = now


@pytest.mark.parametrize("seed", SEEDS)
def test_without_research_university_knowledge_depreciates_at_its_rate(seed):
    # No research output and no projects: each month the stock keeps (1 - d) of itself.
    model = EcosystemModel(rng=seed, **SMALL, university_research_rate=0.0,
                           knowledge_depreciation=0.05, channel_joint_research=False,
                           channel_brokerage=False)
    u = model.world.unis
    for _ in range(3):
        before = u.knowledge.copy()
        model.step()
        np.testing.assert_allclose(u.knowledge, 0.95 * before, rtol=1e-6)


# Projects take no staff time here and money does not move output, so industry projects
# reach publications only through the project share of each university's project capacity.
PAPERS = dict(projects_per_faculty=0.0025, search_rate=0.05, project_staff_fte=0.0,
              broker_staff_fte=0.0, incubator_staff_fte=0.0, funding_elasticity=0.0,
              publication_collaboration_optimum=1.0)
CLOSED = dict(channel_joint_research=False, channel_brokerage=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_industry_projects_raise_publications_by_their_share_of_capacity(seed):
    # The multiplier 1 + gain (j/j*)(2 - j/j*) with j* = 1 rises with the project share j of
    # the capacity; with a gain of 2 and capacity filled it triples output. Without the gain,
    # projects change no publication at all (same draws).
    def papers(gain: float, **kw) -> float:
        model = EcosystemModel(rng=seed, **SMALL, **PAPERS,
                               publication_collaboration_gain=gain, **kw).run()
        assert kw or model.world.projects.active_rows().size > 0
        return float(model.world.unis.publications.sum())

    assert papers(0.0) == papers(0.0, **CLOSED)
    assert papers(2.0) > 1.5 * papers(2.0, **CLOSED)


@pytest.mark.parametrize("elasticity", [0.5, 2.0])
def test_at_the_reference_funding_research_output_is_its_base_rate(elasticity):
    # One university receives all block and research grants: its funding per faculty is the
    # reference (the grants' share of the budget, a month of it, per faculty member), where
    # the funding multiplier is 1 whatever its elasticity. With no depreciation, feedback or
    # spillovers, knowledge then grows each month by rate x faculty x research time left.
    model = EcosystemModel(rng=1, n_universities=1, n_firms=200, intake_per_university=200,
                           horizon_months=6, knowledge_depreciation=0.0, feedback_rate=0.0,
                           spillover_share=0.0, budget_share_platform_investment=0.0,
                           budget_share_matching_grants=0.2, funding_elasticity=elasticity)
    u, rate = model.world.unis, model.parameters["university_research_rate"]
    for _ in range(4):
        before = u.knowledge.sum()
        model.step()
        assert u.knowledge.sum() - before == pytest.approx(
            rate * u.faculty[0] * u.research_time[0], rel=1e-9)
