"""The documentation must follow the code: these tests fail when docs/ and simulation/ drift apart.

- docs/parameters.md is generated from simulation/parameters.py (``make docs``);
- docs/ODD.md names every indicator, lists the indicator table as generated from
  ``simulation.indicators.INDICATORS``, describes the mechanisms in the order the model calls
  them, has a submodel section per mechanism, lists exactly the random-stream purposes the code
  draws, each under the module that draws it, and uses only names that exist in the code;
- every mechanism module explains itself in a docstring.

Run ``python tests/test_docs.py`` to print the indicator table for docs/ODD.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from simulation import mechanisms
from simulation.indicators import INDICATORS
from simulation.parameters import CHANNELS, INSTRUMENTS, PARAMETERS, markdown_table

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ODD = DOCS / "ODD.md"
PARAMETERS_MD = DOCS / "parameters.md"
SOURCE = ROOT / "simulation"

MODULES = [m.__name__.rsplit(".", 1)[-1] for m in mechanisms.ORDER]
TABLE_BEGIN, TABLE_END = "<!-- indicators:begin -->", "<!-- indicators:end -->"


def indicator_table() -> str:
    """The indicator table of docs/ODD.md (section 11), as generated from the code."""
    rows = ["| name | unit | meaning |", "|---|---|---|"]
    rows += [f"| `{name}` | {unit} | {meaning} |" for name, (unit, meaning) in INDICATORS.items()]
    return "\n".join(rows)


def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def section(text: str, number: int) -> str:
    """The body of the level-2 section '## <number>. ...' up to the next level-2 heading."""
    match = re.search(rf"^## {number}\. .*$", text, flags=re.MULTILINE)
    assert match, f"docs/ODD.md has no section '## {number}. ...'"
    rest = text[match.end():]
    end = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def first_position(text: str, word: str) -> int:
    """Position of the first occurrence of ``word`` as a whole identifier, or -1."""
    match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text)
    return match.start() if match else -1


def code_names() -> set[str]:
    """Every identifier, attribute and string constant in the simulation package."""
    names: set[str] = {"simulation", "mechanisms", "None", "True", "False"}
    for path in SOURCE.rglob("*.py"):
        names |= {path.stem, path.name}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.arg, ast.keyword)) and node.arg:
                names.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.update(alias.name.split("."))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    return names | set(PARAMETERS) | set(INDICATORS)


# --- parameter table --------------------------------------------------------------------------
def test_parameters_md_is_generated_from_the_code():
    assert PARAMETERS_MD.exists(), "docs/parameters.md is missing: run `make docs`"
    assert PARAMETERS_MD.read_text(encoding="utf-8") == markdown_table(), (
        "docs/parameters.md differs from simulation.parameters.markdown_table(): "
        "run `make docs` to regenerate it (never edit it by hand)")


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_every_parameter_is_in_parameters_md(name):
    assert f"`{name}`" in PARAMETERS_MD.read_text(encoding="utf-8"), (
        f"parameter '{name}' is missing from docs/parameters.md: run `make docs`")


def test_odd_links_the_parameter_table():
    assert "(parameters.md)" in odd_text(), "docs/ODD.md must link to docs/parameters.md"


# --- indicators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(INDICATORS))
def test_every_indicator_is_named_in_odd(name):
    assert f"`{name}`" in odd_text(), f"indicator '{name}' is not named in docs/ODD.md"


def test_odd_indicator_table_matches_the_code():
    text = odd_text()
    assert TABLE_BEGIN in text and TABLE_END in text, (
        f"docs/ODD.md must hold the indicator table between {TABLE_BEGIN} and {TABLE_END}")
    table = text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()
    assert table == indicator_table(), (
        "the indicator table in docs/ODD.md differs from simulation.indicators.INDICATORS; "
        "replace it with the output of `python tests/test_docs.py`:\n" + indicator_table())


# --- mechanisms ---------------------------------------------------------------------------------
def test_mechanisms_appear_in_model_order_in_the_process_overview():
    overview = section(odd_text(), 3)
    positions = {name: first_position(overview, name) for name in MODULES}
    missing = [name for name, pos in positions.items() if pos < 0]
    assert not missing, f"section 3 of docs/ODD.md does not name the mechanisms {missing}"
    documented = sorted(MODULES, key=positions.__getitem__)
    assert documented == MODULES, (
        f"section 3 of docs/ODD.md names the mechanisms in the order {documented}, "
        f"but the model calls them in the order {MODULES} (simulation.mechanisms.ORDER)")


def test_every_mechanism_has_a_submodel_section():
    submodels = section(odd_text(), 7)
    headings = re.findall(r"^### .*$", submodels, flags=re.MULTILINE)
    for name in MODULES:
        assert any(f"`{name}`" in h for h in headings), (
            f"section 7 of docs/ODD.md has no '### ...' heading naming `{name}`")


@pytest.mark.parametrize("module", mechanisms.ORDER, ids=MODULES)
def test_every_mechanism_module_has_a_docstring(module):
    doc = (module.__doc__ or "").strip()
    lines = [line for line in doc.splitlines() if line.strip()]
    assert len(lines) >= 3, (
        f"{module.__name__} needs a module docstring of at least 3 lines saying what it "
        f"models and its sources (found {len(lines)})")


# --- names in the ODD exist in the code -----------------------------------------------------------
def test_channels_and_instruments_are_documented():
    channels = section(odd_text(), 8)
    for name in CHANNELS:
        assert f"`{name}`" in channels, f"channel '{name}' is missing from section 8 of ODD.md"
    text = odd_text()
    for name in INSTRUMENTS:
        assert name.replace("_", " ").removesuffix("s") in text.replace("R&D", "rd"), (
            f"instrument '{name}' is not described in docs/ODD.md")


def stream_purposes() -> dict[str, set[str]]:
    """Every random-stream purpose drawn in simulation/, with the modules (file stems) drawing it.

    Purposes are drawn as ``w.rng("<purpose>")`` (a run's monthly streams, rng.Streams),
    taken as a month's start state, ``w.rng_start("<purpose>")`` (numbers computed at the
    rows' positions), drawn as standard normals by compiled code,
    ``w.standard_normal("<purpose>", n)``, or ``stream(<root>, "<purpose>")`` (a plain
    generator, used for the initial state).
    """
    purposes: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        found = set(re.findall(r"\b(?:rng|rng_start|standard_normal)\(\s*\"([^\"]+)\"", src))
        found |= set(re.findall(r"\bstream\([^)\"]*\"([^\"]+)\"", src))
        for purpose in found:
            purposes.setdefault(purpose, set()).add(path.stem)
    return purposes


def purpose_table() -> dict[str, list[str]]:
    """The table '| mechanism | purposes |' of section 4 (4.9): first cell -> purposes listed."""
    design = section(odd_text(), 4)
    match = re.search(r"^\| mechanism \| purposes \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", design,
                      flags=re.MULTILINE)
    assert match, "section 4 of docs/ODD.md has no '| mechanism | purposes |' table (4.9)"
    rows: dict[str, list[str]] = {}
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 2, f"malformed row of the purposes table in docs/ODD.md: {line!r}"
        rows[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[1])
    return rows


def test_random_stream_purposes_are_documented():
    purposes = stream_purposes()
    assert purposes, "no random-stream purposes found in simulation/ (has the API changed?)"
    table = purpose_table()
    listed = {p: row for row, names in table.items() for p in names}
    missing = sorted(set(purposes) - set(listed))
    assert not missing, f"random-stream purposes not listed in docs/ODD.md (4.9): {missing}"
    stale = sorted(set(listed) - set(purposes))
    assert not stale, (
        f"docs/ODD.md (4.9) lists random-stream purposes the code never draws: {stale}")
    for purpose, row in listed.items():
        modules = purposes[purpose]
        if row in MODULES:
            assert row in modules, (
                f"docs/ODD.md (4.9) lists '{purpose}' under `{row}`, but it is drawn in "
                f"{sorted(modules)}")
        else:  # e.g. 'initialisation': drawn outside the mechanisms
            assert not modules & set(MODULES), (
                f"docs/ODD.md (4.9) lists '{purpose}' under '{row}', but mechanism "
                f"{sorted(modules & set(MODULES))} draws it")


def test_names_quoted_in_odd_exist_in_the_code():
    known = code_names()
    quoted = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_.]*)`", odd_text()))
    unknown = sorted(q for q in quoted
                     if q not in known and not all(part in known for part in q.split(".")))
    assert not unknown, (
        f"docs/ODD.md quotes names that no longer exist in simulation/: {unknown} "
        "(renamed or removed? update the ODD)")


if __name__ == "__main__":  # pragma: no cover
    print(indicator_table())
