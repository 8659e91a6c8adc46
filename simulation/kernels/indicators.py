"""Kernels of the monthly indicators (simulation/indicators.py): the firm totals, the Gini
coefficient of value added, the collaboration network of active projects and the triple-helix
transmission."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .firms import row_sum


@njit(cache=True)
def firm_totals(alive, employees, knowledge, digital, absorptive, platform_member, origin,
                grad_employees, grad_skill, startup_origins):
    """One pass over the firm rows: [living firms, their employees, their knowledge (L1),
    digital maturity, absorptive capacity, platform members, start-ups of the origins
    ``startup_origins``, graduates employed (all rows), their skill (all rows)], each summed
    row by row in row order (the knowledge of a row domain by domain).

    The sums are local variables, not items of the result: the knowledge sum is one chain of
    dependent additions (twelve a living firm), and an array item written back each time
    puts a store and a load into that chain."""
    firms = 0.0
    jobs = 0.0
    level = 0.0
    digital_sum = 0.0
    absorptive_sum = 0.0
    members = 0.0
    startups = 0.0
    graduates = 0.0
    skill = 0.0
    n_domains = knowledge.shape[1]
    for i in range(len(alive)):
        graduates += grad_employees[i]
        skill += grad_skill[i]
        if not alive[i]:
            continue
        firms += 1.0
        jobs += employees[i]
        for j in range(n_domains):
            level += knowledge[i, j]
        digital_sum += digital[i]
        absorptive_sum += absorptive[i]
        members += platform_member[i]
        for o in startup_origins:
            if origin[i] == o:
                startups += 1.0
    out = np.empty(9)
    out[0] = firms
    out[1] = jobs
    out[2] = level
    out[3] = digital_sum
    out[4] = absorptive_sum
    out[5] = members
    out[6] = startups
    out[7] = graduates
    out[8] = skill
    return out


@njit(cache=True)
def _digit_counts(keys, first, last):
    # Histograms of the 8-bit digits first..last-1 of the keys (row d: digit d).
    counts = np.zeros((8, 256), dtype=np.int64)
    for i in range(len(keys)):
        k = keys[i]
        for d in range(first, last):
            counts[d, (k >> np.uint64(8 * d)) & np.uint64(255)] += 1
    return counts


@njit(cache=True)
def _radix_passes(src, dst, counts, first, last):
    # Least-significant-digit radix passes over digits first..last-1 (their histograms in
    # counts, used up); a pass where every key has the same digit would move nothing and is
    # skipped. Returns (the keys sorted by those digits, the other buffer).
    n = len(src)
    for d in range(first, last):
        c = counts[d]
        if n == 0 or c[(src[0] >> np.uint64(8 * d)) & np.uint64(255)] == n:
            continue
        start = 0
        for v in range(256):
            count = c[v]
            c[v] = start
            start += count
        shift = np.uint64(8 * d)
        for i in range(n):
            k = src[i]
            v = (k >> shift) & np.uint64(255)
            dst[c[v]] = k
            c[v] += 1
        src, dst = dst, src
    return src, dst


@njit(cache=True)
def _top_digit_passes(src, dst, lo, shift, digit):
    # Two least-significant-digit radix passes, ``digit`` bits each, over the bits
    # shift..shift + 2 digit of (key - lo), the keys' offset from the smallest; a pass where
    # every key has the same digit would move nothing and is skipped. Returns (the keys sorted
    # by those bits, the other buffer).
    n = len(src)
    size = 1 << digit
    mask = np.uint64(size - 1)
    width = np.uint64(digit)
    counts = np.zeros((2, size), dtype=np.int64)
    for i in range(n):
        d = (src[i] - lo) >> shift
        counts[0, d & mask] += 1
        counts[1, (d >> width) & mask] += 1
    for p in range(2):
        c = counts[p]
        up = shift + np.uint64(p * digit)
        if c[((src[0] - lo) >> up) & mask] == n:
            continue
        start = 0
        for v in range(size):
            count = c[v]
            c[v] = start
            start += count
        for i in range(n):
            k = src[i]
            v = ((k - lo) >> up) & mask
            dst[c[v]] = k
            c[v] += 1
        src, dst = dst, src
    return src, dst


@njit(cache=True)
def sorted_values(x):
    """The values of ``x`` (contiguous float64) sorted ascending, by a radix sort on their
    bits: two passes over the top bits that vary (the keys' offset from the smallest, 8 or 11
    bits a pass by the number of values), then an insertion sort by all 64, which moves only
    values that share those bits (in a month's value added a few thousand moves of 120,000
    values; past a budget of moves, passes over all 64 bits instead). Why not numpy's
    ``np.sort``: on a few thousand firms a month it was about half of the indicators' time,
    and this takes less than half of that; the offset from the smallest key spares the passes
    over the digits every value shares (four 8-bit passes over the top 32 bits before).
    The sorted values are the same whatever the algorithm (NaNs last, as numpy's, unless
    their sign bit is set; -0.0 before 0.0, which numpy treats as equal), so the Gini that
    sums them is the same to the last bit."""
    n = len(x)
    sign = np.uint64(1) << np.uint64(63)
    bits = x.view(np.uint64)
    # A double's bits, the sign flipped for positive values and every bit for negative
    # ones, order as the values do.
    keys = np.empty(n, dtype=np.uint64)
    lo = ~np.uint64(0)
    hi = np.uint64(0)
    for i in range(n):
        b = bits[i]
        k = ~b if b & sign else b | sign
        keys[i] = k
        lo = min(lo, k)
        hi = max(hi, k)
    if n == 0:
        return np.empty(0)
    width = 0  # the bits that vary: of the largest offset from the smallest key
    while width < 64 and (hi - lo) >> np.uint64(width) != 0:
        width += 1
    digit = 11 if n > 20000 else 8  # a histogram of 2^digit counts is small beside n
    shift = np.uint64(max(width - 2 * digit, 0))
    keys, spare = _top_digit_passes(keys, np.empty(n, dtype=np.uint64), lo, shift, digit)
    if shift > 0:  # sorted by the top 2 x digit bits only: the rest by insertion
        budget = 4 * n + 64
        moves = 0
        for i in range(1, n):
            k = keys[i]
            j = i - 1
            while j >= 0 and keys[j] > k:
                keys[j + 1] = keys[j]
                j -= 1
                moves += 1
            keys[j + 1] = k
            if moves > budget:
                keys, spare = _radix_passes(keys, spare, _digit_counts(keys, 0, 8), 0, 8)
                break
    # The values back from their keys, into the spare buffer's memory: a third array of
    # 100,000 rows a month in the metro region would be fresh pages to fault in.
    for i in range(n):
        k = keys[i]
        spare[i] = k ^ sign if k & sign else ~k
    return spare.view(np.float64)


@njit(cache=True)
def gini_of_values(x):
    """The Gini coefficient of the values ``x`` (contiguous float64): gini_of_sorted of
    sorted_values, in one call."""
    return gini_of_sorted(sorted_values(x))


@njit(cache=True)
def gini_of_sorted(xs):
    """Gini coefficient of non-negative values sorted ascending (0 = equal, towards 1 =
    concentrated): 2 sum_i i x_(i) / (n sum x) - (n + 1) / n, 0 with no values or none
    positive. A kernel because the ranks and the two sums were four numpy calls and two
    temporary arrays a month on a few thousand firms; the values are sorted by
    ``sorted_values`` (any sort gives the same sorted values, so the same sums)."""
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
def small_totals(enrolled, knowledge, publications, spent_month, balance, spent):
    """The month's sums over the few universities, programmes and instruments, each as
    numpy's ``sum`` adds it: [enrolled students per programme (3), the universities' mean
    knowledge level (L1), publications so far, this month's spending, the money released
    and not spent, the money spent so far]. A kernel because they were nine numpy
    reductions a month on arrays of three to eight values."""
    out = np.zeros(8)
    n_unis = enrolled.shape[0]
    for j in range(3):
        column = 0.0  # numpy's sum over the first axis: from 0.0, row by row
        for u in range(n_unis):
            column += enrolled[u, j]
        out[j] = column
    levels = np.empty(n_unis)
    for u in range(n_unis):
        levels[u] = row_sum(knowledge[u])
    out[3] = row_sum(levels) / n_unis  # numpy's mean: the sum over the count
    out[4] = row_sum(publications)
    out[5] = row_sum(spent_month)
    out[6] = row_sum(balance)
    out[7] = row_sum(spent)
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
