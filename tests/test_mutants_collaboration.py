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
