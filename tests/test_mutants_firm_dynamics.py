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


@pytest.mark.parametrize("seed", SEEDS)
def test_an_exited_firm_keeps_no_graduate_staff_and_no_active_project(seed):
    # ODD: a firm that exits loses its graduate staff (they become unemployed) and its
    # projects end with it. A high young-firm hazard and many projects make exits of firms
    # with graduates and partners common.
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=200, intake_per_university=200,
                           horizon_months=14, exit_hazard_mid=0.05, exit_hazard_mature=0.05,
                           search_rate=0.3).run()
    f, pr, st = model.world.firms, model.world.projects, model.world.students
    dead = np.flatnonzero(~f.alive[: f.n])
    assert len(dead) > 0
    assert f.prior_grads[dead].sum() == 0 and f.grad_employees[dead].sum() == 0
    np.testing.assert_array_equal(f.prior_grad_skill[dead], 0.0)
    np.testing.assert_array_equal(f.grad_skill[dead], 0.0)
    act = pr.active_rows()
    assert f.alive[pr.firm[act]].all()
    assert not np.isin(st.employer[: st.n], dead).any()
