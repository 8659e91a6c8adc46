"""The dashboard's Policy search page: open a ``helixsim optimise`` results folder, see its
Pareto set, pick a policy and compare its levers and dividend with the starting scenario's.

Folders are opened through ``dashboards.results`` (only folders inside the results root), and
only those whose manifest says ``"kind": "optimise"`` and that hold ``candidates.parquet``.
The functions above the component are plain (no Solara), so the tests call them directly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import solara

from experiments.optimise import START
from experiments.optimise_spec import Outcome
from experiments.ownership import MANIFEST_FILE

from . import results

TABLES = ("candidates.parquet", "pareto.parquet", "recommended.parquet")


@dataclass
class Optimisation:
    """What the page shows of one optimisation folder."""

    path: Path
    manifest: dict[str, Any]
    objectives: list[Outcome]
    candidates: pd.DataFrame
    fresh: pd.DataFrame

    @property
    def pareto(self) -> pd.DataFrame:
        return self.candidates[self.candidates["pareto"]].reset_index(drop=True)

    @property
    def levers(self) -> list[str]:
        skip = {"candidate", "generation", "feasible", "pareto",
                *(o.name for o in self.objectives)}
        return [c for c in self.candidates.columns
                if c not in skip and not c.startswith("constraint_")]

    def label(self, candidate: str) -> str:
        """A policy as the picker shows it: its name and robust objectives."""
        row = self.candidates.set_index("candidate").loc[candidate]
        values = ", ".join(f"{o.name} {_fmt(row[o.name])}" for o in self.objectives)
        return f"{candidate}: {values}"


def _fmt(value: Any) -> str:
    from experiments.report import format_value

    return format_value(value)


def is_optimisation(path: Path) -> bool:
    manifest = path / MANIFEST_FILE
    if not (manifest.is_file() and (path / "candidates.parquet").is_file()):
        return False
    try:
        return json.loads(manifest.read_text()).get("kind") == "optimise"
    except (OSError, ValueError, AttributeError):
        return False


def list_optimisations(root: Path) -> list[str]:
    """Optimisation folders under ``root`` (relative, sorted)."""
    return [name for name in results.list_folders(root) if is_optimisation(root / name)]


def open_optimisation(root: Path, name: str) -> Optimisation:
    """An optimisation folder by its path relative to ``root`` (the Results page's rules)."""
    folder = results.open_folder(root, name)  # refuses paths outside root, non-results
    if not is_optimisation(folder.path):
        raise results.NotAResultsFolderError(f"{name!r} is not an optimisation folder: it "
                                             "has no candidates.parquet from helixsim optimise")
    manifest = json.loads((folder.path / MANIFEST_FILE).read_text())
    objectives = [Outcome(**o) for o in manifest.get("outcomes", [])]
    candidates = pd.read_parquet(folder.path / "candidates.parquet")
    fresh_file = folder.path / "recommended.parquet"
    fresh = pd.read_parquet(fresh_file) if fresh_file.is_file() else pd.DataFrame()
    return Optimisation(folder.path, manifest, objectives, candidates, fresh)


def comparison(opt: Optimisation, candidate: str) -> pd.DataFrame:
    """The picked policy's levers and robust objectives next to the starting scenario's."""
    rows = opt.candidates.set_index("candidate")
    names = [*opt.levers, *(o.name for o in opt.objectives)]
    start, pick = rows.loc[START, names], rows.loc[candidate, names]
    table = pd.DataFrame({"": names, "starting scenario": start.to_numpy(dtype=float),
                          candidate: pick.to_numpy(dtype=float)})
    table["change"] = table[candidate] - table["starting scenario"]
    return table


def dividend_text(opt: Optimisation, candidate: str) -> str:
    """The picked policy's dividend next to the starting scenario's, in a sentence."""
    fresh = opt.fresh.set_index("candidate") if len(opt.fresh) else pd.DataFrame()
    if candidate in fresh.index and START in fresh.index:
        p, s = fresh.loc[candidate], fresh.loc[START]
        text = (f"On fresh seeds and draws ({int(p['cells'])} cells): D(W) = "
                f"{p['dividend_welfare']:,.1f} MCU [{p['dividend_low']:,.1f}, "
                f"{p['dividend_high']:,.1f}], P(D > 0) = {p['p_dividend_positive']:.0%}; the "
                f"starting scenario: D(W) = {s['dividend_welfare']:,.1f} MCU "
                f"[{s['dividend_low']:,.1f}, {s['dividend_high']:,.1f}], P(D > 0) = "
                f"{s['p_dividend_positive']:.0%}.")
        if candidate != START and not math.isnan(p["vs_start_low"]):
            text += (f" Paired difference {p['vs_start']:+,.1f} MCU [{p['vs_start_low']:+,.1f}, "
                     f"{p['vs_start_high']:+,.1f}].")
        return text
    dividend = [o.name for o in opt.objectives if o.indicator == "welfare" and o.dividend]
    if dividend:
        rows = opt.candidates.set_index("candidate")
        name = dividend[0]
        return (f"In the search ({name}): {_fmt(rows.loc[candidate, name])} against the "
                f"starting scenario's {_fmt(rows.loc[START, name])}. Only the recommended "
                "policies were re-evaluated on fresh seeds.")
    return ("This search had no dividend objective, and only the recommended policies were "
            "re-evaluated on fresh seeds: pick one of them to see its dividend.")


def figure_png(opt: Optimisation, candidate: str | None) -> bytes:
    from experiments.optimise_report import tradeoff_figure
    from experiments.report import figure_png as png

    return png(tradeoff_figure(opt.objectives, opt.candidates, candidate, "picked"))


# --- the page ----------------------------------------------------------------------------------

@solara.component
def ParetoPage() -> None:
    root = results.results_root()
    found, set_found = solara.use_state(list_optimisations(root))
    name, set_name = solara.use_state("")
    pick, set_pick = solara.use_state("")
    opt, error = None, ""
    if name:
        try:
            opt = open_optimisation(root, name)
        except (results.NotAResultsFolderError, OSError, ValueError) as err:
            error = str(err)
    # solara.Text, not solara.Markdown: Markdown fetches mermaid and KaTeX from a CDN.
    solara.Text(f"Optimisation folders under {root} (written by helixsim optimise).")
    with solara.Row(style={"align-items": "center"}):
        solara.Select("optimisation", values=found, value=name if name in found else None,
                      on_value=lambda v: (set_name(v or ""), set_pick("")))
        solara.InputText("or type a folder (relative to the results root)", value=name,
                         on_value=lambda v: (set_name(v), set_pick("")),
                         continuous_update=False)
        solara.Button("Refresh", on_click=lambda: set_found(list_optimisations(root)))
    if error:
        solara.Error(error, classes=["pareto-error"])
    if opt is None:
        return
    front = opt.pareto
    labels = {opt.label(c): c for c in front["candidate"]}
    if not pick and opt.manifest.get("recommended"):
        pick = opt.manifest["recommended"][0]
    solara.Text(" ".join(str(opt.manifest.get("description", "")).split()),
                style={"font-size": "12px", "color": "#555"})
    solara.Text(f"{len(front)} policies in the Pareto set of {len(opt.candidates)} evaluated "
                "(the starting scenario included).", classes=["pareto-count"])
    current = next((k for k, v in labels.items() if v == pick), None)
    solara.Select("policy from the Pareto set", values=list(labels), value=current,
                  on_value=lambda v: set_pick(labels.get(v, "")),
                  style={"min-width": "600px"}, classes=["pareto-pick"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.Image(figure_png(opt, pick or None), width="900px")
    if pick in set(opt.candidates["candidate"]):
        solara.Text(f"{pick} next to the starting scenario", style={"font-weight": "bold"})
        solara.Success(dividend_text(opt, pick), classes=["pareto-dividend"])
        solara.DataFrame(comparison(opt, pick).round(4), items_per_page=30)
    with solara.Details("The whole Pareto set"):
        solara.DataFrame(front.round(4), items_per_page=15)
