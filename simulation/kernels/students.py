"""Kernels of the student side: teaching's closed form, dropout, the academic year
(mechanisms/teaching.py, mechanisms/labour_market.py, world.py).

Why kernels: each of these steps gathers a few columns of a few dozen (dropout) to a few tens
of thousands (graduation, the September move-up) student rows, masks them by status and
scatters the results back; as numpy that is ten to twenty calls a step, most of the cost on
the default region's small monthly batches. Exponentials stay in numpy (its vectorised ``exp``
is what the replaced code used, so skills agree bit for bit): the kernels build the exponent,
the mechanism applies ``np.exp`` to it, and a second kernel stores the result.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .firms import row_sum

# Status codes (state.py); numba reads them as compile-time constants.
ENROLLED, EMPLOYED, FOUNDER, LEFT, UNEMPLOYED, DROPPED_OUT = range(6)


@njit(cache=True)
def teaching_exponent(rows, status, code, aptitude, sync, exposure):
    """(n, 4) exponent of teaching's closed form for ``rows``: a x (E(t) - E(t0)), the log of
    the share of (1 - skill) that the teaching since the student's last sync leaves
    (mechanisms/teaching.py); 0 for a row not enrolled, which is not taught."""
    out = np.zeros((len(rows), 4))
    for a in range(len(rows)):
        s = rows[a]
        if status[s] != ENROLLED:
            continue
        apt = np.float64(aptitude[s])
        c = code[s]
        for j in range(4):
            out[a, j] = apt * (exposure[c, j] - sync[s, j])
    return out


@njit(cache=True)
def skills_now(rows, status, skills, retain):
    """(n, 4) skills of ``rows`` now: 1 - (1 - s) x retain for enrolled rows (``retain`` =
    exp of ``teaching_exponent``), the stored skill for everybody else."""
    out = np.empty((len(rows), 4))
    for a in range(len(rows)):
        s = rows[a]
        taught = status[s] == ENROLLED
        for j in range(4):
            v = np.float64(skills[s, j])
            out[a, j] = 1.0 - (1.0 - v) * retain[a, j] if taught else v
    return out


@njit(cache=True)
def _store(s, r, status, code, skills, sync, exposure):
    # The student's current skills become its stored ones (float32, as the table holds them)
    # and its sync point moves to now: what teaching.sync_skills does for one row.
    c = code[s]
    taught = status[s] == ENROLLED
    for j in range(4):
        if taught:
            skills[s, j] = np.float32(1.0 - (1.0 - np.float64(skills[s, j])) * r[j])
        sync[s, j] = exposure[c, j]


@njit(cache=True)
def store_skills(rows, retain, status, code, skills, sync, exposure):
    """Store the current skills of ``rows`` and move their sync point to now (a student who
    leaves study keeps the skills it has)."""
    for a in range(len(rows)):
        _store(rows[a], retain[a], status, code, skills, sync, exposure)


@njit(cache=True)
def drop_out(rows, retain, status, code, year, skills, sync, exposure, enrolled, status_counts):
    """Students ``rows`` whose dropout month has come drop out if still enrolled: their skills
    are stored, they leave the enrolled counts (``enrolled``, (U, 3) by university and
    programme), their status becomes dropped out and their year of study 0. Returns how many
    dropped out."""
    n_out = 0
    for a in range(len(rows)):
        s = rows[a]
        if status[s] != ENROLLED:
            continue
        _store(s, retain[a], status, code, skills, sync, exposure)
        c = code[s]
        enrolled[c // 3, c % 3] -= 1.0
        status[s] = DROPPED_OUT
        year[s] = 0
        n_out += 1
    status_counts[ENROLLED] -= n_out
    status_counts[DROPPED_OUT] += n_out
    return n_out


@njit(cache=True)
def graduate_cohort(rows, retain, status, code, year, skills, sync, exposure, enrolled,
                    grad_step, month):
    """June's graduates ``rows`` leave study: their skills are stored (``retain`` = exp of
    ``teaching_exponent``), they leave the enrolled counts (``enrolled``, (U, 3) by university
    and programme), graduate this ``month`` and their year of study becomes 0. Their status
    is set by the labour market (founder, employed, unemployed or left)."""
    for a in range(len(rows)):
        s = rows[a]
        _store(s, retain[a], status, code, skills, sync, exposure)
        c = code[s]
        enrolled[c // 3, c % 3] -= 1.0
        grad_step[s] = month
        year[s] = 0


@njit(cache=True)
def final_year(status, year, start, stop, programme_years):
    """Rows from ``start`` to ``stop`` of enrolled students in their final year (June's
    graduates), in row order."""
    out = np.empty(stop - start, dtype=np.int64)
    m = 0
    for s in range(start, stop):
        if status[s] == ENROLLED and year[s] == programme_years:
            out[m] = s
            m += 1
    return out[:m]


@njit(cache=True)
def move_up_a_year(status, year, start, stop):
    """September: every enrolled student from row ``start`` to ``stop`` moves up a year."""
    for s in range(start, stop):
        if status[s] == ENROLLED:
            year[s] += 1


@njit(cache=True)
def monthly_skill_rates(base, research, research_led, e2, industry, e3, immersion, staff):
    """(3U, 4) minus the monthly skill rates per (university, programme) row and skill, capped
    below 1, ready for log1p: classroom ``base`` plus research-led learning x research time
    (1.0), industry rates x capstone engagement ``e2`` (2.0) and immersion rates x live-project
    engagement ``e3`` (3.0), all x the teaching-time factor ``staff``; each rate rounded to
    float32 after every step, as the table of rates is held (teaching.rate_table)."""
    n_u = len(research)
    out = np.empty((3 * n_u, 4))
    for u in range(n_u):
        for prog in range(3):
            for j in range(4):
                r = base[prog, j]
                if prog == 0:
                    r = np.float32(np.float64(r) + research[u] * research_led[j])
                elif prog == 1:
                    r = np.float32(np.float64(r) + e2[u] * industry[j])
                else:
                    r = np.float32(np.float64(r) + e3[u] * immersion[j])
                r = np.float32(np.float64(r) * staff[u])
                out[3 * u + prog, j] = -min(np.float64(r), 1.0 - 1e-9)
    return out


@njit(cache=True)
def file_by_month(months, first_row, last_month):
    """New students (rows ``first_row`` on, their dropout ``months``) filed by dropout month:
    (rows sorted by month, in row order within a month, as a stable sort gives; the months
    that occur, ascending; where each month's rows start, with the end last). Months after
    ``last_month`` (when the cohort has certainly graduated) are left out."""
    lo = last_month + 1
    for a in range(len(months)):
        lo = min(lo, months[a])
    width = max(last_month - lo + 1, 0)
    count = np.zeros(width + 1, dtype=np.int64)
    for a in range(len(months)):
        if months[a] <= last_month:
            count[months[a] - lo + 1] += 1
    for b in range(width):
        count[b + 1] += count[b]
    rows = np.empty(count[width], dtype=np.int64)
    fill = count[:width].copy()
    for a in range(len(months)):
        m = months[a]
        if m <= last_month:
            rows[fill[m - lo]] = first_row + a
            fill[m - lo] += 1
    n_groups = 0
    for b in range(width):
        n_groups += count[b + 1] > count[b]
    month = np.empty(n_groups, dtype=np.int64)
    bounds = np.empty(n_groups + 1, dtype=np.int64)
    g = 0
    for b in range(width):
        if count[b + 1] > count[b]:
            month[g] = lo + b
            bounds[g] = count[b]
            g += 1
    bounds[n_groups] = count[width]
    return rows, month, bounds


@njit(cache=True)
def immersion_engagement(active, university, brokered, capstone_firm, capstone_uni, alive,
                         counts, per_firm, live_slots):
    """Per university (``counts``: (U, 3) enrolled by programme): 2.0 engagement, capstone
    places (``per_firm`` per living partner) per 2.0 student; 3.0 engagement, live-project
    slots (``live_slots`` per active brokered project) per 3.0 student; each capped at 1 and 0
    without students; and the share of the brokered slots that 3.0 students fill. Also a mask
    of the capstone partners still alive, whether all of them are, and the two engagements'
    means over the universities as numpy's ``mean`` takes them (its pairwise sum, ``row_sum``,
    over the count): the month's flows (teaching.engagement)."""
    n_u = counts.shape[0]
    partners = np.zeros(n_u)
    keep = np.empty(len(capstone_firm), dtype=np.bool_)
    all_alive = True
    for a in range(len(capstone_firm)):
        keep[a] = alive[capstone_firm[a]]
        if keep[a]:
            partners[capstone_uni[a]] += 1.0
        else:
            all_alive = False
    projects = np.zeros(n_u)
    for i in range(len(active)):
        if active[i] and brokered[i]:
            projects[university[i]] += 1.0
    e2, e3, fill = np.zeros(n_u), np.zeros(n_u), np.zeros(n_u)
    for u in range(n_u):
        slots2 = partners[u] * per_firm
        slots3 = projects[u] * live_slots
        if counts[u, 1] != 0:
            e2[u] = min(1.0, slots2 / max(counts[u, 1], 1.0))
        if counts[u, 2] != 0:
            e3[u] = min(1.0, slots3 / max(counts[u, 2], 1.0))
        if slots3 > 0:
            fill[u] = min(1.0, counts[u, 2] / max(slots3, 1e-9))
    return e2, e3, fill, keep, all_alive, row_sum(e2) / n_u, row_sum(e3) / n_u


@njit(cache=True)
def enrol_cohort(first, uni, prog, new_skills, new_aptitude, new_interest, wait, month, step,
                 year, university, programme, code, years, skills, aptitude, interest, status,
                 intake_step, dropout_step, sync, exposure, enrolled, status_counts):
    """Fill the rows of a new cohort from ``first`` on with its drawn university, programme,
    skills, aptitude, interest and dropout wait (world.admit_cohort; skills and aptitude are
    stored as the table's float32, the interest as its int8): enrolled in ``year``, admitted
    at ``step``, dropout month ``month`` + wait (the wait capped at 2**30 first, so that the
    sum cannot wrap, and the month at 2**30), synchronised with its programme's teaching
    exposure now, and counted in the enrolled and status counts. No employer, start-up, tie
    or graduation month: the rows keep the empty values (-1) ``Table.reserve`` gave them as
    it handed them out (writing them again was a tenth of the pass, which is as fast as
    memory takes the new rows: a metro September's 250,000)."""
    n = len(uni)
    for a in range(n):
        s = first + a
        c = 3 * np.int64(uni[a]) + np.int64(prog[a])
        university[s] = uni[a]
        programme[s] = prog[a]
        code[s] = c
        years[s] = year
        for j in range(4):
            skills[s, j] = np.float32(new_skills[a, j])
            sync[s, j] = exposure[c, j]
        aptitude[s] = np.float32(new_aptitude[a])
        interest[s] = np.int8(new_interest[a])
        status[s] = ENROLLED
        intake_step[s] = step
        dropout_step[s] = min(month + min(wait[a], 2**30), 2**30)
        enrolled[c // 3, c % 3] += 1.0
    status_counts[ENROLLED] += n


@njit(cache=True)
def willing_partners(draw, alive, employees, min_employees, home_university, productivity,
                     diverted, grad_skill, prior_grad_skill, premium, trust, cash, acceptance,
                     cash_buffer):
    """September's firms willing to be their home university's capstone partners
    (teaching.recruit_capstones), in row order, and those universities: living firms with at
    least ``min_employees`` employees whose uniform ``draw`` (one per firm row) is below
    ``acceptance`` x (1 + trust in the university) and whose cash covers ``cash_buffer``
    months of value added (``Firms.value_added``'s formula, element by element as numpy
    computes it). One pass instead of some fifteen numpy calls over every eligible row (the
    metro region's 100,000)."""
    n = len(alive)
    rows = np.empty(n, dtype=np.int64)
    home = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if not (alive[i] and employees[i] >= min_employees):
            continue
        h = np.int64(home_university[i])
        if not draw[i] < acceptance * (1.0 + trust[i, h]):
            continue
        # Firms.value_added: productivity x (max(employees - diverted, 0) + premium x
        # graduate skill); np.maximum keeps the first operand when it is >= or NaN.
        labour = employees[i] - diverted[i]
        if not (labour >= 0.0 or np.isnan(labour)):
            labour = 0.0
        labour = labour + premium * (grad_skill[i] + prior_grad_skill[i])
        va = productivity[i] * labour * np.float64(alive[i])
        if cash[i] >= cash_buffer * va:
            rows[m] = i
            home[m] = h
            m += 1
    return rows[:m], home[:m]
