"""Leydesdorff's triple-helix indicator of synergy over the joint outputs of a run.

Each output is tallied in one of 8 cells by whether university (u), industry (i) and government
(g) take part; with p = n / N, H = -sum p log2 p over a cell set, and

    T = H_u + H_i + H_g - H_ui - H_ug - H_ig + H_uig   (bits).

Negative T is synergy: the three helices reduce uncertainty together beyond what the pairs do
(Leydesdorff 2003; Leydesdorff & Park 2014). We report S = -T in millibits. With no outputs
T is 0. The outputs tallied are projects, innovations and publications (see docs/ODD.md).
"""

from __future__ import annotations

from math import log2

import numpy as np


def entropy(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a count vector (zero counts contribute nothing)."""
    return _entropy(np.asarray(counts, dtype=float).ravel().tolist())


def _entropy(counts: list[float]) -> float:
    total = sum(counts)
    if total <= 0:
        return 0.0
    # A list, not a generator: sum adds the same terms in the same order, with less overhead.
    return -sum([(q := c / total) * log2(q) for c in counts if c > 0])


def transmission(cells: np.ndarray) -> float:
    """T_uig in bits from the 8 cell counts, indexed 4u + 2i + g."""
    # Plain Python over 8 numbers: this runs every month, and numpy's per-call overhead on
    # arrays this small was most of its cost.
    c = np.asarray(cells, dtype=float).ravel().tolist()
    h_u = _entropy([c[0] + c[1] + c[2] + c[3], c[4] + c[5] + c[6] + c[7]])
    h_i = _entropy([c[0] + c[1] + c[4] + c[5], c[2] + c[3] + c[6] + c[7]])
    h_g = _entropy([c[0] + c[2] + c[4] + c[6], c[1] + c[3] + c[5] + c[7]])
    h_ui = _entropy([c[0] + c[1], c[2] + c[3], c[4] + c[5], c[6] + c[7]])  # summed over g
    h_ug = _entropy([c[0] + c[2], c[1] + c[3], c[4] + c[6], c[5] + c[7]])  # over i
    h_ig = _entropy([c[0] + c[4], c[1] + c[5], c[2] + c[6], c[3] + c[7]])  # over u
    t = h_u + h_i + h_g - h_ui - h_ug - h_ig + _entropy(c)
    return 0.0 if abs(t) < 1e-12 else t


def synergy_millibits(cells: np.ndarray) -> float:
    """S = -T in millibits (positive means synergy)."""
    return -1000.0 * transmission(cells)
