"""Mechanism 2, teaching: students' skills grow with diminishing returns, s += r (1 - s).

Rates depend on the programme (MODEL.md, "Teaching"):
- 1.0 (research-led, student-centred): classroom rates only, strong specialist and digital.
- 2.0 (syntegrative): classroom rates plus industry rates scaled by the university's active
  industry projects per 2.0 student (``slots_per_project_2_0`` students per project); without
  industry partners, or with the student-immersion channel closed, only the classroom part.
- 3.0 (immersed in society): classroom rates plus immersion rates scaled by live-project slots
  on brokered projects per 3.0 student; nothing extra without brokered projects.
No teaching in July and August. Each September (after the first) opens the academic year:
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

from ..state import ENROLLED
from ..world import World, admit_cohort, classroom_rates

SUMMER = (7, 8)
SEPTEMBER = 9


def engagement(w: World) -> tuple[np.ndarray, np.ndarray]:
    """Per university: (2.0 industry engagement, 3.0 live-project engagement), each in [0, 1].

    Also leaves ``w.live_fill`` for the innovation mechanism: the share of each university's
    brokered-project slots that 3.0 students fill.
    """
    n_u = w.unis.count
    counts = w.enrolled  # (U, 3)
    if not w.channel("student_immersion"):
        zero = np.zeros(n_u)
        w.live_fill = zero
        return zero, zero
    pr = w.projects
    act = pr.active_rows()
    projects_u = np.bincount(pr.university[act], minlength=n_u).astype(float)
    brokered_u = np.bincount(pr.university[act][pr.brokered[act]], minlength=n_u).astype(float)
    slots2 = projects_u * w.p["slots_per_project_2_0"]
    slots3 = brokered_u * w.p["live_slots_per_brokered_project"]
    e2 = np.minimum(1.0, slots2 / np.maximum(counts[:, 1], 1.0))
    e3 = np.minimum(1.0, slots3 / np.maximum(counts[:, 2], 1.0))
    e2[counts[:, 1] == 0] = 0.0
    e3[counts[:, 2] == 0] = 0.0
    # Share of brokered slots actually worked by students (drives partner innovation).
    w.live_fill = np.where(slots3 > 0, np.minimum(1.0, counts[:, 2] / np.maximum(slots3, 1e-9)),
                           0.0)
    return e2, e3


def rate_table(w: World, e2: np.ndarray, e3: np.ndarray) -> np.ndarray:
    """(U, 3, 4) monthly skill rates per university and programme."""
    p = w.p
    base = classroom_rates(p)
    table = np.broadcast_to(base, (w.unis.count, 3, 4)).copy()
    table[:, 1, :] += e2[:, None].astype(np.float32) * np.asarray(p["industry_rate_2_0"],
                                                                  dtype=np.float32)
    table[:, 2, :] += e3[:, None].astype(np.float32) * np.asarray(p["immersion_rate_3_0"],
                                                                  dtype=np.float32)
    return table


def current_skills(w: World, rows: np.ndarray | slice) -> np.ndarray:
    """Skills of ``rows`` now (float64, (n, 4)), teaching since their last sync included."""
    st = w.students
    s = st.skills[rows].astype(float)
    enrolled = st.status[rows] == ENROLLED
    gap = w.exposure[st.code[rows]] - st.sync[rows]
    retain = np.exp(st.aptitude[rows][:, None].astype(float) * gap)
    return np.where(enrolled[:, None], 1.0 - (1.0 - s) * retain, s)


def sync_skills(w: World, rows: np.ndarray) -> None:
    """Store the current skills of ``rows`` (call before a student leaves study)."""
    st = w.students
    st.skills[rows] = current_skills(w, rows).astype(np.float32)
    st.sync[rows] = w.exposure[st.code[rows]]


def apply(w: World) -> None:
    if w.calendar_month == SEPTEMBER and w.month > 1:
        new_academic_year(w)
    e2, e3 = engagement(w)
    w.flows["engagement_2_0"] = float(e2.mean())
    w.flows["engagement_3_0"] = float(e3.mean())
    if w.calendar_month in SUMMER:
        return
    table = rate_table(w, e2, e3).reshape(-1, 4).astype(float)
    w.exposure += np.log1p(-np.minimum(table, 1.0 - 1e-9))


def new_academic_year(w: World) -> None:
    """September: enrolled students move up a year and a new cohort is admitted."""
    st, p = w.students, w.p
    win = np.arange(st.window_start, st.n)
    moving = win[st.status[win] == ENROLLED]
    st.year[moving] += 1
    admit_cohort(w, w.rng("labour.intake"), step=w.month)
    # The oldest cohort that can still be enrolled entered programme_years - 1 Septembers ago.
    oldest = w.month - 12 * (p["programme_years"] - 1)
    st.window_start = int(np.searchsorted(st.intake_step[: st.n], oldest, side="left"))
    w.count("admitted", float(w.unis.intake.sum()))
