"""Kernel of mechanism 5, innovation (simulation/mechanisms/innovation.py).

Why a kernel: the month's innovation step was about twenty numpy calls on a few thousand rows
(projects per firm, knowledge per employee, the hazard's terms, the gathers of the
innovators), each mostly call overhead; one pass over the firms does it all. The hazard's
powers and exponential run as scalar calls here: on the living rows of the default region
that costs less than the numpy calls it replaces (docs/performance.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .stream import jump_table, uniform_at


@njit(cache=True)
def _hazard_terms(employees, knowledge_sum, absorptive, projects, live, graduate_term,
                  digital, hz):
    """The parts of innovation.hazard for one row: (size over the reference, knowledge per
    employee over the reference, the additive multiplier of absorptive capacity, projects,
    live-project work, graduates and digital maturity)."""
    emp = max(employees, 1.0)
    size = emp / hz[1]
    know = max(knowledge_sum / (emp * hz[4]), 0.0)
    # log2(1 + 0) is exactly 0: most firms have no project, and skip the logarithm.
    with_projects = hz[6] * math.log2(1.0 + projects) if projects > 0 else hz[6] * 0.0
    multiplier = (1.0 + hz[5] * absorptive + with_projects + hz[7] * live
                  + hz[8] * graduate_term + hz[9] * digital)
    return size, know, multiplier


@njit(cache=True)
def innovation_probability(employees, knowledge_sum, absorptive, projects, live,
                           graduate_term, digital, hz):
    """One firm's monthly innovation probability: innovation.hazard for one row (its scalar
    twin, tested against it), from its employees, the sum of its knowledge stock, its
    absorptive capacity, active projects, live-project work, graduate term and digital
    maturity; ``hz`` holds the parameters in the order of innovation.HAZARD_PARAMETERS."""
    size, know, multiplier = _hazard_terms(employees, knowledge_sum, absorptive, projects,
                                           live, graduate_term, digital, hz)
    lam = hz[0] * size ** hz[2] * know ** hz[3]
    lam = lam * multiplier
    return 1.0 - math.exp(-lam)


@njit(cache=True)
def certainly_no_innovation(draw, employees, knowledge_sum, absorptive, projects, live,
                            graduate_skill, digital, hz):
    """Whether ``draw`` is at or above an upper bound of innovation_probability (so the firm
    certainly does not innovate), without its powers, exponential and divisions, for
    elasticities in [0, 1] and non-negative parameters and inputs (``graduate_skill``: the
    graduates' total skill, employees x the graduate term).

    The bound: x^e <= 1 + e (x - 1) (a concave power lies below its tangent at 1) and
    1 - exp(-lambda) <= lambda; with size = E / reference and knowledge per employee
    K / (E x reference), E^2 lambda is at most
    h ((1 - e_s) + e_s E / ref_E) ((1 - e_k) E + e_k K / ref_K) (E (1 + absorptive, project,
    live-project and digital terms) + h_g G), a product of sums of non-negative terms, so
    the draw is compared with it times 1 / E^2, as draw x E^2 (no division a row). Widened
    by a relative 1e-6 and an absolute 1e-15 (times E^2) for the rounding of both sides and
    of the exact computation (some 40 roundings of 1.1e-16 at most, none cancelling).
    """
    return _below_bound(draw, employees, knowledge_sum, absorptive, projects, live,
                        graduate_skill, digital, hz, bound_constants(hz))


@njit(cache=True)
def bound_constants(hz):
    """The bound's terms that depend on the parameters only, (1 - e_s, e_s / ref_E, 1 - e_k,
    e_k / ref_K), as certainly_no_innovation computes them: innovate computes them once a month
    instead of twice a firm (its divisions were a tenth of the kernel's time)."""
    return 1.0 - hz[2], hz[2] / hz[1], 1.0 - hz[3], hz[3] / hz[4]


@njit(cache=True)
def _below_bound(draw, employees, knowledge_sum, absorptive, projects, live, graduate_skill,
                 digital, hz, constants):
    """certainly_no_innovation given its bound_constants."""
    size_0, size_slope, know_0, know_slope = constants
    emp = max(employees, 1.0)
    # log2(1 + 0) is exactly 0: most firms have no project, and skip the logarithm.
    with_projects = hz[6] * math.log2(1.0 + projects) if projects > 0 else 0.0
    size = size_0 + size_slope * emp
    know = know_0 * emp + know_slope * max(knowledge_sum, 0.0)
    multiplier = (emp * (1.0 + hz[5] * absorptive + with_projects + hz[7] * live
                         + hz[9] * digital) + hz[8] * graduate_skill)
    square = emp * emp
    return draw * square >= hz[0] * size * know * multiplier * (1.0 + 1e-6) + 1e-15 * square


@njit(cache=True)
def innovate(alive, employees, knowledge, grad_skill, prior_grad_skill, productivity, diverted,
             knowledge_paid, innovations, last_innovation, patents, public_money, absorptive,
             digital, project_firm, project_university, project_active, project_brokered,
             live_fill, uni_knowledge, uni_faculty, u_hit, gain_start, patent_start, month, hp, hz):
    """The month's innovations: each living firm's innovation_probability from its active
    projects (and the ``live_fill`` of the universities of its brokered ones: 3.0 students'
    live-project work), a firm innovates when its ``u_hit`` draw is below it, then
    gains_from_uniforms x line_share, productivity and knowledge deepened by that relative
    gain, a patent when its patent uniform is below its share, and the spill to each partner
    university.

    An innovator's gain and patent uniforms are those of its row in the month's draws
    ``random((n, 3))`` of the stream starting at ``gain_start`` (positions 3i, 3i + 1,
    3i + 2) and ``random(n)`` of the one at ``patent_start`` (position i), computed for
    the innovators only (kernels.stream; start states as rng.Streams.start_state gives them).

    ``hp`` holds the parameters in the order of innovation.KERNEL_PARAMETERS, ``hz`` those of
    innovation.HAZARD_PARAMETERS. Returns (innovation values of the innovators, counts
    [incremental, radical, patents], tally counts indexed 2 x (had a project) + (received
    public money)).
    """
    (radical_share, incremental_gain, radical_scale, radical_tail, gain_cap, line_employees,
     scope_elasticity, patent_radical, patent_incremental, spillover_share,
     projects_per_faculty, graduate_premium) = (hp[0], hp[1], hp[2], hp[3], hp[4], hp[5],
                                                hp[6], hp[7], hp[8], hp[9], hp[10], hp[11])
    n, k = len(alive), knowledge.shape[1]  # the arrays have spare capacity past row n
    # Each firm's active projects, and its brokered ones' live-project work, in row order.
    projects = np.zeros(n, dtype=np.int64)
    live = np.zeros(n)
    for r in range(len(project_active)):
        if project_active[r]:
            projects[project_firm[r]] += 1
            if project_brokered[r]:
                live[project_firm[r]] += live_fill[project_university[r]]
    # The bound's range (certainly_no_innovation): elasticities in [0, 1], parameters >= 0.
    bounded = 0.0 <= hz[2] <= 1.0 and 0.0 <= hz[3] <= 1.0 and hz.min() >= 0.0
    constants = bound_constants(hz)
    gain_of = np.full(n, -1.0)  # this month's relative gain of each innovator, -1 otherwise
    values = np.empty(n)
    counts = np.zeros(3, dtype=np.int64)
    tally = np.zeros(4, dtype=np.int64)
    # Each stream's state and the steps it has taken: the innovators' rows ascend, so both
    # only move forward (a jump from one innovator's numbers to the next's).
    gain_table = jump_table(gain_start[2], gain_start[3])
    patent_table = jump_table(patent_start[2], patent_start[3])
    g_lo, g_hi, g_at = gain_start[0], gain_start[1], 0
    q_lo, q_hi, q_at = patent_start[0], patent_start[1], 0
    m = 0
    for i in range(n):
        if not alive[i]:
            continue
        know = 0.0
        for j in range(k):
            know += knowledge[i, j]
        emp = float(max(employees[i], 1))
        skill = grad_skill[i] + prior_grad_skill[i]
        # Most firms' draws are above a bound of their hazard: they skip its powers.
        if bounded and _below_bound(u_hit[i], emp, know, absorptive[i], float(projects[i]),
                                    live[i], skill, digital[i], hz, constants):
            continue
        if not u_hit[i] < innovation_probability(emp, know, absorptive[i], float(projects[i]),
                                                 live[i], skill / emp, digital[i], hz):
            continue
        # Row i's uniforms are positions 3i, 3i + 1, 3i + 2; only the uniform of the kind
        # drawn is computed (3i + 2 radical, 3i + 1 incremental): the other is never read.
        u_kind, g_lo, g_hi, g_at = uniform_at(g_lo, g_hi, g_at, 3 * i, gain_table)
        radical = u_kind < radical_share
        u_gain, g_lo, g_hi, g_at = uniform_at(g_lo, g_hi, g_at,
                                              3 * i + (2 if radical else 1), gain_table)
        if radical:
            gain = radical_scale * (1.0 - u_gain) ** (-1.0 / radical_tail)
        else:
            gain = -incremental_gain * np.log1p(-u_gain)
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
        u_patent, q_lo, q_hi, q_at = uniform_at(q_lo, q_hi, q_at, i, patent_table)
        patented = u_patent < (patent_radical if radical else patent_incremental)
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
