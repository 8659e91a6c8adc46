"""Figures of the scenario reports that stay readable with up to six scenarios.

- ``level_panels``: an indicator over time, one small panel per scenario (median line with the
  25-75 % and 5-95 % ranges over seeds), the reference scenario's median repeated as a grey
  dashed line in every other panel, so bands of different scenarios never overlap.
- ``difference_panels``: the paired difference scenario minus reference over time, one panel
  per scenario: the mean difference over seeds and its 95 % confidence band (paired t, month
  by month), a zero line, and the policy events marked on the time axis.
- ``mark_events``: policy timeline events as dotted vertical lines with a short label.

Every figure has a title, axis labels with units and a legend (a figure legend under the
panels); matplotlib's object API only, like ``experiments.report``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from scipy import stats

from .formatting import format_number, format_percent, indicator_label, is_share

DPI = 110
# Distinct colours for up to six scenarios (Okabe-Ito, safe for colour-blind readers); the
# reference scenario is always grey.
SCENARIO_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
REFERENCE_COLOUR = "0.35"
EVENT_COLOUR = "#7a4f01"

Event = tuple[int, str]  # (month, what happens)


def scenario_colours(labels: Sequence[str]) -> dict[str, str]:
    """A distinct colour per label, in order (cycling after six)."""
    return {label: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
            for i, label in enumerate(labels)}


def timeline_events(timeline: Iterable[tuple[int, str, Any]]) -> list[Event]:
    """A scenario's policy timeline ((month, lever, value), ...) as one event per month, with
    a short text ("platform on: yes"; "matching rate: 0.7, +2 more")."""
    by_month: dict[int, list[str]] = {}
    for month, lever, value in timeline:
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, (int, float)):
            shown = format_number(value)
        else:
            shown = str(value)
        by_month.setdefault(int(month), []).append(f"{str(lever).replace('_', ' ')}: {shown}")
    events = []
    for month in sorted(by_month):
        changes = by_month[month]
        text = changes[0] if len(changes) == 1 else f"{changes[-1]}, +{len(changes) - 1} more"
        events.append((month, text))
    return events


def mark_events(ax: Any, events: Sequence[Event], *, label: bool = True) -> None:
    """Dotted vertical lines at the events' months (x in years), labelled at the top: to the
    right of the line in the left part of the data, to its left near the end, so a label
    stays inside its panel. Call after the data are drawn."""
    right_end = ax.dataLim.x1 if np.isfinite(ax.dataLim.x1) else 0.0
    for month, text in events:
        x = month / 12.0
        ax.axvline(x, color=EVENT_COLOUR, linestyle=":", linewidth=1.3, zorder=1,
                   gid="policy event")
        if label:
            late = right_end > 0 and x > 0.6 * right_end
            note = ax.annotate(textwrap.shorten(text, 38, placeholder="…"), (x, 1.0),
                               xycoords=("data", "axes fraction"),
                               xytext=(-3 if late else 3, -3), textcoords="offset points",
                               ha="right" if late else "left", va="top", fontsize=7,
                               color=EVENT_COLOUR)
            note.set_in_layout(False)


def _value_axis(ax: Any, indicator: str, *, difference: bool) -> None:
    if is_share(indicator):
        def share(v: float, _pos: int) -> str:
            text = format_percent(v, signed=difference)
            return text[:-1] + " pp" if difference else text
        ax.yaxis.set_major_formatter(FuncFormatter(share))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _pos: format_number(v, signed=difference)))


def _unit_words(indicator: str, difference: bool) -> str:
    label = indicator_label(indicator)
    if difference and is_share(indicator):
        return label.replace("(%)", "(percentage points)")
    return label


def _grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    return math.ceil(n / cols), cols


def _panels(n: int, title: str, subtitle: str) -> tuple[Figure, list[Any]]:
    rows, cols = _grid(n)
    width = 8.0 if cols == 1 else 9.0
    fig = Figure(figsize=(width, 1.3 + (3.6 if rows == 1 else 2.7) * rows), dpi=DPI,
                 layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel().tolist()
    for extra in axes[n:]:
        extra.set_visible(False)
    fig.suptitle(title + ("\n" + subtitle if subtitle else ""), fontweight="bold", fontsize=11)
    return fig, axes[:n]


def _finish(fig: Figure, axes: list[Any], indicator: str, handles: list, texts: list[str],
            *, difference: bool) -> None:
    for ax in axes:
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.margins(x=0)
        _value_axis(ax, indicator, difference=difference)
    _rows, cols = _grid(len(axes))
    for i, ax in enumerate(axes):
        if i + cols >= len(axes):  # the lowest panel of its column
            ax.set_xlabel("Years since start")
            ax.xaxis.set_tick_params(labelbottom=True)
    fig.supylabel(textwrap.fill(_unit_words(indicator, difference), 60), fontsize=10)
    columns = len(texts) if len(texts) <= 4 else math.ceil(len(texts) / 2)  # even rows
    fig.legend(handles, texts, loc="outside lower center", ncol=columns,
               fontsize=8, frameon=False)


def _check(steps: pd.DataFrame, indicator: str, labels: Sequence[str], what: str) -> None:
    missing = [c for c in ("label", "replication", "step", indicator) if c not in steps.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")
    present = set(pd.unique(steps["label"]))
    unknown = [lab for lab in labels if lab not in present]
    if unknown:
        raise ValueError(f"{what}: no rows for label(s) {', '.join(map(str, unknown))}")
    if not labels:
        raise ValueError(f"{what}: no scenario to draw")


def _by_step(steps: pd.DataFrame, label: str, indicator: str) -> pd.DataFrame:
    """Wide table step x replication of one label's indicator."""
    rows = steps.loc[steps["label"] == label, ["replication", "step", indicator]]
    wide = rows.pivot_table(index="step", columns="replication", values=indicator,
                            aggfunc="first")
    return wide.sort_index().apply(pd.to_numeric, errors="coerce")


def level_panels(steps: pd.DataFrame, indicator: str, labels: Sequence[str], *,
                 reference: str | None = None,
                 events: dict[str, Sequence[Event]] | None = None) -> Figure:
    """An indicator over time, one panel per label, median and spread over seeds.

    ``reference`` (one of ``labels``) is drawn in its own panel in grey and repeated as a
    dashed grey median line in the others. ``events`` maps a label to its policy events,
    marked in that label's panel. Each panel holds two bands (``ax.collections``, gid
    "band 25-75" and "band 5-95") and the label's median line (gid "median").
    """
    labels = list(labels)
    _check(steps, indicator, labels, "level_panels")
    if reference is not None and reference not in labels:
        raise ValueError(f"level_panels: reference {reference!r} is not among the labels")
    events = events or {}
    colours = scenario_colours([lab for lab in labels if lab != reference])
    fig, axes = _panels(len(labels), f"{indicator_label(indicator, unit=False)} over time",
                        "median over seeds and the range of the middle 50% and 90% of runs")
    ref_median = None
    if reference is not None:
        ref_median = _by_step(steps, reference, indicator).median(axis=1)
    for ax, label in zip(axes, labels, strict=True):
        wide = _by_step(steps, label, indicator)
        years = wide.index.to_numpy(dtype=float) / 12.0
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
        colour = REFERENCE_COLOUR if label == reference else colours[label]
        ax.fill_between(years, q[0.05], q[0.95], color=colour, alpha=0.14, linewidth=0,
                        gid="band 5-95")
        ax.fill_between(years, q[0.25], q[0.75], color=colour, alpha=0.32, linewidth=0,
                        gid="band 25-75")
        ax.plot(years, q[0.5], color=colour, linewidth=2.0, gid="median")
        if ref_median is not None and label != reference:
            ax.plot(ref_median.index.to_numpy(dtype=float) / 12.0, ref_median.to_numpy(),
                    color=REFERENCE_COLOUR, linestyle="--", linewidth=1.2, gid="reference")
        mark_events(ax, events.get(label, ()))
        ax.set_title(f"{label} ({wide.shape[1]} seeds)"
                     + (" – reference" if label == reference else ""), fontsize=9)
    handles = [Line2D([], [], color="0.2", linewidth=2), Patch(color="0.2", alpha=0.35),
               Patch(color="0.2", alpha=0.15)]
    texts = ["median of the seeds", "middle 50% of runs", "middle 90% of runs"]
    if reference is not None and len(labels) > 1:
        handles.append(Line2D([], [], color=REFERENCE_COLOUR, linestyle="--"))
        texts.append(f"{reference} (reference), median")
    if any(events.get(lab) for lab in labels):
        handles.append(Line2D([], [], color=EVENT_COLOUR, linestyle=":"))
        texts.append("policy change")
    _finish(fig, axes, indicator, handles, texts, difference=False)
    return fig


def paired_differences(steps: pd.DataFrame, reference: str, label: str, indicator: str,
                       *, comparisons: int = 1, confidence: float = 0.95) -> pd.DataFrame:
    """Per month: mean of the paired differences label - reference over seeds and its
    confidence interval (paired t, Bonferroni over ``comparisons``); columns step, mean,
    low, high, n."""
    a = _by_step(steps, reference, indicator)
    b = _by_step(steps, label, indicator)
    common = a.columns.intersection(b.columns)
    index = a.index.intersection(b.index)
    d = b.loc[index, common] - a.loc[index, common]
    n = d.notna().sum(axis=1).to_numpy()
    mean = d.mean(axis=1).to_numpy()
    sd = d.std(axis=1, ddof=1).to_numpy() if len(common) > 1 else np.full(len(index), np.nan)
    alpha = (1.0 - confidence) / max(comparisons, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(1.0 - alpha / 2.0, np.maximum(n - 1, 1))
        half = np.where(n > 1, t * sd / np.sqrt(n), np.nan)
    return pd.DataFrame({"step": index.to_numpy(), "mean": mean, "low": mean - half,
                         "high": mean + half, "n": n})


def difference_panels(steps: pd.DataFrame, reference: str, others: Sequence[str],
                      indicator: str, *, events: dict[str, Sequence[Event]] | None = None,
                      comparisons: int | None = None) -> Figure:
    """Paired differences against ``reference`` over time, one panel per other scenario.

    Each panel holds exactly one band (``ax.collections``, gid "band"): the 95 % confidence
    interval of the mean difference at each month, Bonferroni-corrected over ``comparisons``
    (default: the number of other scenarios, as the comparison table is); the mean
    difference as a line (gid "mean difference"), a zero line, and the events of the
    scenario and of the reference (both change the difference) marked on the time axis.
    """
    others = list(others)
    _check(steps, indicator, [reference, *others], "difference_panels")
    if reference in others:
        raise ValueError("difference_panels: the reference cannot also be a compared scenario")
    events = events or {}
    m = comparisons if comparisons is not None else len(others)
    colours = scenario_colours(others)
    fig, axes = _panels(len(others),
                        f"{indicator_label(indicator, unit=False)}: difference from {reference}",
                        "scenario minus reference on the same seeds: mean and 95% interval, "
                        "month by month")
    for ax, label in zip(axes, others, strict=True):
        d = paired_differences(steps, reference, label, indicator, comparisons=m)
        years = d["step"].to_numpy(dtype=float) / 12.0
        colour = colours[label]
        ax.axhline(0.0, color="0.2", linewidth=1.0, zorder=1)
        ax.fill_between(years, d["low"], d["high"], color=colour, alpha=0.28, linewidth=0,
                        gid="band")
        ax.plot(years, d["mean"], color=colour, linewidth=2.0, gid="mean difference")
        mark_events(ax, sorted({*events.get(label, ()), *events.get(reference, ())}))
        ax.set_title(f"{label} minus {reference} ({int(d['n'].max())} paired seeds)",
                     fontsize=9)
    handles = [Line2D([], [], color="0.2", linewidth=2), Patch(color="0.2", alpha=0.3),
               Line2D([], [], color="0.2", linewidth=1)]
    texts = ["mean difference", "95% interval of the mean"
             + (f" (Bonferroni, {m} comparisons)" if m > 1 else ""), "no difference"]
    if any(events.get(lab) for lab in [reference, *others]):
        handles.append(Line2D([], [], color=EVENT_COLOUR, linestyle=":"))
        texts.append("policy change")
    _finish(fig, axes, indicator, handles, texts, difference=True)
    return fig
