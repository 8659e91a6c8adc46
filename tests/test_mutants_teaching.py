"""Teaching (mechanism 2): a student learns from admission on, not from teaching before it.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.mechanisms.teaching import current_skills
from simulation.state import ENROLLED


@pytest.mark.parametrize("seed", [1, 2])
def test_the_second_cohort_gains_one_classroom_month_in_its_first_september(seed):
    # Classroom teaching only (no industry partners, engagement taken only from research):
    # a student of aptitude a admitted in the second September has, after that month,
    # 1 - (1 - s0) (1 - R)^a: the year of teaching before admission does not count.
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=100, intake_per_university=150,
                           horizon_months=13, share_edu_2_0=0.4, share_edu_3_0=0.4,
                           engagement_from_teaching=0.0, channel_student_immersion=False)
    model.run(12)
    st = model.world.students
    start = st.n
    model.step()  # month 13: the second September admits a cohort, then teaches
    rows = np.arange(start, st.n)
    rows = rows[(st.programme[rows] > 0) & (st.status[rows] == ENROLLED)]
    assert len(rows) > 50
    rates = np.array([model.parameters[f"teach_rate_{v}"] for v in ("1_0", "2_0", "3_0")])
    r = rates[st.programme[rows]]
    a = st.aptitude[rows].astype(float)[:, None]
    s0 = st.skills[rows].astype(float)  # stored at admission, not synced since
    np.testing.assert_allclose(current_skills(model.world, rows), 1 - (1 - s0) * (1 - r) ** a,
                               rtol=1e-5)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_firms_that_trust_a_university_agree_more_often_to_be_its_capstone_partners(seed):
    # Each home firm agrees with probability capstone_acceptance x (1 + its trust in the
    # university): with a low base rate (the need is never met), trusting firms give more
    # partners at the first September.
    def partners(trust: float) -> int:
        model = EcosystemModel(rng=seed, n_universities=2, n_firms=200,
                               intake_per_university=300, horizon_months=2, share_edu_2_0=0.5,
                               capstone_acceptance=0.05)
        model.world.firms.trust[:] = trust
        model.world.firms.trusted[:] = trust > 0  # the rows the decay visits
        model.step()
        return len(model.world.unis.capstone_firm)

    assert partners(0.9) > partners(0.0) > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_trust_a_home_firm_agrees_at_the_base_acceptance_rate(seed):
    # No trust yet and a need far above what agrees: the partners are a binomial draw of
    # capstone_acceptance over the eligible home firms (big enough, not in financial trouble).
    model = EcosystemModel(rng=seed, n_universities=2, n_firms=800, intake_per_university=400,
                           horizon_months=2, share_edu_2_0=0.5, capstone_acceptance=0.1)
    f, p = model.world.firms, model.parameters
    rows = np.flatnonzero(f.alive[: f.n] & (f.employees[: f.n] >= p["capstone_min_employees"]))
    ok = f.cash[rows] >= p["acceptance_cash_buffer"] * f.value_added(rows, p["graduate_premium"])
    eligible = int(ok.sum())
    model.step()
    expected = 0.1 * eligible
    assert eligible > 300
    assert abs(len(model.world.unis.capstone_firm) - expected) < 4 * np.sqrt(expected * 0.9)
