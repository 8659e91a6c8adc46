"""Mechanism 3, research: faculty time, university knowledge and publications.

Faculty time is a shared capacity (``faculty_time``, computed at the start of each month's
teaching): of each university's faculty FTE a share ``faculty_teaching_share`` teaches and
``faculty_research_share`` researches (time-use surveys: about 40/40/20 with service).
Industry engagement takes staff time: every active project (``project_staff_fte``), every
brokered project on top (``broker_staff_fte``), every incubated start-up
(``incubator_staff_fte``) and every 2.0 capstone partnership (``capstone_staff_fte``). That
time comes out of teaching (share ``engagement_from_teaching``) and research (the rest), and
the shares of each left scale teaching rates (teaching.py) and research output here.

Output per faculty member scales with research funding per faculty member as
((1 + f / f_ref) / 2) ** elasticity, so it equals the base rate at the reference funding and
stays positive with none (faculty are paid to research from teaching income too); diminishing
returns to money follow Adams & Griliches (1998). Knowledge grows along the university's own
profile, times the research time left. Publications are Poisson draws, times the research time
left and an inverted U in the project share j (Banal-Estanol, Jofre-Bonet & Lawson 2015):
1 + ``publication_collaboration_gain`` x (j/j*)(2 - j/j*), at least 0, with j* =
``publication_collaboration_optimum``. Firm problems flow back into university knowledge
through the projects themselves (collaboration.py). University knowledge depreciates here,
firm knowledge in firm_dynamics.py.

Joint outputs for the triple-helix tally: a publication involves industry when it comes out of
project work and government when competitive research grants paid for it.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..world import World


def output_multiplier(funding: np.ndarray, faculty: np.ndarray, reference: float,
                      elasticity: float) -> np.ndarray:
    """Research output per faculty relative to its value at the reference funding."""
    per_faculty = funding / np.maximum(faculty, 1e-12)
    return ((1.0 + per_faculty / reference) / 2.0) ** elasticity


def time_left(engaged: np.ndarray, faculty: np.ndarray, p: dict) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """(research time left, teaching time left) as shares in [0, 1] of their normal amounts,
    when ``engaged`` FTE of ``faculty`` are taken by industry engagement."""
    from_teaching = engaged * p["engagement_from_teaching"]
    from_research = engaged - from_teaching
    research = 1.0 - from_research / np.maximum(faculty * p["faculty_research_share"], 1e-12)
    teaching = 1.0 - from_teaching / np.maximum(faculty * p["faculty_teaching_share"], 1e-12)
    return np.clip(research, 0.0, 1.0), np.clip(teaching, 0.0, 1.0)


def _incubating_now(w: World) -> np.ndarray:
    # The start-ups in their incubation period in the current state: from the month after
    # founding for incubation_months months.
    f = w.firms
    return kernels.in_incubation(f.alive[: f.n], f.incubated, f.birth_step, w.month,
                                 w.p["incubation_months"])


def incubating_firms(w: World) -> np.ndarray:
    """Rows of the start-ups in their incubation period this month, found at the month's
    first ask (the policy step's incubator payments when the channel is open, else teaching's
    faculty time: both before any firm is founded, closed or incubated) and kept in the
    scratch: the month's set, not the current state's once entry and exit have run."""
    if w.scratch.incubating is None:
        w.scratch.incubating = _incubating_now(w)
    return w.scratch.incubating


def engaged_fte(w: World, incubating: np.ndarray | None = None) -> np.ndarray:
    """(U,) faculty FTE that industry engagement takes this month: ``project_staff_fte`` per
    active project, ``broker_staff_fte`` more per brokered one, ``incubator_staff_fte`` per
    incubated start-up in its incubation period (``incubating``, their rows: found in the
    current state when not given), ``capstone_staff_fte`` per 2.0 capstone partnership, each
    at its university (one pass, simulation/kernels/engagement.py)."""
    p, u, pr, f = w.p, w.unis, w.projects, w.firms
    if incubating is None:
        incubating = _incubating_now(w)
    return kernels.engaged_fte(pr.active[: pr.n], pr.university, pr.brokered, incubating,
                               f.founder_university, u.capstone_uni, u.count,
                               p["project_staff_fte"], p["broker_staff_fte"],
                               p["incubator_staff_fte"], p["capstone_staff_fte"])


def faculty_time(w: World) -> None:
    """This month's staff time: engaged FTE and the research and teaching time left."""
    u = w.unis
    u.engaged_fte = engaged_fte(w, incubating_firms(w))
    # time_left's formula in one kernel call (simulation/kernels/engagement.py).
    p = w.p
    u.research_time, u.teaching_time = kernels.staff_time_left(
        u.engaged_fte, u.faculty, p["engagement_from_teaching"], p["faculty_research_share"],
        p["faculty_teaching_share"])
    w.scratch.flows["faculty_engaged_fte"] = float(u.engaged_fte.sum())


def publication_multiplier(share: np.ndarray, gain: float, optimum: float) -> np.ndarray:
    """Inverted U in the industry-project share: 1 + gain (j/j*)(2 - j/j*), at least 0."""
    r = np.asarray(share, dtype=float) / optimum
    return np.maximum(1.0 + gain * r * (2.0 - r), 0.0)


def reference_funding(w: World) -> float:
    """Funding per faculty per month that block and research grants give at the default split."""
    p = w.p
    share = p["budget_share_block_grants"] + p["budget_share_research_grants"]
    total_faculty = w.unis.faculty.sum()
    return max(p["gov_budget"] * max(share, 0.05) / 12.0 / max(total_faculty, 1.0), 1e-9)


def publication_draws(rng: np.random.Generator, rates: np.ndarray, joint_share: np.ndarray,
                      grant_share: np.ndarray) -> np.ndarray:
    """(4, U) int64: each university's publications, Poisson(``rates``); of them those with
    industry, Binomial(publications, ``joint_share``); of those the grant-funded,
    Binomial(joint, ``grant_share``); and the grant-funded of the rest, Binomial(publications
    - joint, ``grant_share``).

    The numbers of numpy's four array draws ``rng.poisson(rates)``, ``rng.binomial(pubs,
    joint_share)``, ... in that order, from one scalar draw per university in university
    order: an array draw takes one value per element in order, by the same function and the
    generator's same binomial cache, and its argument checks on arrays of three cost more
    than the twelve scalar draws (tests hold both to numpy's draws, value for value, and the
    generator to where numpy leaves it).
    """
    poisson, binomial = rng.poisson, rng.binomial
    grant = grant_share.tolist()
    pubs = [poisson(lam) for lam in rates.tolist()]
    joint = [binomial(n, q) for n, q in zip(pubs, joint_share.tolist(), strict=True)]
    funded = [binomial(n, q) for n, q in zip(joint, grant, strict=True)]
    solo = [binomial(n - k, q) for n, k, q in zip(pubs, joint, grant, strict=True)]
    return np.array([pubs, joint, funded, solo], dtype=np.int64)


def apply(w: World) -> None:
    p, u = w.p, w.unis
    rng = w.rng("research")
    # output_multiplier's base in a kernel, its power in numpy (numpy's vectorised pow, the
    # formula function's, differs in the last bit from a compiled loop's).
    funding_mult = kernels.funding_base(u.funding, u.faculty, w.ref_funding) ** p[
        "funding_elasticity"]
    # Research time lost to industry engagement is research not done; the knowledge stock's
    # obsolescence and growth along its profile, the project share of capacity,
    # publication_multiplier's inverted U and the Poisson means, in one kernel
    # (simulation/kernels/research.py) in numpy's order of operations, so that the draws get
    # the same means to the last bit.
    pr = w.projects
    rates, joint_share = kernels.research_output(
        u.knowledge, u.faculty, funding_mult, u.research_time, p["knowledge_depreciation"],
        p["university_research_rate"], pr.active[: pr.n], pr.university,
        p["projects_per_faculty"], p["publication_collaboration_gain"],
        p["publication_collaboration_optimum"], p["publications_per_faculty"])
    # Tally: industry present for project-based papers, government for grant-funded ones.
    pubs, joint, joint_funded, solo_funded = publication_draws(rng, rates, joint_share,
                                                               u.grant_share)
    u.reputation, total = kernels.book_publications(
        u.publications, u.reputation, pubs, joint, joint_funded, solo_funded, u.faculty,
        p["publications_per_faculty"], w.tally.cells)
    w.count("publications", float(total))
