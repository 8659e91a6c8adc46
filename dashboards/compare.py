"""Two policies side by side: the Compare page's state, its charts and its export.

Each side is a scenario (from the library or uploaded by the visitor) with the levers moved on
Explore (shared by both sides: region size, budget...) and the side's own lever changes. Both
sides run on the session's seed, so they draw the same random numbers (common random numbers):
with the same scenario and levers the difference is exactly zero, and any difference is the
policy's, not luck's. Step, Play and Reset drive both. A lever moved while the runs are under
way acts from the next month (``EcosystemModel.change_lever``) and is a timeline event of that
side; the export writes both sides as scenario files (those events in their timelines) and runs
``helixsim compare`` on them (``experiments.commands.compare_scenarios``), so the report is the
one the command line writes.

Nothing here imports Solara (the page is ``compare_page.py``); the tests call it directly.
"""

from __future__ import annotations

import datetime as _dt
import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.formatting import (
    format_indicator,
    format_number,
    format_percent,
    indicator_label,
    indicator_unit,
)
from experiments.report import MAIN_INDICATORS
from simulation.calibrated import _toml_value as toml_value  # the repo's one TOML writer
from simulation.parameters import LEVERS, ParameterError, Parameters
from simulation.scenarios import Scenario, ScenarioError, load

from . import levers, svg
from .charts import DIVIDEND_COLOUR, SCENARIO_COLOUR
from .session import (
    MIDRUN_COLOUR,
    SCHEDULED_COLOUR,
    Run,
    event_marks,
    moved_levers,
    value_text,
)
from .upload import Upload, materialise

if TYPE_CHECKING:
    from .session import Session

SIDES = ("A", "B")
SIDE_COLOURS = {"A": SCENARIO_COLOUR, "B": "#ff7f0e"}
UPLOAD_PREFIX = "file: "  # how an uploaded scenario is named in the pickers
# What the page can chart, A and B and their difference: the main indicators of the reports.
CHART_INDICATORS: tuple[str, ...] = tuple(key for key, _, _ in MAIN_INDICATORS)
# Levers a side may change (before or during the run): the policy levers the Explore page
# offers, without the region size (a run's region cannot change mid-run).
CHANGEABLE: tuple[str, ...] = tuple(n for n in levers.LEVER_NAMES if n in LEVERS)


@dataclass
class SideSetup:
    """One side before it runs: a scenario (library name or ``file: NAME``) and its levers."""

    scenario: str
    changes: dict[str, Any] = field(default_factory=dict)


def year_of(month: int) -> str:
    """The scenario files' year of a month: year y starts at month 12 (y - 1) + 1."""
    return "initial state" if month == 0 else f"year {(month - 1) // 12 + 1}"


def describe(setup: SideSetup, events: list[tuple[int, str, Any]] = ()) -> str:
    """A side in words: its scenario, its own levers and its mid-run changes."""
    parts = [f"{name} = {value_text(value)}" for name, value in setup.changes.items()]
    parts += [f"{name} = {value_text(value)} from month {month}" for month, name, value in events]
    return setup.scenario + (f" with {', '.join(parts)}" if parts else "")


class ComparePair:
    """Sides A and B on the same seed, stepped together up to the shorter horizon."""

    def __init__(self, a: Parameters, b: Parameters, seed: int, labels: dict[str, str]) -> None:
        self.seed = seed
        self.labels = labels
        self.runs = {"A": Run(a, seed), "B": Run(b, seed)}
        self.horizon = min(run.horizon for run in self.runs.values())

    @property
    def month(self) -> int:
        return self.runs["A"].month

    @property
    def done(self) -> bool:
        return self.month >= self.horizon

    def step(self, n: int = 1) -> int:
        k = max(0, min(n, self.horizon - self.month))
        for run in self.runs.values():
            run.step(k)
        return k

    def change_lever(self, side: str, name: str, value: Any) -> tuple[int, str, Any]:
        """Move a lever of one side from the next month on; returns the timeline event."""
        if self.done:
            raise ParameterError(name, f"the runs are at their horizon ({self.horizon} "
                                       "months): Reset to change levers before a run")
        return self.runs[side].model.change_lever(name, value)

    def mid_run(self, side: str) -> list[tuple[int, str, Any]]:
        return list(self.runs[side].model.lever_changes)

    def timeline(self) -> pd.DataFrame:
        """Every policy event of both sides: month, year, side, lever, value, source."""
        rows = []
        for side, run in self.runs.items():
            pending = list(run.model.lever_changes)
            for month, lever, value in run.model.parameters["timeline"]:
                mid = (month, lever, value) in pending
                if mid:
                    pending.remove((month, lever, value))
                rows.append({"month": month, "year": year_of(month), "side": side,
                             "lever": lever, "value": value_text(value),
                             "source": "changed mid-run" if mid else "scenario timeline"})
        columns = ["month", "year", "side", "lever", "value", "source"]
        return pd.DataFrame(rows, columns=columns).sort_values(["month", "side"], kind="stable"
                                                                ).reset_index(drop=True)

    def series(self, indicator: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(months, A, B) of an indicator so far."""
        a, b = self.runs["A"].table(), self.runs["B"].table()
        return a["month"].to_numpy(), a[indicator].to_numpy(), b[indicator].to_numpy()

    def now(self) -> pd.DataFrame:
        """The main indicators now: A, B and B - A, formatted for people."""
        a = self.runs["A"].model.indicators()
        b = self.runs["B"].model.indicators()
        return pd.DataFrame([{
            "indicator": indicator_label(key), "A": format_indicator(key, a[key]),
            "B": format_indicator(key, b[key]),
            "B - A": format_indicator(key, b[key] - a[key], signed=True)}
            for key in CHART_INDICATORS])

    def sentence(self, indicator: str) -> str:
        """The current difference in one sentence."""
        a = self.runs["A"].model.indicators()[indicator]
        b = self.runs["B"].model.indicators()[indicator]
        label = indicator_label(indicator, unit=False)
        head = f"Month {self.month} of {self.horizon}, seed {self.seed} on both sides: "
        d = b - a
        if d == 0:
            return head + (f"{label} is the same on both sides ({format_indicator(indicator, a)}"
                           f"{_unit(indicator)}); the difference is exactly zero.")
        unit = _unit(indicator)
        rel = f" ({format_percent(d / abs(a), signed=True)} of A)" if a else ""
        word = "higher" if d > 0 else "lower"
        # Enough digits for A and B to differ where the difference does.
        digits = int(min(8, max(3, np.ceil(np.log10(max(abs(a), abs(b)) / abs(d))) + 2)))
        return head + (f"{label} is {format_indicator(indicator, abs(d))}{unit} {word} in B "
                       f"than in A{rel}: B {_shown(indicator, b, digits)}{unit}, A "
                       f"{_shown(indicator, a, digits)}{unit}.")

    def charts_svg(self, indicator: str) -> str:
        """A and B, and B - A, of one indicator over months, policy events marked."""
        x, a, b = self.series(indicator)
        scale = 100.0 if indicator_unit(indicator) == "%" else 1.0
        a, b = a * scale, b * scale
        d = b - a
        unit = indicator_unit(indicator)
        diff_unit = "percentage points" if unit == "%" else unit
        marks = self._marks()
        title = indicator_label(indicator, unit=False)
        panels = [
            svg.Panel(f"{title} ({unit})", [
                svg.Series(x, a, SIDE_COLOURS["A"], label=f"A: {self.labels['A']}"),
                svg.Series(x, b, SIDE_COLOURS["B"], True, f"B: {self.labels['B']}")],
                marks=marks),
            svg.Panel(f"Difference B - A ({diff_unit})", [
                svg.Series(x, d, DIVIDEND_COLOUR, label="B - A")],
                marks=marks)]
        # One SVG per panel in a wrapping row: side by side when wide, stacked at 400 px.
        return ('<div style="display:flex;flex-wrap:wrap;gap:8px">'
                + svg.panels_svg(panels, x_max=self.horizon, panel_width=460,
                                 panel_height=230, css_class="chart compare-chart")
                + "</div>")

    def _marks(self) -> list[tuple[float, str, str]]:
        return event_marks((row.month, f"{row.side}: {row.lever} = {row.value} ({row.source})",
                            row.source == "changed mid-run")
                           for row in self.timeline().itertuples() if row.month <= self.horizon)


def _shown(indicator: str, value: float, digits: int) -> str:
    if indicator_unit(indicator) == "%":
        return format_percent(value, digits)
    return format_number(value, digits)


def _unit(indicator: str) -> str:
    unit = indicator_unit(indicator)
    return "" if unit in ("", "%") else f" {unit}"


def legend_html() -> str:
    """The key to the Compare charts' colours, as HTML (fixed text, nothing from the user)."""
    items = [(SIDE_COLOURS["A"], "solid", "A"), (SIDE_COLOURS["B"], "dashed", "B"),
             (DIVIDEND_COLOUR, "solid", "difference B - A"),
             (SCHEDULED_COLOUR, "dashed", "scenario timeline event"),
             (MIDRUN_COLOUR, "dashed", "lever changed mid-run")]
    spans = "".join(
        f'<span style="margin-right:14px;white-space:nowrap"><span style="display:inline-block;'
        f'width:22px;border-top:2px {style} {colour};vertical-align:middle;margin-right:4px">'
        f"</span>{text}</span>" for colour, style, text in items)
    return f'<div class="compare-legend" style="font-size:12px">{spans}</div>'


# --- the session's comparison ----------------------------------------------------------------
class Comparison:
    """What one visitor's Compare page holds: both sides' set-ups, uploads and the runs."""

    def __init__(self, scenario: str) -> None:
        self.setups = {side: SideSetup(scenario) for side in SIDES}
        self.uploads: dict[str, Upload] = {}   # "file: NAME" -> the upload
        self.pair: ComparePair | None = None
        self.message = ""                      # why the last build did not happen

    def scenario(self, key: str) -> Scenario:
        if key in self.uploads:
            return self.uploads[key].scenario
        return load(key)

    def add_upload(self, upload: Upload) -> str:
        key = UPLOAD_PREFIX + upload.file_name
        self.uploads[key] = upload
        return key

    def parameters(self, side: str, shared: dict[str, Any]) -> Parameters:
        """A side's parameters: its scenario, the shared (Explore) levers, its own changes.
        Raises ParameterError or ScenarioError."""
        setup = self.setups[side]
        return self.scenario(setup.scenario).parameters.replace(**shared, **setup.changes)

    def build(self, shared: dict[str, Any], seed: int) -> str | None:
        """(Re)build both runs at month 0; on bad settings keep the old runs and say why."""
        params: dict[str, Parameters] = {}
        for side in SIDES:
            try:
                params[side] = self.parameters(side, shared)
            except (ParameterError, ScenarioError) as err:
                self.message = f"Not rebuilt: side {side}: {err}"
                return self.message
        labels = {side: describe(self.setups[side]) for side in SIDES}
        try:  # a region above the live cap is refused before anything is allocated
            pair = ComparePair(params["A"], params["B"], seed, labels)
        except ParameterError as err:
            self.message = f"Not rebuilt: {err}"
            return self.message
        self.pair, self.message = pair, ""
        return None


def side_scenario_file(side: str, setup: SideSetup, upload: Upload | None,
                       shared: dict[str, Any], events: list[tuple[int, str, Any]],
                       folder: Path) -> Path:
    """A side as a scenario file in ``folder``: it extends the side's scenario (the upload,
    written next to it, when the side is an uploaded file) and sets the shared and the side's
    levers and, in its timeline, the levers changed mid-run."""
    parent = setup.scenario if upload is None else materialise(
        upload, folder, f"uploaded-{side.lower()}").name
    name = f"{side}: {describe(setup, events)}"
    lines = [f"name = {toml_value(name)}",
             f"description = {toml_value(f'Side {side} of a dashboard comparison.')}",
             f"extends = {toml_value(parent)}", "", "[parameters]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in {**shared, **setup.changes}.items()]
    for month, lever, value in events:
        lines += ["", "[[timeline]]", f"month = {month}", f"lever = {toml_value(lever)}",
                  f"value = {toml_value(value)}"]
    path = folder / f"compare-{side.lower()}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def export(session: Session, *, seeds: int, out_root: Path,
           progress: Callable[[int, int], None] | None = None, workers: int | None = None
           ) -> dict[str, Any]:
    """The page's comparison as ``helixsim compare A B --seeds N --seed SEED`` writes it.

    Both sides become scenario files (``side_scenario_file``) in a temporary folder, and
    ``experiments.commands.compare_scenarios`` runs them into
    ``out_root/dashboard-compare-<time>`` (the Results page can open it). Returns the
    command's result plus ``zip``: the report folder and the two scenario files, zipped in
    memory, for the download.
    """
    from experiments.commands import compare_scenarios

    with session.lock:  # what the page shows now; the runs below go without the lock
        comparison = session.comparison()
        pair = comparison.pair
        events = {side: pair.mid_run(side) if pair else [] for side in SIDES}
        # Sides with different horizons are compared over the shorter one, as on the page.
        months = pair.horizon if pair and len({r.horizon for r in pair.runs.values()}) > 1 \
            else None
        setups = {side: SideSetup(s.scenario, dict(s.changes))
                  for side, s in comparison.setups.items()}
        uploads = {side: comparison.uploads.get(setups[side].scenario) for side in SIDES}
        shared = moved_levers(session.scenario, session.settings)
        seed = session.seed
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = out_root / f"dashboard-compare-{stamp}"
    with tempfile.TemporaryDirectory(prefix="helixsim-compare-") as tmp:
        folder = Path(tmp)
        files = [side_scenario_file(side, setups[side], uploads[side], shared, events[side],
                                    folder) for side in SIDES]
        scenario_files = {p.name: p.read_bytes() for p in sorted(folder.glob("*.toml"))}
        result = compare_scenarios([str(p) for p in files], seeds=seeds, workers=workers,
                                   out=out, root_seed=seed, months=months, progress=progress)
    result["zip"] = zip_report(out, scenario_files)
    result["scenario_files"] = scenario_files
    return result


def zip_report(out: Path, scenario_files: dict[str, bytes]) -> bytes:
    """The report folder (report.md, report.html, figures/) and the scenario files, zipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("report.md", "report.html"):
            if (out / name).is_file():
                z.write(out / name, name)
        for fig in sorted((out / "figures").glob("*.png")):
            z.write(fig, f"figures/{fig.name}")
        for name, data in scenario_files.items():
            z.writestr(f"scenarios/{name}", data)
    return buf.getvalue()
