"""Scenario files: the shipped library, ``extends`` and timelines, and every way a file can be bad.

``tests/scenario_corpus/`` holds one malformed file per defect. Each starts with comment lines:
``# expect: <text>`` (the one-line message must contain it; several lines may be given),
``# reject: <text>`` (the message must not contain it), ``# xfail: BUG: ...`` (a known loader
bug: the expectation is what a fixed loader should say, so the test is a strict xfail and turns
into a failure once the bug is fixed; then delete the ``# xfail`` line) or ``# helper`` (a file
another corpus file needs, e.g. the other half of an extends cycle; not a test target itself).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import simulation
from helixsim.cli import app
from simulation import scenarios
from simulation.parameters import PARAMETERS
from simulation.scenarios import LIBRARY, TOP_LEVEL, Scenario, ScenarioError, load

CORPUS = Path(__file__).resolve().parent / "scenario_corpus"
LIBRARY_FILES = sorted(LIBRARY.glob("*.toml"))
SMALL = {"n_firms": 100, "intake_per_university": 100}


# --- the shipped library ------------------------------------------------------------------------
def test_library_has_the_scenarios_the_issue_names():
    names = {s.name for s in scenarios.library()}
    assert {"baseline", "model_2_0", "model_3_0", "xeco_platform", "matching_grants",
            "talent_retention", "metro"} <= names


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.stem)
def test_library_scenario_loads_with_a_description(path):
    scenario = load(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == path.stem
    assert scenario.description.strip()
    assert scenario.path == path
    assert set(scenario.overrides) <= set(PARAMETERS)


@pytest.mark.parametrize("path", [p for p in LIBRARY_FILES if p.stem != "metro"],
                         ids=lambda p: p.stem)
def test_library_scenario_builds_and_runs_a_small_model(path):
    scenario = load(path)
    model = simulation.EcosystemModel(rng=1, **scenario.model_kwargs(**SMALL))
    for name, value in scenario.overrides.items():
        if name != "timeline":
            assert model.parameters[name] == value, name
    events = scenario.overrides.get("timeline", ())
    months = max([3, *(month for month, _, _ in events)])
    for _ in range(months):
        model.step()
    assert model.world.month == months
    for _, lever, value in events:  # every scheduled change has taken effect
        assert model.world.p[lever] == value, lever


def test_metro_is_at_the_scale_of_model_md():
    metro = load("metro")
    assert metro.description.strip()
    p = metro.parameters
    assert (p["n_universities"], p["n_firms"], p["intake_per_university"]) == (20, 100_000, 12_500)
    baseline = load("baseline").parameters
    assert (p["share_edu_2_0"], p["share_edu_3_0"]) == (baseline["share_edu_2_0"],
                                                        baseline["share_edu_3_0"])


def test_library_names_resolve_with_or_without_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no local file of that name
    for ref in ("baseline", "baseline.toml"):
        assert load(ref).path == LIBRARY / "baseline.toml"


def test_unknown_library_name_gets_a_hint():
    with pytest.raises(ScenarioError, match=r"did you mean 'baseline'\?"):
        load("baselin")


def test_shipped_timelines_use_year_months():
    events = load("matching_grants").overrides["timeline"]
    assert {m for m, _, _ in events} == {49}  # year 5
    assert load("xeco_platform").overrides["timeline"] == ((13, "platform_on", True),)


# --- extends and timeline ---------------------------------------------------------------------
def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


PARENT = """description = "parent"
[parameters]
n_firms = 500
matching_rate = 0.6
share_edu_3_0 = 0.2

[[timeline]]
year = 2
lever = "gov_budget"
value = 200.0
"""


def test_extends_inherits_and_overrides_only_what_the_child_names(tmp_path):
    write(tmp_path / "parent.toml", PARENT)
    child = write(tmp_path / "child.toml",
                  'description = "child"\nextends = "parent"\n[parameters]\nmatching_rate = 0.7\n')
    s = load(child)
    assert s.description == "child"
    assert s.overrides["n_firms"] == 500 and s.overrides["share_edu_3_0"] == 0.2
    assert s.overrides["matching_rate"] == 0.7
    assert s.parameters["matching_rate"] == 0.7 and s.parameters["n_firms"] == 500
    untouched = set(PARAMETERS) - set(s.overrides)
    assert all(s.parameters[k] == simulation.DEFAULTS[k] for k in untouched)
    assert s.overrides["timeline"] == ((13, "gov_budget", 200.0),)  # inherited unchanged
    assert load(tmp_path / "parent.toml").overrides["matching_rate"] == 0.6


def test_extends_chain_of_three(tmp_path):
    write(tmp_path / "parent.toml", PARENT)
    write(tmp_path / "middle.toml", 'extends = "parent.toml"\n[parameters]\nn_firms = 700\n')
    leaf = write(tmp_path / "leaf.toml", 'extends = "middle"\n[parameters]\nmatching_rate = 0.1\n')
    s = load(leaf)
    assert (s.overrides["n_firms"], s.overrides["matching_rate"],
            s.overrides["share_edu_3_0"]) == (700, 0.1, 0.2)


@pytest.mark.parametrize(("when", "month"), [("year = 1", 1), ("year = 3", 25),
                                             ("year = 10", 109), ("month = 0", 0),
                                             ("month = 7", 7)])
def test_timeline_year_becomes_its_first_month(tmp_path, when, month):
    f = write(tmp_path / "t.toml", f'[[timeline]]\n{when}\nlever = "matching_rate"\nvalue = 0.6\n')
    assert load(f).overrides["timeline"] == ((month, "matching_rate", 0.6),)


def test_child_timeline_adds_to_the_parents(tmp_path):
    write(tmp_path / "parent.toml", PARENT)
    child = write(tmp_path / "child.toml", 'extends = "parent"\n'
                  '[[timeline]]\nyear = 3\nlever = "matching_rate"\nvalue = 0.9\n'
                  '[[timeline]]\nmonth = 5\nlever = "platform_on"\nvalue = true\n')
    assert load(child).overrides["timeline"] == (
        (5, "platform_on", True), (13, "gov_budget", 200.0), (25, "matching_rate", 0.9))


def test_child_timeline_adds_to_a_library_parent(tmp_path):
    child = write(tmp_path / "more.toml", 'extends = "matching_grants"\n'
                  '[[timeline]]\nyear = 2\nlever = "platform_on"\nvalue = true\n')
    events = load(child).overrides["timeline"]
    assert events[0] == (13, "platform_on", True)
    assert events[1:] == load("matching_grants").overrides["timeline"]


def test_relative_extends_resolves_from_the_childs_folder(tmp_path, monkeypatch):
    write(tmp_path / "base" / "p.toml", PARENT)
    write(tmp_path / "variants" / "sub" / "q.toml", '[parameters]\nn_firms = 900\n')
    child = write(tmp_path / "variants" / "c.toml",
                  'extends = "../base/p.toml"\n[parameters]\nmatching_rate = 0.2\n')
    grandchild = write(tmp_path / "variants" / "g.toml", 'extends = "sub/q"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load(child).overrides["n_firms"] == 500
    assert load(grandchild).overrides["n_firms"] == 900
    # and from a relative path given on the command line
    monkeypatch.chdir(tmp_path)
    assert load(Path("variants") / "c.toml").overrides["n_firms"] == 500


def test_extends_a_library_name_from_any_folder(tmp_path):
    child = write(tmp_path / "deep" / "x.toml", 'extends = "model_3_0"\n'
                  '[parameters]\nmatching_rate = 0.8\n')
    s = load(child)
    assert s.overrides["share_edu_3_0"] == 0.6 and s.overrides["platform_on"] is False
    assert s.overrides["matching_rate"] == 0.8


# --- the corpus of bad files --------------------------------------------------------------------
def corpus_header(path: Path) -> dict[str, list[str]]:
    """The corpus file's leading ``# key: text`` comment lines, by key."""
    header: dict[str, list[str]] = {}
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        found = re.match(r"#\s*(expect|reject|xfail|helper)\b:?\s?(.*)$", line)
        if not line.startswith("#"):
            break
        if found:
            header.setdefault(found.group(1), []).append(found.group(2))
    return header


CORPUS_FILES = sorted(CORPUS.glob("*.toml"))
TARGETS = [p for p in CORPUS_FILES if "expect" in corpus_header(p)]


def corpus_params(strict: bool = True) -> list:
    out = []
    for path in TARGETS:
        reasons = corpus_header(path).get("xfail")
        marks = [pytest.mark.xfail(strict=strict, reason=reasons[0])] if reasons else []
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


def test_corpus_is_complete():
    assert len(TARGETS) >= 20
    for path in CORPUS_FILES:
        header = corpus_header(path)
        assert ("expect" in header) != ("helper" in header), path.name


def check_message(message: str, path: Path) -> None:
    assert "\n" not in message and len(message.splitlines()) == 1, message
    assert message.startswith(f"{path}: "), message
    header = corpus_header(path)
    for text in header["expect"]:
        assert text in message, message
    for text in header.get("reject", []):
        assert text not in message, message


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_file_gives_its_one_line_message(path):
    with pytest.raises(ScenarioError) as info:
        load(path)
    check_message(str(info.value), path)


# --- mutated library files never give a traceback -----------------------------------------------
VALUES = ["nan", "inf", "-inf", "-1", "0", "1", "0.5", "1e308", "-1e308", "12", "121",
          "99999999999999999999999", '"text"', '""', '"baseline"', "[1,2]", "[]", "[[1,0,0]]",
          "[0.1, 0.1, 0.1, 0.1]", "[0.1, nan, 0.1, 0.1]", "true", "false", "{a=1}", "{}",
          "1979-05-27", "07:32:00", "-0.0", "0x10", '"matching_rate"', '"platform_on"']
NAMES = [*PARAMETERS, *TOP_LEVEL, *scenarios.EVENT_KEYS, "n_firm", "descripton", "lever",
         "timeline", "parameters.n_firms", '"odd name"', "'it''s'"]
HEADERS = ["[parameters]", "[[timeline]]", "[timeline]", "[parameters.timeline]",
           "[[parameters]]", "[description]"]
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?")
CHARS = st.text(st.characters(exclude_categories=("Cs",)) | st.sampled_from(
    list("[]{}=\"'.,#\n\\-+ 0123456789abeflnrstu_")), max_size=12)


OPS = ["delete", "duplicate", "chars", "header", "key", "param", "param", "event", "event",
       "number", "number"]


@st.composite
def mutated(draw) -> bytes:
    """A library file with one to three random edits, as bytes (now and then not UTF-8)."""
    text = draw(st.sampled_from(LIBRARY_FILES)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(OPS))
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines)))
        setting = f"{draw(st.sampled_from(NAMES))} = {draw(st.sampled_from(VALUES))}\n"
        if op == "delete" and text:
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        elif op == "duplicate" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join([*lines[:i + 1], lines[i], *lines[i + 1:]])
        elif op == "chars":
            i = draw(st.integers(0, len(text)))
            text = text[:i] + draw(CHARS) + text[i:]
        elif op == "header":
            text = "".join([*lines[:at], draw(st.sampled_from(HEADERS)) + "\n", *lines[at:]])
        elif op == "key":  # anywhere
            text = "".join([*lines[:at], setting, *lines[at:]])
        elif op == "param":  # first in the [parameters] table (made if missing)
            if "[parameters]\n" in lines:
                i = lines.index("[parameters]\n") + 1
                text = "".join([*lines[:i], setting, *lines[i:]])
            else:
                text = text.rstrip("\n") + "\n\n[parameters]\n" + setting
        elif op == "event":
            when = draw(st.sampled_from(["year", "month"]))
            at_time = draw(st.sampled_from(["1", "2", "5", "10", "0", "120"]) | st.sampled_from(
                VALUES))
            lever = draw(st.sampled_from([*simulation.LEVERS, "n_firms", "matchin_rate"]))
            value = draw(st.sampled_from(["0.3", "0.5", "true", "1", "200.0"]) | st.sampled_from(
                VALUES))
            text += f'\n[[timeline]]\n{when} = {at_time}\nlever = "{lever}"\nvalue = {value}\n'
        elif op == "number":
            spans = [m.span() for m in NUMBER.finditer(text)]
            if spans:
                a, b = draw(st.sampled_from(spans))
                text = text[:a] + draw(st.sampled_from(VALUES)) + text[b:]
    data = text.encode("utf-8")
    if draw(st.sampled_from([True] + [False] * 19)):  # now and then, bytes that are not UTF-8
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x00"])) + data[i:]
    return data


@pytest.fixture(scope="module")
def library_copy(tmp_path_factory):
    """A copy of the library folder, so that a mutant's ``extends = "baseline"`` resolves."""
    folder = tmp_path_factory.mktemp("library") / "scenarios"
    shutil.copytree(LIBRARY, folder)
    return folder


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_mutated_scenario_loads_or_gives_one_line_error(library_copy, data):
    path = library_copy / "mutant.toml"
    path.write_bytes(data)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(scenarios, "LIBRARY", library_copy)
            scenario = load(path)
    except ScenarioError as err:
        message = str(err)
        event(f"ScenarioError at {re.sub(r'[.[].*', '', err.key) or '(file)'}")
        assert len(message.splitlines()) == 1, message
        assert message.startswith(f"{path}: "), message
    else:
        event("loads")
        assert set(scenario.overrides) <= set(PARAMETERS)


# --- the command line ---------------------------------------------------------------------------
def has_command(name: str) -> bool:
    return CliRunner().invoke(app, [name, "--help"]).exit_code == 0


needs_check = pytest.mark.skipif(not has_command("check"),
                                 reason="'helixsim check' is not implemented yet")
needs_scenarios = pytest.mark.skipif(not has_command("scenarios"),
                                     reason="'helixsim scenarios' is not implemented yet")


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


@needs_check
@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.stem)
def test_check_accepts_every_library_file(path):
    result = CliRunner().invoke(app, ["check", str(path)])
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout.lower()


@needs_check
@pytest.mark.parametrize("path", corpus_params(strict=False))
def test_check_rejects_corpus_file_with_exit_code_2(path):
    result = CliRunner().invoke(app, ["check", str(path)])
    no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stdout.strip() == ""
    stderr = " ".join(result.stderr.split())  # a terminal-width wrap is not a second message
    for text in corpus_header(path)["expect"]:
        assert " ".join(text.split()) in stderr, result.stderr
    for text in corpus_header(path).get("reject", []):
        assert text not in stderr, result.stderr


@needs_scenarios
def test_scenarios_lists_the_library_with_descriptions():
    result = CliRunner().invoke(app, ["scenarios"])
    no_traceback(result)
    assert result.exit_code == 0, result.output
    for scenario in scenarios.library():
        assert scenario.name in result.stdout
        # the first word of each description (a table may wrap the rest of the cell)
        assert scenario.description.split()[0] in result.stdout, scenario.name
