"""Kernels of mechanism 7, graduation and the labour market (mechanisms/labour_market.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

# Status codes (state.py); numba reads them as compile-time constants.
ENROLLED, EMPLOYED, FOUNDER, LEFT, UNEMPLOYED, DROPPED_OUT = range(6)


@njit(cache=True)
def hire_graduates(students, firms, code, status, employer, status_counts, skills, interest,
                   grad_employees, grad_skill, knowledge, digital, size, employees, prior_grads,
                   graduate_knowledge, digital_rate, digital_in):
    """Graduates ``students`` join ``firms`` (rows may repeat): their status becomes ``code``
    (employed or founder, kept in the status counts) and their employer the firm row; each
    adds one graduate and its mean skill to the firm's staff, ``graduate_knowledge`` x its
    specialist skill to the firm's knowledge in its domain of interest (labour mobility), and
    its digital skill to the firm's digital maturity, which rises by min(1, ``digital_rate`` x
    digital skill hired / employees) x (1 - maturity); a firm is never smaller than its
    graduate staff. (One call for both sides of a hire: re-employment calls it every month.)
    ``digital_in`` is scratch, a zero per firm row (at least as many as ``firms`` names), and
    is left zero: it holds each hiring firm's digital skill hired during the call. A month's
    handful of hires would otherwise allocate and zero it over every firm row (the metro
    region's 250,000 rows of capacity: most of a monthly call's time)."""
    for a in range(len(students)):
        i, s = firms[a], students[a]
        status_counts[status[s]] -= 1
        status[s] = code
        employer[s] = i
        # Skills are float32: widen each before adding (numba's float() keeps float32).
        s0, s1 = np.float64(skills[s, 0]), np.float64(skills[s, 1])
        s2, s3 = np.float64(skills[s, 2]), np.float64(skills[s, 3])
        grad_employees[i] += 1
        grad_skill[i] += (((s0 + s1) + s2) + s3) / 4.0
        knowledge[i, interest[s]] += graduate_knowledge * s0
        digital_in[i] += s3
    # Each hiring firm once (its digital skill hired is then spent), not every firm row: the
    # metro region has 250,000 rows of capacity and a month hires at a handful.
    # A firm's maturity is raised at its first hire in this pass, before its size is: the
    # employment it reads is the one before this call's hires, as in two separate passes.
    for a in range(len(students)):
        i = firms[a]
        if digital_in[i] != 0:
            rate = min(max(digital_rate * digital_in[i] / max(employees[i], 1), 0.0), 1.0)
            digital[i] += rate * (1.0 - digital[i])
            digital_in[i] = 0.0  # spent, and the scratch is zero again for the next call
        staff = grad_employees[i] + prior_grads[i]
        size[i] = max(size[i], float(staff))
        employees[i] = max(employees[i], staff)
    status_counts[code] += len(students)


@njit(cache=True)
def merge_rows(a, b):
    """The sorted union of two sorted arrays of distinct rows that share none."""
    out = np.empty(len(a) + len(b), dtype=np.int64)
    i = j = 0
    for m in range(len(out)):
        if j == len(b) or (i < len(a) and a[i] < b[j]):
            out[m] = a[i]
            i += 1
        else:
            out[m] = b[j]
            j += 1
    return out


@njit(cache=True)
def unemployed_flows(unemployed, draw, leave_rate, reemployment_rate, status, status_counts):
    """A month of the unemployed graduates ``unemployed`` (one uniform ``draw`` each): those
    below ``leave_rate`` leave the region (their status becomes left), those in the next
    ``reemployment_rate`` find a job. Returns (rows that left, rows re-employed, rows still
    unemployed), each in row order."""
    n = len(unemployed)
    leave = np.empty(n, dtype=np.int64)
    rehire = np.empty(n, dtype=np.int64)
    stay = np.empty(n, dtype=np.int64)
    n_leave = n_rehire = n_stay = 0
    for a in range(n):
        s, d = unemployed[a], draw[a]
        if d < leave_rate:
            leave[n_leave] = s
            n_leave += 1
            status[s] = LEFT
        elif d < leave_rate + reemployment_rate:
            rehire[n_rehire] = s
            n_rehire += 1
        else:
            stay[n_stay] = s
            n_stay += 1
    status_counts[UNEMPLOYED] -= n_leave
    status_counts[LEFT] += n_leave
    return leave[:n_leave], rehire[:n_rehire], stay[:n_stay]


@njit(cache=True)
def employer_weights(alive, employees):
    """The living firms (rows of ``alive``, in row order) and their employment as float64:
    re-employment picks employers in proportion to it (``weighted_picks``)."""
    n = 0
    for i in range(len(alive)):
        n += alive[i]
    rows = np.empty(n, dtype=np.int64)
    weight = np.empty(n)
    n = 0
    for i in range(len(alive)):
        if alive[i]:
            rows[n] = i
            weight[n] = employees[i]
            n += 1
    return rows, weight


@njit(cache=True)
def weighted_picks(rows, weight, total, uniform):
    """``rows[i]`` drawn with probabilities ``weight / total`` for each of ``uniform``: what
    numpy's ``Generator.choice(len(rows), size, p=weight / total)`` returns when its uniforms
    are ``uniform`` (the cumulative sum of p, normalised by its last value, searched on the
    right). ``total`` is numpy's sum of ``weight`` (its pairwise sum, computed by the caller)."""
    cdf = np.empty(len(weight))
    acc = 0.0
    for i in range(len(weight)):
        acc += weight[i] / total
        cdf[i] = acc
    last = cdf[-1]
    # The normalised cdf, cdf / last, only where the search looks (a search of each uniform
    # reads about 17 of the 140,000 living firms of the metro region), not at every firm:
    # dividing by the positive total keeps the order, so the search finds the index
    # numpy's search of the normalised array finds (the first value above the uniform).
    out = np.empty(len(uniform), dtype=rows.dtype)
    for a in range(len(uniform)):
        u = uniform[a]
        lo, hi = 0, len(cdf)
        while lo < hi:
            mid = (lo + hi) >> 1
            if cdf[mid] / last <= u:
                lo = mid + 1
            else:
                hi = mid
        out[a] = rows[lo]
    return out


@njit(cache=True)
def index_staff(rows, start, count, recent, recent_firm, n_firms):
    """The alumni at work, firm by firm, rebuilt each June from the previous index (``rows``,
    ``start``, ``count``) and the alumni hired since (``recent``, hired by ``recent_firm``,
    their employer still: a hire whose firm exits leaves the recent hires, ``jobs_lost``):
    (rows, start, count) with
    the rows of the students whose employer is firm i at ``rows[start[i]:start[i] +
    count[i]]`` for ``n_firms`` firm rows (the firm's segment of the previous index, then its
    recent hires in hiring order: nothing reads a segment in order, ``jobs_lost`` sorts what
    it finds). An alumnus's employer changes only when it is hired (labour_market.hire: then
    it is among the recent hires, once) or when its firm exits (``jobs_lost``: then the
    firm's segment is emptied), so the students at work are those of the segments still held
    and the recent hires still at work, and no row is in both: the index holds what a
    counting sort of the whole employer column would, without reading that column (3.2
    million rows in the metro region, a tenth of them hired since)."""
    n_old = len(count)
    # The recent hires by employer, in hiring order (a counting sort); their employers are
    # kept beside them, so the student table (read at random) is not.
    at = np.zeros(n_firms + 1, dtype=np.int64)
    for a in range(len(recent)):
        at[recent_firm[a] + 1] += 1
    new_count = np.empty(n_firms, dtype=np.int64)
    new_start = np.empty(n_firms, dtype=np.int64)
    total = 0
    for i in range(n_firms):
        new_start[i] = total
        new_count[i] = (count[i] if i < n_old else 0) + at[i + 1]
        total += new_count[i]
    out = np.empty(total, dtype=np.int32)
    fill = new_start.copy()
    for i in range(min(n_old, n_firms)):
        for a in range(start[i], start[i] + count[i]):
            out[fill[i]] = rows[a]
            fill[i] += 1
    for a in range(len(recent)):
        e = recent_firm[a]
        out[fill[e]] = recent[a]
        fill[e] += 1
    return out, new_start, new_count


@njit(cache=True)
def jobs_lost(alive, employer, status, status_counts, rows, start, count, recent, recent_firm):
    """Students whose employer (a firm row) has exited, in row order, found through the staff
    index (``index_staff``: a firm's segment is read once, when it exits, and emptied) and the
    alumni hired since it was built (``recent``, each with its employer ``recent_firm``).
    Their employer becomes -1 (none) and their status unemployed (kept in the status counts).
    Returns (those rows, the recent hires still at work and their employers)."""
    # The exited firms whose segment is still held, in one pass over the firm rows, and room
    # for every row their segments hold and every recent hire (each row is found once): not
    # the whole index (1.9 million rows in the metro region) at every call. Life is tested
    # first: nearly every row is alive, a branch the processor predicts, where whether a
    # firm holds a segment is close to a coin toss (most of the pass's time, tested first).
    exited = np.empty(len(count), dtype=np.int64)
    n_exited = 0
    room = len(recent)
    for i in range(len(count)):
        if not alive[i] and count[i] > 0:
            exited[n_exited] = i
            n_exited += 1
            room += count[i]
    out = np.empty(room, dtype=np.int64)
    m = 0
    for d in range(n_exited):
        i = exited[d]
        for a in range(start[i], start[i] + count[i]):
            s = rows[a]
            if employer[s] == i:
                out[m] = s
                m += 1
                employer[s] = -1
        count[i] = 0
    # A recent hire's employer is the firm that hired it (kept beside it: the student table
    # is not read at random for each of the year's hires, every month).
    kept = np.empty(len(recent), dtype=np.int64)
    kept_firm = np.empty(len(recent), dtype=np.int64)
    k = 0
    for a in range(len(recent)):
        s, e = recent[a], recent_firm[a]
        if not alive[e]:
            out[m] = s
            m += 1
            employer[s] = -1
        else:
            kept[k] = s
            kept_firm[k] = e
            k += 1
    lost = out[:m].copy()
    lost.sort()
    for a in range(m):
        status_counts[status[lost[a]]] -= 1
        status[lost[a]] = UNEMPLOYED
    status_counts[UNEMPLOYED] += m
    return lost, kept[:k], kept_firm[:k]


@njit(cache=True)
def _by_key(keys, n_keys):
    # Positions 0..n-1 grouped by key, ascending, in order within a key (a counting sort):
    # (positions, where each key's group starts, with the end last).
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for a in range(len(keys)):
        start[keys[a] + 1] += 1
    for d in range(n_keys):
        start[d + 1] += start[d]
    fill = start[:n_keys].copy()
    order = np.empty(len(keys), dtype=np.int64)
    for a in range(len(keys)):
        order[fill[keys[a]]] = a
        fill[keys[a]] += 1
    return order, start


@njit(cache=True)
def fill_vacancies(rest, interest, slots, vacancies, knowledge):
    """June's offers to the graduates ``rest`` (in order of employability) for the vacancy
    ``slots`` (firm rows, in random order; ``vacancies``: how many each firm row has there):
    domain by domain (ascending, the domains of interest present), the best graduates
    interested in a domain take the first slots of firms whose main domain (largest
    knowledge, the first on ties) it is; then the graduates left take the slots left, in
    order. Returns (graduate rows, firm rows), domain blocks first, then the cross-domain
    block."""
    n_g, n_s, k = len(rest), len(slots), knowledge.shape[1]
    # Each firm's main domain once, in row order (a firm has several slots, and the slots'
    # random order would read the knowledge table at random: most of the metro region's cost).
    main = np.zeros(len(vacancies), dtype=np.int64)
    for row in range(len(vacancies)):
        if vacancies[row] > 0:
            best = 0
            for j in range(1, k):
                if knowledge[row, j] > knowledge[row, best]:
                    best = j
            main[row] = best
    slot_domain = np.empty(n_s, dtype=np.int64)
    for i in range(n_s):
        slot_domain[i] = main[slots[i]]
    g_domain = np.empty(n_g, dtype=np.int64)
    for a in range(n_g):
        g_domain[a] = interest[rest[a]]
    g_order, g_start = _by_key(g_domain, k)
    s_order, s_start = _by_key(slot_domain, k)
    placed = np.zeros(n_g, dtype=np.bool_)
    taken = np.zeros(n_s, dtype=np.bool_)
    out_s = np.empty(min(n_g, n_s), dtype=np.int64)
    out_f = np.empty(min(n_g, n_s), dtype=np.int64)
    m = 0
    for d in range(k):
        pairs = min(g_start[d + 1] - g_start[d], s_start[d + 1] - s_start[d])
        for b in range(pairs):
            a, i = g_order[g_start[d] + b], s_order[s_start[d] + b]
            placed[a] = True
            taken[i] = True
            out_s[m] = rest[a]
            out_f[m] = slots[i]
            m += 1
    a = i = 0
    while True:
        while a < n_g and placed[a]:
            a += 1
        while i < n_s and taken[i]:
            i += 1
        if a == n_g or i == n_s:
            break
        out_s[m] = rest[a]
        out_f[m] = slots[i]
        m += 1
        a += 1
        i += 1
    return out_s[:m], out_f[:m]


@njit(cache=True)
def who_founds(grads, draw, skills, university, room, founder_rate, boost):
    """June's founders among the graduates ``grads`` (row order, one uniform ``draw`` each):
    a graduate founds a start-up when its draw is below min(0.5, ``founder_rate`` x
    (entrepreneurial skill / 0.5)^2 x (1 + ``boost`` x [its university's incubator has
    room])), the founding probability of labour_market.found_startups. Returns (founders,
    the job seekers (the others), the seekers' positions in the cohort), each in row order."""
    n = len(grads)
    found = np.empty(n, dtype=np.bool_)
    n_found = 0
    for a in range(n):
        s = grads[a]
        ent = np.float64(skills[s, 1]) / 0.5
        prob = founder_rate * (ent * ent) * (1.0 + boost * np.float64(room[university[s]]))
        found[a] = draw[a] < min(prob, 0.5)
        n_found += found[a]
    founders = np.empty(n_found, dtype=np.int64)
    seekers = np.empty(n - n_found, dtype=np.int64)
    at = np.empty(n - n_found, dtype=np.int64)
    i = j = 0
    for a in range(n):
        if found[a]:
            founders[i] = grads[a]
            i += 1
        else:
            seekers[j] = grads[a]
            at[j] = a
            j += 1
    return founders, seekers, at


@njit(cache=True)
def tied_seekers(seekers, tie_draw, tie_firm, alive, tie_hire_probability):
    """Job seekers (row order) whose internship or project tie offers them a job: a tie firm
    that is alive, and their uniform ``tie_draw`` below ``tie_hire_probability``. Returns
    (those seekers, their tie firms), in the seekers' order."""
    n = 0
    for a in range(len(seekers)):
        t = tie_firm[seekers[a]]
        n += t >= 0 and tie_draw[a] < tie_hire_probability and alive[t]
    tied = np.empty(n, dtype=np.int64)
    firm = np.empty(n, dtype=np.int64)
    n = 0
    for a in range(len(seekers)):
        t = tie_firm[seekers[a]]
        if t >= 0 and tie_draw[a] < tie_hire_probability and alive[t]:
            tied[n] = seekers[a]
            firm[n] = t
            n += 1
    return tied, firm


@njit(cache=True)
def untied_seekers(seekers, noise, tied, firm, keep, vacancies):
    """The tie hires kept within their firms' vacancies (``keep``) take a vacancy each (out of
    ``vacancies``, in place); returns (those hires, their firms, the other seekers and their
    ``noise``, in the seekers' order, and the vacancies left in all)."""
    n_kept = 0
    for a in range(len(tied)):
        n_kept += keep[a]
    kept = np.empty(n_kept, dtype=np.int64)
    kept_firm = np.empty(n_kept, dtype=np.int64)
    m = 0
    for a in range(len(tied)):
        if keep[a]:
            kept[m] = tied[a]
            kept_firm[m] = firm[a]
            vacancies[firm[a]] -= 1
            m += 1
    # The kept hires are a subsequence of the seekers: one merge-like pass leaves them out.
    rest = np.empty(len(seekers) - n_kept, dtype=np.int64)
    rest_noise = np.empty(len(seekers) - n_kept)
    j = m = 0
    for a in range(len(seekers)):
        if j < n_kept and seekers[a] == kept[j]:
            j += 1
            continue
        rest[m] = seekers[a]
        rest_noise[m] = noise[a]
        m += 1
    left = 0
    for i in range(len(vacancies)):
        left += vacancies[i]
    return kept, kept_firm, rest, rest_noise, left


@njit(cache=True)
def retention_cover(u_cover, coverage, can_pay):
    """Which job seekers the retention subsidy reaches: those whose uniform ``u_cover`` is
    below ``coverage``, but only as many as the pot pays in full (``can_pay``): the lowest
    draws, ties in order, i.e. the covered seekers among the first ``can_pay`` of a stable
    argsort of the draws (a negative ``can_pay`` counts from the end, as a slice does). The
    cap is a selection, not a sort: the ``can_pay``-th lowest covered draw is the bar."""
    n = len(u_cover)
    covered = np.empty(n, dtype=np.bool_)
    n_cov = 0
    for a in range(n):
        covered[a] = u_cover[a] < coverage
        n_cov += covered[a]
    if n_cov <= can_pay:
        return covered
    limit = can_pay if can_pay >= 0 else max(n + can_pay, 0)
    if limit >= n_cov:
        return covered
    if limit == 0:
        covered[:] = False
        return covered
    # The covered draws are the lowest ones, so the first ``limit`` of the argsort are
    # covered seekers: the limit-th lowest covered draw ``bar`` and, among draws equal to it,
    # the first ones in order.
    values = np.empty(n_cov)
    m = 0
    for a in range(n):
        if covered[a]:
            values[m] = u_cover[a]
            m += 1
    values.sort()
    bar = values[limit - 1]
    below = 0
    for b in range(limit):
        below += values[b] < bar
    at_bar = limit - below  # how many draws equal to the bar stay covered
    for a in range(n):
        if covered[a]:
            if u_cover[a] > bar:
                covered[a] = False
            elif u_cover[a] == bar:
                if at_bar > 0:
                    at_bar -= 1
                else:
                    covered[a] = False
    return covered


@njit(cache=True)
def cohort_skills(grads, skills):
    """(4,) mean skills of the cohort ``grads`` in float64, summed row by row as numpy's
    ``skills[grads].astype(float).mean(axis=0)`` sums them (a reduction over the slow axis
    is a running sum, not a pairwise one)."""
    total = np.zeros(4)
    for a in range(len(grads)):
        s = grads[a]
        for j in range(4):
            total[j] += np.float64(skills[s, j])
    for j in range(4):
        total[j] /= len(grads)
    return total


@njit(cache=True)
def without_ties(grouped, bounds, tie_firm):
    """The rows of ``grouped[bounds[0]:bounds[-1]]`` with no tie firm yet (``tie_firm`` < 0),
    in row order: the graduates still free for an internship (labour_market.assign_ties).
    ``grouped`` holds groups ``bounds[g]:bounds[g + 1]``, each in row order (a university's
    programmes, ``group_rows``), so the groups are merged rather than sorted."""
    n_groups = len(bounds) - 1
    head = bounds[:n_groups].copy()
    n = 0
    for a in range(bounds[0], bounds[n_groups]):
        n += tie_firm[grouped[a]] < 0
    out = np.empty(n, dtype=np.int64)
    for m in range(n):
        best = -1
        for g in range(n_groups):
            while head[g] < bounds[g + 1] and tie_firm[grouped[head[g]]] >= 0:
                head[g] += 1  # tied already
            if head[g] < bounds[g + 1] and (best < 0 or grouped[head[g]] < grouped[head[best]]):
                best = g
        out[m] = grouped[head[best]]
        head[best] += 1
    return out


@njit(cache=True)
def seekers_draws(at, draws, noise):
    """The job seekers' own draws (``at``: their positions in the cohort): rows 1-3 of
    ``draws`` (tie hire, leaving, retention cover) and ``noise``, one gather."""
    m = len(at)
    out = np.empty((3, m))
    out_noise = np.empty(m)
    for b in range(m):
        a = at[b]
        out[0, b] = draws[1, a]
        out[1, b] = draws[2, a]
        out[2, b] = draws[3, a]
        out_noise[b] = noise[a]
    return out, out_noise


@njit(cache=True)
def stay_or_leave(seekers, offer_s, offer_f, u_leave, covered, leave_with_offer,
                  leave_without_offer, retention_effect, subsidy, status, status_counts,
                  public_money):
    """Each job seeker (``seekers``, in row order) leaves the region with probability
    ``leave_with_offer`` if it has an offer (``offer_s``, ``offer_f``: graduate and firm rows),
    ``leave_without_offer`` if not, x (1 - ``retention_effect``) where the retention subsidy
    ``covered`` it; one uniform ``u_leave`` each. Leavers' status becomes left, that of those
    who stay without a job unemployed (kept in the status counts), and the covered who stay
    receive ``subsidy`` (their public money). Returns (leavers, the offers taken as
    (graduate rows, firm rows) in offer order, those who stay without a job, the covered who
    stay and are paid)."""
    n = len(seekers)
    # Each offer's seeker by a map over the seekers' span of rows (one cohort's), not a search.
    pos = np.empty(len(offer_s), dtype=np.int64)
    if n:
        where = np.full(seekers[-1] - seekers[0] + 1, -1, dtype=np.int64)
        for a in range(n):
            where[seekers[a] - seekers[0]] = a
        for a in range(len(offer_s)):
            pos[a] = where[offer_s[a] - seekers[0]]
    offered = np.zeros(n, dtype=np.bool_)
    for a in range(len(pos)):
        offered[pos[a]] = True
    leave = np.empty(n, dtype=np.bool_)
    n_leave = n_idle = n_paid = 0
    for a in range(n):
        base = leave_with_offer if offered[a] else leave_without_offer
        leave[a] = u_leave[a] < base * (1.0 - retention_effect * np.float64(covered[a]))
        if leave[a]:
            n_leave += 1
        else:
            n_idle += not offered[a]
            n_paid += covered[a]
    leavers = np.empty(n_leave, dtype=np.int64)
    idle = np.empty(n_idle, dtype=np.int64)
    paid = np.empty(n_paid, dtype=np.int64)
    n_leave = n_idle = n_paid = 0
    for a in range(n):
        s = seekers[a]
        if leave[a]:
            leavers[n_leave] = s
            n_leave += 1
            status_counts[status[s]] -= 1
            status[s] = LEFT
            continue
        if not offered[a]:
            idle[n_idle] = s
            n_idle += 1
            status_counts[status[s]] -= 1
            status[s] = UNEMPLOYED
        if covered[a]:
            paid[n_paid] = s
            n_paid += 1
            public_money[s] += subsidy
    status_counts[LEFT] += n_leave
    status_counts[UNEMPLOYED] += n_idle
    hired = 0
    for a in range(len(pos)):
        hired += not leave[pos[a]]
    hire_s = np.empty(hired, dtype=np.int64)
    hire_f = np.empty(hired, dtype=np.int64)
    hired = 0
    for a in range(len(pos)):
        if not leave[pos[a]]:
            hire_s[hired] = offer_s[a]
            hire_f[hired] = offer_f[a]
            hired += 1
    return leavers, (hire_s, hire_f), idle, paid


# The seekers' radix sort: six 11-bit digits for the 64 bits of a key (a digit's 16 KB of
# counts stay in the first-level cache while it scatters). On 150,000 seekers (a metro June)
# this is about 1.4x the eight 8-bit passes that counted each digit separately; 8-bit
# digits counted in one pass are as fast on the default region's 9,000 and slower there.
_DIGIT_BITS = 11
_DIGITS = 6


@njit(cache=True)
def by_employability(rest, skills, noise):
    """The job seekers ``rest`` best first by employability, mean skill x (1 + 0.1 x
    ``noise``), ties in their given order: ``rest[np.argsort(-employability, kind="stable")]``.

    The mean is taken in float32 as numpy's ``mean(axis=1)`` of the float32 skills takes it
    (left to right); the stable sort is a radix sort of the keys' bits, which orders floats
    as their values do (and is several times faster than numpy's on ~10,000 keys): every
    digit's count in one pass over the keys, then one stable scatter per digit that is not
    the same for every key (the top digit, sign and high exponent bits, is), the keys moving
    with their positions so that each pass reads them in order."""
    n = len(rest)
    key = np.empty(n)
    for a in range(n):
        s = rest[a]
        total = skills[s, 0] + skills[s, 1]
        total = total + skills[s, 2]
        total = total + skills[s, 3]
        mean = np.float64(total / np.float32(4.0))
        key[a] = -(mean * (1.0 + 0.1 * noise[a])) + 0.0  # + 0.0: -0.0 sorts as 0.0
    bits = key.view(np.uint64)
    top = np.uint64(1) << np.uint64(63)
    for a in range(n):
        # Negative floats: all bits flipped; others: the sign bit set (unsigned order).
        bits[a] = ~bits[a] if bits[a] & top else bits[a] | top
    mask = np.uint64((1 << _DIGIT_BITS) - 1)
    count = np.zeros((_DIGITS, (1 << _DIGIT_BITS) + 1), dtype=np.int64)
    for a in range(n):
        b = bits[a]
        for d in range(_DIGITS):
            count[d, ((b >> np.uint64(_DIGIT_BITS * d)) & mask) + 1] += 1
    order = np.arange(n)
    spare = np.empty(n, dtype=np.int64)
    spare_bits = np.empty(n, dtype=np.uint64)
    for d in range(_DIGITS):
        at = count[d]
        if at.max() == n:
            continue  # every key has this digit: the pass would not move anything
        for v in range(1 << _DIGIT_BITS):
            at[v + 1] += at[v]
        shift = np.uint64(_DIGIT_BITS * d)
        for a in range(n):
            b = bits[a]
            v = (b >> shift) & mask
            spare[at[v]] = order[a]
            spare_bits[at[v]] = b
            at[v] += 1
        order, spare = spare, order
        bits, spare_bits = spare_bits, bits
    return rest[order]


@njit(cache=True)
def group_rows(rows, key, n_keys):
    """``rows`` grouped by ``key[row]`` (0..n_keys-1), in row order within a group (a
    counting sort): (grouped rows, where each group starts, with the end last)."""
    keys = np.empty(len(rows), dtype=np.int64)
    for a in range(len(rows)):
        keys[a] = key[rows[a]]
    order, start = _by_key(keys, n_keys)
    return rows[order], start
