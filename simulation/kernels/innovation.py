"""Kernel of mechanism 5, innovation (simulation/mechanisms/innovation.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def innovate(alive, employees, knowledge, absorptive, digital, grad_skill, prior_grad_skill,
             productivity, diverted, knowledge_paid, innovations, last_innovation, patents,
             public_money, project_firm, project_university, project_brokered, project_active,
             live_fill, uni_knowledge, uni_faculty, u_hit, u_gain, u_patent, month, hp):
    """One month of innovation over every living firm, and its spill to partner universities.

    ``u_hit`` and ``u_patent`` hold one uniform per firm row, ``u_gain`` three. ``hp`` is the
    float64 vector of parameters in the order of innovation.KERNEL_PARAMETERS. The formulas
    are innovation.hazard, gains_from_uniforms, line_share and state.Firms.value_added.
    Returns (innovation values of the innovators, counts [incremental, radical, patents],
    tally counts indexed 2 x (had a project) + (received public money)).
    """
    (base, reference_employees, size_elasticity, knowledge_reference, knowledge_elasticity,
     h_absorptive, h_project, h_live, h_graduates, h_digital, radical_share, incremental_gain,
     radical_scale, radical_tail, gain_cap, line_employees, scope_elasticity,
     patent_radical, patent_incremental, spillover_share, projects_per_faculty,
     graduate_premium) = (hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7], hp[8],
                          hp[9], hp[10], hp[11], hp[12], hp[13], hp[14], hp[15], hp[16],
                          hp[17], hp[18], hp[19], hp[20], hp[21])
    n, k = knowledge.shape[0], knowledge.shape[1]
    projects = np.zeros(n, dtype=np.int64)
    live = np.zeros(n)
    for r in range(len(project_active)):
        if project_active[r]:
            projects[project_firm[r]] += 1
            if project_brokered[r]:
                live[project_firm[r]] += live_fill[project_university[r]]
    gain_of = np.full(n, -1.0)  # this month's relative gain of each innovator, -1 otherwise
    values = np.empty(n)
    counts = np.zeros(3, dtype=np.int64)
    tally = np.zeros(4, dtype=np.int64)
    m = 0
    for i in range(n):
        if not alive[i]:
            continue
        emp = max(employees[i], 1)
        total = 0.0
        for j in range(k):
            total += knowledge[i, j]
        intensity = max(total / (emp * knowledge_reference), 0.0)
        lam = (base * (max(emp, 1) / reference_employees) ** size_elasticity
               * intensity ** knowledge_elasticity)
        graduate_term = (grad_skill[i] + prior_grad_skill[i]) / emp
        lam = lam * (1.0 + h_absorptive * absorptive[i]
                     + h_project * np.log2(1.0 + projects[i])
                     + h_live * live[i] + h_graduates * graduate_term
                     + h_digital * digital[i])
        if not u_hit[i] < 1.0 - np.exp(-lam):
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
    return values[:m], counts, tally
