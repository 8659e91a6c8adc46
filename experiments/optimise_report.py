"""The report of ``helixsim optimise``: trade-offs, parallel coordinates, the robust policy.

Written with ``experiments.report`` (Markdown and HTML, figures with matplotlib's object API),
like the reports of the other batch commands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import report
from .optimise import START, Encoding
from .optimise_spec import OptimiseSpec, Outcome

PARETO, OTHER, START_COLOUR, BEST = "#1f78b4", "#c8c8c8", "#222222", "#e31a1c"
NONE = -0.1  # where parallel coordinates draw a lever the policy does not have


def _axis(objectives: Sequence[Outcome], name: str) -> str:
    o = next(o for o in objectives if o.name == name)
    how = {"mean": "mean", "percentile": f"P{o.percentile:g}",
           "satisficing": f"P(value {'>' if o.sense == 'max' else '<'} {o.threshold:g})",
           "regret": "max regret"}[o.robustness]
    better = "lower is better" if o.robustness == "regret" or (
        o.sense == "min" and o.robustness != "satisficing") else "higher is better"
    return f"{report.pretty(name)}: {how} ({better})"


def tradeoff_figure(objectives: Sequence[Outcome], table: pd.DataFrame, best: str | None,
                    best_label: str = "most robust") -> Figure:
    """Every pair of objectives: evaluated candidates grey, the Pareto set blue, the starting
    scenario black, ``best`` circled red. With one objective: the objective by generation.

    ``table`` is the candidates table (``candidates.parquet``); the dashboard draws the same
    figure with the point a visitor picked as ``best``."""
    names = [o.name for o in objectives]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]][:6]
    cols = min(len(pairs), 3) or 1
    rows = math.ceil(max(len(pairs), 1) / cols)
    fig = Figure(figsize=(5.2 * cols, 4.4 * rows), dpi=report.DPI, layout="constrained")
    start = table[table["candidate"] == START]
    front = table[table["pareto"]]
    chosen = table[table["candidate"] == best]
    if not pairs:
        ax = fig.add_subplot()
        name = names[0]
        ax.scatter(table["generation"], table[name], color=OTHER, s=18, label="candidates")
        ax.scatter(front["generation"], front[name], color=PARETO, s=30, label="best")
        ax.scatter(start["generation"], start[name], color=START_COLOUR, marker="s", s=50,
                   label="starting scenario")
        ax.set_xlabel("Generation (-1: the starting scenario)")
        ax.set_ylabel(_axis(objectives, name))
        ax.legend(frameon=False, fontsize=8)
        fig.suptitle("The search: every candidate's robust objective", fontweight="bold")
        return fig
    for i, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.scatter(table[a], table[b], color=OTHER, s=16, label="evaluated")
        ordered = front.sort_values(a)
        ax.plot(ordered[a], ordered[b], color=PARETO, linewidth=1, alpha=0.6)
        ax.scatter(front[a], front[b], color=PARETO, s=34, label="Pareto set", zorder=3)
        ax.scatter(start[a], start[b], color=START_COLOUR, marker="s", s=60,
                   label="starting scenario", zorder=4)
        if len(chosen):
            ax.scatter(chosen[a], chosen[b], facecolor="none", edgecolor=BEST, s=160,
                       linewidth=2, label=best_label, zorder=5)
        ax.set_xlabel(_axis(objectives, a), fontsize=8)
        ax.set_ylabel(_axis(objectives, b), fontsize=8)
        ax.grid(True, color="0.92")
        if i == 0:
            ax.legend(frameon=False, fontsize=8)
    fig.suptitle("Trade-offs between the robust objectives", fontweight="bold")
    return fig


def parallel_figure(spec: OptimiseSpec, enc: Encoding, table: pd.DataFrame, best: str | None
                    ) -> Figure:
    """Parallel coordinates of the Pareto set: levers, then objectives, each axis scaled to
    its range over the Pareto set and the starting scenario (range printed at both ends)."""
    levers = [c for c in enc.levers({}) if table[c].nunique(dropna=True) > 1]
    axes = levers + [o.name for o in spec.objectives]
    shown = table[table["pareto"] | (table["candidate"] == START)]
    fig = Figure(figsize=(max(7.0, 1.05 * len(axes) + 2), 4.8), dpi=report.DPI,
                 layout="constrained")
    ax = fig.add_subplot()
    data = shown[axes].astype(float)
    lo, hi = data.min(), data.max()
    # A lever the starting scenario does not have (no platform: no launch year) is drawn
    # below its axis, at "none".
    scaled = ((data - lo) / (hi - lo).replace(0, 1.0)).fillna(NONE)
    x = np.arange(len(axes))
    for idx, row in scaled.iterrows():
        name = shown.loc[idx, "candidate"]
        style = dict(color=PARETO, alpha=0.55, linewidth=1.2)
        if name == START:
            style = dict(color=START_COLOUR, linewidth=2.2, linestyle="--", label="starting "
                                                                                 "scenario")
        elif name == best:
            style = dict(color=BEST, linewidth=2.6, label="most robust")
        ax.plot(x, row.to_numpy(), **style)
    for i, name in enumerate(axes):
        ax.axvline(i, color="0.75", linewidth=0.8)
        ax.annotate(report.format_value(hi[name]), (i, 1.0), xytext=(0, 4),
                    textcoords="offset points", ha="center", fontsize=7)
        ax.annotate(report.format_value(lo[name]), (i, 0.0), xytext=(0, -10),
                    textcoords="offset points", ha="center", fontsize=7)
        if data[name].isna().any():
            ax.annotate("none", (i, NONE), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=7, color="0.3")
    ax.set_xticks(x, [report.pretty(a.replace("budget_share_", "budget ")) for a in axes],
                  rotation=30, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(NONE - 0.08, 1.12)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("The Pareto set in parallel coordinates (blue lines): levers, then "
                 "objectives", fontweight="bold", fontsize=10)
    return fig


def _lever_comparison(enc: Encoding, table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    rows = table.set_index("candidate")
    levers = list(enc.levers({}))
    out = pd.DataFrame({"lever": levers, "starting scenario": rows.loc[START, levers].to_numpy()})
    for name in names:
        out[name] = rows.loc[name, levers].to_numpy()
    return out


def write(out: Path, spec: OptimiseSpec, enc: Encoding, table: pd.DataFrame,
          fresh: pd.DataFrame, picks: list[str], words: list[str], meta: dict[str, Any]
          ) -> Path:
    """Write report.md, report.html and the figures into ``out``."""
    best = picks[0] if picks else None
    front = table[table["pareto"]]
    objectives = "; ".join(f"{o.sense}imise **{o.name}** by {o.robustness}" for o in
                           spec.objectives)
    uncertain = ", ".join(f"`{r.parameter}` in [{r.low:g}, {r.high:g}]" for r in spec.ranges) \
        or "none (seed noise only)"
    intro = (f"{spec.description}\n\nStarting scenario **{spec.scenario.name}**, horizon "
             f"{spec.horizon} months. Objectives: {objectives}. Uncertainty: {uncertain}; "
             f"every candidate is run on the same {spec.draws} draw(s) x "
             f"{spec.replications} seed(s). Search: {spec.algorithm}, population "
             f"{spec.population}, {spec.generations} generation(s): {len(table)} candidates "
             f"evaluated (the starting scenario included), {len(front)} in the Pareto set "
             "(no other feasible candidate is at least as good on every objective and better "
             "on one).")
    sections = [report.Section(f"Optimisation {spec.name}", intro)]
    if best is not None:
        row = fresh.set_index("candidate")
        b, s = row.loc[best], row.loc[START]
        f = report.format_value
        text = (f"The most robust policy on **{spec.recommend_objective}** is **{best}**. "
                "Compared with the starting scenario it would:\n\n"
                + "\n".join(f"- {w}" for w in words)
                + f"\n\nRe-evaluated on {int(b['cells'])} fresh cells (new draws and seeds "
                  f"that the search never saw): D(W) = **{f(b['dividend_welfare'])} MCU** "
                  f"(95% interval {f(b['dividend_low'])} to {f(b['dividend_high'])}), "
                  f"P(D > 0) = **{b['p_dividend_positive']:.0%}** (95% interval "
                  f"{b['p_low']:.0%} to {b['p_high']:.0%}); the starting scenario on the same "
                  f"cells: D(W) = {f(s['dividend_welfare'])} MCU, P(D > 0) = "
                  f"{s['p_dividend_positive']:.0%}.")
        if best != START:
            in_search = table.set_index("candidate").loc[best, spec.recommend_objective]
            tell = (b["vs_start_low"] > 0 or b["vs_start_high"] < 0)
            text += (f" Paired on those cells, its D(W) minus the starting scenario's is "
                     f"{f(b['vs_start'])} MCU (95% interval {f(b['vs_start_low'])} to "
                     f"{f(b['vs_start_high'])}); it is ahead in {b['p_beats_start']:.0%} of "
                     "the cells. " + ("The fresh cells tell the two apart." if tell else
                     "**The fresh cells cannot tell it from the starting scenario**: run more "
                     "draws and seeds (recommend.draws, recommend.replications) before acting "
                     "on it.")
                     + f" In the search its {spec.recommend_objective} was "
                       f"{report.format_value(in_search)}, on the fresh cells "
                       f"{report.format_value(b[spec.recommend_objective])}: a search picks "
                       "winners partly for their luck on the cells it saw.")
        sections.append(report.Section(
            "The most robust policy", text,
            tables=[("Levers: the starting scenario and the recommended policies",
                     _lever_comparison(enc, table, picks))]))
    sections.append(report.Section(
        "Trade-offs", "Each point is a candidate's robust objectives over the common cells.",
        figures=[("tradeoff.png", "Trade-offs between the objectives",
                  tradeoff_figure(spec.objectives, table, best))]
        + ([("parallel.png", "Parallel coordinates of the Pareto set",
             parallel_figure(spec, enc, table, best))] if len(front) else [])))
    shown = ["generation", *enc.levers({}), *(o.name for o in spec.objectives),
             *(f"constraint_{o.name}" for o in spec.constraints)]
    # One column per policy (up to 12) reads better than one very wide row each.
    pareto = front.set_index("candidate")[shown]
    pareto = pareto.T.rename_axis("").reset_index() if len(pareto) <= 12 else \
        pareto.head(60).reset_index()
    sections.append(report.Section(
        "The Pareto set", "Every policy of the Pareto set (all of them are in pareto.parquet, "
        "every candidate in candidates.parquet).",
        tables=[("Pareto set: levers and robust objectives", pareto)]))
    if len(fresh):
        sections.append(report.Section(
            "Re-evaluation on fresh seeds and draws",
            "The recommended policies and the starting scenario on cells the search did not "
            "use: the dividend D(W) = W - W(siloed) on paired seeds, its mean with a 95% "
            "t-interval over the cells, P(D > 0) with a 95% Wilson interval, the paired "
            "difference of D(W) from the starting scenario's (vs_start, with its 95% "
            "t-interval) and the share of cells where the policy's D(W) beats the starting "
            "scenario's; the objective columns are the robust objectives on these cells. "
            "A policy that "
            "looks better in the search than here was partly chosen for its luck.",
            tables=[("Fresh re-evaluation: the dividend D(W) and P(D > 0)", fresh[[
                "candidate", "role", "dividend_welfare", "dividend_low", "dividend_high",
                "p_dividend_positive", "p_low", "p_high"]]),
                    ("Fresh re-evaluation: against the starting scenario, and the robust "
                     "objectives", fresh[[
                        "candidate", "vs_start", "vs_start_low", "vs_start_high",
                        "p_beats_start", "cells", *(o.name for o in spec.objectives)]])]))
    sections.append(report.Section("How to read this report", (
        "- **Robustness metrics**: *mean* over the cells; *percentile* Pq (a low percentile "
        "of a maximised objective says how bad the bad futures are); *satisficing* the share "
        "of cells where the value beats the threshold; *regret* the largest shortfall, over "
        "the cells, from the best candidate evaluated in that cell.\n"
        "- **Paired cells**: every candidate meets the same uncertainty draws and the same "
        "seeds, so differences between candidates are differences of policy.\n"
        "- **Pareto set**: no policy in it can be improved on one objective without losing "
        "on another; choosing among them is a value judgement the report leaves to you.\n"
        "- The search's figures are *in sample*; trust the fresh re-evaluation.")))
    return report.write_report(out, f"Robust policy search {spec.name}", sections, meta)
