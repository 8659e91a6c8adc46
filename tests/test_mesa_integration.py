"""Mesa integration: batch_run, agents in model.agents, the firm and student tables and views."""

from __future__ import annotations

import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from simulation import INDICATORS, EcosystemModel
from simulation.agents import GovernmentAgent, UniversityAgent

SMALL = dict(n_firms=150, intake_per_university=150, n_universities=2, horizon_months=24,
             platform_on=True, share_edu_3_0=0.3)


@pytest.fixture(scope="module")
def model() -> EcosystemModel:
    return EcosystemModel(rng=12, **SMALL).run()


def test_batch_run() -> None:
    # mesa 3.5: seeds go in ``rng`` (``iterations`` is deprecated and cannot be combined with
    # it; an "rng" entry in ``parameters`` would be overwritten by batch_run's own rng).
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        rows = mesa.batch_run(
            EcosystemModel,
            parameters={"n_firms": [100], "intake_per_university": [100],
                        "horizon_months": [3]},
            rng=[1, 2], max_steps=3, number_processes=1, data_collection_period=-1,
            display_progress=False)
    assert len(rows) == 2
    by_seed = {row["rng"]: row for row in rows}
    assert set(by_seed) == {1, 2}
    for seed, row in by_seed.items():
        assert row["Step"] == 3
        assert row["n_firms"] == 100 and row["horizon_months"] == 3
        assert set(INDICATORS) <= set(row)
        # The row is the end state of the same run made directly.
        direct = EcosystemModel(rng=seed, n_firms=100, intake_per_university=100,
                                horizon_months=3).run()
        expected = direct.datacollector.get_model_vars_dataframe().iloc[-1]
        for name in INDICATORS:
            assert row[name] == expected[name], name
    assert by_seed[1]["month"] == 3.0
    assert any(by_seed[1][k] != by_seed[2][k] for k in INDICATORS)


def test_batch_run_every_step() -> None:
    rows = mesa.batch_run(EcosystemModel,
                          parameters={"n_firms": 100, "intake_per_university": 100,
                                      "horizon_months": 3, "siloed": [False, True]},
                          rng=[5], max_steps=10, number_processes=1, data_collection_period=1,
                          display_progress=False)
    df = pd.DataFrame(rows)
    # Row 0 is the initial state; the model stops itself at the horizon.
    assert sorted(df["Step"].unique()) == [0, 1, 2, 3]
    assert len(df) == 2 * 4
    assert (df.loc[df["siloed"], "projects_started"] == 0).all()


def test_institutions_are_mesa_agents(model: EcosystemModel) -> None:
    agents = list(model.agents)
    universities = [a for a in agents if isinstance(a, UniversityAgent)]
    governments = [a for a in agents if isinstance(a, GovernmentAgent)]
    assert len(universities) == SMALL["n_universities"]
    assert len(governments) == 1
    assert all(isinstance(a, mesa.Agent) for a in agents)
    assert {u.index for u in universities} == set(range(SMALL["n_universities"]))
    assert model.government is governments[0]
    assert model.universities == sorted(universities, key=lambda u: u.index)
    assert len({a.unique_id for a in agents}) == len(agents)
    assert len(model.agents_by_type[UniversityAgent]) == SMALL["n_universities"]


def test_agent_views_read_the_world(model: EcosystemModel) -> None:
    w = model.world
    for uni in model.universities:
        i = uni.index
        np.testing.assert_array_equal(uni.knowledge, w.unis.knowledge[i])
        assert uni.faculty == w.unis.faculty[i]
        assert uni.publications == w.unis.publications[i]
        assert sum(uni.education_mix.values()) == pytest.approx(1.0)
        act = w.projects.active_rows()
        assert uni.active_projects == int((w.projects.university[act] == i).sum())
    assert sum(u.active_projects for u in model.universities) == \
        model.indicators()["active_projects"]
    gov = model.government
    assert sum(gov.spent.values()) == pytest.approx(float(w.gov.spent.sum()))
    assert sum(gov.balances.values()) == pytest.approx(model.indicators()["gov_unspent"])
    assert gov.tax_collected == w.gov.tax_total


FIRM_COLUMNS = ("firm_id", "alive", "employees", "value_added", "age", "is_startup",
                "exit_step")
STUDENT_COLUMNS = ("student_id", "programme", "status", "skill_specialist",
                   "skill_entrepreneurial", "skill_leadership", "skill_digital", "employer")


def test_firm_table(model: EcosystemModel) -> None:
    table = model.firm_table()
    assert set(FIRM_COLUMNS) <= set(table.columns)
    f = model.world.firms
    assert len(table) == f.n
    assert (table["firm_id"].to_numpy() == np.arange(f.n)).all()
    assert table["firm_id"].is_unique
    assert table["alive"].sum() == model.indicators()["firms_alive"]
    assert table.loc[table["alive"], "value_added"].sum() == pytest.approx(
        model.indicators()["value_added"], rel=1e-12)
    assert table.loc[table["alive"], "employees"].sum() == model.indicators()["jobs"]
    assert (table.loc[table["alive"], "exit_step"] == -1).all()
    dead = table.loc[~table["alive"]]
    assert ((dead["exit_step"] >= 1) & (dead["exit_step"] <= model.month)).all()
    assert (table["age"] >= 0).all()
    startups = table["origin"].isin(["graduate_startup", "university_spinoff"])
    assert (table["is_startup"] == startups).all()
    assert table["is_startup"].any(), "no start-up in two years: the column is untested"
    assert (table.loc[table["is_startup"], "age"] <= model.month).all()
    assert (~table["alive"]).any(), "no exit in two years: exit_step is untested"


def test_student_table(model: EcosystemModel) -> None:
    table = model.student_table()
    assert set(STUDENT_COLUMNS) <= set(table.columns)
    s = model.world.students
    assert len(table) == s.n
    assert (table["student_id"].to_numpy() == np.arange(s.n)).all()
    assert set(table["programme"].cat.categories) == {"1.0", "2.0", "3.0"}
    counts = table["status"].value_counts()
    ind = model.indicators()
    assert counts.get("enrolled", 0) == ind["students_enrolled"]
    assert counts.get("employed", 0) == ind["alumni_employed"]
    assert counts.get("founder", 0) == ind["alumni_founders"]
    assert counts.get("left_region", 0) == ind["alumni_left"]
    for programme, column in (("1.0", "enrolled_1_0"), ("2.0", "enrolled_2_0"),
                              ("3.0", "enrolled_3_0")):
        enrolled = (table["status"] == "enrolled") & (table["programme"] == programme)
        assert enrolled.sum() == ind[column]
    working = table["status"].isin(["employed", "founder"])
    assert (table.loc[working, "employer"] >= 0).all()
    assert (table.loc[table["status"] == "enrolled", "employer"] == -1).all()
    founders = table["status"] == "founder"
    assert (table.loc[founders, "employer"] == table.loc[founders, "startup"]).all()


def test_views_agree_with_tables(model: EcosystemModel) -> None:
    firms = model.firm_table()
    students = model.student_table()
    rng = np.random.default_rng(0)
    firm_rows = np.unique(np.r_[0, len(firms) - 1, rng.integers(0, len(firms), 25),
                                np.flatnonzero(~firms["alive"].to_numpy())[:5]])
    for i in firm_rows:
        view, row = model.firm(int(i)), firms.iloc[i]
        for key in ("firm_id", "alive", "employees", "age", "exit_step", "productivity",
                    "cash", "rd_intensity", "absorptive", "digital_maturity", "innovations",
                    "patents", "platform_member", "founder_university"):
            assert view[key] == row[key], (i, key)
        assert view["value_added"] == pytest.approx(row["value_added"], rel=1e-12)
        assert view["origin"] == row["origin"]
        assert isinstance(view["knowledge"], np.ndarray)
    student_rows = np.unique(np.r_[0, len(students) - 1, rng.integers(0, len(students), 25)])
    for i in student_rows:
        view, row = model.student(int(i)), students.iloc[i]
        for key in ("student_id", "university", "year", "interest", "employer", "startup",
                    "graduation_month"):
            assert view[key] == row[key], (i, key)
        assert view["programme"] == row["programme"]
        assert view["status"] == row["status"]
        for skill in ("specialist", "entrepreneurial", "leadership", "digital"):
            assert view[f"skill_{skill}"] == pytest.approx(row[f"skill_{skill}"], rel=1e-12)


def test_views_are_read_only(model: EcosystemModel) -> None:
    view = model.firm(0)
    view["knowledge"][:] = -1.0
    view["cash"] = -1e9
    assert (model.world.firms.knowledge[0] >= 0).all()
    assert model.world.firms.cash[0] != -1e9


@pytest.mark.parametrize("i", [-1, 10**9])
def test_views_reject_missing_rows(model: EcosystemModel, i: int) -> None:
    with pytest.raises(IndexError):
        model.firm(i)
    with pytest.raises(IndexError):
        model.student(i)


def test_dataframe_is_indexed_by_month(model: EcosystemModel) -> None:
    df = model.dataframe()
    assert list(df.index) == list(range(SMALL["horizon_months"] + 1))
    assert list(df.columns) == list(INDICATORS)
    assert not model.running
    assert model.steps == SMALL["horizon_months"]


def test_solaraviz_renders_the_model_without_a_browser():
    import solara  # a hard dependency: a broken install must fail here, not skip
    from mesa.visualization import SolaraViz, make_plot_component

    model = EcosystemModel(rng=1, n_firms=100, intake_per_university=100)
    page = SolaraViz(model, components=[make_plot_component("value_added")],
                     model_params={"n_firms": {"type": "SliderInt", "value": 100, "label": "firms",
                                               "min": 50, "max": 500, "step": 50},
                                   "intake_per_university": 100})
    box, rc = solara.render(page, handle_error=False)
    assert box is not None
    rc.close()
