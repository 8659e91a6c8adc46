"""Leydesdorff's triple-helix indicator of synergy over the joint outputs of a run.

Each output is tallied in one of 8 cells by whether university (u), industry (i) and government
(g) take part; with p = n / N, H = -sum p log2 p over a cell set, and

    T = H_u + H_i + H_g - H_ui - H_ug - H_ig + H_uig   (bits).

Negative T is synergy: the three helices reduce uncertainty together beyond what the pairs do
(Leydesdorff 2003; Leydesdorff & Park 2014). We report S = -T in millibits. With no outputs
T is 0. The outputs tallied are projects, innovations and publications (see docs/ODD.md).
"""

from __future__ import annotations

import numpy as np


def entropy(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a count vector (zero counts contribute nothing)."""
    counts = np.asarray(counts, dtype=float).ravel()
    total = counts.sum()
    if total <= 0:
        return 0.0
    q = counts[counts > 0] / total
    return float(-(q * np.log2(q)).sum())


def transmission(cells: np.ndarray) -> float:
    """T_uig in bits from the 8 cell counts, indexed 4u + 2i + g."""
    c = np.asarray(cells, dtype=float).reshape(2, 2, 2)  # axes: u, i, g
    h_u = entropy(c.sum(axis=(1, 2)))
    h_i = entropy(c.sum(axis=(0, 2)))
    h_g = entropy(c.sum(axis=(0, 1)))
    h_ui = entropy(c.sum(axis=2))
    h_ug = entropy(c.sum(axis=1))
    h_ig = entropy(c.sum(axis=0))
    h_uig = entropy(c)
    t = h_u + h_i + h_g - h_ui - h_ug - h_ig + h_uig
    return 0.0 if abs(t) < 1e-12 else t


def synergy_millibits(cells: np.ndarray) -> float:
    """S = -T in millibits (positive means synergy)."""
    return -1000.0 * transmission(cells)
