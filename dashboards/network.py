"""The collaboration network view: universities, firms and the government; edges are projects.

A force layout of thousands of firms per frame is what makes Mesa's network drawer slow, so
positions here need no layout at all: universities sit on a circle, the government in the
middle, and each firm in a disc around its home university at a place fixed by its row number
(a golden-angle spiral), so a firm never moves between frames and start-ups born later simply
take the next free place. Only a sample of the firms without a project is drawn, chosen by a
fixed per-row rank, so the sample too is stable from frame to frame; every firm with an active
project is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from simulation.world import World

from .charts import new_figure

GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))
UNIVERSITY_RADIUS = 1.0   # universities on this circle around the government
CLOUD_RADIUS = 0.55       # firms within this distance of their home university
MAX_BACKGROUND = 600      # firms without a project drawn at most
UNIVERSITY_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
GOVERNMENT_COLOUR = "#d62728"


def university_positions(n_universities: int) -> np.ndarray:
    """(U, 2) positions on a circle, the first at the top."""
    angle = np.pi / 2 + 2 * np.pi * np.arange(n_universities) / max(n_universities, 1)
    return UNIVERSITY_RADIUS * np.c_[np.cos(angle), np.sin(angle)]


def firm_positions(rows: np.ndarray, home: np.ndarray, n_universities: int) -> np.ndarray:
    """(len(rows), 2) positions of firm rows around their home universities.

    A pure function of the row number and home university: no layout state to keep.
    """
    rows = np.asarray(rows, dtype=np.int64)
    centres = university_positions(n_universities)[np.clip(home, 0, n_universities - 1)]
    # Spread along a spiral by row number; the fractional golden ratio keeps neighbours apart.
    spread = np.sqrt(((rows * 0.6180339887) % 1.0) * 0.9 + 0.1)
    angle = rows * GOLDEN_ANGLE
    # Fewer, more distant universities leave room for larger clouds.
    radius = CLOUD_RADIUS * min(1.0, 3.0 / max(n_universities, 1)) ** 0.5
    return centres + radius * spread[:, None] * np.c_[np.cos(angle), np.sin(angle)]


def background_rank(rows: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random rank per firm row (a multiplicative hash), for stable samples."""
    return (np.asarray(rows, dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)


@dataclass(frozen=True)
class NetworkView:
    """What one frame draws: node rows, positions and edges (all arrays, no drawing)."""

    universities: np.ndarray      # (U, 2)
    government: np.ndarray        # (2,)
    linked_firms: np.ndarray      # rows of firms with an active project
    linked_xy: np.ndarray         # (L, 2)
    linked_home: np.ndarray       # (L,) home university (colour)
    background_xy: np.ndarray     # (B, 2) sampled firms without a project
    edges: np.ndarray             # (E, 2, 2) firm to university, one per active project
    edge_kind: np.ndarray         # (E,) 0 = two-party, 1 = government co-funded, 2 = brokered
    firms_alive: int
    projects: int


def network_view(world: World, max_background: int = MAX_BACKGROUND) -> NetworkView:
    f, pr = world.firms, world.projects
    n_unis = world.unis.count
    unis = university_positions(n_unis)
    alive_rows = np.flatnonzero(f.alive[: f.n])
    act = pr.active_rows()
    firm_of = pr.firm[act].astype(np.int64)
    linked = np.unique(firm_of)
    linked_xy = firm_positions(linked, f.home_university[linked], n_unis)
    others = np.setdiff1d(alive_rows, linked, assume_unique=True)
    if len(others) > max_background:
        keep = np.argsort(background_rank(others), kind="stable")[:max_background]
        others = np.sort(others[keep])
    background_xy = firm_positions(others, f.home_university[others], n_unis)
    firm_xy = firm_positions(firm_of, f.home_university[firm_of], n_unis)
    uni_xy = unis[pr.university[act].astype(np.int64)]
    kind = np.where(pr.brokered[act], 2, np.where(pr.gov_funded[act], 1, 0))
    return NetworkView(universities=unis, government=np.zeros(2), linked_firms=linked,
                       linked_xy=linked_xy, linked_home=f.home_university[linked].astype(int),
                       background_xy=background_xy,
                       edges=np.stack([firm_xy, uni_xy], axis=1) if len(act) else
                       np.zeros((0, 2, 2)), edge_kind=kind, firms_alive=len(alive_rows),
                       projects=len(act))


def network_figure(view: NetworkView, title: str = "") -> Figure:
    """Draw one frame: firms (sampled grey, linked in their university's colour), projects as
    edges (government co-funded in red, brokered by a 3.0 university in green), the
    government in the middle linked to every university (its grants)."""
    fig = new_figure(5.2, 5.2)
    ax = fig.subplots()
    ax.set_aspect("equal")
    ax.axis("off")
    colours = np.array(UNIVERSITY_COLOURS * (len(view.universities) // 6 + 1))
    edge_colours = np.array(["#9e9e9e", GOVERNMENT_COLOUR, "#2ca02c"])[view.edge_kind]
    gov_links = np.stack([np.repeat(view.government[None], len(view.universities), 0),
                          view.universities], axis=1)
    ax.add_collection(LineCollection(gov_links, colors=GOVERNMENT_COLOUR, linewidths=1.2,
                                     alpha=0.5, linestyles="dotted"))
    ax.add_collection(LineCollection(view.edges, colors=edge_colours, linewidths=0.5,
                                     alpha=0.45))
    if len(view.background_xy):
        ax.scatter(*view.background_xy.T, s=3, c="#c8c8c8", linewidths=0)
    if len(view.linked_xy):
        ax.scatter(*view.linked_xy.T, s=9, c=colours[view.linked_home], linewidths=0)
    ax.scatter(*view.universities.T, s=260, c=colours[: len(view.universities)],
               marker="s", edgecolors="black", linewidths=0.8, zorder=3)
    for i, (x, y) in enumerate(view.universities):
        ax.annotate(f"U{i + 1}", (x, y), ha="center", va="center", fontsize=8, color="white",
                    zorder=4)
    ax.scatter(*view.government, s=320, c=GOVERNMENT_COLOUR, marker="*", zorder=3)
    lim = UNIVERSITY_RADIUS + CLOUD_RADIUS + 0.1
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    shown = len(view.background_xy) + len(view.linked_xy)
    ax.set_title(title or f"{view.projects} active projects; {shown} of {view.firms_alive} "
                 "firms drawn", fontsize=9)
    ax.text(0.0, -0.02, "grey: two-party project  red: government co-funded  green: brokered "
            "(3.0)\nstar: government  squares: universities", transform=ax.transAxes,
            fontsize=7, va="top")
    return fig


BROKERED_COLOUR, TWO_PARTY_COLOUR, BACKGROUND_COLOUR = "#2ca02c", "#9e9e9e", "#c8c8c8"
# (swatch, meaning) of the network legend, in reading order. The swatches are SVG drawn here
# from constants (no user text), the same shapes and colours as svg.network_svg.
_SWATCH = '<svg width="26" height="14" viewBox="0 0 26 14" aria-hidden="true">{}</svg>'
LEGEND: tuple[tuple[str, str], ...] = (
    (f'<rect x="7" y="1" width="12" height="12" fill="{UNIVERSITY_COLOURS[0]}" '
     'stroke="#000"/>', "university (U1, U2, ...; one colour each)"),
    (f'<circle cx="13" cy="7" r="6" fill="{GOVERNMENT_COLOUR}"/>', "government (G)"),
    (f'<circle cx="9" cy="7" r="2.5" fill="{UNIVERSITY_COLOURS[0]}"/>'
     f'<circle cx="17" cy="7" r="2.5" fill="{UNIVERSITY_COLOURS[1]}"/>',
     "firm with an active project (colour of its home university)"),
    (f'<circle cx="13" cy="7" r="2" fill="{BACKGROUND_COLOUR}"/>',
     "firm without a project (a fixed sample)"),
    (f'<line x1="1" x2="25" y1="7" y2="7" stroke="{TWO_PARTY_COLOUR}" stroke-width="2"/>',
     "project of a firm and a university"),
    (f'<line x1="1" x2="25" y1="7" y2="7" stroke="{GOVERNMENT_COLOUR}" stroke-width="2"/>',
     "project co-funded by the government"),
    (f'<line x1="1" x2="25" y1="7" y2="7" stroke="{BROKERED_COLOUR}" stroke-width="2"/>',
     "project brokered by a 3.0 university"),
    (f'<line x1="1" x2="25" y1="7" y2="7" stroke="{GOVERNMENT_COLOUR}" stroke-width="1.5" '
     'stroke-dasharray="2 3"/>', "government grants to a university"),
)


def legend_html() -> str:
    """The network's legend as a list of swatches and meanings (HTML)."""
    items = "".join(f'<li class="legend-item">{_SWATCH.format(swatch)}<span>{text}</span></li>'
                    for swatch, text in LEGEND)
    return f'<ul class="legend">{items}</ul>'
