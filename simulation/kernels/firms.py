"""Kernels of mechanism 8, firm dynamics (simulation/mechanisms/firm_dynamics.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def grow_firms(alive, size, employees, productivity, knowledge, knowledge_paid, absorptive,
               cash, rd_intensity, subsidy, grad_employees, prior_grads, grad_skill,
               prior_grad_skill, diverted, z, margin_z, graduate_premium, sigma, beta, drift,
               depreciation, rd_rate, elasticity, absorptive_rd, absorptive_graduates,
               absorptive_depreciation, margin, margin_sigma):
    """One month of every living firm: Gibrat growth, R&D into knowledge, knowledge that pays,
    absorptive capacity, cash flow. Dead rows' knowledge only becomes obsolete.

    ``z`` and ``margin_z`` hold one standard normal per firm row. Returns the R&D effort
    (own R&D + subsidy) of the month. The formulas are those of firm_dynamics.growth_shock,
    state.Firms.value_added, knowledge.profile, firm_dynamics.knowledge_pays,
    absorptive_inflow and absorb, in that order.
    """
    n, k = knowledge.shape[0], knowledge.shape[1]
    keep = 1.0 - depreciation
    effort_total = 0.0
    for i in range(n):
        if not alive[i]:
            for j in range(k):
                knowledge[i, j] *= keep
            continue
        # Gibrat growth, volatility falling with size; never below the graduate staff.
        s = sigma * max(size[i], 1.0) ** (-beta)
        grown = size[i] * np.exp(drift + s * z[i] - 0.5 * s * s)
        grown = max(grown, max(1.0, float(grad_employees[i] + prior_grads[i])))
        size[i] = grown
        employees[i] = np.int64(np.rint(grown))
        graduate_skill = grad_skill[i] + prior_grad_skill[i]
        labour = max(employees[i] - diverted[i], 0.0) + graduate_premium * graduate_skill
        va = productivity[i] * labour
        own_rd = rd_intensity[i] * va
        effort = own_rd + subsidy[i]
        effort_total += effort
        # Obsolescence, then own R&D along the firm's own profile.
        total = 0.0
        for j in range(k):
            knowledge[i, j] *= keep
            total += knowledge[i, j]
        denom = max(total, 1e-12)
        level = 0.0
        for j in range(k):
            knowledge[i, j] += rd_rate * effort * (knowledge[i, j] / denom)
            level += knowledge[i, j]
        # Knowledge pays: productivity follows the level with the output elasticity.
        paid = knowledge_paid[i]
        if paid > 0 and level > 0:
            productivity[i] *= (level / paid) ** elasticity
        knowledge_paid[i] = level
        # Absorptive capacity: build-up from R&D effort and graduate staff, depreciation.
        inflow = (absorptive_rd * max(effort / max(va, 1e-12), 0.0)
                  + absorptive_graduates * max(graduate_skill / max(employees[i], 1), 0.0))
        a = absorptive[i]
        absorptive[i] = (1.0 - absorptive_depreciation) * (a + (1.0 - a) * (1.0 - np.exp(-inflow)))
        cash[i] += va * (margin + margin_sigma * margin_z[i]) - own_rd
    return effort_total


@njit(cache=True)
def exit_draws(alive, birth_step, size, incubated, cash, draw, month, hazard_young, hazard_mid,
               hazard_mature, startup_size, size_elasticity, incubation_months, hazard_cut):
    """Rows of living firms that exit this month: cash run out, or ``draw`` (one uniform per
    firm row) below the age-band hazard of firm_dynamics.exit_hazard, cut in incubation."""
    n = len(alive)
    out = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        if not alive[i]:
            continue
        age = month - birth_step[i]
        if age < 12:
            base = hazard_young
        elif age < 60:
            base = hazard_mid
        else:
            base = hazard_mature
        rel = max(size[i], 1.0) / startup_size
        h = base * min(rel, 1e12) ** (-size_elasticity)
        if incubated[i] and age <= incubation_months:
            h = h * (1.0 - hazard_cut)
        if draw[i] < h or cash[i] < 0:
            out[count] = i
            count += 1
    return out[:count]
