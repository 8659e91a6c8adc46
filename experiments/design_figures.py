"""Figures of experiment designs: what each design is for, drawn for people.

- ``partial_dependence``: sweeps and Latin hypercubes. One panel per factor: the mean output
  (over the other factors, the replications and the design points) against the factor's value,
  one line per lever setting, with a 95% band of that mean. In a full-factorial sweep a level's
  mean over the other factors is the main effect of that level; in a Latin hypercube the
  factor's range is cut into equal-count bins and each bin's mean is drawn at its centre.
- ``response_surface``: a full-factorial sweep of two or more factors: the mean output over
  the grid of the first two factors (averaged over the others), as a heat map with the values.
- ``morris_plot``: Morris screening, one panel per output: μ* (mean absolute elementary effect:
  influence) against σ (spread of the effects: interaction or non-linearity), every factor
  named, μ* with its bootstrap interval, and the line σ = μ* (above it, a factor's effect
  depends mostly on where the others are).
- ``sobol_plot``: first-order S1 and total ST Sobol' indices with their intervals (the ranked
  bars of ``sensitivity.ranked_bars``).
- ``discovery_plot``: scenario-discovery boxes: each box's coverage and density next to the
  base rate, and the cases in the plane of the box's first two factors with the best box drawn.

Every figure has a title, axis labels with units (the parameter table's and the indicator
table's), a legend; the captions are the report's. Figures use matplotlib's object API only.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from simulation.indicators import INDICATORS
from simulation.parameters import PARAMETERS

from .formatting import format_number, indicator_label
from .sensitivity import box_text, ranked_bars

DPI = 110
LEVER_COLOURS = ("#1c3d6e", "#c92a2a", "#2b8a3e", "#e67700", "#6a3d9a", "#0b7285")
ABOVE, BELOW = "#2b8a3e", "#adb5bd"
BINS = 5
# Axis numbers as people write them (no "+1.937e3" offsets, thousands separators).
PLAIN = FuncFormatter(lambda v, _pos: format_number(v))


def _figure(width: float, height: float, panels: int = 1, cols: int | None = None
            ) -> tuple[Figure, list]:
    cols = cols or min(panels, 3)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=(width * cols, height * rows), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def factor_label(name: str) -> str:
    """A factor (a parameter) with its unit: "matching_rate (share of project cost)"."""
    p = PARAMETERS.get(name)
    unit = getattr(p, "unit", "") if p is not None else ""
    return f"{name} ({unit})" if unit else name


def output_label(name: str) -> str:
    """An output with its unit: an indicator's label, or the dividend's (MCU)."""
    if name == "dividend":
        return "Dividend D(W) = W − W(siloed) (MCU)"
    if name in INDICATORS:
        unit = INDICATORS[name][0]
        return f"{indicator_label(name, unit=False)} ({unit})"
    return name


def _mean_band(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and a 95% normal band of the mean (the band is 0 wide with one value)."""
    v = values[np.isfinite(values)]
    if not len(v):
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0
    return m, m - half, m + half


def _levels(x: pd.Series, factorial: bool) -> tuple[np.ndarray, np.ndarray]:
    """(position of each case on the x axis, the positions drawn): the levels of a sweep, or
    the centres of equal-count bins of a sampled factor."""
    values = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
    distinct = np.unique(values[np.isfinite(values)])
    if factorial or len(distinct) <= BINS:
        return values, distinct
    edges = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)))
    which = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    centres = np.array([values[which == i].mean() for i in range(len(edges) - 1)])
    return centres[which], centres


def partial_dependence(summary: pd.DataFrame, factors: Sequence[str], output: str, *,
                       factorial: bool, title: str) -> Figure:
    """One panel per factor: the mean ``output`` at each level (or bin) of the factor, one
    line and band per lever (see the module's docstring)."""
    fig, axes = _figure(4.2, 3.3, len(factors))
    levers = list(dict.fromkeys(summary["lever"]))
    for ax, factor in zip(axes, factors, strict=True):
        for i, lever in enumerate(levers):
            rows = summary[summary["lever"] == lever]
            pos, drawn = _levels(rows[factor], factorial)
            y = rows[output].to_numpy(dtype=float)
            stats = np.array([_mean_band(y[pos == d]) for d in drawn])
            colour = LEVER_COLOURS[i % len(LEVER_COLOURS)]
            ax.plot(drawn, stats[:, 0], marker="o", color=colour, linewidth=1.6,
                    label=str(lever) if len(levers) > 1 else "mean over the other factors")
            ax.fill_between(drawn, stats[:, 1], stats[:, 2], color=colour, alpha=0.18,
                            linewidth=0, label="95% band of the mean" if i == 0 else None)
        ax.set_xlabel(factor_label(factor))
        ax.set_ylabel(output_label(output))
        ax.yaxis.set_major_formatter(PLAIN)
        ax.set_title(f"by {factor}", fontsize=10)
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4),
               fontsize=8, frameon=False)  # one legend below the panels covers no line
    fig.suptitle(title, fontweight="bold")
    return fig


def response_surface(summary: pd.DataFrame, factors: Sequence[str], output: str, *,
                     title: str) -> Figure:
    """The mean ``output`` over the grid of the first two factors (the first lever)."""
    a, b = factors[0], factors[1]
    rows = summary[summary["lever"] == summary["lever"].iloc[0]]
    grid = rows.pivot_table(index=b, columns=a, values=output, aggfunc="mean").sort_index()
    fig, (ax,) = _figure(6.4, 4.6)
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [format_number(v) for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [format_number(v) for v in grid.index])
    finite = values[np.isfinite(values)]
    middle = float(np.median(finite)) if finite.size else 0.0
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, format_number(v), ha="center", va="center", fontsize=8,
                color="white" if v < middle else "black")
    ax.set_xlabel(factor_label(a))
    ax.set_ylabel(factor_label(b))
    bar = fig.colorbar(image, ax=ax, format=PLAIN)
    bar.set_label(output_label(output))
    ax.set_title(title, fontweight="bold")
    return fig


def morris_plot(tables: Mapping[str, pd.DataFrame], *, title: str) -> Figure:
    """μ* against σ, one panel per output (``tables``: output -> Morris table)."""
    fig, axes = _figure(4.4, 3.8, len(tables), cols=2)
    for ax, (output, table) in zip(axes, tables.items(), strict=True):
        mu = table["mu_star"].to_numpy(dtype=float)
        sigma = table["sigma"].to_numpy(dtype=float)
        conf = np.nan_to_num(table["mu_star_conf"].to_numpy(dtype=float), nan=0.0)
        ax.errorbar(mu, sigma, xerr=conf, fmt="o", color=LEVER_COLOURS[0], ecolor="0.55",
                    elinewidth=1.0, capsize=2.5, label="factor: μ* ± 95% interval")
        finite = np.concatenate([mu[np.isfinite(mu)] + conf[np.isfinite(mu)],
                                 sigma[np.isfinite(sigma)]])
        top = float(finite.max()) * 1.15 if finite.size and finite.max() > 0 else 1.0
        # Name the factors away from the origin; the crowd near it is listed in one line
        # (names on top of each other would say nothing).
        near: list[str] = []
        order = np.argsort(-np.nan_to_num(mu, nan=-1.0))
        for rank, i in enumerate(order):
            name, x, y = str(table["factor"].iloc[i]), mu[i], sigma[i]
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            if max(x, y) < 0.08 * top:
                near.append(name)
                continue
            ax.annotate(name, (x, y), xytext=(4, 3 + 8 * (rank % 2)),
                        textcoords="offset points", fontsize=7, color="0.2")
        if near:
            ax.text(0.97, 0.97, textwrap.fill("near 0: " + ", ".join(near), 38),
                    transform=ax.transAxes, ha="right", va="top", fontsize=6.5, color="0.35",
                    in_layout=False)
        ax.plot([0, top], [0, top], linestyle="--", color="0.5", linewidth=1.0,
                label="σ = μ* (above: interactions or non-linearity)")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        unit = output_label(output)
        ax.set_xlabel(f"μ*, mean |elementary effect|\n{unit}")
        ax.set_ylabel("σ of the elementary effects (same unit)")
        ax.set_title(indicator_label(output, unit=False) if output in INDICATORS else output,
                     fontsize=10)
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8,
               frameon=False)  # one legend for every panel, below them: none covers a point
    fig.suptitle(title, fontweight="bold")
    return fig


def sobol_plot(table: pd.DataFrame, *, title: str) -> Figure:
    """ST and S1 per factor, ranked by ST, each with its 95% bootstrap interval."""
    return ranked_bars(table, "ST", "ST_conf", title, secondary="S1", secondary_conf="S1_conf")


def discovery_plot(boxes: pd.DataFrame, x: pd.DataFrame, y: np.ndarray, threshold: float, *,
                   output: str, title: str) -> Figure:
    """Coverage and density of every box against the base rate; the cases in the plane of the
    best box's first two factors (or the first two factors), the best box drawn."""
    fig, (bars, plane) = _figure(5.2, min(4.6, 2.4 + 0.9 * max(len(boxes), 1)), 2, cols=2)
    above = np.asarray(y, dtype=float) > threshold
    base = float(above.mean()) if len(above) else math.nan
    names = [textwrap.fill(f"box {i + 1}: {box_text(b)}", 30)
             for i, b in enumerate(boxes["bounds"])]
    pos = np.arange(len(boxes), dtype=float)
    bars.barh(pos - 0.2, boxes["coverage"], height=0.38, color="#1c3d6e", label="coverage")
    bars.barh(pos + 0.2, boxes["density"], height=0.38, color="#7fa7d1", label="density")
    bars.axvline(base, color="#c92a2a", linestyle="--", linewidth=1.2,
                 label=f"base rate {base:.0%} (density to beat)")
    bars.set_yticks(pos, names)
    bars.invert_yaxis()
    bars.set_xlim(0, 1.05)
    bars.set_xlabel("share of cases (0–1)")
    bars.set_title("Boxes where " + output + f" > {format_number(threshold)}", fontsize=10)
    bars.grid(True, axis="x", color="0.9", linewidth=0.8)
    bounds = boxes["bounds"].iloc[0] if len(boxes) else {}
    chosen = [f for f in bounds if f in x.columns]
    chosen += [c for c in x.columns if c not in chosen]
    fa = chosen[0]
    fb = chosen[1] if len(chosen) > 1 else None
    xa = x[fa].to_numpy(dtype=float)
    xb = x[fb].to_numpy(dtype=float) if fb else np.asarray(y, dtype=float)
    plane.scatter(xa[~above], xb[~above], s=18, color=BELOW, label=f"{output} ≤ threshold")
    plane.scatter(xa[above], xb[above], s=18, color=ABOVE, label=f"{output} > threshold")
    if len(boxes):
        lo_a, hi_a = bounds.get(fa, (-math.inf, math.inf))
        lo_b, hi_b = bounds.get(fb, (-math.inf, math.inf)) if fb else (-math.inf, math.inf)
        pad_a = (np.nanmax(xa) - np.nanmin(xa)) * 0.05 or 1.0
        pad_b = (np.nanmax(xb) - np.nanmin(xb)) * 0.05 or 1.0
        left = max(lo_a, np.nanmin(xa) - pad_a)
        right = min(hi_a, np.nanmax(xa) + pad_a)
        bottom = max(lo_b, np.nanmin(xb) - pad_b)
        top = min(hi_b, np.nanmax(xb) + pad_b)
        plane.add_patch(Rectangle((left, bottom), right - left, top - bottom, fill=False,
                                  edgecolor="#1c3d6e", linewidth=1.6, linestyle="-",
                                  label=f"box 1: coverage {boxes['coverage'].iloc[0]:.0%}, "
                                        f"density {boxes['density'].iloc[0]:.0%}"))
    plane.set_xlabel(factor_label(fa))
    plane.set_ylabel(factor_label(fb) if fb else output_label(output))
    plane.set_title("Cases and the best box", fontsize=10)
    plane.grid(True, color="0.9", linewidth=0.8)
    handles, labels = [], []
    for ax in (bars, plane):
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8,
               frameon=False)  # below the panels: covers no case
    fig.suptitle(title, fontweight="bold")
    return fig
