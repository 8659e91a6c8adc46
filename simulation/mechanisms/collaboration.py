"""Mechanism 4, collaboration: firms and universities form, run and end joint projects.

Search (joint-research channel). Each month a firm with a free project slot (one per
``project_slot_employees`` employees, at least one), whose cash covers its share of one more
whole project, searches for a university partner with a probability that rises with its size
(elasticity ``search_size_elasticity``), its R&D intensity, its absorptive capacity (Cohen &
Levinthal 1990), its experience (its highest trust in a university: cumulative advantage) and
the matching grants available. Without the platform a
firm only reaches its home university; a platform member reaches every university. The partner
is chosen by a logit rule (Gumbel noise) over inverted-U payoff x (1 + trust), among
universities with free capacity; the match then succeeds with a probability proportional to
the payoff, raised by the platform and by a university's 3.0 brokerage (a neutral broker lowers
transaction costs). This is the partner search of the SKIN family (Gilbert, Pyka & Ahrweiler
2001; Ahrweiler, Pyka & Gilbert 2004), vectorised.

Brokerage (brokerage channel). A university with 3.0 students starts brokered three-party
projects: it screens ``broker_candidates`` firms (more through the platform), picks the best
payoff, and the government co-funds through matching grants when money is left.

Running projects (both kinds) cost ``project_cost`` a month, split between the firm and the
matching-grant pot, and move knowledge both ways: each side's stock grows, relative to its own
size, in the capabilities the partner has and it lacks (the positive part of the difference of
their profiles), scaled by the payoff (and for the firm its absorptive capacity); firm problems
flow back to the university. Each side's growth is divided by its project capacity (slots for a
firm), so a partner with many projects learns like one at full capacity, not many times over.
Projects end after ``project_duration`` months, or earlier when the firm exits or can no longer
pay.
A project succeeds with probability equal to its payoff; success raises trust.
"""

from __future__ import annotations

import numpy as np

from ..knowledge import cosine_distance, inverted_u, profile, rowwise_distance
from ..world import INSTRUMENT_INDEX, World

MATCHING = INSTRUMENT_INDEX["matching_grants"]


def apply(w: World) -> None:
    end_projects(w)
    w.firms.trust[: w.firms.n] *= 1.0 - w.p["trust_decay"]
    if w.channel("joint_research"):
        search_and_match(w)
    if w.channel("brokerage"):
        broker(w)
    run_projects(w)


def end_projects(w: World) -> None:
    pr, f = w.projects, w.firms
    act = pr.active_rows()
    if len(act) == 0:
        return
    # A project ends at its end month, or early when the firm has died or can no longer pay.
    share = 1.0 - w.p["matching_rate"] * pr.gov_funded[act]
    broke = f.cash[pr.firm[act]] < w.p["project_cost"] * share
    done = act[(pr.end_step[act] <= w.month) | ~f.alive[pr.firm[act]] | broke]
    pr.active[done] = False
    # One draw per project row: a project's fate does not depend on how many others ended.
    success = w.rng("collaboration.success").random(pr.n)[done] < pr.payoff[done]
    fi, ui = pr.firm[done][success], pr.university[done][success]
    f.trust[fi, ui] += w.p["trust_gain"] * (1.0 - f.trust[fi, ui])
    w.count("projects_ended", len(done))
    w.count("projects_succeeded", int(success.sum()))


def capacity_left(w: World) -> np.ndarray:
    """Projects each university can still take on (>= 0)."""
    act = w.projects.active_rows()
    used = np.bincount(w.projects.university[act], minlength=w.unis.count)
    cap = np.floor(w.unis.faculty * w.p["projects_per_faculty"]) - used
    return np.maximum(cap, 0).astype(np.int64)


def can_afford(w: World, firms: np.ndarray, running: np.ndarray | int = 0) -> np.ndarray:
    """Firms whose cash covers ``project_cash_cover`` times their share of the whole of their
    ``running`` projects plus a new one, at the current matching rate (a prudent firm keeps a
    buffer for bad months)."""
    p = w.p
    grant = p["matching_rate"] if w.gov.balance[MATCHING] > 0 else 0.0
    need = p["project_cash_cover"] * p["project_duration"] * p["project_cost"] * (1.0 - grant)
    return w.firms.cash[firms] >= need * (1 + np.asarray(running))


def project_slots(employees: np.ndarray, slot_employees: float) -> np.ndarray:
    """Concurrent projects a firm can run: one per ``slot_employees`` employees, at least one."""
    return np.maximum(np.asarray(employees) // slot_employees, 1).astype(np.int64)


def free_firms(w: World) -> np.ndarray:
    """Rows of living firms with a free project slot and the cash for one more project."""
    f = w.firms
    running = firms_in_projects(w)
    rows = np.flatnonzero(f.alive[: f.n])
    rows = rows[running[rows] < project_slots(f.employees[rows], w.p["project_slot_employees"])]
    return rows[can_afford(w, rows, running[rows])]


def firms_in_projects(w: World) -> np.ndarray:
    """Number of active projects per firm row."""
    act = w.projects.active_rows()
    return np.bincount(w.projects.firm[act], minlength=w.firms.n)


def within_capacity(groups: np.ndarray, capacity: np.ndarray, rng: np.random.Generator
                    ) -> np.ndarray:
    """Boolean mask keeping, in random order, at most capacity[g] members of each group g."""
    if len(groups) == 0:
        return np.zeros(0, dtype=bool)
    order = rng.permutation(len(groups))
    g = groups[order]
    sort = np.argsort(g, kind="stable")
    gs = g[sort]
    first = np.searchsorted(gs, gs, side="left")
    rank = np.arange(len(gs)) - first
    keep_sorted = rank < capacity[gs]
    keep = np.empty(len(groups), dtype=bool)
    keep[order[sort]] = keep_sorted
    return keep


def search_and_match(w: World) -> None:
    p, f = w.p, w.firms
    n = f.n
    cand = free_firms(w)
    if len(cand) == 0:
        return
    platform = w.platform_live()
    member = f.platform_member[cand] & platform
    grant_available = 1.0 if w.gov.balance[MATCHING] > 0 else 0.0
    rd_rel = np.sqrt(f.rd_intensity[cand] / max(p["rd_intensity"], 1e-12))
    size_rel = (np.maximum(f.employees[cand], 1) / p["search_reference_employees"]
                ) ** p["search_size_elasticity"]
    experience = 1.0 + p["experience_search_boost"] * f.trust[cand].max(axis=1)
    prob = (p["search_rate"] * rd_rel * size_rel * experience * (0.5 + f.absorptive[cand])
            * (1.0 + p["grant_search_boost"] * p["matching_rate"] * grant_available)
            * (1.0 + p["platform_match_boost"] * member))
    searching = w.rng("collaboration.search").random(n)[cand] < np.minimum(prob, 1.0)
    s = cand[searching]
    member = member[searching]
    w.count("searches", len(s))
    if len(s) == 0:
        return
    n_u = w.unis.count
    payoff = inverted_u(cosine_distance(f.knowledge[s], w.unis.knowledge),
                        p["optimal_distance"], p["payoff_shape"])  # (S, U)
    reach = np.zeros((len(s), n_u), dtype=bool)
    reach[np.arange(len(s)), f.home_university[s]] = True
    reach[member] = True
    cap = capacity_left(w)
    score = np.log(np.maximum(payoff * (1.0 + f.trust[s]), 1e-12))
    # Gumbel noise -log(-log(u)) from row-aligned uniforms, transformed only where needed.
    u = w.rng("collaboration.choice").random(size=(n, n_u))[s]
    score -= p["choice_noise"] * np.log(-np.log(np.maximum(u, 1e-300)))
    score[~reach | (cap[None, :] <= 0)] = -np.inf
    choice = np.argmax(score, axis=1)
    feasible = np.isfinite(score[np.arange(len(s)), choice])
    chosen_payoff = payoff[np.arange(len(s)), choice]
    via_platform = member & (choice != f.home_university[s])
    mix3 = w.share_3_0()[choice]
    broker = p["broker_match_boost"] * mix3 if w.channel("brokerage") else 0.0
    accept = (p["match_probability"] * chosen_payoff * (1.0 + broker)
              * (1.0 + p["platform_match_boost"] * member))
    matched = feasible & (w.rng("collaboration.accept").random(n)[s] < np.minimum(accept, 1.0))
    idx = np.flatnonzero(matched)
    keep = within_capacity(choice[idx], cap, w.rng("collaboration.capacity"))
    idx = idx[keep]
    w.count("platform_matches", int(via_platform[idx].sum()))
    start_projects(w, s[idx], choice[idx], chosen_payoff[idx], brokered=False,
                   via_platform=via_platform[idx])


def broker(w: World) -> None:
    """3.0 universities start brokered projects with the best-fitting of a screened set of firms."""
    p, f, u = w.p, w.firms, w.unis
    rng = w.rng("collaboration.broker")
    pool = free_firms(w)
    if len(pool) == 0:
        return
    want = rng.poisson(p["broker_rate"] * w.enrolled[:, 2] / 12.0)
    want = np.minimum(want, capacity_left(w))
    if want.sum() == 0:
        return
    platform = w.platform_live()
    n_screen = p["broker_candidates"] * (3 if platform else 1)  # the platform widens the screen
    uni = np.repeat(np.arange(u.count), want)
    screened = pool[rng.integers(0, len(pool), size=(len(uni), n_screen))]
    k_uni = np.repeat(u.knowledge[uni], n_screen, axis=0)
    pay = inverted_u(rowwise_distance(f.knowledge[screened.ravel()], k_uni),
                     p["optimal_distance"], p["payoff_shape"]).reshape(len(uni), n_screen)
    best = np.argmax(pay * (1.0 + f.trust[screened, uni[:, None]]), axis=1)
    rows = np.arange(len(uni))
    firms = screened[rows, best]
    # A firm takes at most one brokered project per university and month.
    _, first = np.unique(firms.astype(np.int64) * u.count + uni, return_index=True)
    # The platform widens the broker's screen; the match itself is the broker's, not a
    # platform match.
    start_projects(w, firms[first], uni[first], pay[rows, best][first], brokered=True,
                   via_platform=np.zeros(len(first), dtype=bool))


def start_projects(w: World, firms: np.ndarray, unis: np.ndarray, payoff: np.ndarray, *,
                   brokered: bool, via_platform: np.ndarray) -> None:
    if len(firms) == 0:
        return
    pr = w.projects
    rows = pr.reserve(len(firms))
    pr.firm[rows] = firms
    pr.university[rows] = unis
    pr.start_step[rows] = w.month
    pr.end_step[rows] = w.month + w.p["project_duration"]
    pr.brokered[rows] = brokered
    pr.via_platform[rows] = via_platform
    # The third helix joins when a matching grant co-funds the project.
    funded = w.gov.balance[MATCHING] > 0 and w.p["matching_rate"] > 0
    pr.gov_funded[rows] = funded
    pr.payoff[rows] = payoff
    pr.active[rows] = True
    np.add.at(w.firms.partners, firms, 1)
    w.tally.add_counts(1, 1, int(funded), len(firms))
    w.count("projects_started", len(firms))
    if brokered:
        w.count("brokered_projects_started", len(firms))


def run_projects(w: World) -> None:
    """Costs and two-way knowledge flows of every active project this month."""
    p, pr, f, u = w.p, w.projects, w.firms, w.unis
    act = pr.active_rows()
    if len(act) == 0:
        return
    fi, ui = pr.firm[act], pr.university[act]
    f.last_project[fi] = w.month
    cost = np.full(len(act), p["project_cost"])
    grant_due = cost * p["matching_rate"] * pr.gov_funded[act]
    paid_share = w.gov.demand_share(MATCHING, float(grant_due.sum()))
    grant = grant_due * paid_share
    w.gov.spend(MATCHING, float(grant.sum()))
    np.subtract.at(f.cash, fi, cost - grant)
    np.add.at(f.public_money, fi, grant)

    kf, ku = f.knowledge[fi], u.knowledge[ui]
    pay = inverted_u(rowwise_distance(kf, ku), p["optimal_distance"], p["payoff_shape"])
    # Each side learns the partner's capabilities it lacks (the positive part of the profile
    # difference), in proportion to its own stock: learning is relative, so a small firm is
    # not flooded by a large university, nor a university by a large firm. A university
    # learns from its projects as a whole: feedback_rate is its growth at full project
    # capacity, each project contributing its share of that capacity.
    lf, lu = kf.sum(axis=1), ku.sum(axis=1)
    pf, pu = profile(kf), profile(ku)
    capacity = np.maximum(u.faculty[ui] * p["projects_per_faculty"], 1.0)
    slots = project_slots(f.employees[fi], p["project_slot_employees"])
    to_firm = ((p["transfer_rate"] * pay * f.absorptive[fi] * lf / slots)[:, None]
               * np.maximum(pu - pf, 0))
    to_uni = (p["feedback_rate"] * pay * lu / capacity)[:, None] * np.maximum(pf - pu, 0.0)
    np.add.at(f.knowledge, fi, to_firm)
    np.add.at(u.knowledge, ui, to_uni)
    w.count("knowledge_to_firms", float(to_firm.sum()))
    w.count("knowledge_to_universities", float(to_uni.sum()))
