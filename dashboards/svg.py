"""Live charts as SVG text, drawn by the browser.

Redrawing six matplotlib panels as PNG costs 150-300 ms on these 2-core machines (tick layout
and rasterising), more than the 200 ms a Step may take; the same panels as SVG polylines cost
about a millisecond to write and the browser draws them. Matplotlib stays for the PNG exports
(charts.py), made only when asked for. Every number is formatted by us and every text escaped,
so the markup holds no user input unescaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .network import (
    CLOUD_RADIUS,
    GOVERNMENT_COLOUR,
    UNIVERSITY_COLOURS,
    UNIVERSITY_RADIUS,
    NetworkView,
)


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
    zero_line: bool = False


def number(x: float) -> str:
    """Short tick text: 1.2k, 3.4M, 0.56."""
    if not math.isfinite(x):
        return "n/a"
    a = abs(x)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _limits(values: Sequence[np.ndarray], zero: bool) -> tuple[float, float]:
    finite = [v[np.isfinite(v)] for v in values if len(v)]
    finite = [v for v in finite if len(v)]
    if not finite:
        return 0.0, 1.0
    lo = min(float(v.min()) for v in finite)
    hi = max(float(v.max()) for v in finite)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12 * max(abs(hi), 1.0):
        # A flat series (all zero before the first graduates, say) gets a readable axis
        # rather than one of +-1e-9.
        pad = abs(hi) * 0.05 if hi else 1.0
        lo, hi = (0.0, 1.0) if hi == 0.0 else (lo - pad, hi + pad)
    return lo, hi


def panels_svg(panels: Sequence[Panel], *, x_max: float, columns: int = 3,
               panel_width: int = 300, panel_height: int = 150, css_class: str = "chart") -> str:
    """A grid of line panels sharing the x range [0, x_max] as one SVG document."""
    rows = math.ceil(len(panels) / columns)
    width, height = columns * panel_width, rows * panel_height
    left, right, top, bottom = 46, 10, 22, 20
    pw, ph = panel_width - left - right, panel_height - top - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
           'font-size="10">']
    for k, panel in enumerate(panels):
        ox, oy = (k % columns) * panel_width + left, (k // columns) * panel_height + top
        lo, hi = _limits([s.y for s in panel.series], panel.zero_line)

        def px(x: np.ndarray, ox: float = ox) -> np.ndarray:
            return ox + pw * np.asarray(x, dtype=float) / max(x_max, 1e-12)

        def py(y: np.ndarray, oy: float = oy, lo: float = lo, hi: float = hi) -> np.ndarray:
            return oy + ph * (1.0 - (np.asarray(y, dtype=float) - lo) / (hi - lo))

        out.append(f'<text x="{ox}" y="{oy - 8}" font-size="11" font-weight="bold">'
                   f'{html.escape(panel.title)}</text>')
        out.append(f'<rect x="{ox}" y="{oy}" width="{pw}" height="{ph}" fill="none" '
                   'stroke="#bbb"/>')
        for value, anchor_y in ((hi, oy + 4), (lo, oy + ph)):
            out.append(f'<text x="{ox - 4}" y="{anchor_y}" text-anchor="end" fill="#555">'
                       f'{number(value)}</text>')
        out.append(f'<text x="{ox}" y="{oy + ph + 13}" fill="#555">0</text>'
                   f'<text x="{ox + pw}" y="{oy + ph + 13}" text-anchor="end" fill="#555">'
                   f'{number(x_max)} months</text>')
        if panel.zero_line and lo < 0 < hi:
            z = float(py(np.array([0.0]))[0])
            out.append(f'<line x1="{ox}" x2="{ox + pw}" y1="{z:.1f}" y2="{z:.1f}" '
                       'stroke="#000" stroke-width="0.6"/>')
        for s in panel.series:
            keep = np.isfinite(s.y)
            if keep.sum() == 0:
                continue
            xs, ys = px(s.x[keep]), py(s.y[keep])
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
            dash = ' stroke-dasharray="4 3"' if s.dashed else ""
            out.append(f'<polyline class="series" points="{points}" fill="none" '
                       f'stroke="{s.colour}" stroke-width="1.6"{dash}>'
                       f'<title>{html.escape(s.label)}</title></polyline>')
    out.append("</svg>")
    return "".join(out)


def network_svg(view: NetworkView, size: int = 420) -> str:
    """The collaboration network: same picture as network.network_figure, as SVG."""
    lim = UNIVERSITY_RADIUS + CLOUD_RADIUS + 0.1
    scale = size / (2 * lim)

    def xy(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float).reshape(-1, 2)
        return np.c_[(p[:, 0] + lim) * scale, (lim - p[:, 1]) * scale]

    colours = UNIVERSITY_COLOURS * (len(view.universities) // len(UNIVERSITY_COLOURS) + 1)
    edge_colour = ("#9e9e9e", GOVERNMENT_COLOUR, "#2ca02c")
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
        out.append(f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="1.3" fill="#c8c8c8"/>')
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
