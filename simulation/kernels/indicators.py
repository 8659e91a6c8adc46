"""Kernels of the monthly indicators (simulation/indicators.py): the firm totals, the Gini
coefficient of value added, the collaboration network of active projects and the triple-helix
transmission."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def firm_totals(alive, employees, knowledge, digital, absorptive, platform_member, origin,
                grad_employees, grad_skill, startup_origins):
    """One pass over the firm rows: [living firms, their employees, their knowledge (L1),
    digital maturity, absorptive capacity, platform members, start-ups of the origins
    ``startup_origins``, graduates employed (all rows), their skill (all rows)]."""
    out = np.zeros(9)
    for i in range(len(alive)):
        out[7] += grad_employees[i]
        out[8] += grad_skill[i]
        if not alive[i]:
            continue
        out[0] += 1.0
        out[1] += employees[i]
        for j in range(knowledge.shape[1]):
            out[2] += knowledge[i, j]
        out[3] += digital[i]
        out[4] += absorptive[i]
        out[5] += platform_member[i]
        for o in startup_origins:
            if origin[i] == o:
                out[6] += 1.0
    return out


@njit(cache=True)
def gini_of_sorted(xs):
    """Gini coefficient of non-negative values sorted ascending (0 = equal, towards 1 =
    concentrated): 2 sum_i i x_(i) / (n sum x) - (n + 1) / n, 0 with no values or none
    positive. A kernel because the ranks and the two sums were four numpy calls and two
    temporary arrays a month on a few thousand firms; the sort is numpy's (indicators.gini),
    several times faster on this machine than a compiled one and the same sorted values."""
    n = len(xs)
    if n == 0:
        return 0.0
    total = 0.0
    ranked = 0.0
    for i in range(n):
        total += xs[i]
        ranked += (i + 1.0) * xs[i]
    if total <= 0.0:
        return 0.0
    return (2.0 * ranked) / (n * total) - (n + 1.0) / n


@njit(cache=True)
def project_network(active, firm, university, brokered, n_alive, n_unis):
    """The month's collaboration network of active projects: [active projects, brokered
    active projects, distinct firms with one, density, largest-component share].

    The network is bipartite, firms and universities linked by active projects. Density is
    the linked firm-university pairs over all n_alive x n_unis possible pairs. Universities
    are few, so components are found on the university graph (two universities are linked
    when a firm works with both, merged by relabelling) and each firm joins its
    universities' component; the largest component's organisations (firms and universities
    with at least one project) over all such organisations. A kernel because the active
    rows, the unique pairs and the component sizes were a dozen numpy calls a month."""
    out = np.zeros(5)
    n_act = 0
    for r in range(len(active)):
        if active[r]:
            n_act += 1
    keys = np.empty(n_act, dtype=np.int64)
    k = 0
    n_brokered = 0
    for r in range(len(active)):
        if active[r]:
            keys[k] = np.int64(firm[r]) * n_unis + university[r]
            n_brokered += brokered[r]
            k += 1
    out[0] = n_act
    out[1] = n_brokered
    if n_act == 0:
        return out
    keys = np.sort(keys)
    label = np.arange(n_unis)
    involved = np.zeros(n_unis, dtype=np.bool_)
    firm_uni = np.zeros(n_unis, dtype=np.int64)  # firms per component: by first university
    n_pairs = 0
    n_firms = 0
    prev_f, prev_u = -1, 0
    for k in range(n_act):
        if k > 0 and keys[k] == keys[k - 1]:
            continue  # the same pair again
        n_pairs += 1
        f, u = keys[k] // n_unis, keys[k] % n_unis
        involved[u] = True
        if n_pairs == 1 or f != prev_f:
            n_firms += 1
            firm_uni[u] += 1
        else:  # the firm's previous pair: its two universities are in one component
            la, lb = label[prev_u], label[u]
            if la != lb:
                lo, hi = min(la, lb), max(la, lb)
                for j in range(n_unis):
                    if label[j] == hi:
                        label[j] = lo
        prev_f, prev_u = f, u
    sizes = np.zeros(n_unis, dtype=np.int64)
    for u in range(n_unis):
        sizes[label[u]] += firm_uni[u] + involved[u]
    out[2] = n_firms
    out[3] = n_pairs / max(n_alive * n_unis, 1)
    out[4] = sizes.max() / sizes.sum()
    return out


@njit(cache=True)
def _python_sum(values, n):
    # The sum of values[:n] as Python's ``sum`` of floats adds it (CPython >= 3.12, which the
    # package requires): Neumaier's compensated summation, started from the int 0 (so the
    # first value is 0 + x, which turns -0.0 into 0.0), the compensation added at the end
    # when it is non-zero and finite.
    if n == 0:
        return 0.0
    total = 0 + values[0]
    c = 0.0
    for k in range(1, n):
        x = values[k]
        t = total + x
        if abs(total) >= abs(x):
            c += (total - t) + x
        else:
            c += (x - t) + total
        total = t
    if c != 0.0 and math.isfinite(c):
        total += c
    return total


@njit(cache=True)
def _entropy(counts):
    # synergy._entropy: Shannon entropy in bits, zero counts contributing nothing.
    n = len(counts)
    total = _python_sum(counts, n)
    if total <= 0:
        return 0.0
    terms = np.empty(n)
    m = 0
    for k in range(n):
        if counts[k] > 0:
            q = counts[k] / total
            terms[m] = q * math.log2(q)
            m += 1
    return -_python_sum(terms, m)


@njit(cache=True)
def transmission_bits(cells):
    """Leydesdorff's triple-helix transmission T in bits from the 8 cell counts (index 4u + 2i
    + g): synergy.transmission's marginal, pair and triple entropies in its order of
    operations, with Python's compensated ``sum`` and ``math.log2``, so that T is the
    formula function's to the last bit (tests hold the two equal). A kernel because the
    seven entropies were some sixty Python operations a month."""
    c = np.empty(8)
    for k in range(8):
        c[k] = float(cells[k])
    pair = np.empty(2)
    quad = np.empty(4)
    pair[0], pair[1] = c[0] + c[1] + c[2] + c[3], c[4] + c[5] + c[6] + c[7]
    h_u = _entropy(pair)
    pair[0], pair[1] = c[0] + c[1] + c[4] + c[5], c[2] + c[3] + c[6] + c[7]
    h_i = _entropy(pair)
    pair[0], pair[1] = c[0] + c[2] + c[4] + c[6], c[1] + c[3] + c[5] + c[7]
    h_g = _entropy(pair)
    quad[0], quad[1], quad[2], quad[3] = c[0] + c[1], c[2] + c[3], c[4] + c[5], c[6] + c[7]
    h_ui = _entropy(quad)
    quad[0], quad[1], quad[2], quad[3] = c[0] + c[2], c[1] + c[3], c[4] + c[6], c[5] + c[7]
    h_ug = _entropy(quad)
    quad[0], quad[1], quad[2], quad[3] = c[0] + c[4], c[1] + c[5], c[2] + c[6], c[3] + c[7]
    h_ig = _entropy(quad)
    t = h_u + h_i + h_g - h_ui - h_ug - h_ig + _entropy(c)
    return 0.0 if abs(t) < 1e-12 else t
