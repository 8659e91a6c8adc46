"""Kernels of the accounting mechanism (simulation/mechanisms/accounting.py): the month's
value added of the living firms, the untied grants' split among the universities and the R&D
subsidies paid to firms.

Why kernels: the firm steps are passes over every firm row that were a dozen numpy calls a
month each (the living rows, six gathers for value added, the qualifying mask, the weights
and their fallbacks, two scatters), on a few thousand rows; the universities' split was a
dozen numpy calls on arrays of three: call overhead, not arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .firms import row_sum


@njit(cache=True)
def living_value_added(alive, productivity, employees, diverted, grad_skill,
                       prior_grad_skill, graduate_premium):
    """(living rows, their monthly value added in MCU, its total): ``Firms.value_added`` of
    the rows ``alive`` marks, productivity x (employees not diverted + graduate_premium x
    graduate skill), element by element as that formula computes it, and the total as numpy's
    ``sum`` adds it (tests hold both equal)."""
    # One pass into room for every row, the living ones returned as views: cheaper than a
    # pass to count them first.
    # Every row's value added is written at the next free place and kept only if the row
    # is alive (the next row overwrites it otherwise): in the metro region a third of the
    # rows are dead ones in no order, and a branch on alive was mostly mispredicted.
    rows = np.empty(len(alive), dtype=np.int64)
    va = np.empty(len(alive))
    k = 0
    for i in range(len(alive)):
        extra = graduate_premium * (grad_skill[i] + prior_grad_skill[i])
        labour = max(employees[i] - diverted[i], 0.0) + extra
        rows[k] = i
        va[k] = productivity[i] * labour
        k += alive[i]
    # numpy adds the pairwise sum to its identity 0.0, which turns a zero sum's -0.0 into 0.0.
    return rows[:k], va[:k], row_sum(va[:k])


@njit(cache=True)
def university_grants(intake, reputation, block, research):
    """(funding, share of it from research grants) per university: the block grants
    ``block`` shared by intake, the research grants ``research`` by reputation (at least 0;
    evenly when no reputation is positive), as accounting.pay_universities documents, in
    numpy's order of operations (sums of a few values are numpy's, one by one)."""
    n = len(intake)
    intake_total = row_sum(intake)
    rep = np.empty(n)
    for u in range(n):
        # np.maximum(reputation, 0.0): a NaN stays NaN, -0.0 stays -0.0.
        r = reputation[u]
        rep[u] = r if r >= 0.0 or np.isnan(r) else 0.0
    rep_total = row_sum(rep)
    funding = np.empty(n)
    grant_share = np.empty(n)
    for u in range(n):
        block_u = block * intake[u] / intake_total
        research_u = research * (rep[u] / rep_total if rep_total > 0 else 1 / n)
        funding[u] = block_u + research_u
        grant_share[u] = research_u / max(funding[u], 1e-12) if funding[u] > 0 else 0.0
    return funding, grant_share


@njit(cache=True)
def share_rd_subsidies(rows, va, rd_intensity, threshold, paid, subsidy, public_money, n):
    """Share ``paid`` (MCU) among the living firms ``rows`` (value added ``va``) in proportion
    to their own R&D, rd_intensity x value added, among those with rd_intensity at least
    ``threshold`` (all of them when none has); by value added when that R&D is nil, evenly
    when value added is nil too. Writes this month's ``subsidy`` of rows 0..n (0 elsewhere)
    and starts next month's ``public_money`` with it.

    The common case (some firm qualifies, their R&D positive) takes two passes over the rows
    and no branch on who qualifies: about a third of the firms qualify, in no order, so a
    branch per row was mostly mispredictions."""
    n_rows = len(rows)
    # Who qualifies and the qualifying R&D's total in one pass. A firm that does not qualify
    # adds +0.0, which leaves the running sum as it is: it starts at +0.0 and a sum of doubles
    # is -0.0 only when both terms are, so it never is (a NaN stays NaN either way).
    qualify_all = True
    total = 0.0
    for k in range(n_rows):
        rd = rd_intensity[rows[k]]
        q = rd >= threshold
        qualify_all = qualify_all and not q
        total += rd * va[k] if q else 0.0
    if qualify_all:
        total = 0.0
        for k in range(n_rows):
            total += rd_intensity[rows[k]] * va[k]
    mode = 0  # 0: by own R&D, 1: by value added, 2: evenly
    if total <= 0.0:
        total = 0.0
        for k in range(n_rows):
            if qualify_all or rd_intensity[rows[k]] >= threshold:
                total += va[k]
        mode = 1
        if total <= 0.0:
            mode = 2
            total = 0.0
            for k in range(n_rows):
                if qualify_all or rd_intensity[rows[k]] >= threshold:
                    total += 1.0
    for i in range(n):
        subsidy[i] = 0.0
        public_money[i] = 0.0
    # Every living firm's share is worked out and the ones that do not qualify get 0.0
    # instead (a select, not a branch); the qualifying ones' shares are the same operations
    # on the same numbers as before.
    for k in range(n_rows):
        r = rows[k]
        rd = rd_intensity[r]
        if mode == 0:
            weight = rd * va[k]
        elif mode == 1:
            weight = va[k]
        else:
            weight = 1.0
        share = paid * weight / total
        share = share if qualify_all or rd >= threshold else 0.0
        subsidy[r] = share
        public_money[r] = share
