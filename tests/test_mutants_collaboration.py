"""Collaboration (mechanism 4): what a firm expects from a project rises with what it can absorb.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.mechanisms.collaboration import expected_payoff


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_expected_project_value_rises_with_absorptive_capacity(seed):
    # The value a firm expects is the knowledge it would take in, which scales with its
    # absorptive capacity: halving that capacity lowers the expected value, and leaves the
    # expected cost as it is.
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=100, intake_per_university=100,
                           horizon_months=2)
    w = model.world
    firms = np.flatnonzero(w.firms.alive[: w.firms.n])[:30]
    unis = w.firms.home_university[firms].astype(np.int64)
    social = np.zeros(len(firms), dtype=bool)
    value, cost = expected_payoff(w, firms, unis, social)
    assert (value > 0).all()
    w.firms.absorptive[firms] *= 0.5
    lower, same_cost = expected_payoff(w, firms, unis, social)
    assert (lower < value).all()
    np.testing.assert_allclose(same_cost, cost)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_brokerage_raises_the_acceptance_of_searched_matches(seed):
    # Where 3.0 students are many, the broker's office makes a searched match likelier to be
    # accepted (broker_match_boost x the 3.0 share): a larger boost, more searched projects.
    def searched(boost: float) -> int:
        model = EcosystemModel(rng=seed, n_universities=2, n_firms=200,
                               intake_per_university=150, horizon_months=8, share_edu_3_0=0.6,
                               search_rate=0.1, broker_match_boost=boost).run()
        pr = model.world.projects
        return int((~pr.brokered[: pr.n]).sum())

    assert searched(5.0) > searched(0.0)



@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_successful_project_raises_the_partners_trust(seed):
    # Trust starts at one half for every pair and does not decay here; short projects end
    # within the run. A pair whose one ending project succeeded trusts more than before.
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=200, intake_per_university=100,
                           horizon_months=8, project_duration=2, search_rate=0.2,
                           trust_decay=0.0)
    w = model.world
    w.firms.trust[:] = 0.5
    w.firms.trusted[:] = True  # trust written here: the rows the decay visits
    pr, rose = w.projects, 0
    for _ in range(6):
        before, was_active = w.firms.trust.copy(), pr.active[: pr.n].copy()
        model.step()
        ended = np.flatnonzero(was_active & ~pr.active[: len(was_active)])
        pair = pr.firm[ended] * w.unis.count + pr.university[ended]
        once = np.isin(pair, np.flatnonzero(np.bincount(pair) == 1)) if len(pair) else pair
        # (a project that ends with its firm's exit is closed without a verdict: left out)
        done = ended[once.astype(bool) & ~pr.failed[ended] & w.firms.alive[pr.firm[ended]]]
        fi, ui = pr.firm[done], pr.university[done]
        assert (w.firms.trust[fi, ui] > before[fi, ui]).all()
        rose += len(done)
    assert rose > 0
