"""Accounting (mechanism 9): the untied payments reach their receivers by the documented rule.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md):
each test states a behaviour of the year-end and untied payments, through the model's public
state (the government's books, the universities' and firms' money), on several seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.parameters import INSTRUMENTS

SEEDS = (1, 2, 3)
RD = INSTRUMENTS.index("rd_subsidies")
RESEARCH = INSTRUMENTS.index("research_grants")
SMALL = dict(n_universities=3, n_firms=120, intake_per_university=120, horizon_months=6)


@pytest.mark.parametrize("seed", SEEDS)
def test_research_grants_are_shared_in_proportion_to_reputation(seed):
    # No block grants: all university money is the competitive research pot, so each
    # university's share of the money is its share of reputation. Capstone partnerships that
    # take most of the research time cut publications, so every reputation falls below its
    # starting value of 1 and unevenly: a rule that floored reputation at 1, or shared the pot
    # evenly, would show.
    model = EcosystemModel(rng=seed, **SMALL, budget_share_block_grants=0.0,
                           budget_share_research_grants=0.5, share_edu_2_0=0.6,
                           capstone_staff_fte=40.0, engagement_from_teaching=0.0)
    u, gov = model.world.unis, model.world.gov
    for month in (1, 2, 3):
        model.step()
        rep = u.reputation.copy()
        assert (rep > 0).all() and np.ptp(rep) > 0
        if month == 1:
            assert (rep < 1).all()
        assert u.funding.sum() == pytest.approx(gov.spent_month[RESEARCH], rel=1e-12)
        np.testing.assert_allclose(u.funding / u.funding.sum(), rep / rep.sum(), rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_rd_subsidies_still_reach_firms_evenly_when_no_firm_has_value_added(seed):
    # Productivity 0: no firm has value added, so no firm does R&D by value added. The pot is
    # still paid out in full, to the living firms, evenly (the documented last fallback).
    model = EcosystemModel(rng=seed, **SMALL, productivity=0.0, rd_subsidy_threshold=0.0)
    f, gov = model.world.firms, model.world.gov
    for _ in range(2):
        model.step()
        alive = np.flatnonzero(f.alive[: f.n])
        got = f.subsidy[alive]
        assert np.isfinite(got).all()
        assert gov.spent_month[RD] > 0
        assert got.sum() == pytest.approx(gov.spent_month[RD], rel=1e-9)
        np.testing.assert_allclose(got, got.mean(), rtol=1e-9)
        assert gov.balance[RD] == pytest.approx(0.0, abs=1e-9)
