"""Firm dynamics (mechanism 8): the cash flow of a month is margin on value added less own R&D.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel

SEEDS = (1, 2, 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_months_cash_flow_is_the_margin_on_value_added_less_own_r_and_d(seed):
    # No margin shock, and nothing else moving cash or value added after the firms' own
    # accounts (no projects, no entry or spin-offs, knowledge paying nothing this month): the
    # cash of each surviving firm moves by value added x (margin - R&D intensity).
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=150, intake_per_university=150,
                           horizon_months=3, margin_sigma=0.0, channel_joint_research=False,
                           channel_brokerage=False, channel_incubation=False, entry_rate=0.0,
                           knowledge_output_elasticity=0.0)
    f, p = model.world.firms, model.parameters
    for _ in range(2):
        n = f.n
        cash = f.cash[:n].copy()
        model.step()
        alive = np.flatnonzero(f.alive[:n])
        va = f.value_added(alive, p["graduate_premium"])
        assert (f.rd_intensity[alive] > 0).any()
        np.testing.assert_allclose(f.cash[alive] - cash[alive],
                                   va * (p["margin"] - f.rd_intensity[alive]), rtol=1e-9,
                                   atol=1e-12)
