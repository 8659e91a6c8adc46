"""Three Education Models that differ in mechanism (issue 10).

1.0 learns from research (research-led rates scaled by the research time left); 2.0 needs
capstone partner firms, which tie students to them for hiring and cost the partners staff time;
3.0 needs brokered live projects, with firms and with public or social partners (three-party
projects co-funded by government). Each model's distinctive mechanism, switched off, changes its
own students' skills and not the others' (with the shared faculty time, which couples them by
design, held out); the coupling itself is tested too.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.mechanisms.teaching import current_skills
from simulation.parameters import DEFAULTS, INSTRUMENTS
from simulation.state import EMPLOYED, ENROLLED

REGION = dict(n_universities=2, n_firms=400, intake_per_university=400, horizon_months=24,
              share_edu_2_0=0.35, share_edu_3_0=0.35, search_rate=0.05,
              acceptance_horizon=225)  # firms value offers as if knowledge paid 0.5
# Shared couplings held out: faculty time and partners' staff time.
UNCOUPLED = dict(project_staff_fte=0.0, broker_staff_fte=0.0, capstone_staff_fte=0.0,
                 incubator_staff_fte=0.0, capstone_firm_fte=0.0)
SEEDS = (1, 2, 3)
OFF = {
    "1.0": dict(research_led_rate_1_0=(0.0,) * 4),
    "2.0": dict(capstone_students_per_firm=0.0),
    "3.0": dict(broker_rate=0.0),
}


def skills_by_programme(seed: int, months: int, **kw) -> dict[int, np.ndarray]:
    """Mean skills of the students enrolled at the end, per programme (0, 1, 2)."""
    model = EcosystemModel(rng=seed, **{**REGION, **kw}).run(months)
    st_ = model.world.students
    rows = np.flatnonzero(st_.status[: st_.n] == ENROLLED)
    skills = current_skills(model.world, rows)
    prog = st_.programme[rows]
    return {k: skills[prog == k].mean(axis=0) for k in range(3)}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("model", list(OFF))
def test_each_models_mechanism_changes_its_own_students_only(model, seed):
    # Eight months: September to April, before June graduation feeds back on the firms.
    on = skills_by_programme(seed, 8, **UNCOUPLED)
    off = skills_by_programme(seed, 8, **UNCOUPLED, **OFF[model])
    own = ("1.0", "2.0", "3.0").index(model)
    assert (on[own] >= off[own]).all() and (on[own] > off[own] + 1e-4).any(), (on, off)
    for other in {0, 1, 2} - {own}:
        np.testing.assert_allclose(on[other], off[other], rtol=1e-6, err_msg=f"programme {other}")


@pytest.mark.parametrize("seed", SEEDS)
def test_brokerage_competes_with_research_led_1_0_learning_for_staff_time(seed):
    busy = skills_by_programme(seed, 8, broker_staff_fte=2.0, broker_rate=0.2)
    quiet = skills_by_programme(seed, 8, broker_staff_fte=2.0, broker_rate=0.0)
    assert busy[0][0] < quiet[0][0]


def test_2_0_industry_gains_need_capstone_partners():
    with_partners = skills_by_programme(1, 8)
    without = skills_by_programme(1, 8, capstone_acceptance=0.0)
    # Entrepreneurship and leadership are 2.0's industry gains.
    assert (with_partners[1][1:3] > without[1][1:3] + 1e-3).all()


def _run(seed: int, months: int, **kw) -> EcosystemModel:
    return EcosystemModel(rng=seed, **{**REGION, **kw}).run(months)


def test_capstones_cost_partner_firms_staff_time():
    m = _run(1, 3)
    u, f = m.world.unis, m.world.firms
    assert len(u.capstone_firm) > 0
    partners = u.capstone_firm[f.alive[u.capstone_firm]]
    assert (f.diverted[partners] >= DEFAULTS["capstone_firm_fte"] - 1e-12).all()
    # Partners are home firms of their university and large enough to mentor.
    assert (f.home_university[u.capstone_firm] == u.capstone_uni).all()
    assert (f.employees[partners] >= 1).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_capstones_tie_2_0_graduates_and_feed_hiring(seed):
    """After June, 2.0 graduates are tied to capstone partners and hired there far more often
    than without capstones (a hiring pipeline).

    Ties are counted to the capstone partners only: internships also tie graduates, and in
    this project-rich region they have places for nearly every graduate, so a count of all
    ties saturates (every 2.0 graduate tied with capstones or without)."""
    def outcome(partners: set | None = None, **kw) -> tuple[int, int, set]:
        m = _run(seed, 10, tie_hire_probability=1.0, **kw)  # to June of year 1
        st_, u = m.world.students, m.world.unis
        partners = set(u.capstone_firm.tolist()) if partners is None else partners
        grads = np.flatnonzero(st_.grad_step[: st_.n] == 10)
        two = grads[st_.programme[grads] == 1]
        tied = sum(1 for s in two if st_.tie_firm[s] in partners)
        at = sum(1 for s in two if st_.status[s] == EMPLOYED and st_.employer[s] in partners)
        return tied, at, partners

    tied_on, hired_on, partners = outcome()
    tied_off, hired_off, _ = outcome(partners, capstone_students_per_firm=0.0)
    assert tied_on > tied_off and hired_on > 0
    # The same firms hire more 2.0 graduates when they are their capstone partners.
    assert hired_on > hired_off


def test_three_party_projects_are_co_funded_by_government():
    rich = dict(share_edu_3_0=0.6, share_edu_2_0=0.1, gov_budget=3000.0)  # pots never run dry
    all_social = _run(1, 12, social_partner_share=1.0, **rich)
    pr = all_social.world.projects
    brokered = pr.brokered[: pr.n]
    assert brokered.any()
    assert (pr.social[: pr.n][brokered]).all() and not pr.social[: pr.n][~brokered].any()
    assert all_social.world.totals["social_projects_started"] == brokered.sum()
    # More government money per project: the matching pot pays social_cofunding_rate.
    none = _run(1, 12, social_partner_share=0.0, **rich)
    matching = INSTRUMENTS.index("matching_grants")
    per_project = [m.world.gov.spent[matching] / m.dataframe()["active_projects"].sum()
                   for m in (all_social, none)]
    assert per_project[0] > per_project[1]
