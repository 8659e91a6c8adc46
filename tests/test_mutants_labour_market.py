"""Graduation and the labour market (mechanism 7): graduates and start-ups are accounted for.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
Month 10 of a run is the first June: the final-year cohort graduates.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.state import FOUNDER, LEFT

SEEDS = (1, 2, 3)
SMALL = dict(n_universities=2, n_firms=150, intake_per_university=200, horizon_months=11)


@pytest.mark.parametrize("seed", SEEDS)
def test_start_ups_founded_counts_every_graduate_start_up_and_spin_off(seed):
    # A high founder rate, so that graduates found firms at the first June.
    model = EcosystemModel(rng=seed, **SMALL, founder_rate=0.2).run()
    firms = model.firm_table()
    made = int(firms["is_startup"].sum())
    assert (firms["origin"] == "graduate_startup").sum() > 0
    assert model.dataframe()["startups_founded"].iloc[-1] == made


@pytest.mark.parametrize("seed", SEEDS)
def test_at_most_half_a_cohort_founds_firms_however_high_the_founder_rate(seed):
    # The founding probability is capped at one half: with a founder rate of 1 (every
    # graduate's probability above the cap) about half the cohort founds, not nearly all.
    model = EcosystemModel(rng=seed, **SMALL, founder_rate=1.0).run(10)
    grads = int((model.student_table()["graduation_month"] == 10).sum())
    firms = model.firm_table()
    founded = int(((firms["origin"] == "graduate_startup") & (firms["birth_step"] == 10)).sum())
    assert grads > 100
    assert 0.4 < founded / grads < 0.6


def standardised_gap(graduates, founders, column: str) -> float:
    x = graduates[column]
    return float((x[founders].mean() - x.mean()) / x.std())


@pytest.mark.parametrize("seed", SEEDS)
def test_graduates_found_firms_by_their_entrepreneurial_skill(seed):
    # The founding probability rises with entrepreneurial skill (squared), not with another
    # skill: founders stand out from their cohort more in entrepreneurial skill than in
    # leadership, though the two are correlated through aptitude.
    model = EcosystemModel(rng=seed, **{**SMALL, "intake_per_university": 500},
                           founder_rate=0.5, channel_incubation=False).run(10)
    table = model.student_table()
    grads = table[table["graduation_month"] == 10]
    founders = grads["status"] == "founder"
    assert founders.sum() > 100
    entrepreneurial = standardised_gap(grads, founders, "skill_entrepreneurial")
    assert entrepreneurial > 0.3
    assert entrepreneurial > standardised_gap(grads, founders, "skill_leadership")


@pytest.mark.parametrize("seed", SEEDS)
def test_internships_count_every_graduate_tied_to_a_firm(seed):
    # A region of four firms that all search, so that interns are placed at every firm row,
    # the first one included: the June indicator counts each graduate with a tie once.
    model = EcosystemModel(rng=seed, n_universities=1, n_firms=4, intake_per_university=100,
                           horizon_months=10, search_rate=1.0, entry_rate=0.0).run()
    st = model.world.students
    grads = np.flatnonzero(st.grad_step[: st.n] == 10)
    ties = st.tie_firm[grads]
    assert (ties == 0).any()
    assert model.dataframe()["internships"].iloc[-1] == (ties >= 0).sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_graduates_are_matched_first_within_their_domain_of_interest(seed):
    # Vacancies are filled first by graduates whose domain of interest is the firm's main
    # domain, then across domains: most June hires work in their own domain, far more than
    # the share a blind assignment over the domains would give.
    model = EcosystemModel(rng=seed, **SMALL).run(10)
    st, f = model.world.students, model.world.firms
    hired = np.flatnonzero((st.grad_step[: st.n] == 10) & (st.employer[: st.n] >= 0))
    assert len(hired) > 50
    main = np.argmax(f.knowledge[st.employer[hired]], axis=1)
    own = float(np.mean(main == st.interest[hired]))
    domains = np.argmax(f.knowledge[: f.n][f.alive[: f.n]], axis=1)
    blind = float(np.sum((np.bincount(domains, minlength=f.knowledge.shape[1]) / len(domains))
                         * np.bincount(st.interest[hired], minlength=f.knowledge.shape[1])
                         / len(hired)))
    assert own > 2 * blind


@pytest.mark.parametrize("seed", SEEDS)
def test_a_vanishingly_small_retention_subsidy_is_paid_to_every_seeker_who_stays(seed):
    # A subsidy of a subnormal amount: the pot pays for more seekers than an integer holds (an
    # infinite quotient), so it reaches every job seeker, and each who stays is paid.
    model = EcosystemModel(rng=seed, **SMALL, budget_share_block_grants=0.0,
                           budget_share_research_grants=0.0, budget_share_rd_subsidies=0.0,
                           budget_share_matching_grants=0.0, budget_share_incubator_support=0.0,
                           budget_share_platform_investment=0.0,
                           budget_share_retention_subsidy=1.0)
    model.change_lever("retention_subsidy", 2.225073858507e-311)
    model.run(10)
    st = model.world.students
    grads = np.flatnonzero(st.grad_step[: st.n] == 10)
    stayed = grads[(st.status[grads] != LEFT) & (st.status[grads] != FOUNDER)]
    assert len(stayed) > 50
    assert (st.public_money[stayed] > 0).all()
    assert (st.public_money[grads[st.status[grads] == LEFT]] == 0).all()
