"""Kernels of mechanism 8, firm dynamics (simulation/mechanisms/firm_dynamics.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def gibrat_exponent(factor, z, sigma, drift):
    """The exponent of each row's Gibrat growth shock (firm_dynamics.growth_shock), in place:
    given ``factor`` = max(size, 1)^-beta (numpy's vectorised power), drift + s z - s^2 / 2
    with s = sigma x factor, in numpy's order of operations, so that numpy's exp of it is
    growth_shock to the last bit (a test holds it there). A kernel because the formula's
    arithmetic was six numpy calls a month over every firm row."""
    for i in range(len(factor)):
        s = sigma * factor[i]
        factor[i] = drift + s * z[i] - 0.5 * s * s


@njit(cache=True)
def grow_firms(alive, shock, size, employees, productivity, knowledge, knowledge_paid, cash,
               rd_intensity, subsidy, grad_employees, prior_grads, grad_skill,
               prior_grad_skill, diverted, margin_z, level, ratio, neg_inflow, main_domain,
               graduate_premium, depreciation, rd_rate, margin, margin_sigma,
               absorptive_rd_rate, absorptive_graduate_rate):
    """One month of every living firm: size times its Gibrat ``shock`` (never below the
    graduate staff), value added (state.Firms.value_added), own R&D plus subsidy into knowledge
    along the firm's profile after obsolescence (knowledge.depreciate, knowledge.profile), and
    cash flow value added x (margin + margin_sigma x ``margin_z``) - own R&D.

    Writes each row's new knowledge ``level`` (L1; for dead rows the level productivity
    already reflects), the ``ratio`` of that level to the level productivity reflects
    (firm_dynamics.knowledge_pays: 1 where either is not positive, and for dead rows) and
    minus the build-up rate of absorptive capacity, ``neg_inflow`` (-absorptive_inflow, from
    R&D effort over value added and the graduate term; 0 for dead rows: numpy's exp takes it
    as it is), from which the mechanism takes numpy's vectorised powers and exponentials for
    ``pay_and_absorb``. Writes each living row's ``main_domain`` (its first largest stock, as
    np.argmax finds it) for the month's displacement (displace): no firm's knowledge changes
    between here and entry, so displace need not read the knowledge table again. Dead rows'
    knowledge only becomes obsolete. Returns the month's R&D effort (own R&D + subsidy).
    """
    n, k = len(alive), knowledge.shape[1]  # the arrays have spare capacity past row n
    keep = 1.0 - depreciation
    effort_total = 0.0
    for i in range(n):
        if not alive[i]:
            for j in range(k):
                knowledge[i, j] *= keep
            level[i] = knowledge_paid[i]
            ratio[i] = 1.0
            neg_inflow[i] = 0.0
            continue
        grown = max(size[i] * shock[i], max(1.0, float(grad_employees[i] + prior_grads[i])))
        size[i] = grown
        employees[i] = np.int64(np.rint(grown))
        labour = (max(employees[i] - diverted[i], 0.0)
                  + graduate_premium * (grad_skill[i] + prior_grad_skill[i]))
        va = productivity[i] * labour
        own_rd = rd_intensity[i] * va
        effort = own_rd + subsidy[i]
        effort_total += effort
        total = 0.0
        for j in range(k):
            knowledge[i, j] *= keep
            total += knowledge[i, j]
        denom = max(total, 1e-12)
        new_level = 0.0
        best, top = 0, 0.0
        for j in range(k):
            knowledge[i, j] += rd_rate * effort * (knowledge[i, j] / denom)
            new_level += knowledge[i, j]
            # displace's main domain of the grown row: 0 first, then a strictly larger stock.
            if j == 0 or knowledge[i, j] > top:
                best, top = j, knowledge[i, j]
        main_domain[i] = best
        level[i] = new_level
        paid = knowledge_paid[i]
        ratio[i] = new_level / paid if paid > 0 and new_level > 0 else 1.0
        graduate_term = (grad_skill[i] + prior_grad_skill[i]) / max(employees[i], 1)
        neg_inflow[i] = -(absorptive_rd_rate * max(effort / max(va, 1e-12), 0.0)
                          + absorptive_graduate_rate * max(graduate_term, 0.0))
        cash[i] += va * (margin + margin_sigma * margin_z[i]) - own_rd
    return effort_total


@njit(cache=True)
def pay_and_absorb(alive, gain, keep, level, productivity, knowledge_paid, absorptive,
                   depreciation):
    """After grow_firms: productivity times its knowledge ``gain`` (ratio ** elasticity,
    firm_dynamics.knowledge_pays), the level it now reflects, and one month of the living
    firms' absorptive stock (firm_dynamics.absorb) from ``keep`` = exp(-inflow). The powers
    and exponentials come from numpy (vectorised, several times faster than scalar ones); this
    pass is the gathers, masks and scatters around them. Dead rows are skipped: their gain is
    1 ** elasticity = 1 and their level the one already paid for, so nothing would change."""
    for i in range(len(alive)):
        if alive[i]:
            productivity[i] = productivity[i] * gain[i]
            knowledge_paid[i] = level[i]
            a = absorptive[i]
            absorptive[i] = (1.0 - depreciation) * (a + (1.0 - a) * (1.0 - keep[i]))


@njit(cache=True)
def _age_band(age, hazard_young, hazard_mid, hazard_mature):
    """The exit hazard of a start-up-sized firm of this age (first year, years 2-5, mature)."""
    if age < 12:
        return hazard_young
    if age < 60:
        return hazard_mid
    return hazard_mature


@njit(cache=True)
def exit_probability(age, size, hazard_young, hazard_mid, hazard_mature, startup_size,
                     size_elasticity):
    """One firm's monthly exit hazard: firm_dynamics.exit_hazard for one row (its scalar twin,
    tested against it), by age band, falling with size relative to a start-up's."""
    base = _age_band(age, hazard_young, hazard_mid, hazard_mature)
    rel = max(size, 1.0) / startup_size
    return base * min(rel, 1e12) ** (-size_elasticity)


@njit(cache=True)
def exit_firms(alive, birth_step, size, incubated, cash, exit_step, grad_employees,
               grad_skill, prior_grads, prior_grad_skill, project_firm, project_active, draw,
               month, hazard_young, hazard_mid, hazard_mature, startup_size, size_elasticity,
               incubation_months, hazard_cut):
    """The month's exits: a living firm exits when its cash has run out, or when its ``draw``
    (one uniform per firm row) is below its exit_probability, cut in incubation. An exiting
    firm is marked dead in this month, its graduate staff leave it, and the projects of dead
    firms end with them.

    Returns (number of exits, whether any exiting firm employed graduates: then they become
    unemployed, labour_market.lose_jobs).
    """
    n = len(alive)
    count = 0
    had_graduates = False
    # At or above start-up size, the hazard is at most its age band's (size^-elasticity <= 1
    # and the incubation cut only lowers it, for the valid ranges of exit_size_elasticity,
    # [0, 3], and incubator_hazard_cut, [0, 1]): a draw above that is no exit, known without
    # the power. That is most living firms a month; the decisions are the same.
    # A draw at or above the highest band's hazard needs no age (nor the birth month read).
    highest = max(hazard_young, hazard_mid, hazard_mature)
    for i in range(n):
        # One branch for the rows with nothing to decide (dead, or certainly staying): the
        # tests combined without short-circuits, since every one of them is cheap.
        if (not alive[i]) | ((draw[i] >= highest) & (cash[i] >= 0) & (size[i] >= startup_size)):
            continue
        age = month - birth_step[i]
        if cash[i] >= 0 and size[i] >= startup_size and draw[i] >= _age_band(
                age, hazard_young, hazard_mid, hazard_mature):
            continue
        h = exit_probability(age, size[i], hazard_young, hazard_mid, hazard_mature,
                             startup_size, size_elasticity)
        if incubated[i] and age <= incubation_months:
            h = h * (1.0 - hazard_cut)
        if draw[i] < h or cash[i] < 0:
            alive[i] = False
            exit_step[i] = month
            had_graduates = had_graduates or grad_employees[i] != 0
            grad_employees[i] = 0
            grad_skill[i] = 0.0
            prior_grads[i] = 0
            prior_grad_skill[i] = 0.0
            count += 1
    if count:
        for r in range(len(project_active)):
            if project_active[r] and not alive[project_firm[r]]:
                project_active[r] = False
    return count, had_graduates


@njit(cache=True)
def displace(alive, new, known_domain, n_known, knowledge, productivity, employees, diverted,
             grad_skill, prior_grad_skill, graduate_premium, share):
    """New firms ``new`` take ``share`` of their value added from the living firms of their
    main domain, in proportion to those firms' value added (world.displace_incumbents).

    The main domain of a living row below ``n_known`` is ``known_domain``'s (grow_firms',
    when this month's growth was the last change of those rows' knowledge); the others' is
    found here. Returns (living firms displaced from, value added they lost)."""
    n, k = len(alive), knowledge.shape[1]
    is_new = np.zeros(n, dtype=np.bool_)
    for i in new:
        is_new[i] = True
    # int32: a quarter of the bytes of a row's domain to write and read back in a large region.
    domain = np.empty(n, dtype=np.int32)
    va = np.empty(n)
    taken = np.zeros(k)
    held = np.zeros(k)
    n_old = 0
    for i in range(n):
        if not (alive[i] or is_new[i]):
            continue
        if i < n_known:
            best = known_domain[i]
        else:
            # The main domain: the first largest stock (np.argmax), its value kept in a local
            # rather than read back each step.
            best, top = 0, knowledge[i, 0]
            for j in range(1, k):
                if knowledge[i, j] > top:
                    best, top = j, knowledge[i, j]
        domain[i] = best
        va[i] = productivity[i] * (max(employees[i] - diverted[i], 0.0) + graduate_premium
                                   * (grad_skill[i] + prior_grad_skill[i])) * alive[i]
        # The incumbents' value added by domain, in row order, in the same pass.
        if alive[i] and not is_new[i]:
            held[best] += va[i]
            n_old += 1
    for i in new:
        taken[domain[i]] += va[i]
    if n_old == 0:
        return 0, 0.0
    keep = np.ones(k)
    for d in range(k):
        if held[d] > 0:
            keep[d] = 1.0 - min(share * taken[d] / max(held[d], 1e-300), 1.0)
    lost = 0.0
    for i in range(n):
        if alive[i] and not is_new[i]:
            productivity[i] *= keep[domain[i]]
            lost += va[i] * (1.0 - keep[domain[i]])
    return n_old, lost


@njit(cache=True)
def row_sum(values):
    """The sum of a row as numpy's ``sum`` adds it (pairwise: eight running sums over blocks of
    up to 128 values, then the rest one by one, added to the identity 0.0), so that a kernel's
    total is numpy's to the last bit: a firm's paid-for knowledge level must equal the level
    ``grow`` computes. The identity only shows in a row of negative zeros (or none), whose
    pairwise sum is -0.0 and numpy's sum 0.0."""
    return 0.0 + _pairwise_sum(values)


@njit(cache=True)
def _pairwise_sum(values):
    """numpy's pairwise sum of a row (``row_sum`` without the identity)."""
    n = len(values)
    if n < 8:
        total = -0.0  # numpy's start, which keeps the sign of a sum of negative zeros
        for j in range(n):
            total += values[j]
        return total
    if n <= 128:
        r0, r1, r2, r3 = values[0], values[1], values[2], values[3]
        r4, r5, r6, r7 = values[4], values[5], values[6], values[7]
        i = 8
        while i < n - n % 8:
            r0 += values[i]
            r1 += values[i + 1]
            r2 += values[i + 2]
            r3 += values[i + 3]
            r4 += values[i + 4]
            r5 += values[i + 5]
            r6 += values[i + 6]
            r7 += values[i + 7]
            i += 8
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            total += values[i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return _pairwise_sum(values[:half]) + _pairwise_sum(values[half:])


@njit(cache=True)
def start_firms(start, size, productivity_draw, rd_draw, profile, profile_is_share, digital_draw,
                home, origin, step, productivity, rd_intensity, knowledge_reference, startup_cash,
                f_size, f_employees, f_productivity, f_rd_intensity, f_knowledge,
                f_knowledge_paid, f_cash, f_digital, f_absorptive, f_birth_step, f_exit_step,
                f_alive, f_origin, f_founder_university, f_incubated, f_home_university,
                f_platform_member, f_grad_employees, f_grad_skill, f_prior_grads,
                f_prior_grad_skill, f_innovations, f_patents, f_partners, f_last_innovation,
                f_last_project, f_subsidy, f_public_money, f_trust, f_trusted):
    """New firms from row ``start`` on (world.init_firms): size and jobs, productivity and R&D
    intensity from their lognormal draws, knowledge, cash, digital maturity, and every other
    column at the value of a firm that has done nothing yet.

    ``profile`` is either the firms' knowledge (``profile_is_share`` False) or the gamma
    variates of their Dirichlet specialisation (True), normalised as numpy's
    ``Generator.dirichlet`` normalises them (a running sum, times its reciprocal: the same
    shares to the last bit) and scaled to the level their own R&D sustains against
    obsolescence (knowledge per employee ``knowledge_reference`` at the mean R&D intensity and
    productivity). A kernel because a month's few new rows cost some thirty numpy calls of
    overhead each; the draws stay with the mechanism (same generator, order and shapes).
    """
    k = f_knowledge.shape[1]
    rd_scale = max(rd_intensity, 1e-12)
    productivity_scale = max(productivity, 1e-12)
    for r in range(len(size)):
        i = start + r
        f_size[i] = size[r]
        f_employees[i] = np.int64(max(1.0, np.rint(size[r])))
        f_productivity[i] = productivity * productivity_draw[r]
        f_rd_intensity[i] = rd_intensity * rd_draw[r]
        if profile_is_share:
            rel = f_rd_intensity[i] / rd_scale * f_productivity[i] / productivity_scale
            level = knowledge_reference * max(size[r], 1.0) * rel
            acc = 0.0
            for j in range(k):
                acc += profile[r, j]
            inverse = 1.0 / acc
            for j in range(k):
                f_knowledge[i, j] = profile[r, j] * inverse * level
        else:
            for j in range(k):
                f_knowledge[i, j] = profile[r, j]
        f_knowledge_paid[i] = row_sum(f_knowledge[i])
        f_cash[i] = startup_cash
        f_digital[i] = digital_draw[r]
        f_absorptive[i] = 0.0
        f_birth_step[i] = step
        f_exit_step[i] = -1
        f_alive[i] = True
        f_origin[i] = origin
        f_founder_university[i] = -1
        f_incubated[i] = False
        f_home_university[i] = home[r]
        f_platform_member[i] = False
        f_grad_employees[i] = 0
        f_grad_skill[i] = 0.0
        f_prior_grads[i] = 0
        f_prior_grad_skill[i] = 0.0
        f_innovations[i] = 0
        f_patents[i] = 0
        f_partners[i] = 0
        f_last_innovation[i] = -1
        f_last_project[i] = -1
        f_subsidy[i] = 0.0
        f_public_money[i] = 0.0
        for j in range(f_trust.shape[1]):
            f_trust[i, j] = 0.0
        f_trusted[i] = False
