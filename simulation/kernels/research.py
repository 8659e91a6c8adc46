"""Kernels of research (simulation/mechanisms/research.py): the funding multiplier's base, the
month's university knowledge and publication rates, and the booking of the publications.

Why kernels: on three universities each step was a dozen numpy calls on arrays of three
(the funding per faculty, the obsolescence and the profile of the knowledge stock, a count of
active projects per university, the project share of capacity, the inverted U, the Poisson
means; then the cumulative count, the rolling reputation and the triple-helix tally), so call
overhead, not arithmetic. The arithmetic is research.py's formulas in their order of
operations, so the Poisson and binomial draws get the numpy path's arguments to the last bit.
The funding multiplier's power stays numpy's (``research.output_multiplier``): numpy's
vectorised ``pow`` is not the scalar one a compiled loop calls, and differs in the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .firms import row_sum


@njit(cache=True)
def funding_base(funding, faculty, reference):
    """(1 + funding per faculty / reference) / 2 per university: the base of
    research.output_multiplier, whose power ``elasticity`` numpy then takes."""
    out = np.empty(len(funding))
    for u in range(len(funding)):
        per_faculty = funding[u] / max(faculty[u], 1e-12)
        out[u] = (1.0 + per_faculty / reference) / 2.0
    return out


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
def research_output(knowledge, faculty, funding_mult, research_time, depreciation,
                    research_rate, active, university, projects_per_faculty, gain, optimum,
                    publications_per_faculty):
    """A month of university research: the output multiplier (``funding_mult`` x the research
    time left, all of it when faculty time was not worked out), the knowledge stock's
    obsolescence (knowledge.depreciate) and growth by research_rate x faculty x multiplier
    along its own profile (knowledge.profile, its row sums added as numpy adds them), both in
    place; returns publication_rates' (Poisson means, project share of capacity)."""
    n_unis = len(faculty)
    mult = np.empty(n_unis)
    keep = 1.0 - depreciation
    for u in range(n_unis):
        mult[u] = funding_mult[u] * (research_time[u] if len(research_time) else 1.0)
        row = knowledge[u]
        for j in range(len(row)):
            row[j] *= keep
        growth = research_rate * faculty[u] * mult[u]
        total = max(row_sum(row), 1e-12)
        for j in range(len(row)):
            row[j] += growth * (row[j] / total)
    return publication_rates(active, university, faculty, mult, projects_per_faculty, gain,
                             optimum, publications_per_faculty)


@njit(cache=True)
def book_publications(publications, reputation, pubs, joint, joint_funded, solo_funded,
                      faculty, publications_per_faculty, cells):
    """Books this month's publications ``pubs``: adds them to the cumulative ``publications``
    (in place), tallies them in the triple-helix ``cells`` (index 4u + 2i + g, in place: the
    ``joint`` ones with industry, ``joint_funded`` of those and ``solo_funded`` of the rest
    with government), and returns the new reputation, a rolling mean (weight 0.1 on this
    month) of publications over the faculty's expected number, and the month's total."""
    out = np.empty(len(reputation))
    total = 0
    n_joint = 0
    n_joint_funded = 0
    n_solo_funded = 0
    for u in range(len(reputation)):
        publications[u] += pubs[u]
        total += pubs[u]
        n_joint += joint[u]
        n_joint_funded += joint_funded[u]
        n_solo_funded += solo_funded[u]
        out[u] = 0.9 * reputation[u] + 0.1 * pubs[u] / max(
            faculty[u] * publications_per_faculty, 1e-9)
    cells[7] += n_joint_funded                             # university, industry, government
    cells[6] += n_joint - n_joint_funded                   # university, industry
    cells[5] += n_solo_funded                              # university, government
    cells[4] += total - n_joint - n_solo_funded            # university alone
    return out, total
