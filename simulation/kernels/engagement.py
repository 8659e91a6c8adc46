"""Kernels of the universities' industry engagement: the start-ups in incubation (policy.py
pays them, research.py counts the staff they take), their support, and the faculty FTE that
engagement takes (research.faculty_time).

Why kernels: each was a mask over every firm row and a handful of gathers and bincounts a
month, on a few thousand firm rows and a few hundred project rows: call overhead, not
arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def in_incubation(alive, incubated, birth_step, month, incubation_months):
    """Rows of the living incubated start-ups still in their incubation period: month -
    birth_step <= incubation_months (paid from the month after founding)."""
    # One pass into room for every row, the rows found returned as a view: cheaper than a
    # pass to count them first. Incubated is asked first: few rows are (start-ups of the
    # incubation channel), so its branch is well predicted, while the living rows are most
    # rows in no order (the same rows whichever is asked first).
    rows = np.empty(len(alive), dtype=np.int64)
    k = 0
    for i in range(len(alive)):
        if incubated[i] and alive[i] and month - birth_step[i] <= incubation_months:
            rows[k] = i
            k += 1
    return rows[:k]


@njit(cache=True)
def support_incubated(rows, amount, cash, public_money):
    """Pays ``amount`` (MCU) to each start-up of ``rows`` (distinct rows): into its cash and
    into the public money it received this month. A kernel because the two gathers and
    scatters of a few hundred rows were four numpy calls a month."""
    for r in rows:
        cash[r] += amount
        public_money[r] += amount


@njit(cache=True)
def engaged_fte(active, university, brokered, incubating, founder_university, capstone_uni,
                n_unis, project_fte, broker_fte, incubator_fte, capstone_fte):
    """(U,) faculty FTE that industry engagement takes this month: project_fte per active
    project of the university, broker_fte more per brokered one, incubator_fte per start-up
    it incubates (rows ``incubating``) and capstone_fte per capstone partnership."""
    projects = np.zeros(n_unis, dtype=np.int64)
    n_brokered = np.zeros(n_unis, dtype=np.int64)
    for r in range(len(active)):
        if active[r]:
            projects[university[r]] += 1
            if brokered[r]:
                n_brokered[university[r]] += 1
    incubated = np.zeros(n_unis, dtype=np.int64)
    for r in incubating:
        incubated[founder_university[r]] += 1
    capstones = np.zeros(n_unis, dtype=np.int64)
    for u in capstone_uni:
        capstones[u] += 1
    out = np.empty(n_unis)
    for u in range(n_unis):
        # The terms in the order of the formula (research.engaged_fte's docstring).
        out[u] = (project_fte * projects[u] + broker_fte * n_brokered[u]
                  + incubator_fte * incubated[u] + capstone_fte * capstones[u])
    return out


@njit(cache=True)
def staff_time_left(engaged, faculty, from_teaching_share, research_share, teaching_share):
    """(research time left, teaching time left) per university as shares in [0, 1] of their
    normal amounts: research.time_left's formula (``engaged`` FTE taken, the share
    ``from_teaching_share`` of it from teaching and the rest from research, over the faculty's
    research and teaching FTE) in its order of operations, in one call instead of ten numpy
    calls on three universities."""
    n = len(engaged)
    research = np.empty(n)
    teaching = np.empty(n)
    for u in range(n):
        from_teaching = engaged[u] * from_teaching_share
        from_research = engaged[u] - from_teaching
        r = 1.0 - from_research / max(faculty[u] * research_share, 1e-12)
        t = 1.0 - from_teaching / max(faculty[u] * teaching_share, 1e-12)
        research[u] = min(max(r, 0.0), 1.0)
        teaching[u] = min(max(t, 0.0), 1.0)
    return research, teaching
