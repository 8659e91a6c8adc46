"""Mechanism 7, graduation and the labour market: dropout, graduation, hiring, leaving.

Every month: dropout (each student's dropout month is drawn at admission), and graduates who
are out of work either find a local job or leave. (The September intake opens the academic
year in teaching.py.) June: the final-year cohort graduates. Before matching,
students hold ties from the student-immersion channel: 3.0 students on brokered live projects
and other final-year students in internships (``internships_per_project`` places per active
project). Each graduate then

1. founds a start-up with a probability rising with entrepreneurial skill, doubled (by default)
   by the university incubator link (incubation channel) where the incubator has free places;
2. else takes a local job: firms open graduate vacancies in proportion to their employment; an
   intern is hired by the internship firm first (``tie_hire_probability``), then the others are
   matched to the remaining vacancies in order of employability (mean skill), first within the
   graduate's domain of interest (the firm's main domain), then across domains;
3. or leaves the region, more likely without an offer; the talent-retention subsidy reaches as
   many job seekers as its pot can pay and lowers their leaving probabilities by
   ``retention_effect``; it is paid to those who stay, and its administration costs
   ``retention_admin_share`` of the payments, from the same pot (public money).

Hires raise the employer's graduate share (absorptive capacity), knowledge (labour-mobility
spillover, Almeida & Kogut 1999) and digital maturity. Employees whose firm exits become
unemployed, as do founders whose start-up fails.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..state import (
    EMPLOYED,
    FOUNDER,
    GRADUATE_STARTUP,
)
from ..world import INSTRUMENT_INDEX, World, displace_incumbents, init_firms
from .collaboration import within_capacity

RETENTION = INSTRUMENT_INDEX["retention_subsidy"]
JUNE = 6


def apply(w: World) -> None:
    dropout(w)
    alumni_flows(w)
    if w.calendar_month == JUNE:
        graduate(w)


def dropout(w: World) -> None:
    """Students whose scheduled dropout month has come, if still enrolled, drop out."""
    st = w.students
    rows = w.due_dropouts()
    # Their skills are stored first (teaching's closed form; numpy's exp between the passes),
    # then they leave study in one pass (kernels/students.py).
    retain = kernels.teaching_exponent(rows, st.status, st.code, st.aptitude, st.sync,
                                       w.exposure)
    np.exp(retain, out=retain)
    out = kernels.drop_out(rows, retain, st.status, st.code, st.year, st.skills, st.sync,
                           w.exposure, w.enrolled, st.status_counts)
    w.count("dropouts", out)


def alumni_flows(w: World) -> None:
    """Re-employment or departure of unemployed graduates (job losses: ``lose_jobs``)."""
    st, f = w.students, w.firms
    unemployed = w.unemployed  # kept current (row order): no scan of the student table
    if len(unemployed) == 0:
        return
    rng = w.rng("labour.unemployed")
    draw = rng.random(len(unemployed))
    leave, rehire, stay = kernels.unemployed_flows(
        unemployed, draw, w.p["unemployed_leave_rate"], w.p["reemployment_rate"], st.status,
        st.status_counts)
    w.unemployed = stay
    if len(rehire):
        alive, weight = kernels.employer_weights(f.alive[: f.n], f.employees)
        if len(alive):
            # Employers in proportion to employment: Generator.choice's own method on the
            # same uniforms (kernels.labour.weighted_picks), without its checks of p; the
            # total is numpy's (pairwise) sum, as the replaced code took it.
            employer = kernels.weighted_picks(alive, weight, weight.sum(),
                                              rng.random(len(rehire)))
            hire(w, rehire, employer)
        else:  # no firm to hire them: they stay unemployed
            w.unemployed = kernels.merge_rows(stay, rehire)
    w.count("graduates_left", len(leave))


def lose_jobs(w: World) -> None:
    """Graduates (employees and founders) of firms that have exited become unemployed."""
    st, f = w.students, w.firms
    staff = w.staff
    # Only the exited firms' staff are read (the staff index), not the student table.
    lost, staff.recent, staff.recent_firm = kernels.jobs_lost(
        f.alive[: f.n], st.employer, st.status, st.status_counts, staff.rows, staff.start,
        staff.count, staff.recent, staff.recent_firm)
    w.unemployed = kernels.merge_rows(w.unemployed, lost)
    w.count("graduate_job_losses", len(lost))


def hire(w: World, students: np.ndarray, firms: np.ndarray, status: int = EMPLOYED) -> None:
    """Graduates ``students`` start at ``firms`` (rows may repeat); the firms learn from them."""
    if len(students) == 0:
        return
    st, f, p = w.students, w.firms, w.p
    students = np.asarray(students, dtype=np.int64)
    firms = np.asarray(firms, dtype=np.int64)
    staff = w.staff
    staff.recent = np.concatenate((staff.recent, students))
    staff.recent_firm = np.concatenate((staff.recent_firm, firms))
    if len(staff.hired_digital) < len(f.digital):  # the firm table has grown
        staff.hired_digital = np.zeros(len(f.digital))
    # One pass over the hires (simulation/kernels/labour.py): status and employer, graduate
    # staff and skill, knowledge in the graduate's domain of interest, the firm's digital
    # maturity, and a firm is never smaller than its graduate staff (graduates are part of the
    # workforce).
    kernels.hire_graduates(students, firms, status, st.status, st.employer, st.status_counts,
                           st.skills, st.interest, f.grad_employees, f.grad_skill, f.knowledge,
                           f.digital, f.size, f.employees, f.prior_grads,
                           p["graduate_knowledge"], p["digital_hire_rate"],
                           staff.hired_digital)


def assign_ties(w: World, grads: np.ndarray) -> int:
    """Ties of the graduating cohort to firms (student-immersion channel): 2.0 graduates to
    their university's capstone partners (up to ``capstone_students_per_firm`` each), 3.0
    graduates to the firms of brokered live projects, then internships for the rest (1.0's
    weak industry ties: only the places left). Returns how many graduates hold a tie."""
    st, pr, u = w.students, w.projects, w.unis
    st.tie_firm[grads] = -1
    if not w.channel("student_immersion") or len(grads) == 0:
        return 0
    act = pr.active_rows()
    p = w.p
    rng = w.rng("labour.ties")
    per_firm = p["capstone_students_per_firm"]
    cap_alive = w.firms.alive[u.capstone_firm] if len(u.capstone_firm) else np.zeros(0, bool)
    # The cohort by (university, programme) and the active projects by university, each in
    # row order, in one counting sort each (kernels/labour.py) rather than masks per university.
    by_code, code_start = kernels.group_rows(grads, st.code, 3 * u.count)
    act, act_start = kernels.group_rows(act, pr.university, u.count)
    # The living capstone partners by university in their order, the same way (not a mask of
    # every partner per university: the metro region has 20 universities).
    mentors, mentor_start = kernels.group_rows(np.flatnonzero(cap_alive), u.capstone_uni,
                                               u.count)
    for uni in range(w.unis.count):
        lo, hi = code_start[3 * uni], code_start[3 * uni + 3]
        partners = u.capstone_firm[mentors[mentor_start[uni]:mentor_start[uni + 1]]]
        two = by_code[code_start[3 * uni + 1]:code_start[3 * uni + 2]]
        if len(partners) and len(two) and per_firm > 0:
            # Each partner mentors up to per_firm students: places are its repeated rows.
            places = rng.permutation(np.repeat(partners, int(np.ceil(per_firm))))
            k = min(len(two), len(places))
            st.tie_firm[rng.permutation(two)[:k]] = places[:k]
        proj = act[act_start[uni]:act_start[uni + 1]]
        brokered = proj[pr.brokered[proj]]
        three = by_code[code_start[3 * uni + 2]:hi]
        if len(brokered) and len(three):
            k = min(len(three), int(len(brokered) * p["live_slots_per_brokered_project"]))
            chosen = rng.permutation(three)[:k]
            st.tie_firm[chosen] = pr.firm[brokered[rng.integers(0, len(brokered), k)]]
        places = int(len(proj) * p["internships_per_project"])
        if len(proj) and places and hi > lo:
            # The university's graduates without a tie yet, in row order (kernels/labour.py).
            free = kernels.without_ties(by_code, code_start[3 * uni:3 * uni + 4], st.tie_firm)
            if len(free):
                k = min(len(free), places)
                chosen = rng.permutation(free)[:k]
                st.tie_firm[chosen] = pr.firm[proj[rng.integers(0, len(proj), k)]]
    tied = int((st.tie_firm[grads] >= 0).sum())
    w.count("internships", tied)
    return tied


def found_startups(w: World, grads: np.ndarray, draw: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Graduates who found a firm (``draw``: one uniform per graduate); creates their firms.

    Returns (founders, the job seekers (the other graduates), the seekers' positions in
    ``grads``), each in row order.
    """
    p, st, f = w.p, w.students, w.firms
    incubation = w.channel("incubation")
    # The incubator link encourages founding only where the incubator has free places.
    room = (incubator_room(w) > 0) & (w.p["incubation_months"] > 0) if incubation \
        else np.zeros(w.unis.count, dtype=bool)
    # Each graduate founds with probability min(0.5, founder_rate x (entrepreneurial skill /
    # 0.5)^2 x (1 + incubator_founder_boost where its incubator has room)): one pass.
    founders, seekers, at = kernels.who_founds(grads, draw, st.skills, st.university, room,
                                               p["founder_rate"], p["incubator_founder_boost"])
    if len(founders) == 0:
        return founders, seekers, at
    rows = f.reserve(len(founders))
    k = p["n_domains"]
    knowledge = np.zeros((len(founders), k))
    knowledge[np.arange(len(founders)), st.interest[founders]] = 5.0 * st.skills[founders, 0]
    knowledge += 0.02 * w.unis.knowledge[st.university[founders]]
    init_firms(f, rows, p, w.rng("labour.startups"), size=np.full(len(founders), p["startup_size"]),
               origin=GRADUATE_STARTUP, step=w.month, home=st.university[founders],
               knowledge=knowledge)
    if incubation:
        incubate(w, np.arange(rows.start, rows.stop), st.university[founders])
    ids = np.arange(rows.start, rows.stop)
    st.startup[founders] = ids
    hire(w, founders, ids, status=FOUNDER)
    displace_incumbents(w, ids)  # a start-up's sales are partly its incumbents' lost sales
    w.count("startups_founded", len(founders))
    w.count("graduate_startups", len(founders))
    w.count("firm_entries", len(founders))
    return founders, seekers, at


def incubate(w: World, firms: np.ndarray, universities: np.ndarray) -> None:
    """Give new start-ups places in their university's incubator, while places are free."""
    f = w.firms
    if w.p["incubation_months"] <= 0:
        return
    room = incubator_room(w)
    keep = within_capacity(universities.astype(np.int64), room, w.rng("labour.incubator"))
    f.incubated[firms[keep]] = True
    f.founder_university[firms[keep]] = universities[keep]


def incubator_room(w: World) -> np.ndarray:
    """(U,) free incubator places: ``incubator_places`` less start-ups still in incubation."""
    f = w.firms
    inc = np.flatnonzero(f.alive[: f.n] & f.incubated[: f.n])
    inc = inc[w.month - f.birth_step[inc] <= w.p["incubation_months"]]
    used = np.bincount(f.founder_university[inc], minlength=w.unis.count)
    return np.maximum(w.p["incubator_places"] - used, 0)


def vacancies(w: World) -> np.ndarray:
    """Graduate vacancies per firm row this June (zero for dead firms)."""
    f = w.firms
    lam = w.p["graduate_vacancy_rate"] * f.employees[: f.n] * f.alive[: f.n]
    return w.rng("labour.vacancies").poisson(lam)


def match(w: World, seekers: np.ndarray, vac: np.ndarray, tie_draw: np.ndarray,
          noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offers: (graduate rows, firm rows). Interns first at their tie firm, then by skill.

    ``tie_draw`` (uniform) and ``noise`` (standard normal) hold one draw per seeker.
    """
    st, f = w.students, w.firms
    rng = w.rng("labour.match")
    vac = vac.copy()
    # Interns (and live-project students) whose tie firm is alive and offers them the job,
    # within its vacancies in random order (within_capacity draws only if there are any).
    tied, tf = kernels.tied_seekers(seekers, tie_draw, st.tie_firm, f.alive,
                                    w.p["tie_hire_probability"])
    keep = within_capacity(tf, vac, rng)
    tied, tf, rest, rest_noise, left = kernels.untied_seekers(seekers, noise, tied, tf, keep,
                                                              vac)
    if len(rest) and left > 0:
        # Best first by employability, mean skill x (1 + 0.1 noise) (kernels/labour.py).
        rest = kernels.by_employability(rest, st.skills, rest_noise)
        slots = rng.permutation(np.repeat(np.arange(len(vac)), vac))
        # Domain by domain, then across domains, in one pass (kernels/labour.py).
        offer_s, offer_f = kernels.fill_vacancies(rest, st.interest, slots, vac,
                                                  f.knowledge)
        return np.concatenate((tied, offer_s)), np.concatenate((tf, offer_f))
    return tied, tf


def graduate(w: World) -> None:
    p, st, f = w.p, w.students, w.firms
    grads = kernels.final_year(st.status, st.year, st.window_start, st.n, p["programme_years"])
    if len(grads) == 0:
        return
    internships = assign_ties(w, grads)
    # They leave study: skills stored (teaching's closed form; numpy's exp between the
    # passes), enrolled counts, graduation month and year of study in one pass.
    retain = kernels.teaching_exponent(grads, st.status, st.code, st.aptitude, st.sync,
                                       w.exposure)
    np.exp(retain, out=retain)
    kernels.graduate_cohort(grads, retain, st.status, st.code, st.year, st.skills, st.sync,
                            w.exposure, w.enrolled, st.grad_step, w.month)
    # One draw of each kind per graduate, aligned with the cohort (the same in every scenario).
    rng = w.rng("labour.graduation")
    draws = rng.random((4, len(grads)))  # founding, tie hire, leaving, retention cover
    noise = rng.standard_normal(len(grads))
    founders, seekers, at = found_startups(w, grads, draws[0])
    # The seekers' own draws of the three other kinds and their noise, in one gather.
    (u_tie, u_leave, u_cover), noise = kernels.seekers_draws(at, draws, noise)
    offer_s, offer_f = match(w, seekers, vacancies(w), u_tie, noise)

    # The retention subsidy reaches as many job seekers as the pot can pay; those it reaches
    # are less likely to leave. Founders stay anyway and are not paid.
    # Each payment carries its administration (retention_admin_share), paid from the same pot.
    unit_cost = p["retention_subsidy"] * (1.0 + p["retention_admin_share"])
    coverage = w.gov.demand_share(RETENTION, unit_cost * len(seekers))
    # Chance alone can cover more seekers than the pot pays: cover only as many as it can pay
    # in full (the lowest draws), so no graduate receives money the government did not spend.
    # More than every seeker is every seeker: capped before it is made an integer, so that a
    # tiny unit cost (a quotient too large for an integer, or infinite) cannot overflow it.
    can_pay = int(np.floor(min(w.gov.balance[RETENTION] / unit_cost * (1 + 1e-12),
                               len(seekers)))) if unit_cost > 0 else len(seekers)
    covered = kernels.retention_cover(u_cover, coverage, can_pay)
    # Who leaves (status left), who takes an offer, who stays without one (unemployed), who
    # is paid (the graduate receives the subsidy; its administration is the government's own
    # cost): one pass.
    leavers, (hire_s, hire_f), idle, paid_to = kernels.stay_or_leave(
        seekers, offer_s, offer_f, u_leave, covered, p["leave_with_offer"],
        p["leave_without_offer"], p["retention_effect"], p["retention_subsidy"], st.status,
        st.status_counts, st.public_money)
    hire(w, hire_s, hire_f)
    w.unemployed = kernels.merge_rows(w.unemployed, idle)
    stayers = len(grads) - len(leavers)
    paid = len(paid_to)
    w.gov.spend(RETENTION, unit_cost * paid)
    w.count("retention_payments", p["retention_subsidy"] * paid)
    w.count("retention_admin", p["retention_subsidy"] * p["retention_admin_share"] * paid)

    # The staff index is rebuilt once a year, after June's hires (labour_market.lose_jobs),
    # from last June's index and the hires since: not a pass over the whole student table.
    staff = w.staff
    staff.rows, staff.start, staff.count = kernels.index_staff(
        staff.rows, staff.start, staff.count, staff.recent, staff.recent_firm, f.n)
    staff.recent, staff.recent_firm = staff.recent[:0], staff.recent_firm[:0]
    employed = len(hire_s)
    w.count("graduates", len(grads))
    w.count("graduates_employed", employed)
    w.count("graduates_left", len(leavers))
    skills = kernels.cohort_skills(grads, st.skills)
    w.last_cohort = {
        "graduates": float(len(grads)),
        "employment_rate": (employed + len(founders)) / len(grads),
        "retention_rate": stayers / len(grads),
        "founder_rate": len(founders) / len(grads),
        "internships": float(internships),
        **{f"skill_{name}": float(v) for name, v in
           zip(("specialist", "entrepreneurial", "leadership", "digital"),
               skills, strict=True)},
    }
