"""Knowledge vectors: cognitive distance, the inverted-U payoff of collaboration, obsolescence.

Organisations hold non-negative knowledge vectors over K capability domains, a vectorised form
of the SKIN model's kenes (Gilbert, Pyka & Ahrweiler 2001): a kene's capability is the domain
index, its expertise level the vector entry. Cognitive distance is 1 - cosine similarity;
collaboration payoff is an inverted U in distance with its peak at d* (Nooteboom et al. 2007).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    return x / np.maximum(norms, _EPS)[:, None]


def profile(x: np.ndarray) -> np.ndarray:
    """Rows scaled to sum 1: the direction along which a stock grows by its own effort."""
    return x / np.maximum(x.sum(axis=1), _EPS)[:, None]


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise 1 - cosine similarity between rows of ``a`` (n, K) and ``b`` (m, K): (n, m).

    Non-negative vectors give distances in [0, 1].
    """
    d = 1.0 - unit_rows(a) @ unit_rows(b).T
    return np.clip(d, 0.0, 1.0)


def rowwise_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - cosine similarity of matching rows of ``a`` and ``b`` (both (n, K)): (n,)."""
    d = 1.0 - np.einsum("ij,ij->i", unit_rows(a), unit_rows(b))
    return np.clip(d, 0.0, 1.0)


def inverted_u(distance: np.ndarray, optimum: float, shape: float) -> np.ndarray:
    """Collaboration payoff in [0, 1]: (d/d*)^s * exp(s * (1 - d/d*)), 1 at d = d*.

    Zero for identical partners (nothing to learn), falling off beyond d* (too far to absorb);
    ``shape`` sets how sharp the peak is.
    """
    r = np.asarray(distance, dtype=float) / optimum
    return r**shape * np.exp(shape * (1.0 - r))


def depreciate(stock: np.ndarray, rate: float) -> None:
    """Obsolescence: every stock loses ``rate`` of itself (in place)."""
    stock *= 1.0 - rate

