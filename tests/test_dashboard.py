"""The dashboard without a browser: its pure parts, and the page rendered with solara's tools."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from dashboards import app, assets, levers, network, results  # noqa: E402
from dashboards import session as session_module  # noqa: E402
from dashboards.session import Explorer, Session, model_kwargs, scenario_settings  # noqa: E402
from simulation.model import EcosystemModel  # noqa: E402
from simulation.parameters import LEVERS, PARAMETERS, ParameterError  # noqa: E402
from simulation.scenarios import load  # noqa: E402

SMALL = {"n_firms": "120", "intake_per_university": "60"}


# --- levers and session (pure) -------------------------------------------------------------
def test_every_lever_is_a_table_parameter_and_shows_its_unit_and_range() -> None:
    for name in levers.LEVER_NAMES:
        spec = levers.spec(name)
        p = PARAMETERS[name]
        assert p.unit in spec.hint and p.range_text() in spec.hint
    # The policy levers the issue names are all offered.
    for name in ("gov_budget", "matching_rate", "retention_subsidy", "platform_on",
                 "platform_launch_month", "n_firms"):
        assert name in levers.LEVER_NAMES
    assert levers.EDU_MIX in LEVERS


def test_launch_month_hint_agrees_with_the_scenario_year_rule(tmp_path) -> None:
    """The hint says year 2 is month 13; a scenario file's `year = 2` must mean the same."""
    path = tmp_path / "launch.toml"
    path.write_text('extends = "baseline"\n[[timeline]]\nyear = 2\nlever = "platform_on"\n'
                    'value = true\n')
    (month, lever, _), = load(path).parameters["timeline"]
    assert lever == "platform_on"
    assert f"year 2 = {month}" in levers.spec("platform_launch_month").hint


@pytest.mark.parametrize("name, text, fragment", [
    ("n_firms", "-3", "outside its valid range"),
    ("matching_rate", "1.5", "outside its valid range"),
    ("matching_rate", "lots", "expected a number"),
    ("n_universities", "2.5", "expected an integer"),
])
def test_invalid_lever_text_raises_the_tables_message(name: str, text: str,
                                                      fragment: str) -> None:
    with pytest.raises(ParameterError) as err:
        levers.parse(name, text)
    assert fragment in str(err.value) and name in str(err.value)


def test_mix_shares_keep_each_university_summing_to_one() -> None:
    mix = ((0.8, 0.15, 0.05),) * 3
    out = levers.set_share(mix, 1, 2, 0.5)
    assert out[1] == pytest.approx((0.35, 0.15, 0.5))
    assert out[0] == mix[0] and out[2] == mix[2]
    with pytest.raises(ParameterError, match="exceed 1"):
        levers.set_share(mix, 0, 1, 0.99)
    assert levers.resize_mix(mix, 4, (1.0, 0.0, 0.0))[3] == (1.0, 0.0, 0.0)
    assert len(levers.resize_mix(mix, 2, (1.0, 0.0, 0.0))) == 2


def test_untouched_levers_pass_only_the_scenario() -> None:
    sc = load("xeco_platform")
    assert model_kwargs(sc, scenario_settings(sc)) == sc.model_kwargs()
    settings = scenario_settings(sc) | {"matching_rate": 0.9}
    kwargs = model_kwargs(sc, settings)
    assert kwargs["matching_rate"] == 0.9
    assert kwargs["timeline"] == sc.overrides["timeline"]  # the scenario's timeline stays


def test_session_levers_change_the_model_at_reset() -> None:
    s = Session()
    assert s.set_lever("n_firms", "150") is None
    assert s.set_lever("matching_rate", "0.8") is None
    assert s.explorer.model.parameters["n_firms"] == 2000  # not before Reset
    assert s.reset() is None
    assert s.explorer.model.parameters["n_firms"] == 150
    assert s.explorer.model.parameters["matching_rate"] == 0.8
    assert s.explorer.model.world.firms.alive.sum() == 150


def test_invalid_levers_keep_the_run_and_say_why() -> None:
    s = Session()
    s.set_lever("n_firms", "150")
    s.reset()
    before = s.explorer
    assert "outside its valid range" in s.set_lever("n_firms", "0")
    assert s.settings["n_firms"] == 150  # the refused value is not taken
    s.set_lever("budget_share_block_grants", "0.9")  # valid alone, shares no longer sum to 1
    message = s.reset()
    assert message and "must sum to 1" in message
    assert s.explorer is before


def test_mix_per_university_reaches_the_model() -> None:
    s = Session()
    s.set_lever("n_firms", "100")
    s.set_lever("n_universities", "4")
    assert s.set_share(3, 2, "0.6") is None
    assert s.reset() is None
    mix = s.explorer.model.world.unis.mix
    assert mix.shape == (4, 3)
    np.testing.assert_allclose(mix[3], (0.25, 0.15, 0.6))
    np.testing.assert_allclose(mix[0], (0.8, 0.15, 0.05))


def test_step_advances_and_stops_at_the_horizon() -> None:
    s = Session()
    s.set_lever("n_firms", "100")
    s.set_lever("intake_per_university", "50")
    s.reset()
    # A short run (the parameters are read-only: a new run with a 3-month horizon).
    s.explorer = Explorer(s.explorer.model.parameters.replace(horizon_months=3), s.seed)
    assert s.step() == 1 and s.explorer.month == 1
    assert s.step(10) == 2 and s.explorer.month == 3
    assert s.step() == 0
    assert len(s.explorer.table()) == 4


def test_dividend_pair_is_the_same_seed_with_channels_closed() -> None:
    s = Session()
    s.set_lever("n_firms", "150")
    s.step_pair(4)
    pair = s.pair
    assert pair.month == 4 == pair.siloed.month
    assert pair.siloed.model.parameters["siloed"] is True
    assert pair.scenario.model.parameters["siloed"] is False
    # Same seed, so month 0 is identical; the siloed run starts no project.
    a, b = pair.scenario.table(), pair.siloed.table()
    assert a.loc[0, "value_added"] == b.loc[0, "value_added"]
    assert b["projects_started"].sum() == 0 and a["projects_started"].sum() > 0
    comp = pair.components().set_index("component")
    direct = EcosystemModel(rng=s.seed, n_firms=150).run(4).indicators()["welfare"]
    assert comp.loc["welfare", "scenario"] == direct
    assert comp.loc["welfare", "dividend"] == pytest.approx(
        comp.loc["welfare", "scenario"] - comp.loc["welfare", "siloed"])


def test_estimate_runs_the_dividend_with_the_levers(tmp_path: Path) -> None:
    s = Session()
    s.set_lever("n_firms", "80")
    s.set_lever("intake_per_university", "40")
    seen: list[tuple[int, int]] = []
    result = session_module.estimate_dividend(
        s, seeds=2, out_root=tmp_path, workers=1, progress=lambda d, t: seen.append((d, t)))
    # Per seed: the scenario (= all channels open), the siloed run, 31 other channel sets.
    assert seen and seen[-1][0] == seen[-1][1] == 2 * (2 + 31)
    assert len(result["shapley"]) == 5
    (folder,) = tmp_path.iterdir()
    assert results.is_results_folder(folder)
    # The levers reached every run: the region starts with 80 firms.
    steps = pd.concat(pd.read_parquet(p) for p in (folder / "runs").glob("*.parquet"))
    assert (steps.loc[steps["step"] == 0, "firms_alive"] == 80).all()


# --- network, results folders, assets ------------------------------------------------------
def test_network_positions_are_fixed_and_the_sample_is_bounded() -> None:
    model = EcosystemModel(rng=3, n_firms=900, intake_per_university=100).run(14)
    view = network.network_view(model.world, max_background=200)
    act = model.world.projects.active_rows()
    assert view.projects == len(act) == len(view.edges) > 0
    assert len(view.background_xy) == 200
    assert set(view.linked_firms) == set(model.world.projects.firm[act])
    rows = np.arange(50)
    home = np.zeros(50, dtype=int)
    np.testing.assert_array_equal(network.firm_positions(rows, home, 3),
                                  network.firm_positions(rows, home, 3))
    # Every firm lies in its home university's disc.
    centre = network.university_positions(3)[0]
    assert (np.linalg.norm(network.firm_positions(rows, home, 3) - centre, axis=1)
            <= network.CLOUD_RADIUS + 1e-9).all()


def test_results_folders_only_inside_the_root(tmp_path: Path) -> None:
    good = tmp_path / "run-baseline"
    (good / "figures").mkdir(parents=True)
    (good / "report.md").write_text("# Scenario baseline\n")
    (good / "figures" / "fan.png").write_bytes(b"\x89PNG")
    pd.DataFrame({"a": range(1000)}).to_parquet(good / "summary.parquet")
    (tmp_path / "empty").mkdir()
    assert results.list_folders(tmp_path) == ["run-baseline"]
    folder = results.open_folder(tmp_path, "run-baseline")
    assert [p.name for p in folder.figures] == ["fan.png"]
    assert [p.name for p in folder.tables] == ["summary.parquet"]
    assert len(results.read_table(folder.tables[0], max_rows=20)) == 20
    with pytest.raises(results.NotAResultsFolderError, match="not a results folder"):
        results.open_folder(tmp_path, "empty")
    with pytest.raises(results.NotAResultsFolderError, match="outside"):
        results.open_folder(tmp_path, "../")
    with pytest.raises(results.NotAResultsFolderError, match="no such folder"):
        results.open_folder(tmp_path, "nope")


def test_asset_names_come_from_the_template() -> None:
    template = ('<link href="{{cdn}}/@widgetti/solara-vuetify3-app@5.2.0/dist/a.css">'
                '<link href="{{cdn}}/@widgetti/solara-vuetify-app@10.1.1/dist/b.css">'
                '<script src="{{ cdn }}/requirejs@2.3.6/require.js">'
                '<script src="{{cdn}}/@widgetti/solara-vuetify-app@10.1.1/dist/c.js">')
    assert assets.template_packages(template, vue3=False) == [
        ("@widgetti/solara-vuetify-app", "10.1.1"), ("requirejs", "2.3.6")]
    assert assets.template_packages(template, vue3=True) == [
        ("@widgetti/solara-vuetify3-app", "5.2.0"), ("requirejs", "2.3.6")]
    assert assets.pinned_package("/font-awesome@4.5.0/css/x.css") == ("font-awesome", "4.5.0")
    names = [n for n, _ in assets.required_packages()]
    assert "requirejs" in names and any("solara-vuetify" in n for n in names)
    env = assets.server_environment(Path("/x"))
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == "/x"
    assert "127.0.0.1" in env["SOLARA_ASSETS_CDN"]


# --- the page, rendered without a browser --------------------------------------------------
def _text(box) -> str:
    return repr(box)


def _month(box) -> int:
    found = re.findall(r"Month (\d+) of \d+", _text(box))
    assert found, "no month shown"
    return int(found[0])


def _type(rc, label: str, text: str) -> None:
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("focusout", None)


@pytest.fixture
def rendered():
    made: list[Session] = []

    class Recording(Session):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)
    original = app.Session
    app.Session = Recording
    box, rc = solara.render(app.Page(), handle_error=False)
    yield box, rc, made
    rc.close()
    app.Session = original


def test_page_step_advances_the_shown_month(rendered) -> None:
    box, rc, made = rendered
    assert _month(box) == 0
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert _month(box) == 1
    assert made[0].explorer.month == 1
    assert "<polyline" in _text(box) and 'class="network"' in _text(box)


def test_page_lever_and_reset_rebuild_the_model(rendered) -> None:
    box, rc, made = rendered
    rc.find(v.Btn, children=["Step"]).widget.click()
    _type(rc, "n firms", "300")
    assert made[0].settings["n_firms"] == 300
    assert made[0].explorer.model.parameters["n_firms"] == 2000
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert made[0].explorer.model.parameters["n_firms"] == 300
    assert _month(box) == 0
    assert "'300'" in _text(box)  # the Firms alive counter


def test_page_shows_an_invalid_lever_instead_of_crashing(rendered) -> None:
    box, rc, made = rendered
    _type(rc, "matching rate", "7")
    assert "outside its valid range [0, 1]" in _text(box)
    assert made[0].settings["matching_rate"] == 0.5
    rc.find(v.Btn, children=["Step"]).widget.click()  # the page still works
    assert _month(box) == 1
