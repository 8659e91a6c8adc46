"""Report writer of the ``helixsim run``, ``compare`` and ``dividend`` commands.

Figures use matplotlib's object API only (``matplotlib.figure.Figure``, never ``pyplot``), so
nothing depends on a global backend or state: every figure is drawn on its own and saved with the
Agg renderer, and the same inputs give the same PNG bytes.

- ``dividend_bars``: the relative dividend per component, coloured by helix.
- ``shapley_waterfall``: per-channel Shapley values adding up to the total dividend.
- ``write_report``: ``report.md``, ``report.html`` and ``figures/*.png`` in one folder. Every
  file is rendered in memory first and written under a temporary name, then renamed, and
  ``report.md`` is written last: an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from simulation.indicators import INDICATORS

from . import machine_kind
from .formatting import MISSING, format_number
from .storage import atomic_write

DPI = 110
# Fixed colours per helix (case-insensitive); other helix names take FALLBACK_COLOURS in order
# of first appearance.
HELIX_COLOURS = {
    "industry": "#1f78b4",
    "university": "#6a3d9a",
    "government": "#33a02c",
    "students": "#ff7f00",
    "graduates": "#ff7f00",
    "society": "#b15928",
    "total": "#4d4d4d",
    "ecosystem": "#4d4d4d",
    "all": "#4d4d4d",
}
FALLBACK_COLOURS = ("#e31a1c", "#17becf", "#bcbd22", "#e377c2", "#8c564b", "#7f7f7f")
POSITIVE, NEGATIVE, TOTAL = "#2b8a3e", "#c92a2a", "#1c3d6e"
# The headline indicators of a region, with a label and a format: the CLI's demo table and the
# dashboard's indicator panel show these, in this order.
MAIN_INDICATORS = (
    ("value_added", "Regional value added (MCU/month)", "{:,.1f}"),
    ("welfare", "Welfare W, discounted cumulative VA (MCU)", "{:,.0f}"),
    ("jobs", "Jobs", "{:,.0f}"),
    ("firms_alive", "Firms alive", "{:,.0f}"),
    ("innovations_total", "Innovations so far", "{:,.0f}"),
    ("active_projects", "Active university-industry projects", "{:,.0f}"),
    ("share_firms_collaborating", "Share of firms collaborating", "{:.1%}"),
    ("university_knowledge", "University knowledge (mean level)", "{:,.0f}"),
    ("publications_total", "Publications so far", "{:,.0f}"),
    ("students_enrolled", "Students enrolled", "{:,.0f}"),
    ("graduates_total", "Graduates so far", "{:,.0f}"),
    ("graduate_retention_rate", "Graduates still in the region", "{:.1%}"),
    ("startups_alive", "Start-ups and spin-offs alive", "{:,.0f}"),
    ("mean_digital_maturity", "Mean digital maturity", "{:.3f}"),
    ("gov_net_fiscal", "Government net fiscal position (MCU)", "{:,.0f}"),
    ("synergy_S", "Triple-helix synergy S (millibits)", "{:.2f}"),
)


# --- helpers -------------------------------------------------------------------------------------

def pretty(name: str) -> str:
    """``value_added`` -> ``Value added``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _unit(indicator: str) -> str:
    return INDICATORS[indicator][0] if indicator in INDICATORS else ""


def _axis_label(indicator: str) -> str:
    unit = _unit(indicator)
    return f"{pretty(indicator)} ({unit})" if unit else pretty(indicator)


def _require(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; "
                         f"got {', '.join(map(str, table.columns))}")


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches with one axes, at the reports' resolution."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.add_subplot()
    return fig


def style_axes(ax: Any, xlabel: str, ylabel: str, title: str, legend: str | None = "best"
               ) -> None:
    """The reports' axes style: labels, a bold title, a small frameless legend at ``legend``
    (None: no legend) and a light grid behind the data."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontweight="bold")
    if legend is not None:
        ax.legend(fontsize=8, frameon=False, loc=legend)
    ax.grid(True, color="0.9", linewidth=0.8, which="major")
    ax.set_axisbelow(True)


def _errors(centre: np.ndarray, low: np.ndarray | None, high: np.ndarray | None
            ) -> np.ndarray | None:
    """Asymmetric error extents (2, n) from an interval; NaN or missing -> no bar (0)."""
    if low is None or high is None:
        return None
    below = np.nan_to_num(centre - low, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
    above = np.nan_to_num(high - centre, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
    if not (below.any() or above.any()):
        return None
    return np.vstack([below, above])


def _column(table: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in table.columns:
        return None
    return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)


def helix_colours(helices: Iterable[str]) -> dict[str, str]:
    """A colour per helix name: fixed for known helices, then a fixed sequence."""
    colours: dict[str, str] = {}
    spare = iter(FALLBACK_COLOURS * 4)
    for helix in helices:
        if helix in colours:
            continue
        colours[helix] = HELIX_COLOURS.get(str(helix).lower()) or next(spare, "#7f7f7f")
    return colours


# --- figures -------------------------------------------------------------------------------------

def dividend_bars(table: pd.DataFrame) -> Figure:
    """Horizontal bars of the relative dividend per component, coloured by helix.

    ``table`` has one row per component with columns ``component``, ``helix`` and ``relative``
    (the dividend as a fraction of the siloed mean: 0.05 is drawn as +5 %), and optionally
    ``rel_low`` / ``rel_high`` (its 95 % interval, drawn as error bars). Rows are drawn top to
    bottom in table order; a row whose ``relative`` is not finite gets an empty bar marked
    "n/a". The axes hold exactly one bar (``ax.patches``) per row.
    """
    _require(table, ("component", "helix", "relative"), "dividend_bars")
    if table.empty:
        raise ValueError("dividend_bars: empty table")
    rel = _column(table, "relative")
    finite = np.isfinite(rel)
    widths = np.where(finite, rel, 0.0)
    err = _errors(widths, _column(table, "rel_low"), _column(table, "rel_high"))
    if err is not None:
        err[:, ~finite] = 0.0
    helices = [str(h) for h in table["helix"]]
    colours = helix_colours(helices)
    n = len(table)
    y = np.arange(n)

    fig = new_figure(8.0, 1.6 + 0.42 * n)
    ax = fig.axes[0]
    ax.barh(y, widths, color=[colours[h] for h in helices], height=0.65, zorder=2)
    if err is not None:
        has = err.any(axis=0)
        ax.errorbar(widths[has], y[has], xerr=err[:, has], fmt="none", ecolor="0.15",
                    elinewidth=1.2, capsize=3, zorder=3)
    ax.axvline(0.0, color="0.2", linewidth=1.0, zorder=1)
    ax.set_yticks(y, [f"{c} ({h})" for c, h in zip(table["component"], helices, strict=True)])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("Dividend relative to the siloed counterfactual (95% interval)")
    ax.set_title("Ecological dividend by component and helix", fontweight="bold")
    ax.grid(True, axis="x", color="0.9", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    # Value labels beyond the error bar, on the side of the bar.
    ends = widths + (err[1] if err is not None else 0.0)
    starts = widths - (err[0] if err is not None else 0.0)
    span = max(np.abs(np.r_[ends, starts, 0.0]).max(), 1e-12)
    for i in range(n):
        if not finite[i]:
            ax.annotate("n/a", (0.0, y[i]), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8, color="0.3")
            continue
        right = widths[i] >= 0
        ax.annotate(f"{widths[i]:+.1%}", (ends[i] if right else starts[i], y[i]),
                    xytext=(4 if right else -4, 0), textcoords="offset points",
                    ha="left" if right else "right", va="center", fontsize=8, color="0.2")
    ax.set_xlim(min(starts.min(), 0.0) - 0.18 * span, max(ends.max(), 0.0) + 0.18 * span)
    ax.legend([Patch(color=c) for c in colours.values()], list(colours), title="Helix",
              fontsize=8, title_fontsize=8, loc="best", frameon=False)
    return fig


def shapley_waterfall(table: pd.DataFrame, total: float | None = None, *,
                      indicator: str = "welfare",
                      total_interval: tuple[float, float] | None = None) -> Figure:
    """Waterfall of per-channel Shapley values, from 0 up to the total dividend.

    ``table`` has one row per channel with columns ``channel`` and ``mean`` (its Shapley value,
    in the unit of ``indicator``) and optionally ``low`` / ``high`` (95 % interval, drawn as an
    error bar at the end of the step). Each channel is a floating bar from the running sum
    before it to the running sum after it; the last bar is the total, from 0. ``total`` defaults
    to the sum of the channel values; if given and different from that sum beyond rounding, a
    hatched "not attributed" step closes the gap so the waterfall still ends at ``total``.
    ``total_interval`` (low, high) adds an error bar to the total bar.

    The axes hold one bar (``ax.patches``) per channel, then the optional gap bar, then the
    total bar last.
    """
    _require(table, ("channel", "mean"), "shapley_waterfall")
    if table.empty:
        raise ValueError("shapley_waterfall: empty table")
    means = _column(table, "mean")
    if not np.isfinite(means).all():
        raise ValueError("shapley_waterfall: channel values must be finite")
    names = [pretty(c) for c in table["channel"]]
    err = _errors(means, _column(table, "low"), _column(table, "high"))
    attributed = float(math.fsum(means))
    total_value = attributed if total is None else float(total)
    if not math.isfinite(total_value):
        raise ValueError("shapley_waterfall: total must be finite")
    scale = max(float(np.abs(means).sum()), abs(total_value), 1e-300)
    gap = total_value - attributed
    if abs(gap) > 1e-9 * scale:
        names.append("Not attributed")
        means = np.r_[means, gap]
        if err is not None:
            err = np.hstack([err, [[0.0], [0.0]]])
    before = np.r_[0.0, np.cumsum(means)[:-1]]
    after = before + means
    n = len(means)
    x = np.arange(n + 1)

    fig = new_figure(max(6.5, 1.1 * (n + 1) + 2.0), 4.8)
    ax = fig.axes[0]
    colours = [POSITIVE if m >= 0 else NEGATIVE for m in means]
    bars = ax.bar(x[:n], means, bottom=before, color=colours, width=0.62, zorder=2)
    if n > len(table):  # the gap bar
        bars[-1].set_hatch("//")
        bars[-1].set_facecolor("0.8")
    ax.bar([x[n]], [total_value], bottom=[0.0], color=TOTAL, width=0.62, zorder=2)
    if err is not None:
        has = err.any(axis=0)
        ax.errorbar(x[:n][has], after[has], yerr=err[:, has], fmt="none", ecolor="0.15",
                    elinewidth=1.2, capsize=4, zorder=3)
    if total_interval is not None:
        terr = _errors(np.array([total_value]), np.array([float(total_interval[0])]),
                       np.array([float(total_interval[1])]))
        if terr is not None:
            ax.errorbar([x[n]], [total_value], yerr=terr, fmt="none", ecolor="0.15",
                        elinewidth=1.2, capsize=4, zorder=3)
    for i in range(n):  # connectors from each step's end to the next bar
        ax.plot([x[i] + 0.31, x[i + 1] - 0.31], [after[i], after[i]], color="0.55",
                linewidth=0.8, linestyle=(0, (3, 2)), zorder=1)
    ax.axhline(0.0, color="0.2", linewidth=1.0, zorder=1)
    unit = _unit(indicator)
    # Value labels beyond the end of each bar and its error bar.
    ends = np.r_[after, total_value]
    above = np.r_[err[1] if err is not None else np.zeros(n), 0.0]
    below = np.r_[err[0] if err is not None else np.zeros(n), 0.0]
    if total_interval is not None:
        lo, hi = (float(v) for v in total_interval)
        above[n] = max(hi - total_value, 0.0) if math.isfinite(hi) else 0.0
        below[n] = max(total_value - lo, 0.0) if math.isfinite(lo) else 0.0
    for i, value in enumerate([*means, total_value]):
        up = value >= 0
        where = ends[i] + above[i] if up else ends[i] - below[i]
        text = format_number(value) if i == n else format_number(value, signed=True)
        ax.annotate(text, (x[i], where), xytext=(0, 4 if up else -4),
                    textcoords="offset points", ha="center", va="bottom" if up else "top",
                    fontsize=8, color="0.15", fontweight="bold" if i == n else "normal")
    ax.set_xticks(x, [textwrap.fill(s, 12) for s in [*names, "Total"]], fontsize=9)
    ax.set_ylabel(f"Dividend in {pretty(indicator).lower()}" + (f" ({unit})" if unit else ""))
    ax.set_title("Shapley attribution of the dividend to channels", fontweight="bold")
    key = [(Patch(color=POSITIVE), "adds to the dividend"),
           (Patch(color=NEGATIVE), "takes from it"), (Patch(color=TOTAL), "total")]
    if n > len(table):
        key.append((Patch(facecolor="0.8", hatch="//"), "not attributed"))
    if err is not None or total_interval is not None:
        key.append((Line2D([], [], color="0.15", marker="|", linestyle="-"), "95% interval"))
    ax.legend(*zip(*key, strict=True), fontsize=8, frameon=False, loc="best")
    ax.grid(True, axis="y", color="0.9", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.margins(y=0.12)
    return fig


# --- tables and text -----------------------------------------------------------------------------

def format_value(value: Any) -> str:
    """A table cell as text: numbers through ``formatting.format_number`` (4 significant
    digits, thousands separators, whole numbers from 10,000 on, an exponent only outside
    everyday magnitudes: "2.5e-07"); NaN and missing values give "–"; booleans "yes"/"no"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return format_number(float(value), 4)
    return str(value)


def _cells(df: pd.DataFrame) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, body and right-alignment flags of a table; a meaningful index becomes columns."""
    if not isinstance(df.index, pd.RangeIndex) or any(n is not None for n in df.index.names):
        df = df.reset_index()
    header = [str(c) for c in df.columns]
    numeric = [(pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]))
               or _numeric_text(df[c]) for c in df.columns]
    columns = [[_format_integral(v) for v in df[c]] if _integral(df[c]) else
               [format_value(v) for v in df[c]] for c in df.columns]
    body = [list(row) for row in zip(*columns, strict=True)]
    return header, body, numeric


_NUMBER_TEXT = re.compile(r"^\s*\[?([+\-–−]|[+\-]?[\d∞])")


def _numeric_text(column: pd.Series) -> bool:
    """A text column of formatted numbers ("2.1% [1.7%, 2.5%]", "–"): aligned right."""
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return False
    cells = [str(v) for v in column if v is not None and str(v) != MISSING]
    return bool(cells) and all(_NUMBER_TEXT.match(c) for c in cells)


def _integral(column: pd.Series) -> bool:
    """A float column whose finite values are all whole numbers (counts stored as floats)."""
    if not pd.api.types.is_float_dtype(column):
        return False
    values = column.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool((finite == np.round(finite)).all()
                                    and (np.abs(finite) < 1e15).all())


def _format_integral(value: Any) -> str:
    v = float(value)
    return f"{int(v):,}" if math.isfinite(v) else format_value(v)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned), without ``tabulate``."""
    header, body, numeric = _cells(df)
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if r else ":---" for r in numeric) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def html_table(df: pd.DataFrame, caption: str | None = None) -> str:
    """An HTML table with every cell escaped; numeric columns right-aligned."""
    header, body, numeric = _cells(df)
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th{" class=\"num\"" if r else ""}>{html.escape(h)}</th>'
        for h, r in zip(header, numeric, strict=True)) + "</tr></thead>")
    out.append("<tbody>")
    for row in body:
        out.append("<tr>" + "".join(
            f'<td{" class=\"num\"" if r else ""}>{html.escape(c)}</td>'
            for c, r in zip(row, numeric, strict=True)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


_CODE = re.compile(r"(`[^`]+`)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def _inline(text: str) -> str:
    """Escape ``text`` and render Markdown code spans, links, bold and italics."""
    parts = []
    for chunk in _CODE.split(text):
        if chunk.startswith("`") and chunk.endswith("`") and len(chunk) > 1:
            parts.append(f"<code>{html.escape(chunk[1:-1])}</code>")
            continue
        s = html.escape(chunk)

        def link(m: re.Match[str]) -> str:
            url = m.group(2)
            if re.match(r"^\s*(javascript|data|vbscript):", html.unescape(url), re.I):
                return m.group(1)
            return f'<a href="{url}">{m.group(1)}</a>'

        s = _LINK.sub(link, s)
        s = _STRONG.sub(r"<strong>\1</strong>", s)
        s = _EM.sub(r"<em>\1</em>", s)
        parts.append(s)
    return "".join(parts)


def markdown_to_html(text: str) -> str:
    """Minimal Markdown to HTML: paragraphs, bullet and numbered lists, inline marks.

    Everything is HTML-escaped first, so text from scenario files cannot inject markup.
    """
    blocks = re.split(r"\n\s*\n", text.strip()) if text.strip() else []
    out = []
    for block in blocks:
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if lines and all(_LIST_ITEM.match(ln) for ln in lines):
            tag = "ol" if re.match(r"^\s*\d", lines[0]) else "ul"
            items = "".join(f"<li>{_inline(_LIST_ITEM.sub('', ln))}</li>" for ln in lines)
            out.append(f"<{tag}>{items}</{tag}>")
        else:
            out.append(f"<p>{_inline(' '.join(ln.strip() for ln in lines))}</p>")
    return "\n".join(out)


# --- the report ----------------------------------------------------------------------------------

@dataclass
class Section:
    """One section of a report.

    ``text`` is Markdown (paragraphs, lists, ``**bold**``, ``*italic*``, ``code``, links);
    ``tables`` are (caption, DataFrame) or (caption, DataFrame, note), the note printed under
    the table; ``figures`` are (file name, caption, Figure), saved as ``figures/<file name>``
    (``.png`` is added when missing); ``data`` are (file name, DataFrame) written as
    ``tables/<file name>`` (CSV, ``.csv`` added when missing) with every column and the raw
    names, and linked from the section.
    """

    heading: str
    text: str = ""
    tables: list[tuple[str, pd.DataFrame] | tuple[str, pd.DataFrame, str]] = field(
        default_factory=list)
    figures: list[tuple[str, str, Figure]] = field(default_factory=list)
    data: list[tuple[str, pd.DataFrame]] = field(default_factory=list)


def figure_png(fig: Figure) -> bytes:
    """The PNG bytes of ``fig`` at ``DPI`` (Agg renderer; no global state)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def _meta_value(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_meta_value(k, v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_meta_value(key, v) for v in value)
    if "elapsed" in key.lower() and isinstance(value, (int, float)):
        return f"{float(value):.1f} s"
    return format_value(value)


def _meta_key(key: str) -> str:
    if "elapsed" in key.lower():
        key = re.sub(r"_(s|sec|secs|seconds)$", "", key)
    return pretty(key)


def _meta_table(meta: dict) -> pd.DataFrame:
    rows = [(_meta_key(str(k)), _meta_value(str(k), v)) for k, v in meta.items()
            if v is not None]
    return pd.DataFrame(rows, columns=["Item", "Value"])


def environment_meta(kinds: Iterable[str | None] | None = None) -> dict[str, Any]:
    """Versions of Python and the main packages, the git commit and the vector maths of the
    runs (``machine_kind.describe`` of ``kinds``, the kinds of the machines that made them;
    default this machine's), for ``meta``."""
    versions = {"python": sys.version.split()[0]}
    for package in ("helixsim", "mesa", "numpy", "pandas", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {"versions": versions, "git_commit": git_commit(),
            "vector_maths": machine_kind.describe(kinds)}


def run_meta(command: str, seeds: int, workers: int | None, started: float, *,
             kinds: Iterable[str | None] | None = None, **extra: Any) -> dict[str, Any]:
    """The header of a command's report: command, seeds, workers, seconds since ``started``
    (a ``time.perf_counter()``), date, versions, git commit and the vector maths of the
    machines that made its runs (``kinds``, e.g. ``RunSet.kinds``; default this machine's),
    and ``extra``."""
    env = environment_meta(kinds)
    return {"command": command, "seeds": seeds, "workers": workers or "all cores",
            "elapsed_s": round(time.perf_counter() - started, 2),
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "versions": env["versions"], "git_commit": env["git_commit"] or "unknown",
            "vector_maths": env["vector_maths"],
            **extra}


def git_commit(path: Path | None = None) -> str | None:
    """Short commit of the git checkout holding this file (``-dirty`` if modified), or None."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=where,
                                capture_output=True, text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.7rem;border-bottom:2px solid #1c3d6e;padding-bottom:.3rem}
h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.8rem 0 1.4rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding-bottom:.3rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f1f3f5}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
tbody tr:nth-child(even){background:#fafafa}
figure{margin:1rem 0 1.8rem}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9rem;color:#444}code{background:#f1f3f5;padding:0 .2rem}
table.meta th{width:10rem}
.table-wrap{max-width:100%;overflow-x:auto}
section.summary{background:#f4f7fb;border-left:4px solid #1c3d6e;padding:.2rem 1.2rem .6rem;
margin:1.2rem 0 2rem}section.summary h2{margin-top:.8rem;border:none}
section.summary strong{color:#1c3d6e}
section.summary p.warning{background:#fff4e6;border-left:4px solid #e8590c;
padding:.4rem .7rem}section.summary p.warning strong{color:#8a3700}
p.note,p.data{font-size:.85rem;color:#555;margin-top:-.8rem}
""".strip()


def _file_name(name: str, suffix: str) -> str:
    base = Path(name).name
    if base != name or not base or base.startswith("."):
        raise ValueError(f"write_report: file name must be a plain name, got {name!r}")
    return base if base.lower().endswith(suffix) else base + suffix


def _figure_name(name: str) -> str:
    try:
        return _file_name(name, ".png")
    except ValueError:
        raise ValueError(f"write_report: figure file name must be a plain name, got {name!r}"
                         ) from None


def _table_parts(entry: tuple) -> tuple[str, pd.DataFrame, str]:
    if len(entry) == 2:
        return entry[0], entry[1], ""
    caption, df, note = entry
    return caption, df, note or ""


def render_report(title: str, sections: Sequence[Section], meta: dict,
                  summary: str | None = None) -> tuple[str, str, dict[str, bytes]]:
    """(Markdown, HTML, {file name: bytes}) of a report, all in memory.

    ``summary`` (Markdown) opens the report in a box under the title; ``meta`` closes it
    ("How this report was made"). Files are ``figures/<name>.png`` and ``tables/<name>.csv``.
    """
    files: dict[str, bytes] = {}
    meta_df = _meta_table(meta)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    if summary and summary.strip():
        md += ["## Summary", "", summary.strip(), ""]
        text = markdown_to_html(summary).replace("<p><strong>Warning:",
                                                 '<p class="warning"><strong>Warning:')
        body.append(f'<section class="summary"><h2>Summary</h2>{text}</section>')
    n_table = n_figure = 0
    for section in sections:
        md += [f"## {section.heading}", ""]
        body.append(f"<h2>{html.escape(section.heading)}</h2>")
        if section.text.strip():
            md += [section.text.strip(), ""]
            body.append(markdown_to_html(section.text))
        for entry in section.tables:
            caption, df, note = _table_parts(entry)
            n_table += 1
            label = f"Table {n_table}." + (f" {caption}" if caption else "")
            md += [f"**{label}**", "", markdown_table(df), ""]
            body.append('<div class="table-wrap">' + html_table(df, label) + "</div>")
            if note:
                md += [f"*{note.strip()}*", ""]
                body.append(f'<p class="note">{_inline(note.strip())}</p>')
        for name, caption, fig in section.figures:
            n_figure += 1
            file = "figures/" + _figure_name(name)
            if file in files:
                raise ValueError(f"write_report: figure file name {file[8:]!r} used twice")
            files[file] = figure_png(fig)
            label = f"Figure {n_figure}." + (f" {caption}" if caption else "")
            md += [f"![{_md_cell(caption or file)}]({file})", "", f"*{label}*", ""]
            body.append(f'<figure><img src="{html.escape(file)}" '
                        f'alt="{html.escape(caption or file)}">'
                        f"<figcaption>{html.escape(label)}</figcaption></figure>")
        links = []
        for name, df in section.data:
            file = "tables/" + _file_name(name, ".csv")
            if file in files:
                raise ValueError(f"write_report: table file name {file[7:]!r} used twice")
            files[file] = df.to_csv(index=False).encode("utf-8")
            links.append(f"[{file}]({file})")
        if links:
            text = ("Every column with the indicators' raw names, for spreadsheets and "
                    "scripts: " + ", ".join(links) + ".")
            md += [text, ""]
            body.append(f'<p class="data">{_inline(text)}</p>')
    if not meta_df.empty:
        md += ["## How this report was made", "", markdown_table(meta_df), ""]
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in meta_df.itertuples(index=False, name=None))
        body.append("<h2>How this report was made</h2>"
                    f'<table class="meta"><tbody>{rows}</tbody></table>')
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
    return "\n".join(md).rstrip() + "\n", page, files


def write_report(out_dir: Path, title: str, sections: list[Section], meta: dict,
                 summary: str | None = None) -> Path:
    """Write ``report.md``, ``report.html``, ``figures/*.png`` and ``tables/*.csv`` into
    ``out_dir``.

    ``summary`` (Markdown) opens the report; ``meta`` (command, scenarios, seeds, workers,
    elapsed seconds, versions, git commit...) closes it as a table; ``None`` values are left
    out, keys containing "elapsed" are shown in seconds. Everything is rendered in memory
    first; each file is then written under a temporary name and renamed, figures and tables
    first, ``report.html`` next and ``report.md`` last, so a report.md that exists always
    belongs to complete figures. Returns the path of report.md.
    """
    out_dir = Path(out_dir)
    md, page, files = render_report(title, sections, meta, summary)
    for folder in sorted({name.split("/")[0] for name in files} | {"figures"}):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        atomic_write(out_dir / name, data)
    atomic_write(out_dir / "report.html", page.encode("utf-8"))
    atomic_write(out_dir / "report.md", md.encode("utf-8"))
    return out_dir / "report.md"
