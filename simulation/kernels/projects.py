"""Kernels of mechanism 4, collaboration (simulation/mechanisms/collaboration.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _unit_dot(a, b):
    """Cosine similarity of two knowledge rows as knowledge.rowwise_distance forms it."""
    na = 0.0
    nb = 0.0
    for j in range(len(a)):
        na += a[j] * a[j]
        nb += b[j] * b[j]
    na = max(np.sqrt(na), 1e-12)
    nb = max(np.sqrt(nb), 1e-12)
    dot = 0.0
    for j in range(len(a)):
        dot += (a[j] / na) * (b[j] / nb)
    return dot


@njit(cache=True)
def _distance(a, b):
    """knowledge.rowwise_distance of two rows: 1 - cosine similarity, in [0, 1]."""
    return min(max(1.0 - _unit_dot(a, b), 0.0), 1.0)


@njit(cache=True)
def _unit_rows(x):
    """Rows scaled to unit length as _unit_dot scales its second row (b[j] / max(|b|,
    1e-12)): a step that measures many firms against a few universities scales each
    university once."""
    out = np.empty_like(x)
    for u in range(x.shape[0]):
        norm = 0.0
        for j in range(x.shape[1]):
            norm += x[u, j] * x[u, j]
        norm = max(np.sqrt(norm), 1e-12)
        for j in range(x.shape[1]):
            out[u, j] = x[u, j] / norm
    return out


@njit(cache=True)
def _distance_to_unit(a, unit_b):
    """_distance(a, b) with b's row already scaled by _unit_rows: the same operations in the
    same order, so the same number."""
    na = 0.0
    for j in range(len(a)):
        na += a[j] * a[j]
    na = max(np.sqrt(na), 1e-12)
    dot = 0.0
    for j in range(len(a)):
        dot += (a[j] / na) * unit_b[j]
    return min(max(1.0 - dot, 0.0), 1.0)


@njit(cache=True)
def _inverted_u(distance, optimum, shape):
    """knowledge.inverted_u."""
    r = distance / optimum
    return r**shape * np.exp(shape * (1.0 - r))


@njit(cache=True)
def _slots(employees, slot_employees):
    """collaboration.project_slots of one firm."""
    return max(np.int64(np.floor(employees / slot_employees)), 1)


@njit(cache=True)
def _has_free_slot(alive, employees, cash, running, slot_employees, need):
    """collaboration.free_firms of one firm: alive, a free project slot, and cash that covers
    ``need`` times its running projects plus a new one (collaboration.can_afford). A firm
    that runs nothing has a free slot (it has at least one): most firms, which skip the
    division."""
    return (alive and (running == 0 or running < _slots(employees, slot_employees))
            and cash >= need * (1 + running))


@njit(cache=True)
def _free_rows(alive, employees, cash, running, slot_employees, need):
    """Rows of the firms with a free slot (_has_free_slot), in row order."""
    out = np.empty(len(alive), dtype=np.int64)
    m = 0
    for i in range(len(alive)):
        if _has_free_slot(alive[i], employees[i], cash[i], running[i], slot_employees, need):
            out[m] = i
            m += 1
    return out[:m]


@njit(cache=True)
def _places(faculty, projects_per_faculty):
    """Each university's project places: ``projects_per_faculty`` x faculty, rounded down."""
    places = np.empty(len(faculty), dtype=np.int64)
    for u in range(len(faculty)):
        places[u] = np.int64(np.floor(faculty[u] * projects_per_faculty))
    return places


@njit(cache=True)
def _capacity_left(places, used):
    """collaboration.capacity_left: places less active projects, at least 0."""
    capacity = np.empty(len(places), dtype=np.int64)
    for u in range(len(places)):
        capacity[u] = max(places[u] - used[u], 0)
    return capacity


@njit(cache=True)
def end_projects(alive, cash, employees, knowledge, trust, trusted, uni_knowledge, uni_faculty,
                 firm, university, end_step, payoff, social, gov_funded, active, failed,
                 u_abandon, u_success, month, ep):
    """The month's projects ending, and the free places they leave, in one pass of each:

    1. Active projects that end: at their end month, when the firm has died or can no longer
       pay its share, or abandoned (collaboration.abandon_probability, one uniform of
       ``u_abandon`` per project row); one that ran to its end succeeds when its
       ``u_success`` draw is below its payoff. Success raises trust, failure or abandonment
       lowers it, once per firm-university pair and month.
    2. A firm whose slots shrank below its active projects keeps as many as its slots of
       those it started last and drops the others (rows are in start order), as the numpy
       implementation ranked them.
    3. Every pair's trust decays by ``trust_decay``: the pairs of the ``trusted`` rows (the
       rows a success has raised, marked here), since every other pair's trust is 0.
    4. The free places of both sides for the month's new projects: the firms with a free
       slot and the cash for one more project (collaboration.free_firms) and each
       university's places (collaboration.capacity_left), counted from the running projects
       that steps 1 and 2 leave.

    ``ep`` holds the parameters in the order of collaboration.END_PARAMETERS. Returns (counts
    [ended, succeeded, abandoned, active after step 1, dropped for slots], free firm rows,
    active projects per firm, places each university can still take on).
    """
    (project_cost, matching_rate, social_rate, optimal_distance, abandon_hazard,
     abandon_distance, abandon_protect, trust_gain, trust_loss, trust_decay, slot_employees,
     need, projects_per_faculty) = (ep[0], ep[1], ep[2], ep[3], ep[4], ep[5], ep[6], ep[7],
                                    ep[8], ep[9], ep[10], ep[11], ep[12])
    n_rows, n = len(active), len(alive)
    n_u = trust.shape[1]
    counts = np.zeros(5, dtype=np.int64)
    ending = np.zeros(n_rows, dtype=np.bool_)
    succeeded = np.zeros(n_rows, dtype=np.bool_)
    # A month's abandonment hazard is at most its value at the largest squared gap a distance
    # in [0, 1] can have; a draw at or above that bound (widened for rounding) is no
    # abandonment, and the project skips its distance.
    top_gap = max(1.0, (1.0 - optimal_distance) / optimal_distance)
    hazard_bound = abandon_hazard * (1.0 + abandon_distance * top_gap**2)
    if not (abandon_hazard >= 0.0 and abandon_distance >= 0.0):
        hazard_bound = np.inf  # the bound holds for the parameters' ranges only
    for r in range(n_rows):
        if not active[r]:
            continue
        i, u = firm[r], university[r]
        rate = social_rate if social[r] else matching_rate
        share = 1.0 - rate * gov_funded[r]
        broke = cash[i] < project_cost * share
        due = end_step[r] <= month
        abandoned = False
        if not due and alive[i] and not broke:
            protect = 1.0 - abandon_protect * trust[i, u]
            if u_abandon[r] < hazard_bound * protect * (1.0 + 1e-9) + 1e-300:
                gap = ((_distance(knowledge[i], uni_knowledge[u]) - optimal_distance)
                       / optimal_distance)
                h = abandon_hazard * (1.0 + abandon_distance * gap**2) * protect
                abandoned = u_abandon[r] < min(max(h, 0.0), 1.0)
        if due or not alive[i] or broke or abandoned:
            ending[r] = True
            active[r] = False
            succeeded[r] = due and not abandoned and u_success[r] < payoff[r]
            failed[r] = not succeeded[r]
            counts[0] += 1
            counts[1] += succeeded[r]
            counts[2] += abandoned
        else:
            counts[3] += 1
    if counts[0] > 0:
        # Trust moves once per pair: first every success, then every loss (living firms
        # only). The pairs of each kind are found by sorting their keys (firm x U +
        # university; the month's few endings), not by marking an (n, U) table: each pair
        # changes once, so the order between pairs does not matter.
        gains = np.empty(counts[1], dtype=np.int64)
        losses = np.empty(counts[0] - counts[1], dtype=np.int64)
        n_gains = 0
        n_losses = 0
        for r in range(n_rows):
            if not ending[r]:
                continue
            key = firm[r] * np.int64(n_u) + university[r]
            if succeeded[r]:
                gains[n_gains] = key
                n_gains += 1
            elif alive[firm[r]]:
                losses[n_losses] = key
                n_losses += 1
        gains = np.sort(gains)
        for k in range(n_gains):
            if k == 0 or gains[k] != gains[k - 1]:
                i, u = gains[k] // n_u, gains[k] % n_u
                t = trust[i, u]
                trust[i, u] = t + trust_gain * (1.0 - t)
                trusted[i] = True
        losses = np.sort(losses[:n_losses])
        for k in range(n_losses):
            if k == 0 or losses[k] != losses[k - 1]:
                trust[losses[k] // n_u, losses[k] % n_u] *= 1.0 - trust_loss
    # Newest first: a firm keeps the projects it started last, up to its slots.
    running = np.zeros(n, dtype=np.int64)
    used = np.zeros(n_u, dtype=np.int64)
    for r in range(n_rows - 1, -1, -1):
        if not active[r]:
            continue
        i = firm[r]
        if running[i] >= _slots(employees[i], slot_employees):
            active[r] = False
            failed[r] = True
            counts[4] += 1
        else:
            running[i] += 1
            used[university[r]] += 1
    decay = 1.0 - trust_decay
    for i in range(n):
        if trusted[i]:
            for u in range(n_u):
                trust[i, u] *= decay
    free = _free_rows(alive, employees, cash, running, slot_employees, need)
    return counts, free, running, _capacity_left(_places(uni_faculty, projects_per_faculty),
                                                 used)


@njit(cache=True)
def free_firms(alive, employees, cash, firm, university, active, slot_employees, need, faculty,
               projects_per_faculty):
    """Rows of living firms with a free project slot whose cash covers ``need`` times their
    running projects plus a new one (collaboration.can_afford), and the projects each
    university can still take on (collaboration.capacity_left): one pass over the projects
    counts both sides' running projects. Returns (free firm rows, places left, active
    projects per firm)."""
    running = np.zeros(len(alive), dtype=np.int64)
    used = np.zeros(len(faculty), dtype=np.int64)
    for r in range(len(active)):
        if active[r]:
            running[firm[r]] += 1
            used[university[r]] += 1
    return (_free_rows(alive, employees, cash, running, slot_employees, need),
            _capacity_left(_places(faculty, projects_per_faculty), used), running)


@njit(cache=True)
def within_capacity(groups, capacity, order):
    """collaboration.within_capacity: members taken in the random ``order`` (a permutation of
    the rows), each kept while its group ``g`` has had fewer than ``capacity[g]`` taken."""
    taken = np.zeros(len(capacity), dtype=np.int64)
    keep = np.zeros(len(groups), dtype=np.bool_)
    for k in range(len(order)):
        r = order[k]
        g = groups[r]
        keep[r] = taken[g] < capacity[g]
        taken[g] += 1
    return keep


@njit(cache=True)
def matches_within_capacity(matched, choice, via, capacity, order):
    """The search's matches that the universities' places admit: within_capacity over the
    matched rows (numbered in row order; ``order`` a permutation of them) grouped by their
    university ``choice``. A match beyond its university's places is unmatched (in place).
    Returns (matches kept, of which found through the platform)."""
    rows = np.flatnonzero(matched)
    keep = within_capacity(choice[rows], capacity, order)
    kept = 0
    platform = 0
    for k in range(len(rows)):
        if keep[k]:
            kept += 1
            platform += via[rows[k]]
        else:
            matched[rows[k]] = False
    return kept, platform


@njit(cache=True)
def accept_offers(firms, unis, social, knowledge, uni_knowledge, employees, absorptive,
                  productivity, diverted, grad_skill, prior_grad_skill, alive, cash, ap):
    """collaboration.accepts of offered matches ``firms`` x ``unis``: the firm takes the
    project when the value of what it expects to learn (collaboration.expected_payoff) covers
    its share of the cost and its management time, and its cash covers its buffer. ``ap``
    holds the parameters in the order of collaboration.ACCEPT_PARAMETERS."""
    (slot_employees, transfer_rate, optimal_distance, payoff_shape, duration, elasticity,
     premium, horizon, grant_on, matching_rate, social_rate, project_cost, firm_fte,
     cash_buffer) = (ap[0], ap[1], ap[2], ap[3], ap[4], ap[5], ap[6], ap[7], ap[8], ap[9],
                     ap[10], ap[11], ap[12], ap[13])
    k = knowledge.shape[1]
    ok = np.empty(len(firms), dtype=np.bool_)
    for c in range(len(firms)):
        i, u = firms[c], unis[c]
        # knowledge.learning summed over domains: absorption x novelty, relative to the
        # firm's stock, divided by its slots, along the university's profile.
        d = _distance(knowledge[i], uni_knowledge[u])
        learnt = (np.exp(-payoff_shape * d / optimal_distance)
                  * (np.e * d / optimal_distance) ** payoff_shape)
        own = 0.0
        partner = 0.0
        for j in range(k):
            own += knowledge[i, j]
            partner += uni_knowledge[u, j]
        amount = (learnt * (transfer_rate * absorptive[i]) * own
                  / max(float(_slots(employees[i], slot_employees)), 1e-12))
        den = max(partner, 1e-12)
        per_month = 0.0
        for j in range(k):
            per_month += amount * (uni_knowledge[u, j] / den)
        relative = per_month * duration / max(own, 1e-12)
        # Firms.value_added
        extra = premium * (grad_skill[i] + prior_grad_skill[i])
        va = productivity[i] * (max(employees[i] - diverted[i], 0.0) + extra) * alive[i]
        value = elasticity * relative * va * horizon
        grant = (social_rate if social[c] else matching_rate) if grant_on else 0.0
        cost = duration * (project_cost * (1.0 - grant) + firm_fte * productivity[i])
        ok[c] = cash[i] >= cash_buffer * va and value >= cost
    return ok


@njit(cache=True)
def screen_firms(pool, picks, want, knowledge, uni_knowledge, trust, optimal_distance,
                 payoff_shape):
    """The brokers' screen: university ``u`` makes ``want[u]`` offers, each to the best of
    the firms ``pool[picks[row]]`` it screened (inverted-U payoff of the cognitive distance x
    (1 + trust), first best on ties); a firm picked by several offers keeps the first.
    Returns (firms in ascending row order, their university, the payoff of the pair)."""
    n_offers, n_screen = picks.shape
    unit = _unit_rows(uni_knowledge)
    best_firm = np.empty(n_offers, dtype=np.int64)
    best_uni = np.empty(n_offers, dtype=np.int64)
    best_pay = np.empty(n_offers)
    row = 0
    for u in range(len(want)):
        for _ in range(want[u]):
            top = -np.inf
            for c in range(n_screen):
                i = pool[picks[row, c]]
                pay = _inverted_u(_distance_to_unit(knowledge[i], unit[u]), optimal_distance,
                                  payoff_shape)
                score = pay * (1.0 + trust[i, u])
                if score > top or c == 0:
                    top = score
                    best_firm[row], best_uni[row], best_pay[row] = i, u, pay
            row += 1
    # At most one offer a firm: its first, the offers listed by firm row.
    order = np.argsort(best_firm, kind="mergesort")
    m = 0
    for k in range(n_offers):
        if k == 0 or best_firm[order[k]] != best_firm[order[k - 1]]:
            order[m] = order[k]
            m += 1
    keep = order[:m]
    return best_firm[keep], best_uni[keep], best_pay[keep]


@njit(cache=True)
def open_projects(firm, university, start_step, end_step, brokered, via_platform, gov_funded,
                  payoff, active, social, failed, partners, first, firms, unis, pay, via,
                  with_partner, take, is_brokered, funded, month, end, free, running,
                  capacity_left, alive, employees, cash, slot_employees, need):
    """collaboration.start_projects: the offers ``take`` selects become projects, in their
    order, filling rows ``first`` onwards and running until month ``end``; each firm's count
    of projects ever started rises by one. The month's free places follow
    (collaboration.OpenSlots): each firm runs one more project and each university has one
    place less, and the firms of ``free`` that no longer have a free slot or the cash for one
    more project leave it (compacted in place, row order kept). A firm starts at most one
    project a call. Returns (how many of ``free`` remain, projects with a social partner)."""
    r = first
    n_social = 0
    started = np.zeros(len(running), dtype=np.bool_)
    for c in range(len(firms)):
        if not take[c]:
            continue
        started[firms[c]] = True
        firm[r] = firms[c]
        university[r] = unis[c]
        start_step[r] = month
        end_step[r] = end
        brokered[r] = is_brokered
        via_platform[r] = via[c]
        gov_funded[r] = funded
        payoff[r] = pay[c]
        active[r] = True
        social[r] = with_partner[c]
        failed[r] = False
        partners[firms[c]] += 1
        running[firms[c]] += 1
        capacity_left[unis[c]] = max(capacity_left[unis[c]] - 1, 0)
        n_social += with_partner[c]
        r += 1
    # Only a firm that started a project can have lost its free slot or its cash cover.
    m = 0
    for c in range(len(free)):
        i = free[c]
        if not started[i] or _has_free_slot(alive[i], employees[i], cash[i], running[i],
                                            slot_employees, need):
            free[m] = i
            m += 1
    return m, n_social


@njit(cache=True)
def grants_due(social, gov_funded, active, project_cost, matching_rate, social_rate):
    """Matching grants the active projects are due this month (before the pot is checked)
    and their number."""
    due = 0.0
    n_active = 0
    for r in range(len(active)):
        if active[r]:
            n_active += 1
            due += project_cost * (social_rate if social[r] else matching_rate) * gov_funded[r]
    return due, n_active


@njit(cache=True)
def search_probability(search_rate, rd_ratio, size_ratio, size_elasticity, experience,
                       absorptive, grant_factor, platform_factor):
    """A free firm's monthly probability of searching for a partner, before the cap at 1:
    ``search_rate`` x sqrt(R&D intensity / its reference) x (employees / reference
    employees)^``search_size_elasticity`` x (1 + the experience boost x its highest trust) x
    (0.5 + absorptive capacity) x the grant and platform factors."""
    return (search_rate * np.sqrt(rd_ratio) * size_ratio ** size_elasticity * experience
            * (0.5 + absorptive) * grant_factor * platform_factor)


@njit(cache=True)
def search_probability_bound(search_rate, rd_ratio, size_ratio, size_elasticity, experience,
                             absorptive, grant_factor, platform_factor):
    """An upper bound of search_probability without its power, for elasticities in [0, 1]:
    x^e <= 1 + e (x - 1) (a concave power lies below its tangent at 1), widened by a
    relative 1e-6 and an absolute 1e-15 for the rounding of the exact computation. A draw at
    or above it is no search."""
    p = (search_rate * np.sqrt(rd_ratio) * (1.0 + size_elasticity * (size_ratio - 1.0))
         * experience * (0.5 + absorptive) * grant_factor * platform_factor)
    return p * (1.0 + 1e-6) + 1e-15


@njit(cache=True)
def searching_firms(candidates, employees, rd_intensity, absorptive, trust, platform_member,
                    u_search, platform, sp):
    """The free firms ``candidates`` (in row order) that search for a partner this month:
    those whose ``u_search`` draw is below their search_probability (capped at 1). ``sp``
    holds the parameters in the order collaboration.search_and_match lists them. Returns
    their rows, in row order."""
    (search_rate, rd_reference, size_reference, size_elasticity, experience_boost,
     grant_factor, boost) = (sp[0], sp[1], sp[2], sp[3], sp[4], sp[5], sp[6])
    n_u = trust.shape[1]
    bounded = 0.0 <= size_elasticity <= 1.0
    # A cheaper bound first, without the square root and the divisions: trust lies in [0, 1]
    # (its column's range, which tests/test_invariants.py checks every month), so the
    # experience factor is at most 1 + experience_boost; sqrt(y) <= (1 + y) / 2; the size
    # factor 1 + e (x - 1) is at most max(1, x) for e in [0, 1]; every factor is
    # non-negative, so the product is at most the product of these, and the relative 1e-9
    # and absolute 1e-14 cover the rounding of both orders of operations (a few units in
    # the last place each). A draw at or above it is no search, and the firm's trust row (U
    # numbers) is not read: most free firms.
    inv_rd = 1.0 / rd_reference
    inv_size = 1.0 / size_reference
    top = (search_rate * (1.0 + experience_boost) * grant_factor * (1.0 + 1e-6)
           * (1.0 + 1e-9))
    prefilter = (bounded and experience_boost >= 0.0 and search_rate >= 0.0
                 and grant_factor >= 0.0 and boost >= 0.0 and rd_reference > 0.0
                 and size_reference > 0.0)
    rows = np.empty(len(candidates), dtype=np.int64)
    s = 0
    for c in range(len(candidates)):
        i = candidates[c]
        member = platform_member[i] and platform
        if (prefilter and rd_intensity[i] >= 0.0 and absorptive[i] >= -0.5
                and u_search[i] >= top * (0.5 + 0.5 * (rd_intensity[i] * inv_rd))
                * max(1.0, max(employees[i], 1) * inv_size) * (0.5 + absorptive[i])
                * (1.0 + boost * member) + 1e-14):
            continue
        best_trust = trust[i, 0]
        for u in range(1, n_u):
            best_trust = max(best_trust, trust[i, u])
        inputs = (search_rate, rd_intensity[i] / rd_reference,
                  max(employees[i], 1) / size_reference, size_elasticity,
                  1.0 + experience_boost * best_trust, absorptive[i], grant_factor,
                  1.0 + boost * member)
        # Most free firms' draws are above a bound of their probability: they skip its power.
        if bounded and u_search[i] >= search_probability_bound(*inputs):
            continue
        if not u_search[i] < min(search_probability(*inputs), 1.0):
            continue
        rows[s] = i
        s += 1
    return rows[:s]


@njit(cache=True)
def choose_partners(rows, knowledge, trust, home_university, platform_member, uni_knowledge,
                    capacity_left, enrolled, u_choice, u_accept, platform, sp):
    """The searching firms ``rows``' partners: which university each picks (logit over
    inverted-U payoff x (1 + trust) with the Gumbel noise of its uniforms ``u_choice[k]``,
    among reachable universities with capacity) and whether the match succeeds (its acceptance
    uniform ``u_accept[k]`` below the acceptance probability), more likely
    at a university of many 3.0 students (``enrolled``, (U, 3) by programme: World.share_3_0
    of the pick, from integer counts, which add exactly in any order).

    ``sp`` holds the parameters in the order collaboration.search_and_match lists them. Returns
    (their choice, its payoff, found through the platform, matched); rows without a
    reachable university with capacity are not matched.
    """
    (boost, optimal_distance, payoff_shape, choice_noise, match_probability,
     broker_boost) = (sp[6], sp[7], sp[8], sp[9], sp[10], sp[11])
    n_u = uni_knowledge.shape[0]
    m = len(rows)
    choice = np.empty(m, dtype=np.int64)
    chosen = np.empty(m)
    via = np.empty(m, dtype=np.bool_)
    matched = np.empty(m, dtype=np.bool_)
    for s in range(m):
        i = rows[s]
        member = platform_member[i] and platform
        best = -np.inf
        pick = 0
        pick_payoff = 0.0
        for u in range(n_u):
            if not (member or u == home_university[i]) or capacity_left[u] <= 0:
                continue  # out of reach (no platform: the home university only) or full
            pay = _inverted_u(_distance(knowledge[i], uni_knowledge[u]), optimal_distance,
                              payoff_shape)
            score = (np.log(max(pay * (1.0 + trust[i, u]), 1e-12))
                     - choice_noise * np.log(-np.log(max(u_choice[s, u], 1e-300))))
            if score > best:
                best, pick, pick_payoff = score, u, pay
        choice[s] = pick
        chosen[s] = pick_payoff
        via[s] = member and pick != home_university[i]
        total = enrolled[pick, 0] + enrolled[pick, 1] + enrolled[pick, 2]
        share_3_0 = enrolled[pick, 2] / max(total, 1.0) if total > 0 else 0.0
        accept = (match_probability * pick_payoff * (1.0 + broker_boost * share_3_0)
                  * (1.0 + boost * member))
        matched[s] = best > -np.inf and u_accept[s] < min(accept, 1.0)
    return choice, chosen, via, matched


@njit(cache=True)
def run_projects(alive, employees, knowledge, absorptive, cash, public_money, diverted,
                 last_project, uni_knowledge, uni_faculty, capstone_firm, firm, university,
                 social, gov_funded, brokered, active, month, paid_share, rp):
    """One month of every active project: staff diverted from production (projects and 2.0
    capstones, at most half a firm's employees), the firm's share of the cost, and
    knowledge both ways by knowledge.learning, all learning sized on the stocks at the start
    of the month. ``rp`` holds the parameters in the order of
    collaboration.RUN_PARAMETERS. Returns [grants paid, brokered projects, knowledge to
    firms, knowledge to universities]."""
    (capstone_fte, project_fte, project_cost, matching_rate, social_rate, slot_employees,
     projects_per_faculty, transfer_rate, feedback_rate, optimal_distance,
     payoff_shape) = (rp[0], rp[1], rp[2], rp[3], rp[4], rp[5], rp[6], rp[7], rp[8], rp[9],
                      rp[10])
    n, k = len(alive), knowledge.shape[1]  # the arrays have spare capacity past row n
    out = np.zeros(4)
    diverted[:n] = 0.0
    for c in range(len(capstone_firm)):
        diverted[capstone_firm[c]] += capstone_fte
    act = np.flatnonzero(active)
    for r in act:
        i = firm[r]
        last_project[i] = month
        diverted[i] += project_fte
        rate = social_rate if social[r] else matching_rate
        grant = project_cost * rate * gov_funded[r] * paid_share
        out[0] += grant
        cash[i] -= project_cost - grant
        public_money[i] += grant
        out[1] += brokered[r]
    for i in range(n):
        diverted[i] = min(diverted[i], 0.5 * employees[i])
    # Learning: absorption x novelty in distance, relative to the learner's stock, along the
    # partner's profile; the firm's capacity is its slots, a university's its project places.
    to_firm = np.zeros((len(act), k))
    to_uni = np.zeros((len(act), k))
    unit = _unit_rows(uni_knowledge)
    for a in range(len(act)):
        r = act[a]
        i, u = firm[r], university[r]
        d = _distance_to_unit(knowledge[i], unit[u])
        novelty = (np.e * d / optimal_distance) ** payoff_shape
        learnt = np.exp(-payoff_shape * d / optimal_distance) * novelty
        own_f = 0.0
        own_u = 0.0
        for j in range(k):
            own_f += knowledge[i, j]
            own_u += uni_knowledge[u, j]
        slots = float(_slots(employees[i], slot_employees))
        capacity = max(uni_faculty[u] * projects_per_faculty, 1.0)
        to_f = learnt * (transfer_rate * absorptive[i]) * own_f / max(slots, 1e-12)
        to_u = learnt * feedback_rate * own_u / max(capacity, 1e-12)
        den_u = max(own_u, 1e-12)
        den_f = max(own_f, 1e-12)
        for j in range(k):
            to_firm[a, j] = to_f * (uni_knowledge[u, j] / den_u)
            to_uni[a, j] = to_u * (knowledge[i, j] / den_f)
    for a in range(len(act)):
        r = act[a]
        for j in range(k):
            knowledge[firm[r], j] += to_firm[a, j]
            out[2] += to_firm[a, j]
            uni_knowledge[university[r], j] += to_uni[a, j]
            out[3] += to_uni[a, j]
    return out
