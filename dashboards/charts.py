"""Charts of the dashboard: matplotlib figures (object API, no pyplot state) and their PNG bytes.

The server is long-lived and serves many sessions from threads, so every figure is a fresh
``matplotlib.figure.Figure`` with the Agg canvas, never pyplot's global figure manager.
The live charts are SVG (``svg.py``: matplotlib took 150-300 ms a Step); these figures are
drawn only when a PNG is downloaded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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


def chart_unit(indicator: str) -> tuple[str, float]:
    """(unit, factor) of an indicator on a chart: a share (0-1) is drawn in percent."""
    unit = INDICATORS[indicator][0]
    return ("%", 100.0) if unit == "share" else (unit, 1.0)


def _title(ax, name: str, short: str) -> None:
    ax.set_title(f"{short} ({chart_unit(name)[0]})", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def indicator_figure(df: pd.DataFrame, indicators: Sequence[tuple[str, str]] = LIVE_INDICATORS,
                     horizon: int | None = None) -> Figure:
    """Small multiples of indicators over months (one run)."""
    fig = new_figure(9.0, 4.6)
    axes = fig.subplots(2, (len(indicators) + 1) // 2, squeeze=False).ravel()
    months = df["month"].to_numpy()
    for ax, (name, short) in zip(axes, indicators, strict=False):
        ax.plot(months, df[name].to_numpy() * chart_unit(name)[1], color=SCENARIO_COLOUR,
                lw=1.4)
        _title(ax, name, short)
        if horizon:
            ax.set_xlim(0, horizon)
    for ax in axes[len(indicators):]:
        ax.set_visible(False)
    axes[-1].set_xlabel("month", fontsize=8)
    return fig
