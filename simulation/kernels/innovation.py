"""Kernel of mechanism 5, innovation (simulation/mechanisms/innovation.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def innovate(alive, probability, projects, employees, knowledge, grad_skill, prior_grad_skill,
             productivity, diverted, knowledge_paid, innovations, last_innovation, patents,
             public_money, project_firm, project_university, project_active, uni_knowledge,
             uni_faculty, u_hit, u_gain, u_patent, month, hp):
    """The month's innovations: a living firm innovates when its ``u_hit`` draw is below its
    ``probability`` (innovation.hazard), then gains_from_uniforms (three ``u_gain`` draws) x
    line_share, productivity and knowledge deepened by that relative gain, a patent when
    ``u_patent`` is below its share, and the spill to each partner university.

    ``projects`` are each firm's active projects; ``hp`` holds the parameters in the order of
    innovation.KERNEL_PARAMETERS. Returns (innovation values of the innovators, counts
    [incremental, radical, patents], tally counts indexed 2 x (had a project) + (received
    public money)).
    """
    (radical_share, incremental_gain, radical_scale, radical_tail, gain_cap, line_employees,
     scope_elasticity, patent_radical, patent_incremental, spillover_share,
     projects_per_faculty, graduate_premium) = (hp[0], hp[1], hp[2], hp[3], hp[4], hp[5],
                                                hp[6], hp[7], hp[8], hp[9], hp[10], hp[11])
    n, k = len(alive), knowledge.shape[1]  # the arrays have spare capacity past row n
    gain_of = np.full(n, -1.0)  # this month's relative gain of each innovator, -1 otherwise
    values = np.empty(n)
    counts = np.zeros(3, dtype=np.int64)
    tally = np.zeros(4, dtype=np.int64)
    m = 0
    for i in range(n):
        if not alive[i] or not u_hit[i] < probability[i]:
            continue
        radical = u_gain[i, 0] < radical_share
        if radical:
            gain = radical_scale * (1.0 - u_gain[i, 2]) ** (-1.0 / radical_tail)
        else:
            gain = -incremental_gain * np.log1p(-u_gain[i, 1])
        gain = min(gain, gain_cap)
        gain = gain * (line_employees / max(float(employees[i]), line_employees)
                       ) ** scope_elasticity
        labour = (max(employees[i] - diverted[i], 0.0)
                  + graduate_premium * (grad_skill[i] + prior_grad_skill[i]))
        values[m] = gain * (productivity[i] * labour) * 12.0
        m += 1
        productivity[i] *= 1.0 + gain
        for j in range(k):
            knowledge[i, j] += knowledge[i, j] * gain
        knowledge_paid[i] *= 1.0 + gain  # the gain is in productivity already
        innovations[i] += 1
        last_innovation[i] = month
        patented = u_patent[i] < (patent_radical if radical else patent_incremental)
        patents[i] += patented
        counts[1 if radical else 0] += 1
        counts[2] += patented
        tally[2 * (projects[i] > 0) + (public_money[i] > 0)] += 1
        gain_of[i] = gain
    # Spill to project partners: each partner university deepens its own stock in the
    # innovator's direction by spillover_share of the relative gain, each partner one project
    # of its capacity; every spill is sized on the universities' stocks before any spill.
    n_u = uni_knowledge.shape[0]
    before = np.zeros(n_u)
    for u in range(n_u):
        for j in range(k):
            before[u] += uni_knowledge[u, j]
    for r in range(len(project_active)):
        i = project_firm[r]
        if not project_active[r] or gain_of[i] < 0:
            continue
        u = project_university[r]
        capacity = max(uni_faculty[u] * projects_per_faculty, 1.0)
        spill = spillover_share * gain_of[i] * before[u] / capacity
        total = 0.0
        for j in range(k):
            total += knowledge[i, j]
        denom = max(total, 1e-12)
        for j in range(k):
            uni_knowledge[u, j] += spill * (knowledge[i, j] / denom)
    # A copy: the mechanism keeps the values for the run, and a view would keep all n rows.
    return values[:m].copy(), counts, tally
