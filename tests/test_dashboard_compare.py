"""The Compare page's logic without a browser: sides on one seed, uploads, the timeline of
mid-run lever changes, the memory cap of a session, and the export's scenario files."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboards import compare, upload
from dashboards.session import Session
from simulation.errors import MAX_BYTES
from simulation.model import EcosystemModel
from simulation.scenarios import ScenarioError, load

CORPUS = Path(__file__).resolve().parent / "scenario_corpus"
SEEDS = (1, 5, 11)


def _session(seed: int = 1, horizon: int | None = None) -> Session:
    s = Session(seed=seed)
    for name, value in (("n_firms", "100"), ("intake_per_university", "60")):
        assert s.set_lever(name, value) is None
    s.reset()
    return s


# --- two sides on one seed ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_equal_sides_differ_by_exactly_zero(seed: int) -> None:
    s = _session(seed)
    assert s.step_compare(6) == 6
    pair = s.comparison().pair
    assert pair.runs["A"].month == pair.runs["B"].month == 6
    _, a, b = pair.series("welfare")
    assert np.array_equal(a, b) and a[-1] != 0
    assert "exactly zero" in pair.sentence("welfare")
    assert set(pair.now()["B - A"]) <= {"0", "0 pp"}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_lever_on_one_side_makes_the_difference(seed: int) -> None:
    s = _session(seed)
    assert s.change_compare_lever("B", "gov_budget", "0") is None  # month 0: set-up
    assert s.comparison().setups["B"].changes == {"gov_budget": 0.0}
    s.step_compare(6)
    pair = s.comparison().pair
    assert pair.runs["B"].model.parameters["gov_budget"] == 0.0
    assert pair.runs["A"].model.parameters["gov_budget"] > 0
    # Side A is exactly the Explore run's set-up on the same seed.
    direct = EcosystemModel(rng=seed, parameters=s.parameters()).run(6)
    assert pair.runs["A"].model.indicators() == direct.indicators()
    _, a, b = pair.series("welfare")
    assert a[-1] != b[-1]
    sentence = pair.sentence("welfare")
    word = "higher" if b[-1] > a[-1] else "lower"
    assert f"{word} in B than in A" in sentence and f"seed {seed} on both sides" in sentence


def test_sides_take_the_explore_levers_and_their_own_scenario() -> None:
    s = _session()
    assert s.set_compare_scenario("B", "model_3_0") is None
    pair = s.ensure_compare()
    b = pair.runs["B"].model.parameters
    assert b["n_firms"] == 100 and b["intake_per_university"] == 60  # moved on Explore
    assert b["share_edu_3_0"] == load("model_3_0").parameters["share_edu_3_0"]


def test_side_a_follows_the_explore_scenario() -> None:
    s = _session()
    s.set_compare_scenario("B", "model_2_0")
    s.change_compare_lever("A", "matching_rate", "0.9")
    s.choose_scenario("model_3_0")
    setups = s.comparison().setups
    assert (setups["A"].scenario, setups["A"].changes) == ("model_3_0", {})
    assert setups["B"].scenario == "model_2_0"
    pair = s.ensure_compare()
    assert pair.runs["A"].model.parameters == s.parameters()


def test_a_refused_set_up_keeps_the_runs_and_says_why() -> None:
    s = _session()
    before = s.ensure_compare()
    message = s.change_compare_lever("B", "budget_share_block_grants", "0.9")
    assert message and "must sum to 1" in message
    assert s.comparison().pair is before and s.comparison().setups["B"].changes == {}
    assert "outside its valid range" in s.change_compare_lever("A", "matching_rate", "3")


def test_a_region_above_the_live_cap_is_refused_with_a_message() -> None:
    s = Session()  # no region levers moved on Explore, so the file's region size holds
    before = s.ensure_compare()
    data = b'extends = "baseline"\n[parameters]\nn_firms = 400000\n'
    message = s.upload_scenario("huge.toml", len(data), lambda n: data[:n])
    assert message.startswith("Not rebuilt") and "cap of 64" in message
    assert s.comparison().pair is before
    assert s.comparison().setups["B"].scenario == "baseline"  # B stays as it was


def test_step_play_and_reset_drive_both_sides() -> None:
    s = _session()
    s.step_compare(3)
    pair = s.comparison().pair
    assert {r.month for r in pair.runs.values()} == {3}
    s.reset_compare()
    assert {r.month for r in s.comparison().pair.runs.values()} == {0}


def test_one_pair_per_session_the_memory_cap() -> None:
    """A session holds Explore's run and one pair: Compare's or Dividend's, never both."""
    s = _session()
    s.ensure_compare()
    s.step_pair(1)
    assert s.pair is not None and s.comparison().pair is None
    s.ensure_compare()
    assert s.pair is None and s.comparison().pair is not None


# --- mid-run changes and the timeline ----------------------------------------------------------
def test_a_mid_run_change_is_a_timeline_event_and_marked_on_the_charts() -> None:
    s = _session()
    s.step_compare(4)
    assert s.change_compare_lever("B", "matching_rate", "0.8") is None
    pair = s.comparison().pair
    assert s.comparison().setups["B"].changes == {}  # not a set-up change
    assert pair.mid_run("B") == [(5, "matching_rate", 0.8)] and pair.mid_run("A") == []
    row = pair.timeline().query("lever == 'matching_rate'").iloc[0]
    assert (row.month, row.side, row.value, row.source, row.year) == (
        5, "B", "0.8", "changed mid-run", "year 1")
    s.step_compare(2)
    assert pair.runs["B"].model.world.p["matching_rate"] == 0.8
    chart = pair.charts_svg("welfare")
    assert chart.count("month 5: B: matching_rate = 0.8 (changed mid-run)") == 2
    assert compare.MIDRUN_COLOUR in chart


def test_the_scenario_timeline_is_listed_by_month_and_year() -> None:
    s = _session()
    s.set_compare_scenario("B", "xeco_platform")
    pair = s.ensure_compare()
    events = load("xeco_platform").parameters["timeline"]
    table = pair.timeline()
    b = table[table["side"] == "B"]
    assert list(b["month"]) == [m for m, _, _ in events] and len(events) > 0
    assert set(b["source"]) == {"scenario timeline"}
    for m in {m for m, _, _ in events if m > 0}:
        assert f"month {m}: B:" in pair.charts_svg("welfare")


# --- uploads -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(p for p in CORPUS.glob("*.toml")
                                        if "extends" not in p.read_text(errors="replace")),
                         ids=lambda p: p.stem)
def test_an_upload_gets_the_message_helixsim_check_gives(path: Path) -> None:
    with pytest.raises(ScenarioError) as checked:
        load(path)
    with pytest.raises(ScenarioError) as uploaded:
        upload.validate(path.name, path.read_bytes())
    assert str(uploaded.value) == str(checked.value).replace(f"{path.parent}/", "")
    assert "helixsim-upload" not in str(uploaded.value)


def test_a_good_upload_is_the_scenario_it_describes(tmp_path: Path) -> None:
    text = ('description = "More 3.0"\nextends = "baseline"\n[parameters]\n'
            'share_edu_3_0 = 0.4\n[[timeline]]\nyear = 3\nlever = "matching_rate"\n'
            'value = 0.6\n')
    (tmp_path / "mine.toml").write_text(text)
    got = upload.validate("mine.toml", text.encode())
    assert got.scenario.parameters == load(tmp_path / "mine.toml").parameters
    assert got.scenario.name == "mine" and got.scenario.path is None


def test_an_upload_named_like_a_library_scenario_still_extends_the_library() -> None:
    got = upload.validate("baseline.toml", b'extends = "baseline"\n[parameters]\n'
                                            b'matching_rate = 0.3\n')
    assert got.scenario.parameters == load("baseline").parameters.replace(matching_rate=0.3)


@pytest.mark.parametrize("ref", ["/etc/passwd", "../scenarios/baseline.toml",
                                 "../../../../etc/hostname", "scenarios/baseline", ".",
                                 "no_such_scenario", str(CORPUS / "float_nan.toml")])
def test_an_upload_may_extend_only_the_library(ref: str) -> None:
    with pytest.raises(ScenarioError, match=r"^up\.toml: extends: an uploaded scenario may "
                                            r"extend only a library scenario"):
        upload.validate("up.toml", f'extends = "{ref}"\n'.encode())


def test_an_upload_above_the_limit_is_refused_before_it_is_read() -> None:
    read = []
    with pytest.raises(ScenarioError, match="above the limit of 1,048,576 bytes"):
        upload.receive("big.toml", MAX_BYTES + 1, lambda n: read.append(n) or b"")
    assert read == []
    # A size that lies: the bytes are cut at the limit + 1 and the loader refuses them.
    with pytest.raises(ScenarioError, match="above the limit"):
        upload.receive("liar.toml", 10, lambda n: b"#" * n)


def test_an_upload_that_does_not_arrive_is_a_message() -> None:
    def timeout(n: int) -> bytes:
        raise Exception("Timeout")  # what the browser file reader raises
    with pytest.raises(ScenarioError, match=r"^late\.toml: the file did not arrive \(Timeout\)"):
        upload.receive("late.toml", 100, timeout)


def test_an_upload_leaves_nothing_on_disk_and_is_never_executed(tmp_path: Path,
                                                                 monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ScenarioError):
        upload.validate("x.toml", b'description = __import__("os").system("touch pwned")\n')
    upload.validate("y.toml", b'extends = "baseline"\n')
    assert os.listdir(tmp_path) == [] and not Path("pwned").exists()


def test_file_names_stay_plain() -> None:
    assert upload.file_name("../../etc/passwd") == "passwd"
    assert upload.file_name("C:\\Users\\me\\plan.toml") == "plan.toml"
    assert upload.file_name("my plan <1>.toml") == "my_plan_1_.toml"
    assert upload.file_name("...") == "scenario.toml"


def test_an_upload_becomes_side_b_and_a_bad_one_changes_nothing() -> None:
    s = _session()
    data = b'name = "mine"\nextends = "baseline"\n[parameters]\nmatching_rate = 0.2\n'
    assert s.upload_scenario("mine.toml", len(data), lambda n: data[:n]) is None
    assert s.comparison().setups["B"].scenario == "file: mine.toml"
    assert s.ensure_compare().runs["B"].model.parameters["matching_rate"] == 0.2
    bad = b'[parameters]\nmatching_rate = 7\n'
    message = s.upload_scenario("bad.toml", len(bad), lambda n: bad[:n])
    assert message.startswith("bad.toml: parameters.matching_rate: ")
    assert s.comparison().setups["B"].scenario == "file: mine.toml"


# --- the export --------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_the_exported_scenario_files_replay_the_page(seed: int, tmp_path: Path) -> None:
    """Each side's scenario file (what the export runs) loads to the parameters of the live
    run, mid-run changes included, so the report is about the comparison on the page."""
    s = _session(seed)
    data = b'extends = "model_3_0"\n[parameters]\nmatching_rate = 0.2\n'
    s.upload_scenario("mine.toml", len(data), lambda n: data[:n])
    s.change_compare_lever("A", "gov_budget", "500")
    s.step_compare(3)
    s.change_compare_lever("B", "retention_subsidy", "0")
    s.step_compare(2)
    s.change_compare_lever("A", "platform_on", "true")
    comparison, pair = s.comparison(), s.comparison().pair
    for side in compare.SIDES:
        setup = comparison.setups[side]
        path = compare.side_scenario_file(side, setup, comparison.uploads.get(setup.scenario),
                                          s.shared_levers(), pair.mid_run(side), tmp_path)
        assert load(path).parameters == pair.runs[side].model.parameters
        assert "\n[[timeline]]\n" in path.read_text()


def test_export_writes_the_compare_report_and_zips_it(tmp_path: Path) -> None:
    s = _session(3)
    s.step_compare(2)
    s.change_compare_lever("B", "matching_rate", "0.9")
    result = compare.export(s, seeds=2, out_root=tmp_path, workers=1)
    report = Path(result["report"])
    assert report.parent.parent == tmp_path and report.parent.name.startswith(
        "dashboard-compare-")
    assert report.read_text().startswith("# Compare against A: baseline")
    assert result["seeds"] == 2 and result["meta"]["root_seed"] == 3
    with zipfile.ZipFile(io.BytesIO(result["zip"])) as z:
        names = set(z.namelist())
        assert z.read("report.md") == report.read_bytes()
        assert "matching_rate = 0.9 from month 3" in z.read("report.md").decode()
        b = z.read("scenarios/compare-b.toml").decode()
    assert {"report.html", "scenarios/compare-a.toml"} <= names
    assert 'month = 3\nlever = "matching_rate"\nvalue = 0.9' in b


def test_the_explore_and_dividend_charts_mark_the_scenario_timeline() -> None:
    s = Session("xeco_platform")
    months = sorted({m for m, _, _ in s.scenario.parameters["timeline"] if m > 0})
    assert months
    s.step_pair(1)
    for chart in (s.explorer.charts_svg, s.pair.charts_svg):
        for m in months:
            assert f"<title>month {m}: " in chart
        assert 'class="mark"' in chart
    plain = Session("baseline")
    assert not plain.scenario.parameters["timeline"] and 'class="mark"' not in (
        plain.explorer.charts_svg)


def test_sides_with_different_horizons_run_to_the_shorter(tmp_path: Path) -> None:
    s = _session()
    data = b'extends = "baseline"\n[parameters]\nhorizon_months = 6\n'
    assert s.upload_scenario("short.toml", len(data), lambda n: data[:n]) is None
    assert s.step_compare(50) == 6 and s.comparison().pair.done
    result = compare.export(s, seeds=2, out_root=tmp_path, workers=1)
    steps = pd.read_parquet(tmp_path / Path(result["report"]).parent.name / "summary.parquet")
    assert set(steps["month"]) == {6}


# --- the address of the Compare page -------------------------------------------------------------
@pytest.mark.parametrize(("seed", "b_scenario", "a_moves", "b_moves"), [
    (1, "model_3_0", {}, {"matching_rate": "0.9"}),
    (5, "baseline", {"retention_subsidy": "0"}, {"platform_on": "true", "gov_budget": "4.5"}),
    (11, "talent_retention", {"gov_budget": "0"}, {}),
])
def test_a_compare_address_rebuilds_the_same_comparison_in_a_fresh_session(
        seed, b_scenario, a_moves, b_moves) -> None:
    from dashboards import urlstate
    from dashboards.session import scenario_names

    s = _session(seed)
    assert s.set_compare_scenario("B", b_scenario) is None
    for side, moves in (("A", a_moves), ("B", b_moves)):
        for name, text in moves.items():
            assert s.change_compare_lever(side, name, text) is None
    query = urlstate.query(s, compare=True)
    assert ("b=" in query) == (b_scenario != "baseline")
    assert urlstate.query(s) == query.split("&a")[0].split("&b")[0]  # other pages: no sides
    fresh = Session()
    assert urlstate.apply(fresh, query, scenario_names()) == []
    assert urlstate.query(fresh, compare=True) == query
    for side in compare.SIDES:
        assert fresh.comparison().setups[side] == s.comparison().setups[side]
    mine, theirs = s.ensure_compare(), fresh.ensure_compare()
    for side in compare.SIDES:
        assert theirs.runs[side].parameters == mine.runs[side].parameters
    mine.step(3)
    theirs.step(3)
    for side in compare.SIDES:
        assert theirs.runs[side].model.indicators() == mine.runs[side].model.indicators()


def test_bad_sides_in_an_address_are_one_line_each_and_fall_back() -> None:
    from dashboards import urlstate
    from dashboards.session import scenario_names

    s = Session()
    errors = urlstate.apply(s, "b=../../etc/passwd&a.matching_rate=7&b.platform_on=maybe"
                               "&a.n_firms=5&b.budget_share_block_grants=0.9&a=metro",
                            scenario_names())
    assert all("\n" not in e and e.startswith("link: ") for e in errors), errors
    for words in ("'a.n_firms' is not a setting",  # the region size is not a side's lever
                  "b: '../../etc/passwd' is not a scenario", "a: 'metro' is not a scenario",
                  "side A: parameter 'matching_rate': 7.0 is outside its valid range",
                  "side B: parameter 'platform_on'",
                  "side B: parameters 'budget_share_*' must sum to 1"):
        assert sum(words in e for e in errors) == 1, (words, errors)
    assert len(errors) == 6
    setups = s.comparison().setups
    assert setups["A"] == compare.SideSetup("baseline")  # refused levers left out
    assert setups["B"] == compare.SideSetup("baseline")  # refused as a whole: no own levers
    assert urlstate.query(s, compare=True) == "scenario=baseline&seed=1"
    assert s.ensure_compare() is not None  # the page still works


def test_a_good_side_lever_beside_a_bad_one_still_applies() -> None:
    from dashboards import urlstate
    from dashboards.session import scenario_names

    s = Session()
    errors = urlstate.apply(s, "b=model_3_0&b.matching_rate=0.4&b.gov_budget=x", scenario_names())
    assert len(errors) == 1 and "gov_budget" in errors[0]
    assert s.comparison().setups["B"] == compare.SideSetup("model_3_0", {"matching_rate": 0.4})


def test_an_uploaded_side_is_left_out_of_the_address() -> None:
    from dashboards import urlstate

    s = _session()
    assert s.change_compare_lever("A", "matching_rate", "0.3") is None
    data = b'name = "mine"\nextends = "baseline"\n'
    assert s.upload_scenario("mine.toml", len(data), lambda n: data[:n]) is None
    assert urlstate.uploaded_sides(s) == ["B"]
    query = urlstate.query(s, compare=True)
    assert "a.matching_rate=0.3" in query and "b=" not in query and "file" not in query
