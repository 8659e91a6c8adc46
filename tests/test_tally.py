"""Which outputs land in which helix cell of the triple-helix tally (simulation/synergy.py).

Cell index 4u + 2i + g: university (u), industry (i), government (g) present. The outputs
tallied are (docs/ODD.md):

- a project: university and industry always; government when a matching grant co-funds it;
- a publication: university always; industry when it comes out of project work; government
  when competitive research grants paid for it;
- an innovation: industry always; university when the firm has an active university project;
  government when the firm received public money this month.

Each mechanism is observed on its own (its tally change, and the state it saw), so an output
tallied in the wrong cell, counted twice or not at all is caught whatever the model's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation import mechanisms as mech
from simulation.synergy import synergy_millibits, transmission

BASE = dict(n_universities=2, n_firms=300, intake_per_university=300, horizon_months=20,
            share_edu_2_0=0.3, share_edu_3_0=0.4, platform_on=True, search_rate=0.2,
            innovation_hazard=0.05)
SEEDS = (3, 8, 21)


def cell(u: int, i: int, g: int) -> int:
    return 4 * u + 2 * i + g


@pytest.fixture
def observed(monkeypatch):
    """log[(month, mechanism)] = (tally change, state before) for the tallying mechanisms."""
    log: dict[tuple[int, str], tuple[np.ndarray, dict]] = {}
    for module in mech.ORDER:
        original = module.apply
        name = module.__name__.rsplit(".", 1)[-1]

        def wrapped(w, original=original, name=name):
            f, pr = w.firms, w.projects
            act = pr.active_rows()
            before = {"cells": w.tally.cells.copy(), "n_projects": pr.n,
                      "public": f.public_money[: f.n].copy(),
                      "in_project": np.unique(pr.firm[act]),
                      "grant_share": np.array(w.unis.grant_share, dtype=float)}
            original(w)
            log[(w.month, name)] = (w.tally.cells - before["cells"], before)

        monkeypatch.setattr(module, "apply", wrapped)
    return log


def run_observed(log, seed: int, **kw) -> EcosystemModel:
    model = EcosystemModel(rng=seed, **{**BASE, **kw})
    for _ in range(model.parameters["horizon_months"]):
        model.step()
        check_month(model, log)
    return model


def check_month(model: EcosystemModel, log) -> None:
    w = model.world
    m, f, pr = w.month, w.firms, w.projects
    flows = w.scratch.flows
    total = np.zeros(8, dtype=np.int64)
    for module in mech.ORDER:
        name = module.__name__.rsplit(".", 1)[-1]
        delta, before = log[(m, name)]
        total += delta
        where = f"month {m}, {name}"
        if name == "collaboration":
            new = np.arange(before["n_projects"], pr.n)
            funded = int(pr.gov_funded[new].sum())
            want = np.zeros(8, dtype=np.int64)
            want[cell(1, 1, 1)] = funded
            want[cell(1, 1, 0)] = len(new) - funded
            np.testing.assert_array_equal(delta, want, err_msg=where)
        elif name == "research":
            pubs = int(flows.get("publications", 0))
            assert delta.sum() == pubs, where
            assert delta[[cell(0, i, g) for i in (0, 1) for g in (0, 1)]].sum() == 0, where
            if len(before["in_project"]) == 0:  # no project work: no paper with industry
                assert delta[[cell(1, 1, 0), cell(1, 1, 1)]].sum() == 0, where
            share = before["grant_share"]
            if share is not None and (share == 0).all():
                assert delta[[cell(1, 0, 1), cell(1, 1, 1)]].sum() == 0, where
            if share is not None and (share == 1).all():
                assert delta[[cell(1, 0, 0), cell(1, 1, 0)]].sum() == 0, where
        elif name == "innovation":
            innovators = np.flatnonzero(f.last_innovation[: f.n] == m)
            n_innov = flows.get("innovations_incremental", 0) + flows.get(
                "innovations_radical", 0)
            assert len(innovators) == n_innov, where
            with_u = np.isin(innovators, before["in_project"])
            public = before["public"]
            with_g = np.array([r < len(public) and public[r] > 0 for r in innovators],
                              dtype=bool)
            want = np.zeros(8, dtype=np.int64)
            for u in (0, 1):
                for g in (0, 1):
                    want[cell(u, 1, g)] = int(((with_u == bool(u)) & (with_g == bool(g))).sum())
            np.testing.assert_array_equal(delta, want, err_msg=where)
        else:
            assert not delta.any(), f"{where}: tallied {delta}"
    # The tally holds exactly this month's projects, publications and innovations.
    assert total.sum() == (flows.get("projects_started", 0) + flows.get("publications", 0)
                           + flows.get("innovations_incremental", 0)
                           + flows.get("innovations_radical", 0)), m
    ind = model.indicators()
    assert ind["synergy_T"] == pytest.approx(transmission(w.tally.cells), abs=1e-12)
    assert ind["synergy_S"] == pytest.approx(synergy_millibits(w.tally.cells), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_output_lands_in_its_helix_cell(observed, seed):
    model = run_observed(observed, seed)
    cells = model.world.tally.cells
    # The run exercised the cells the checks are about.
    for u, i, g in ((1, 1, 1), (1, 1, 0), (0, 1, 0), (0, 1, 1), (1, 1, 0), (1, 0, 0)):
        assert cells[cell(u, i, g)] > 0, (u, i, g)


@pytest.mark.parametrize("seed", SEEDS)
def test_all_research_money_from_grants_puts_every_paper_in_a_government_cell(observed, seed):
    shares = dict(budget_share_block_grants=0.0, budget_share_research_grants=0.5)
    model = run_observed(observed, seed, **shares)
    cells = model.world.tally.cells
    assert cells[cell(1, 0, 1)] > 0
    assert cells[cell(1, 0, 0)] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_siloed_region_tallies_no_projects_and_no_university_innovations(observed, seed):
    model = run_observed(observed, seed, siloed=True)
    cells = model.world.tally.cells
    assert model.world.projects.n == 0
    # Without projects: innovations are industry's alone (with or without public money) and
    # papers the university's (with or without grants).
    assert cells[cell(1, 1, 0)] == cells[cell(1, 1, 1)] == 0
    assert cells[cell(0, 1, 0)] + cells[cell(0, 1, 1)] == model.indicators()["innovations_total"]
    assert (cells[cell(1, 0, 0)] + cells[cell(1, 0, 1)]
            == model.indicators()["publications_total"])


GOV_CELLS = [cell(u, i, 1) for u in (0, 1) for i in (0, 1)]


def test_without_public_money_nothing_lands_in_a_government_cell(observed):
    model = EcosystemModel(rng=SEEDS[0], **{**BASE, "gov_budget": 0.0})
    model.step()
    after_first = model.world.tally.cells.copy()  # month 1 is checked by the test below
    for _ in range(BASE["horizon_months"] - 1):
        model.step()
        check_month(model, observed)
    later = model.world.tally.cells - after_first
    assert later.sum() > 0
    assert later[GOV_CELLS].sum() == 0


def test_without_public_money_month_one_papers_are_not_grant_funded():
    model = EcosystemModel(rng=SEEDS[0], **{**BASE, "gov_budget": 0.0})
    model.step()
    assert model.world.tally.cells[GOV_CELLS].sum() == 0
