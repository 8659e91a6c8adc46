"""Kernels of research (simulation/mechanisms/research.py): each university's publication rate
this month, and the booking of its publications.

Why kernels: on three universities each step was a dozen numpy calls on arrays of three
(a count of active projects per university, the project share of capacity, the inverted U,
the Poisson means; then the cumulative count and the rolling reputation), so call overhead,
not arithmetic. The arithmetic is research.py's formulas in their order of operations, so
the Poisson means and the reputation are the numpy path's to the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def publication_rates(active, university, faculty, mult, projects_per_faculty, gain, optimum,
                      publications_per_faculty):
    """(Poisson means of this month's publications, project share j of capacity) per
    university: j = min(1, active projects / max(faculty x projects_per_faculty, 1e-9)), the
    mean publications_per_faculty x faculty x mult x the inverted U of
    research.publication_multiplier, 1 + gain (j/j*)(2 - j/j*) at least 0, with j* =
    optimum."""
    n_unis = len(faculty)
    projects = np.zeros(n_unis, dtype=np.int64)
    for r in range(len(active)):
        if active[r]:
            projects[university[r]] += 1
    rates = np.empty(n_unis)
    share = np.empty(n_unis)
    for u in range(n_unis):
        capacity = max(faculty[u] * projects_per_faculty, 1e-9)
        share[u] = min(1.0, projects[u] / capacity)
        x = share[u] / optimum
        collab = max(1.0 + gain * x * (2.0 - x), 0.0)
        rates[u] = publications_per_faculty * faculty[u] * mult[u] * collab
    return rates, share


@njit(cache=True)
def book_publications(publications, reputation, pubs, faculty, publications_per_faculty):
    """Adds this month's publications ``pubs`` to the cumulative ``publications`` (in place)
    and returns the new reputation, a rolling mean (weight 0.1 on this month) of publications
    over the faculty's expected number, and the month's total."""
    out = np.empty(len(reputation))
    total = 0
    for u in range(len(reputation)):
        publications[u] += pubs[u]
        total += pubs[u]
        out[u] = 0.9 * reputation[u] + 0.1 * pubs[u] / max(
            faculty[u] * publications_per_faculty, 1e-9)
    return out, total
