"""Charts of the dashboard: matplotlib figures (object API, no pyplot state) and their PNG bytes.

The server is long-lived and serves many sessions from threads, so every figure is a fresh
``matplotlib.figure.Figure`` with the Agg canvas, never pyplot's global figure manager.
Figures are drawn once per step by the session (not in a render function) and shown as PNG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.analysis import COMPONENTS
from simulation.indicators import INDICATORS

# The live small multiples of the Explore page: (indicator, short title).
LIVE_INDICATORS: tuple[tuple[str, str], ...] = (
    ("value_added", "Value added"),
    ("jobs", "Jobs"),
    ("innovations_total", "Innovations so far"),
    ("active_projects", "Active university-industry projects"),
    ("graduate_retention_rate", "Graduates still in the region"),
    ("startups_alive", "Start-ups and spin-offs alive"),
)
SCENARIO_COLOUR, SILOED_COLOUR, DIVIDEND_COLOUR = "#1f77b4", "#7f7f7f", "#2ca02c"
DPI = 72


def new_figure(width: float, height: float) -> Figure:
    # A fixed layout: "constrained" costs about 0.4 s per redraw of six panels.
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _title(ax, name: str, short: str) -> None:
    ax.set_title(f"{short} ({INDICATORS[name][0]})", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def indicator_figure(df: pd.DataFrame, indicators: Sequence[tuple[str, str]] = LIVE_INDICATORS,
                     horizon: int | None = None) -> Figure:
    """Small multiples of indicators over months (one run)."""
    fig = new_figure(9.0, 4.6)
    axes = fig.subplots(2, (len(indicators) + 1) // 2, squeeze=False).ravel()
    months = df["month"].to_numpy()
    for ax, (name, short) in zip(axes, indicators, strict=False):
        ax.plot(months, df[name].to_numpy(), color=SCENARIO_COLOUR, lw=1.4)
        _title(ax, name, short)
        if horizon:
            ax.set_xlim(0, horizon)
    for ax in axes[len(indicators):]:
        ax.set_visible(False)
    axes[-1].set_xlabel("month", fontsize=8)
    return fig


def dividend_series(scenario: pd.DataFrame, siloed: pd.DataFrame,
                    names: Sequence[str] = tuple(c for c, _, _ in COMPONENTS)) -> pd.DataFrame:
    """Month by month: scenario minus siloed for each indicator, over their common months."""
    common = scenario.index.intersection(siloed.index)
    out = scenario.loc[common, list(names)] - siloed.loc[common, list(names)]
    out.insert(0, "month", scenario.loc[common, "month"])
    return out


def dividend_figure(scenario: pd.DataFrame, siloed: pd.DataFrame, label: str,
                    horizon: int | None = None) -> Figure:
    """W of both runs, the running dividend D = W - W(siloed), and synergy S of both."""
    fig = new_figure(9.0, 3.2)
    ax_w, ax_d, ax_s = fig.subplots(1, 3)
    for ax, name, short in ((ax_w, "welfare", "Welfare W"),
                            (ax_s, "synergy_S", "Synergy S")):
        ax.plot(scenario["month"], scenario[name], color=SCENARIO_COLOUR, lw=1.4, label=label)
        ax.plot(siloed["month"], siloed[name], color=SILOED_COLOUR, lw=1.4, ls="--",
                label="siloed")
        _title(ax, name, short)
    ax_w.legend(fontsize=7, loc="upper left")
    diff = dividend_series(scenario, siloed, ("welfare",))
    ax_d.plot(diff["month"], diff["welfare"], color=DIVIDEND_COLOUR, lw=1.6)
    ax_d.axhline(0.0, color="black", lw=0.6)
    _title(ax_d, "welfare", "Dividend D = W - W(siloed)")
    for ax in (ax_w, ax_d, ax_s):
        ax.set_xlabel("month", fontsize=8)
        if horizon:
            ax.set_xlim(0, horizon)
    return fig


def shares_figure(shapley: pd.DataFrame) -> Figure:
    """Shapley shares of the dividend of W by channel, with their intervals."""
    fig = new_figure(6.0, 2.6)
    ax = fig.subplots()
    y = np.arange(len(shapley))
    mean = shapley["mean"].to_numpy(dtype=float)
    err = np.vstack([mean - shapley["low"].to_numpy(dtype=float),
                     shapley["high"].to_numpy(dtype=float) - mean])
    ax.barh(y, mean, xerr=err, color=DIVIDEND_COLOUR, alpha=0.8, capsize=3)
    ax.set_yticks(y, [str(c).replace("_", " ") for c in shapley["channel"]], fontsize=8)
    ax.axvline(0.0, color="black", lw=0.6)
    ax.set_xlabel("Shapley value of W (MCU), 95% interval", fontsize=8)
    ax.tick_params(labelsize=7)
    return fig
