"""Live charts as SVG text, drawn by the browser.

Redrawing six matplotlib panels as PNG costs 150-300 ms on these 2-core machines (tick layout
and rasterising), more than the 200 ms a Step may take; the same panels as SVG polylines cost
about a millisecond to write and the browser draws them. Matplotlib stays for the PNG exports
(charts.py), made only when asked for. Every number is formatted by us and every text escaped,
so the markup holds no user input unescaped.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from experiments.formatting import format_number, format_percent

from .network import (
    BACKGROUND_COLOUR,
    BROKERED_COLOUR,
    CLOUD_RADIUS,
    GOVERNMENT_COLOUR,
    TWO_PARTY_COLOUR,
    UNIVERSITY_COLOURS,
    UNIVERSITY_RADIUS,
    NetworkView,
)

HOVER_BANDS = 60  # hover targets per panel at most (every other month of a ten-year run)


@dataclass(frozen=True)
class Series:
    x: np.ndarray
    y: np.ndarray
    colour: str = "#1f77b4"
    dashed: bool = False
    label: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    series: Sequence[Series] = field(default_factory=tuple)
    # Events on the time axis: (month, colour, text), drawn as dashed vertical lines whose
    # tooltip is the text; not data, so outside the axis limits, the legend and the hover.
    marks: Sequence[tuple[float, str, str]] = ()


def number(x: float) -> str:
    """Short tick text: 1.2k, 3.4M, 0.56."""
    if not math.isfinite(x):
        return "n/a"
    a = abs(x)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _limits(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """The y range of a panel: the data and zero.

    Every panel starts at zero (or ends there, for negative series), so that the height of a
    line is its size: a min-max axis drew a 6% rise of value added as a line from the bottom
    to the top of the panel, which reads as a tenfold change. How much a series changed is
    written above the panel instead (``_change``).
    """
    finite = [v[np.isfinite(v)] for v in values if len(v)]
    finite = [v for v in finite if len(v)]
    if not finite:
        return 0.0, 1.0
    lo = min(0.0, min(float(v.min()) for v in finite))
    hi = max(0.0, max(float(v.max()) for v in finite))
    if hi - lo < 1e-12 * max(abs(hi), abs(lo), 1.0):
        # All zero (before the first graduates, say): a readable axis rather than +-1e-9.
        return 0.0, 1.0
    # Out to the next round tick, so the top (or bottom) of the axis carries a number.
    step = _step(hi - lo)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def _step(span: float, most: int = 4) -> float:
    """1, 2 or 5 times a power of ten: at most ``most`` steps over ``span``."""
    raw = span / most
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def _ticks(lo: float, hi: float, most: int = 4) -> list[float]:
    """Round values between lo and hi (1, 2 or 5 times a power of ten apart), zero included."""
    step = _step(hi - lo, most)
    first = math.ceil(lo / step - 1e-9)
    return [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def _month_ticks(x_max: float) -> list[float]:
    """Months at whole years (every 1, 2, 5, 10 ... years), at most six."""
    if x_max <= 12:
        return [0.0, float(x_max)]
    years = x_max / 12
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 1e9) if years / s <= 5)
    return [12.0 * step * k for k in range(int(years // step) + 1)]


def _change(series: Series) -> str:
    """"+6.1% since month 0": the last value against the first, or "" when the first is
    zero (a count that starts from nothing) or the series changes sign (a difference)."""
    keep = np.isfinite(series.y)
    if keep.sum() < 2:
        return ""
    y = series.y[keep]
    first, last = float(y[0]), float(y[-1])
    if first == 0 or (np.sign(y) == -np.sign(first)).any():
        return ""
    return (f"{format_percent((last - first) / abs(first), signed=True)} since month "
            f"{int(series.x[keep][0])}")


def _legend(panel: Panel, ox: float, oy: float) -> list[str]:
    """Line samples and names of the panel's labelled series, in a row above the plot."""
    labelled = [s for s in panel.series if s.label]
    if len(labelled) < 2:
        return []
    out, x, oy = [], ox, oy - 17
    for s in labelled:
        dash = ' stroke-dasharray="4 3"' if s.dashed else ""
        name = s.label if len(s.label) <= 22 else s.label[:21] + "…"
        out.append(f'<g class="legend-item"><line x1="{x:.0f}" x2="{x + 16:.0f}" '
                   f'y1="{oy + 9}" y2="{oy + 9}" stroke="{s.colour}" stroke-width="2"{dash}/>'
                   f'<text x="{x + 20:.0f}" y="{oy + 12}" fill="#333">{html.escape(name)}'
                   '</text></g>')
        x += 30 + 6 * len(name)
    return out


def _unit(title: str) -> str:
    """The unit a panel's title ends with in brackets: "Jobs (persons)" -> "persons"."""
    m = re.search(r"\(([^()]*)\)\s*$", title)
    if not m:
        return ""
    return "%" if m.group(1) == "%" else f" {m.group(1)}"  # 71.2%, 1,997 persons


@functools.lru_cache(maxsize=8192)
def _tip(month: int, unit: str, labels: tuple[str, ...], values: tuple[float | None, ...]
         ) -> str:
    """A hover band's text, escaped. Cached: a month's values do not change as a run goes on,
    so each Step formats only the new month (formatting every band took most of a redraw)."""
    parts = [(f"{label}: " if label else "") + format_number(y) + unit
             for label, y in zip(labels, values, strict=True)
             if y is not None and math.isfinite(y)]
    return html.escape(f"month {month}: " + "; ".join(parts))


def _hover(panel: Panel, ox: float, oy: float, pw: float, ph: float, x_max: float) -> list[str]:
    """Invisible bands, one per month (at most HOVER_BANDS), whose tooltip gives every
    series' value at that month with the unit of the panel's title."""
    shown = [s for s in panel.series if len(s.x)]
    if not shown:
        return []
    months = np.unique(np.concatenate([np.asarray(s.x, dtype=float) for s in shown]))
    if len(months) > HOVER_BANDS:
        months = months[np.linspace(0, len(months) - 1, HOVER_BANDS).round().astype(int)]
    edges = np.r_[months[0], (months[1:] + months[:-1]) / 2, months[-1]]
    scale = pw / max(x_max, 1e-12)
    unit = _unit(panel.title)
    labels = tuple(s.label if len(shown) > 1 else "" for s in shown)
    at = [dict(zip(np.asarray(s.x, dtype=float).tolist(), np.asarray(s.y).tolist(),
                   strict=True)) for s in shown]
    out = ['<g class="hover" fill="#000" fill-opacity="0">']
    for m, left, right in zip(months.tolist(), edges[:-1].tolist(), edges[1:].tolist(),
                              strict=True):
        tip = _tip(int(m), unit, labels, tuple(by_month.get(m) for by_month in at))
        out.append(f'<rect x="{ox + left * scale:.1f}" y="{oy}" '
                   f'width="{max((right - left) * scale, 1.0):.1f}" height="{ph}" '
                   f'data-month="{int(m)}"><title>{tip}</title></rect>')
    out.append("</g>")
    return out


def panel_svg(panel: Panel, *, x_max: float, width: int = 270, height: int = 170,
              css_class: str = "chart") -> str:
    """One line panel over months [0, x_max] as an SVG document: title (with the unit),
    the change since the start, a y axis from zero with round ticks and grid lines, month
    ticks at whole years, a legend when it has several series, and hover values."""
    left, right, top, bottom = 46, 10, 34, 30
    pw, ph = width - left - right, height - top - bottom
    ox, oy = left, top
    lo, hi = _limits([s.y for s in panel.series])

    def px(x: np.ndarray) -> np.ndarray:
        return ox + pw * np.asarray(x, dtype=float) / max(x_max, 1e-12)

    def py(y: np.ndarray) -> np.ndarray:
        return oy + ph * (1.0 - (np.asarray(y, dtype=float) - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
           'font-size="10">',
           f'<text class="panel-title" x="4" y="13" font-size="11" font-weight="bold">'
           f'{html.escape(panel.title)}</text>']
    one = [s for s in panel.series if np.isfinite(s.y).any()]
    change = _change(one[0]) if len(one) == 1 else ""
    if change:
        out.append(f'<text class="panel-change" x="4" y="26" fill="#555">'
                   f'{html.escape(change)}</text>')
    for t in _ticks(lo, hi):
        y = float(py(np.array([t]))[0])
        colour, w = ("#000", 0.8) if t == 0 else ("#e3e3e3", 0.6)
        out.append(f'<line x1="{ox}" x2="{ox + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{colour}" stroke-width="{w}"/>'
                   f'<text x="{ox - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">'
                   f'{number(t)}</text>')
    for t in _month_ticks(x_max):
        x = float(px(np.array([t]))[0])
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{oy + ph}" y2="{oy + ph + 3}" '
                   f'stroke="#888"/><text x="{x:.1f}" y="{oy + ph + 13}" '
                   f'text-anchor="middle" fill="#555">{number(t)}</text>')
    out.append(f'<text x="{ox + pw / 2:.0f}" y="{oy + ph + 26}" text-anchor="middle" '
               'fill="#555">month</text>')
    out.append(f'<rect x="{ox}" y="{oy}" width="{pw}" height="{ph}" fill="none" '
               'stroke="#bbb"/>')
    for month, colour, text in panel.marks:
        if 0 <= month <= x_max:
            x = float(px(np.array([month]))[0])
            out.append(f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="{oy}" '
                       f'y2="{oy + ph}" stroke="{colour}" stroke-width="1.4" '
                       f'stroke-dasharray="4 3"><title>{html.escape(text)}</title></line>')
    for s in panel.series:
        keep = np.isfinite(s.y)
        if keep.sum() == 0:
            continue
        xs, ys = px(s.x[keep]), py(s.y[keep])
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
        dash = ' stroke-dasharray="4 3"' if s.dashed else ""
        out.append(f'<polyline class="series" points="{points}" fill="none" '
                   f'stroke="{s.colour}" stroke-width="1.6"{dash}>'
                   f'<title>{html.escape(s.label or panel.title)}</title></polyline>')
    out += _legend(panel, ox, oy)
    out += _hover(panel, ox, oy, pw, ph, x_max)
    out.append("</svg>")
    return "".join(out)


def panels_svg(panels: Sequence[Panel], *, x_max: float, panel_width: int = 270,
               panel_height: int = 170, css_class: str = "chart") -> str:
    """Line panels sharing the x range [0, x_max], one SVG each, side by side: the page
    wraps them to its width (three in a row on a laptop, one on a phone)."""
    return "".join(panel_svg(p, x_max=x_max, width=panel_width, height=panel_height,
                             css_class=css_class) for p in panels)


def network_svg(view: NetworkView, size: int = 420) -> str:
    """The collaboration network: same picture as network.network_figure, as SVG."""
    lim = UNIVERSITY_RADIUS + CLOUD_RADIUS + 0.1
    scale = size / (2 * lim)

    def xy(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float).reshape(-1, 2)
        return np.c_[(p[:, 0] + lim) * scale, (lim - p[:, 1]) * scale]

    colours = UNIVERSITY_COLOURS * (len(view.universities) // len(UNIVERSITY_COLOURS) + 1)
    edge_colour = (TWO_PARTY_COLOUR, GOVERNMENT_COLOUR, BROKERED_COLOUR)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="network" width="{size}" '
           f'height="{size}" viewBox="0 0 {size} {size}" font-family="sans-serif" '
           'font-size="10">']
    g = xy(view.government)[0]
    for u in xy(view.universities):
        out.append(f'<line x1="{g[0]:.1f}" y1="{g[1]:.1f}" x2="{u[0]:.1f}" y2="{u[1]:.1f}" '
                   f'stroke="{GOVERNMENT_COLOUR}" stroke-dasharray="2 3" stroke-width="1.2"/>')
    if len(view.edges):
        a, b = xy(view.edges[:, 0]), xy(view.edges[:, 1])
        for kind in range(3):
            sel = view.edge_kind == kind
            if sel.any():
                path = "".join(f"M{p[0]:.1f} {p[1]:.1f}L{q[0]:.1f} {q[1]:.1f}"
                               for p, q in zip(a[sel], b[sel], strict=True))
                out.append(f'<path class="edges" d="{path}" stroke="{edge_colour[kind]}" '
                           'stroke-width="0.6" stroke-opacity="0.5" fill="none"/>')
    for p in xy(view.background_xy):
        out.append(f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="1.3" fill="{BACKGROUND_COLOUR}"/>')
    for p, home in zip(xy(view.linked_xy), view.linked_home, strict=True):
        out.append(f'<circle class="linked" cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="2.2" '
                   f'fill="{colours[home]}"/>')
    for i, u in enumerate(xy(view.universities)):
        out.append(f'<rect x="{u[0] - 11:.1f}" y="{u[1] - 11:.1f}" width="22" height="22" '
                   f'fill="{colours[i]}" stroke="#000"/><text x="{u[0]:.1f}" y="{u[1] + 4:.1f}" '
                   f'text-anchor="middle" fill="#fff">U{i + 1}</text>')
    out.append(f'<circle cx="{g[0]:.1f}" cy="{g[1]:.1f}" r="10" fill="{GOVERNMENT_COLOUR}"/>'
               f'<text x="{g[0]:.1f}" y="{g[1] + 4:.1f}" text-anchor="middle" fill="#fff">G'
               '</text></svg>')
    return "".join(out)
