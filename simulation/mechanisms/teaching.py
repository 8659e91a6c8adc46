"""Mechanism 2, teaching: students' skills grow with diminishing returns, s += r (1 - s).

The three Education Models differ in mechanism, not only in rates (the ODD, "Teaching"):
- 1.0 (research-led, student-centred): classroom rates plus research-led learning
  (``research_led_rate_1_0``) scaled by the research time the university's faculty still have
  after industry engagement; industry ties are weak (only left-over internship places).
- 2.0 (syntegrative): classroom rates plus industry rates scaled by the capstone places per
  2.0 student. Capstone partner firms are recruited every September (``recruit_capstones``)
  among the university's home firms; they co-teach, cost the partners mentoring time (counted
  against their value added, collaboration.run_projects) and faculty time, and tie their
  students to them for hiring (labour_market.assign_ties). Without partners, or with the
  student-immersion channel closed, only the classroom part.
- 3.0 (immersed in society): classroom rates plus immersion rates scaled by live-project slots
  on brokered projects (with firms and with public or social partners) per 3.0 student.
Every rate is scaled by the teaching time left, teaching_time ** ``teaching_staff_elasticity``
(research.faculty_time: staff time that industry engagement takes out of teaching). No
teaching in July and August. Each September (after the first) opens the academic year:
enrolled students move up a year and a new cohort is admitted with the universities' current
Education Model mix, before that month's teaching.

A student of aptitude a learns at r = 1 - (1 - R)^a where R is the programme's rate at that
university this month: in one month an a = 2 student gains what others gain in two. Because
every student of one (university, programme) faces the same R, the update has a closed form:
1 - s(t) = (1 - s(t0)) * exp(a * (E(t) - E(t0))) with E the running sum of log(1 - R). The model
keeps E per (university, programme) and skill, so a month of teaching costs O(universities),
not O(students); ``current_skills`` gives exact skills at any time and ``sync_skills`` stores
them when a student leaves study.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..world import World, admit_cohort, classroom_rates
from .collaboration import within_capacity
from .research import faculty_time

SUMMER = (7, 8)
SEPTEMBER = 9


def recruit_capstones(w: World) -> None:
    """September: each university recruits the 2.0 capstone partner firms of the year.

    A university needs ceil(n2 / ``capstone_students_per_firm``) partners. It asks its home
    firms with at least ``capstone_min_employees`` employees; each agrees with probability
    ``capstone_acceptance`` x (1 + its trust in the university), one uniform per firm row;
    firms in financial trouble (cash below ``acceptance_cash_buffer`` months of value added)
    decline. Of those who agree, the needed number is kept in random order.
    """
    u, f, p = w.unis, w.firms, w.p
    empty = np.zeros(0, dtype=np.int64)
    u.capstone_firm, u.capstone_uni = empty, empty
    per_firm = p["capstone_students_per_firm"]
    if not w.channel("student_immersion") or per_firm <= 0:
        return
    need = np.ceil(w.enrolled[:, 1] / per_firm).astype(np.int64)
    if need.sum() == 0:
        return
    rng = w.rng("teaching.capstone")
    draw = rng.random(f.n)
    # The willing firms and their universities in one pass (kernels/students.py).
    rows, home = kernels.willing_partners(
        draw, f.alive[: f.n], f.employees, p["capstone_min_employees"], f.home_university,
        f.productivity, f.diverted, f.grad_skill, f.prior_grad_skill, p["graduate_premium"],
        f.trust, f.cash, p["capstone_acceptance"], p["acceptance_cash_buffer"])
    keep = within_capacity(home, need, rng)
    u.capstone_firm, u.capstone_uni = rows[keep], home[keep]
    w.count("capstone_partners", len(u.capstone_firm))


def engagement(w: World) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per university: (2.0 capstone engagement, 3.0 live-project engagement), each in [0, 1],
    and their means over the universities.

    Also leaves ``w.scratch.live_fill`` for the innovation mechanism: the share of each university's
    brokered-project slots that 3.0 students fill.
    """
    n_u = w.unis.count
    counts = w.enrolled  # (U, 3)
    if not w.channel("student_immersion"):
        zero = np.zeros(n_u)
        w.scratch.live_fill = zero
        return zero, zero, 0.0, 0.0
    pr, u = w.projects, w.unis
    # One pass over the projects and the capstone partners (kernels/students.py); a partner
    # that has exited is lost. The means are numpy's, taken in the same pass (a month's two
    # calls of numpy's mean on a few values cost more than the pass).
    e2, e3, w.scratch.live_fill, keep, all_alive, mean2, mean3 = kernels.immersion_engagement(
        pr.active[: pr.n], pr.university, pr.brokered, u.capstone_firm, u.capstone_uni,
        w.firms.alive, counts, w.p["capstone_students_per_firm"],
        w.p["live_slots_per_brokered_project"])
    if not all_alive:
        u.capstone_firm, u.capstone_uni = u.capstone_firm[keep], u.capstone_uni[keep]
    return e2, e3, mean2, mean3


def _minus_rates(w: World, e2: np.ndarray, e3: np.ndarray) -> np.ndarray:
    # (3U, 4) monthly skill rates per (university, programme) row and skill, as
    # -min(rate, 1 - 1e-9) for log1p, in one pass (kernels/students.py).
    p, u = w.p, w.unis
    research = u.research_time if len(u.research_time) else np.ones(u.count)
    teaching = u.teaching_time if len(u.teaching_time) else np.ones(u.count)
    # Fewer teaching hours per student: every rate falls (a student-staff effect).
    staff = teaching ** p["teaching_staff_elasticity"]
    return kernels.monthly_skill_rates(
        classroom_rates(p), research, np.asarray(p["research_led_rate_1_0"], dtype=float),
        e2, np.asarray(p["industry_rate_2_0"], dtype=float), e3,
        np.asarray(p["immersion_rate_3_0"], dtype=float), staff)


def current_skills(w: World, rows: np.ndarray | slice) -> np.ndarray:
    """Skills of ``rows`` now (float64, (n, 4)), teaching since their last sync included."""
    st = w.students
    rows = _row_array(rows)
    # The closed form's exponent and the stored skills in two passes (kernels/students.py);
    # numpy's vectorised exp between them, as ever.
    retain = kernels.teaching_exponent(rows, st.status, st.code, st.aptitude, st.sync,
                                       w.exposure)
    np.exp(retain, out=retain)
    return kernels.skills_now(rows, st.status, st.skills, retain)


def sync_skills(w: World, rows: np.ndarray) -> None:
    """Store the current skills of ``rows`` (call before a student leaves study)."""
    st = w.students
    rows = _row_array(rows)
    retain = kernels.teaching_exponent(rows, st.status, st.code, st.aptitude, st.sync,
                                       w.exposure)
    np.exp(retain, out=retain)
    kernels.store_skills(rows, retain, st.status, st.code, st.skills, st.sync, w.exposure)


def _row_array(rows: np.ndarray | slice) -> np.ndarray:
    if isinstance(rows, slice):
        return np.arange(*rows.indices(rows.stop), dtype=np.int64)
    return np.asarray(rows, dtype=np.int64)


def apply(w: World) -> None:
    if w.calendar_month == SEPTEMBER and w.month > 1:
        new_academic_year(w)
    if w.calendar_month == SEPTEMBER:
        recruit_capstones(w)
    faculty_time(w)
    e2, e3, mean2, mean3 = engagement(w)
    w.scratch.flows["engagement_2_0"] = mean2
    w.scratch.flows["engagement_3_0"] = mean3
    if w.calendar_month in SUMMER:
        return
    w.exposure += np.log1p(_minus_rates(w, e2, e3))


def new_academic_year(w: World) -> None:
    """September: enrolled students move up a year and a new cohort is admitted."""
    st, p = w.students, w.p
    kernels.move_up_a_year(st.status, st.year, st.window_start, st.n)
    # The oldest cohort that can still be enrolled entered programme_years - 1 Septembers ago.
    # The window moves before the new cohort is admitted (the new rows, all admitted now, lie
    # after it either way): moving it frees the memory of the columns only enrolled students
    # need (state.STUDY_COLUMNS), and the metro region's peak memory is the student table's
    # as this September's cohort joins it, so the cohort that has left is freed first.
    oldest = w.month - 12 * (p["programme_years"] - 1)
    # The month in the column's own type: searchsorted with a Python int converted the whole
    # int16 column first (27 ms a September in the metro region; the search itself is us).
    month = np.array(oldest, dtype=st.intake_step.dtype)
    st.move_window(int(np.searchsorted(st.intake_step[: st.n], month, side="left")))
    admit_cohort(w, w.rng("labour.intake"), step=w.month)
    w.count("admitted", float(w.unis.intake.sum()))
