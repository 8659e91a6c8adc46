"""Knowledge vectors: cognitive distance, the inverted-U payoff of collaboration, obsolescence.

Organisations hold non-negative knowledge vectors over K capability domains, a vectorised form
of the SKIN model's kenes (Gilbert, Pyka & Ahrweiler 2001): a kene's capability is the domain
index, its expertise level the vector entry. Cognitive distance is 1 - cosine similarity;
collaboration payoff is an inverted U in distance with its peak at d* (Nooteboom et al. 2007).
Learning from a partner is absorption x novelty (``learning``): absorption falls with distance,
novelty rises with it, and the product is that inverted U; novelty enters once, through the
distance, and what is learnt lies along the partner's profile.
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


def absorption(distance: np.ndarray, optimum: float, decay: float) -> np.ndarray:
    """Share of what a partner offers that can be understood: exp(-decay d / d*), in (0, 1]."""
    return np.exp(-decay * np.asarray(distance, dtype=float) / optimum)


def novelty(distance: np.ndarray, optimum: float, decay: float) -> np.ndarray:
    """What a partner offers that one lacks: (e d / d*)^decay, 0 for identical partners.

    Scaled so that absorption x novelty is 1 at d = d*.
    """
    return (np.e * np.asarray(distance, dtype=float) / optimum) ** decay


def learning(own: np.ndarray, partner: np.ndarray, rate: np.ndarray | float,
             capacity: np.ndarray | float, optimum: float, decay: float) -> np.ndarray:
    """Knowledge (n, K) that rows ``own`` learn from rows ``partner`` in one month.

    Nooteboom's learning = absorption(d) x novelty(d) in cognitive distance d, times the
    learner's ``rate`` (for a firm: transfer rate x its absorptive capacity) and its own
    knowledge level (learning is relative to what one knows), divided by its ``capacity`` (the
    partnerships it runs at full capacity), directed along the partner's profile. Novelty
    is counted once: the profile only says in which domains the new knowledge lies.
    """
    d = rowwise_distance(own, partner)
    amount = (absorption(d, optimum, decay) * novelty(d, optimum, decay)
              * np.asarray(rate, dtype=float) * own.sum(axis=1)
              / np.maximum(np.asarray(capacity, dtype=float), _EPS))
    return amount[:, None] * profile(partner)


def depreciate(stock: np.ndarray, rate: float) -> None:
    """Obsolescence: every stock loses ``rate`` of itself (in place)."""
    stock *= 1.0 - rate

