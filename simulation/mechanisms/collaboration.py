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

A brokered match, and a platform match (a member reaching a university other than its home),
becomes a project only if the firm accepts it: the value-added gain of the knowledge it
expects to learn (``knowledge_output_elasticity`` x relative knowledge gain, over
``acceptance_horizon`` months) must cover its share of the cost and the management time;
firms whose cash is below ``acceptance_cash_buffer`` months of value added decline. A share
``social_partner_share`` of brokered projects add a public or social partner: three-party
projects co-funded by government at ``social_cofunding_rate``.

Running projects (both kinds) cost ``project_cost`` a month, split between the firm and the
matching-grant pot, divert ``project_firm_fte`` of the firm's staff from production (counted
against its value added) and take faculty time (research.faculty_time); brokered projects
also cost the broker ``broker_running_cost`` of public money a month. Knowledge moves both
ways by Nooteboom's absorption x novelty (knowledge.learning), for the firm times its
absorptive capacity. Projects end after ``project_duration`` months, earlier when the firm
exits or can no longer pay, or when abandoned: a monthly hazard rising with the squared
relative gap between the cognitive distance and its optimum and falling with trust. A project
that runs to its end succeeds with probability equal to its payoff; success raises trust,
failure or abandonment lowers it (an abandoned project has also transferred less knowledge).
A firm never runs more projects than its slots: brokers give a firm at most one project a
month, and a firm whose slots shrank below its running projects keeps those it started
last and drops the older ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..knowledge import learning
from ..world import INSTRUMENT_INDEX, World

MATCHING = INSTRUMENT_INDEX["matching_grants"]
_NO_DRAWS = np.zeros(0)
_NO_ROWS = np.zeros(0, dtype=np.int64)


@dataclass
class OpenSlots:
    """The month's free project places of both sides, kept current as projects start
    (start_projects): nothing else that they depend on changes between the end of projects
    and the last new project of the month (firms' cash, staff and exits, the faculty and
    the matching-grant pot move in other steps), so the searching firms and the brokers see
    the places that counting them again would give (``open_slots``; tests check both)."""

    firms: np.ndarray     # free_firms: living firms with a free slot and the cash, row order
    capacity: np.ndarray  # capacity_left: projects each university can still take on
    running: np.ndarray   # active projects per firm row
    need: float           # project_cash_need


def apply(w: World) -> None:
    slots = end_projects(w)
    if w.channel("joint_research"):
        search_and_match(w, slots)
    if w.channel("brokerage"):
        broker(w, slots)
    run_projects(w)


def abandon_probability(distance: np.ndarray, trust: np.ndarray, p: dict) -> np.ndarray:
    """Monthly probability that a project is abandoned, in [0, 1].

    ``abandon_hazard`` x (1 + ``abandon_distance`` ((d - d*) / d*)^2) x (1 -
    ``abandon_trust_protect`` x trust): lowest at the optimal distance between trusted partners.
    """
    gap = (np.asarray(distance) - p["optimal_distance"]) / p["optimal_distance"]
    h = (p["abandon_hazard"] * (1.0 + p["abandon_distance"] * gap**2)
         * (1.0 - p["abandon_trust_protect"] * np.asarray(trust)))
    return np.clip(h, 0.0, 1.0)


def grant_rate(w: World, social: np.ndarray) -> np.ndarray:
    """Share of each project's cost a grant pays when due: three-party projects at
    ``social_cofunding_rate``, the others at ``matching_rate``."""
    return np.where(social, w.p["social_cofunding_rate"], w.p["matching_rate"])


# The parameters of the ending kernel (simulation/kernels/projects.py), in its order;
# "cash_need" stands for project_cash_need.
END_PARAMETERS = ("project_cost", "matching_rate", "social_cofunding_rate", "optimal_distance",
                  "abandon_hazard", "abandon_distance", "abandon_trust_protect", "trust_gain",
                  "trust_loss", "trust_decay", "project_slot_employees", "cash_need",
                  "projects_per_faculty")


def end_projects(w: World) -> OpenSlots:
    """The month's projects ending, trust and the free places they leave (one kernel call).

    A project ends at its end month, early when the firm has died or can no longer pay, or
    when abandoned (abandon_probability). Success (probability: its payoff) raises trust;
    failure and abandonment cost trust (firms that exited have none left to lose). A firm
    whose slots shrank below its active projects keeps those it started last and drops the
    older ones. Then every pair's trust decays, and the free places of both sides are
    counted (``open_slots``).
    """
    pr, f, p = w.projects, w.firms, w.p
    n = pr.n
    had_active = bool(pr.active[:n].any())
    if had_active:
        # One draw per project row and purpose: a project's fate does not depend on how
        # many others ended.
        u_abandon = w.rng("collaboration.abandon").random(n)
        u_success = w.rng("collaboration.success").random(n)
    else:
        u_abandon = u_success = _NO_DRAWS  # no project to end: nothing drawn
    need = project_cash_need(w)
    ep = np.array([need if name == "cash_need" else float(p[name]) for name in END_PARAMETERS])
    counts, firms, running, capacity = kernels.end_projects(
        f.alive[: f.n], f.cash, f.employees, f.knowledge, f.trust, f.trusted, w.unis.knowledge,
        w.unis.faculty, pr.firm[:n], pr.university[:n], pr.end_step[:n], pr.payoff[:n],
        pr.social[:n], pr.gov_funded[:n], pr.active[:n], pr.failed[:n], u_abandon, u_success,
        w.month, ep)
    ended, succeeded, abandoned, still_active, dropped = counts.tolist()
    if had_active:
        w.count("projects_ended", ended)
        w.count("projects_succeeded", succeeded)
        w.count("projects_abandoned", abandoned)
    if still_active:
        w.count("projects_ended", dropped)
        w.count("projects_dropped_for_slots", dropped)
    return OpenSlots(firms, capacity, running, need)


def capacity_left(w: World) -> np.ndarray:
    """Projects each university can still take on (>= 0): its project places
    (``projects_per_faculty`` x faculty, rounded down) less its active projects."""
    return free_slots(w)[1]


def can_afford(w: World, firms: np.ndarray, running: np.ndarray | int = 0) -> np.ndarray:
    """Firms whose cash covers ``project_cash_cover`` times their share of the whole of their
    ``running`` projects plus a new one, at the current matching rate (a prudent firm keeps a
    buffer for bad months)."""
    return w.firms.cash[firms] >= project_cash_need(w) * (1 + np.asarray(running))


def project_cash_need(w: World) -> float:
    """Cash a prudent firm keeps per project it runs (``can_afford``)."""
    p = w.p
    grant = p["matching_rate"] if w.gov.balance[MATCHING] > 0 else 0.0
    return p["project_cash_cover"] * p["project_duration"] * p["project_cost"] * (1.0 - grant)


def project_slots(employees: np.ndarray, slot_employees: float) -> np.ndarray:
    """Concurrent projects a firm can run: one per ``slot_employees`` employees, at least one."""
    return np.maximum(np.asarray(employees) // slot_employees, 1).astype(np.int64)


def free_firms(w: World) -> np.ndarray:
    """Rows of living firms with a free project slot and the cash for one more project."""
    return free_slots(w)[0]


def free_slots(w: World) -> tuple[np.ndarray, np.ndarray]:
    """(``free_firms``, ``capacity_left``): both sides' free project places."""
    slots = open_slots(w)
    return slots.firms, slots.capacity


def open_slots(w: World) -> OpenSlots:
    """Both sides' free project places now, counted in one pass over the projects."""
    f, pr = w.firms, w.projects
    need = project_cash_need(w)
    firms, capacity, running = kernels.free_firms(
        f.alive[: f.n], f.employees, f.cash, pr.firm[: pr.n], pr.university[: pr.n],
        pr.active[: pr.n], w.p["project_slot_employees"], need, w.unis.faculty,
        w.p["projects_per_faculty"])
    return OpenSlots(firms, capacity, running, need)


def firms_in_projects(w: World) -> np.ndarray:
    """Number of active projects per firm row."""
    act = w.projects.active_rows()
    return np.bincount(w.projects.firm[act], minlength=w.firms.n)


def within_capacity(groups: np.ndarray, capacity: np.ndarray, rng: np.random.Generator
                    ) -> np.ndarray:
    """Boolean mask keeping, in random order, at most capacity[g] members of each group g."""
    if len(groups) == 0:
        return np.zeros(0, dtype=bool)
    # One kernel signature for every caller: group ids as int64, capacities as float64
    # (a count compares with a float capacity exactly).
    return kernels.within_capacity(np.asarray(groups, dtype=np.int64),
                                   np.asarray(capacity, dtype=np.float64),
                                   rng.permutation(len(groups)))


def expected_payoff(w: World, firms: np.ndarray, unis: np.ndarray, social: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(expected value, expected cost) to each firm of a project with ``unis`` (MCU).

    Value: ``knowledge_output_elasticity`` (what knowledge pays in productivity,
    firm_dynamics) x the relative rise of its knowledge stock the project would bring at
    today's distance (knowledge.learning over ``project_duration`` months) x monthly value
    added x ``acceptance_horizon``. Cost: its share of the project's
    cost (at today's grant rate) plus the management time, ``project_firm_fte`` employees at
    their productivity, over the project.
    """
    p, f = w.p, w.firms
    slots = project_slots(f.employees[firms], p["project_slot_employees"])
    rate = p["transfer_rate"] * f.absorptive[firms]
    per_month = learning(f.knowledge[firms], w.unis.knowledge[unis], rate, slots,
                         p["optimal_distance"], p["payoff_shape"]).sum(axis=1)
    relative = per_month * p["project_duration"] / np.maximum(f.knowledge[firms].sum(axis=1),
                                                              1e-12)
    va = f.value_added(firms, p["graduate_premium"])
    # Firms expect knowledge to pay what it pays them (firm_dynamics): one elasticity.
    value = p["knowledge_output_elasticity"] * relative * va * p["acceptance_horizon"]
    grant = grant_rate(w, social) if w.gov.balance[MATCHING] > 0 else 0.0
    cost = p["project_duration"] * (p["project_cost"] * (1.0 - grant)
                                    + p["project_firm_fte"] * f.productivity[firms])
    return value, cost


# The parameters of the acceptance kernel (simulation/kernels/projects.py), in its order;
# "grant_on" stands for whether the matching-grant pot has money this month.
ACCEPT_PARAMETERS = ("project_slot_employees", "transfer_rate", "optimal_distance",
                     "payoff_shape", "project_duration", "knowledge_output_elasticity",
                     "graduate_premium", "acceptance_horizon", "grant_on", "matching_rate",
                     "social_cofunding_rate", "project_cost", "project_firm_fte",
                     "acceptance_cash_buffer")


def accepts(w: World, firms: np.ndarray, unis: np.ndarray, social: np.ndarray | None = None
            ) -> np.ndarray:
    """Firms that take up an offered (brokered or platform) match: expected value
    (``expected_payoff``) covers the expected cost, and the firm's cash covers
    ``acceptance_cash_buffer`` months of its value added (it is not in financial trouble).

    Computed by the kernel ``accept_offers``, one pass over the offers; tests check it
    against ``expected_payoff`` and ``Firms.value_added``.
    """
    if social is None:
        social = np.zeros(len(firms), dtype=bool)
    f, p = w.firms, w.p
    grant_on = 1.0 if w.gov.balance[MATCHING] > 0 else 0.0
    ap = np.array([grant_on if name == "grant_on" else float(p[name])
                   for name in ACCEPT_PARAMETERS])
    return kernels.accept_offers(
        np.asarray(firms, dtype=np.int64), np.asarray(unis, dtype=np.int64), social,
        f.knowledge, w.unis.knowledge, f.employees, f.absorptive, f.productivity, f.diverted,
        f.grad_skill, f.prior_grad_skill, f.alive, f.cash, ap)


def network_value(w: World) -> float:
    """The platform's value to a member, in [0, 1]: member share of living firms x share of
    the domains its members cover (their main domains). Zero when the platform is not live."""
    f = w.firms
    if not w.platform_live():
        return 0.0
    alive = f.alive[: f.n]
    members = np.flatnonzero(alive & f.platform_member[: f.n])
    if len(members) == 0:
        return 0.0
    variety = len(np.unique(np.argmax(f.knowledge[members], axis=1))) / w.p["n_domains"]
    return len(members) / max(int(alive.sum()), 1) * variety


def choice_uniforms(start: np.ndarray, rows: np.ndarray, n_rows: int, n_unis: int
                    ) -> np.ndarray:
    """(len(rows), n_unis): the rows ``rows`` (ascending) of ``rng.random((n_rows, n_unis))``
    for the generator whose PCG64 start state is ``start`` (rng.Streams.start_state), the
    Gumbel uniforms of the month's searching firms.

    A uniform is one 64-bit output of the generator, in row-major order, so row r's are the
    stream's positions r n_unis ... r n_unis + n_unis - 1, computed from the start state
    (kernels.row_uniforms): the same numbers for every firm row that uses them, without
    drawing one per firm row and university (2.4 million a month in the metro region for
    about a hundred searchers). Tests hold it to numpy's whole draw, value for value.
    """
    rows = np.asarray(rows, dtype=np.int64)
    out, bad = kernels.row_uniforms(start, rows, n_rows, n_unis)
    if bad >= 0:
        # Rows are searching firms, in row order, once each: anything else is a caller's
        # mistake that would pass unseen (there are numbers at every position).
        raise ValueError(f"choice_uniforms: rows must ascend without repeats, within "
                         f"0..{n_rows - 1}: row {int(rows[bad])} at position {bad}")
    return out


def search_and_match(w: World, slots: OpenSlots | None = None) -> None:
    """Free firms search for a university partner; matches become projects (``slots``: the
    month's free places, counted afresh when not given)."""
    p, f = w.p, w.firms
    n = f.n
    slots = open_slots(w) if slots is None else slots
    cand, cap = slots.firms, slots.capacity
    if len(cand) == 0:
        return
    platform = w.platform_live()
    boost = p["platform_match_boost"] * (1.0 + p["platform_network_effect"] * network_value(w))
    grant_available = 1.0 if w.gov.balance[MATCHING] > 0 else 0.0
    brokerage = w.channel("brokerage")
    # Row-aligned draws: a search uniform per firm, Gumbel uniforms per firm and university
    # and an acceptance uniform per firm. Only the searchers (about one firm in a thousand a
    # month) read the last two: their rows' numbers are computed from the streams' start
    # states (choice_uniforms, kernels.uniforms_at): the numbers every row's draw gives them.
    u_search = w.rng("collaboration.search").random(n)
    choice_start = w.rng_start("collaboration.choice")
    accept_start = w.rng_start("collaboration.accept")
    sp = np.array([
        p["search_rate"], max(p["rd_intensity"], 1e-12), p["search_reference_employees"],
        p["search_size_elasticity"], p["experience_search_boost"],
        1.0 + p["grant_search_boost"] * p["matching_rate"] * grant_available, boost,
        p["optimal_distance"], p["payoff_shape"], p["choice_noise"], p["match_probability"],
        p["broker_match_boost"] if brokerage else 0.0], dtype=float)
    # Who searches (search probability), which reachable university with capacity each
    # picks (logit over inverted-U payoff x (1 + trust)), whether the match succeeds.
    s = kernels.searching_firms(cand, f.employees, f.rd_intensity, f.absorptive, f.trust,
                                f.platform_member, u_search, platform, sp)
    u_choice = choice_uniforms(choice_start, s, n, w.unis.count)
    u_accept = kernels.uniforms_at(accept_start, s)
    choice, chosen_payoff, via_platform, matched = kernels.choose_partners(
        s, f.knowledge, f.trust, f.home_university, f.platform_member, w.unis.knowledge, cap,
        w.enrolled, u_choice, u_accept, platform, sp)
    w.count("searches", len(s))
    if len(s) == 0:
        return
    # A match through the platform is an offer the firm weighs on its expected payoff; a
    # match at its home university is its own search's result. (Without the platform no
    # match is found through it.)
    if platform:
        offered = np.flatnonzero(matched & via_platform)
        if len(offered):
            matched[offered] = accepts(w, s[offered], choice[offered])
            w.count("platform_offers_declined", int((~matched[offered]).sum()))
    # Matches beyond a university's places are dropped in random order (within_capacity,
    # which draws its permutation only when there is a match).
    capacity_rng = w.rng("collaboration.capacity")
    n_matched = int(np.count_nonzero(matched))
    order = capacity_rng.permutation(n_matched) if n_matched else _NO_ROWS
    kept, n_platform = kernels.matches_within_capacity(matched, choice, via_platform, cap, order)
    w.count("platform_matches", n_platform)
    start_projects(w, s, choice, chosen_payoff, matched, kept, brokered=False,
                   via_platform=via_platform, slots=slots)


def broker_offers(rng: np.random.Generator, rate: float, in_3_0: np.ndarray,
                  capacity: np.ndarray) -> list[int]:
    """Offers each university's broker makes this month: Poisson(``rate`` x its 3.0 students
    / 12), at most its ``capacity``.

    numpy's ``np.minimum(rng.poisson(rate * in_3_0 / 12.0), capacity)``, one scalar Poisson
    draw per university in university order (what the array draw takes from the stream; its
    argument checks on an array of a few rates cost more than the draws), the means in
    numpy's order of operations (tests hold both to numpy's draw, value for value, and the
    generator to where numpy leaves it)."""
    poisson = rng.poisson
    return [min(poisson(rate * students / 12.0), room)
            for students, room in zip(in_3_0.tolist(), capacity.tolist(), strict=True)]


def broker(w: World, slots: OpenSlots | None = None) -> None:
    """3.0 universities start brokered projects with the best-fitting of a screened set of
    firms (``slots``: the month's free places, counted afresh when not given)."""
    p, f, u = w.p, w.firms, w.unis
    rng = w.rng("collaboration.broker")
    slots = open_slots(w) if slots is None else slots
    pool, cap = slots.firms, slots.capacity
    if len(pool) == 0:
        return
    want = broker_offers(rng, p["broker_rate"], w.enrolled[:, 2], cap)
    offers = sum(want)
    if offers == 0:
        return
    want = np.array(want, dtype=np.int64)
    platform = w.platform_live()
    n_screen = p["broker_candidates"] * (3 if platform else 1)  # the platform widens the screen
    picks = rng.integers(0, len(pool), size=(offers, n_screen))
    # Each offer goes to the screened firm of best inverted-U payoff x (1 + trust). A firm
    # takes at most one brokered project a month, from whichever university: every firm of
    # the pool has a free slot, so it cannot end the month beyond its slots.
    firms, uni, pay_best = kernels.screen_firms(pool, picks, want, f.knowledge, u.knowledge,
                                                f.trust, p["optimal_distance"],
                                                p["payoff_shape"])
    social = w.rng("collaboration.social").random(len(firms)) < p["social_partner_share"]
    ok = accepts(w, firms, uni, social)
    n_ok = int(np.count_nonzero(ok))
    w.count("brokered_offers_declined", len(ok) - n_ok)
    # The platform widens the broker's screen; the match itself is the broker's, not a
    # platform match.
    start_projects(w, firms, uni, pay_best, ok, n_ok, brokered=True,
                   via_platform=np.zeros(len(firms), dtype=bool), social=social, slots=slots)


def start_projects(w: World, firms: np.ndarray, unis: np.ndarray, payoff: np.ndarray,
                   take: np.ndarray, n_take: int, *, brokered: bool, via_platform: np.ndarray,
                   slots: OpenSlots, social: np.ndarray | None = None) -> None:
    """The offers ``take`` selects (``n_take`` of them, a firm at most once) become projects
    of ``firms`` with ``unis``, in their order; ``slots`` follows them."""
    if n_take == 0:
        return
    pr, f = w.projects, w.firms
    rows = pr.reserve(n_take)
    # The third helix joins when a matching grant co-funds the project.
    funded = bool(w.gov.balance[MATCHING] > 0 and w.p["matching_rate"] > 0)
    with_partner = np.zeros(len(firms), dtype=bool) if social is None else social
    free, n_social = kernels.open_projects(
        pr.firm, pr.university, pr.start_step, pr.end_step, pr.brokered, pr.via_platform,
        pr.gov_funded, pr.payoff, pr.active, pr.social, pr.failed, f.partners, rows.start, firms,
        unis, payoff, via_platform, with_partner, take, brokered, funded, w.month,
        int(w.month + w.p["project_duration"]), slots.firms, slots.running, slots.capacity,
        f.alive, f.employees, f.cash, w.p["project_slot_employees"], slots.need)
    slots.firms = slots.firms[:free]
    w.tally.add_counts(1, 1, int(funded), n_take)
    if social is not None:
        w.count("social_projects_started", n_social)
    w.count("projects_started", n_take)
    if brokered:
        w.count("brokered_projects_started", n_take)


# The parameters of the project kernel (simulation/kernels/projects.py), in its order.
RUN_PARAMETERS = ("capstone_firm_fte", "project_firm_fte", "project_cost", "matching_rate",
                  "social_cofunding_rate", "project_slot_employees", "projects_per_faculty",
                  "transfer_rate", "feedback_rate", "optimal_distance", "payoff_shape")


def run_projects(w: World) -> None:
    """Costs, diverted staff and two-way knowledge flows of every active project this month."""
    p, pr, f, u = w.p, w.projects, w.firms, w.unis
    n = pr.n
    grant_due, n_active = kernels.grants_due(pr.social[:n], pr.gov_funded[:n], pr.active[:n],
                                             p["project_cost"], p["matching_rate"],
                                             p["social_cofunding_rate"])
    paid_share = w.gov.demand_share(MATCHING, grant_due) if n_active else 0.0
    # Staff diverted to projects and 2.0 capstones (teaching.recruit_capstones), at most half
    # a firm's employees (someone keeps producing); the firm's share of each project's cost;
    # learning both ways, absorption x novelty in cognitive distance (knowledge.learning),
    # relative to the learner's own stock and along the partner's profile. A firm's capacity
    # is its slots, a university's its project places: each learns from its projects as a
    # whole, not many times over. The firm's absorptive capacity scales what it takes in.
    grants, n_brokered, to_firms, to_unis = kernels.run_projects(
        f.alive[: f.n], f.employees, f.knowledge, f.absorptive, f.cash, f.public_money,
        f.diverted, f.last_project, u.knowledge, u.faculty, u.capstone_firm, pr.firm[:n],
        pr.university[:n], pr.social[:n], pr.gov_funded[:n], pr.brokered[:n], pr.active[:n],
        w.month, paid_share, np.array([float(p[name]) for name in RUN_PARAMETERS]))
    if n_active == 0:
        return
    w.gov.spend(MATCHING, grants)
    # The firms' own share is a cost of the link to the region: W subtracts it (accounting).
    w.count("firm_link_outlays", p["project_cost"] * n_active - grants)
    # The broker's office: a public running cost per active brokered project.
    if n_brokered:
        w.count("brokerage_running_cost",
                w.gov.spend(MATCHING, p["broker_running_cost"] * int(n_brokered)))
    w.count("knowledge_to_firms", to_firms)
    w.count("knowledge_to_universities", to_unis)
