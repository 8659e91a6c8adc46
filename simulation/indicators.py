"""Indicators of the ODD, computed from the world at the end of every month.

``INDICATORS`` names every indicator with its unit and meaning; the DataCollector gets one
column each, in this order, and docs/ODD.md lists the same table.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .parameters import INSTRUMENTS
from .state import (
    DROPPED_OUT,
    EMPLOYED,
    ENROLLED,
    FOUNDER,
    GRADUATE_STARTUP,
    LEFT,
    SPINOFF,
    UNEMPLOYED,
)
from .world import World

INDICATORS: dict[str, tuple[str, str]] = {
    "month": ("month", "Months simulated (0 = initial state, September of year 0)."),
    "value_added": ("MCU/month", "Regional value added of living firms."),
    "welfare": ("MCU", "W: value added net of firms' link outlays, from the end of the burn-in "
                "(burn_in_months), discounted to that month and summed so far."),
    "firm_link_outlays": ("MCU/month", "Firms' own cash spent on cross-helix links this month: "
                          "their share of project costs (after matching grants) and platform "
                          "joining costs (after the subsidy); subtracted in W."),
    "jobs": ("persons", "Employees of living firms."),
    "firms_alive": ("firms", "Living firms."),
    "innovations_incremental": ("per month", "Incremental innovations this month."),
    "innovations_radical": ("per month", "Radical innovations this month."),
    "patents": ("per month", "Patents granted this month."),
    "innovations_total": ("innovations", "Innovations since month 0."),
    "active_projects": ("projects", "Active university-industry projects."),
    "active_brokered_projects": ("projects", "Active projects brokered under Education Model 3.0."),
    "projects_started": ("per month", "Projects started this month."),
    "share_firms_collaborating": ("share", "Living firms with an active university project."),
    "network_density": ("share", "Firm-university pairs linked by an active project, over all "
                        "possible pairs."),
    "largest_component_share": ("share", "Largest connected component of the collaboration "
                                "network over organisations with at least one project."),
    "platform_members": ("firms", "Living firms on the digital platform."),
    "platform_matches": ("per month", "Projects found through the platform this month."),
    "internships": ("students", "Graduating students with an internship or live-project tie, "
                    "last June."),
    "university_knowledge": ("knowledge units", "Mean knowledge level (L1) of universities."),
    "publications": ("per month", "Publications this month."),
    "publications_total": ("papers", "Publications since month 0."),
    "mean_firm_knowledge": ("knowledge units", "Mean knowledge level (L1) of living firms."),
    "mean_digital_maturity": ("share", "Mean digital maturity of living firms."),
    "mean_absorptive_capacity": ("share", "Mean absorptive capacity of living firms."),
    "students_enrolled": ("students", "Enrolled students."),
    "enrolled_1_0": ("students", "Enrolled in Education Model 1.0 programmes."),
    "enrolled_2_0": ("students", "Enrolled in Education Model 2.0 programmes."),
    "enrolled_3_0": ("students", "Enrolled in Education Model 3.0 programmes."),
    "graduates_total": ("persons", "Graduates since month 0."),
    "alumni_employed": ("persons", "Graduates employed by a regional firm (founders excluded)."),
    "alumni_founders": ("persons", "Graduates running their own start-up."),
    "alumni_unemployed": ("persons", "Graduates in the region without work."),
    "alumni_left": ("persons", "Graduates who left the region."),
    "dropped_out": ("persons", "Students who dropped out."),
    "graduate_employment_rate": ("share", "Latest cohort: employed or founder at graduation."),
    "graduate_retention_rate": ("share", "Graduates since month 0 still in the region."),
    "graduate_skill": ("skill [0, 1]", "Mean skill (four skills) of graduates working in the "
                       "region."),
    "startups_founded": ("firms", "Graduate start-ups and university spin-offs since month 0."),
    "startups_alive": ("firms", "Graduate start-ups and spin-offs alive."),
    "firm_entries": ("per month", "New firms this month (entrants, start-ups, spin-offs)."),
    "firm_exits": ("per month", "Firms that exited this month."),
    **{f"spend_{name}": ("MCU/month", f"Government spending on {name.replace('_', ' ')}.")
       for name in INSTRUMENTS},
    "spend_total": ("MCU/month", "Government spending on all instruments."),
    "tax_revenue": ("MCU/month", "Tax collected on value added."),
    "gov_unspent": ("MCU", "Money released but not yet spent (all instruments)."),
    "gov_returned": ("MCU", "Unspent money returned since month 0."),
    "gov_net_fiscal": ("MCU", "Tax collected minus money spent since month 0."),
    "gini_value_added": ("index", "Gini coefficient of value added across living firms."),
    "synergy_T": ("bits", "Triple-helix transmission T over joint outputs so far."),
    "synergy_S": ("millibits", "Synergy S = -T."),
}


NAMES = tuple(INDICATORS)
STARTUP_ORIGINS = np.array([GRADUATE_STARTUP, SPINOFF], dtype=np.int8)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, towards 1 = concentrated): the
    formula is the kernel's (simulation/kernels/indicators.py, ``gini_of_sorted``), on the
    values sorted by a compiled radix sort (``sorted_values``)."""
    return float(kernels.gini_of_values(np.ascontiguousarray(x, dtype=float)))


def compute(w: World) -> dict[str, float]:
    f, st, pr, gov, u = w.firms, w.students, w.projects, w.gov, w.unis
    nf = f.n
    if w.scratch.value_added is not None:
        rows, va_firm, va_total = w.scratch.value_added  # computed by accounting this month
    else:
        rows = np.flatnonzero(f.alive[:nf])
        va_firm = f.value_added(rows, w.p["graduate_premium"])
        va_total = float(va_firm.sum())
    n_alive = len(rows)
    fl, tot = w.scratch.flows, w.totals
    status_counts = st.status_counts.tolist()
    graduates = int(tot.get("graduates", 0))
    in_region = graduates - int(status_counts[LEFT])  # only graduates leave the region
    # One pass over the firm rows (simulation/kernels/indicators.py). Graduates working in
    # the region are kept per employer (zeroed when a firm exits), so no pass over all alumni.
    (_, jobs, knowledge, digital, absorptive, members, startups_alive, grad_staff,
     grad_skill_sum) = kernels.firm_totals(
        f.alive[:nf], f.employees, f.knowledge, f.digital, f.absorptive, f.platform_member,
        f.origin, f.grad_employees, f.grad_skill, STARTUP_ORIGINS).tolist()
    grad_skill = grad_skill_sum / grad_staff if grad_staff else 0.0
    # One pass over the project rows: active and brokered projects, the firms with one and
    # the network's density and largest component (simulation/kernels/indicators.py).
    n_pr = pr.n
    (n_active, n_brokered, n_collaborating, density, component) = kernels.project_network(
        pr.active[:n_pr], pr.firm[:n_pr], pr.university[:n_pr], pr.brokered[:n_pr], n_alive,
        u.count).tolist()
    # synergy.transmission, to the last bit, in one kernel call (simulation/kernels/indicators.py).
    t = kernels.transmission_bits(w.tally.cells)
    # The sums over universities, programmes and instruments, as numpy adds them, in one call.
    (enrolled_1, enrolled_2, enrolled_3, uni_knowledge, publications, spent_month, unspent,
     spent_total) = kernels.small_totals(w.enrolled, u.knowledge, u.publications,
                                         gov.spent_month, gov.balance, gov.spent).tolist()
    # The values in the order of INDICATORS (NAMES), zipped into the month's dict in one call:
    # building it key by key was a third of this function's time.
    return dict(zip(NAMES, [
        float(w.month),
        va_total,
        w.welfare,
        fl.get("firm_link_outlays", 0.0),
        jobs,
        float(n_alive),
        fl.get("innovations_incremental", 0.0),
        fl.get("innovations_radical", 0.0),
        fl.get("patents", 0.0),
        tot.get("innovations_incremental", 0.0)
        + tot.get("innovations_radical", 0.0),
        n_active,
        n_brokered,
        fl.get("projects_started", 0.0),
        n_collaborating / max(n_alive, 1),
        density,
        component,
        members,
        fl.get("platform_matches", 0.0),
        w.last_cohort.get("internships", 0.0),
        uni_knowledge,
        fl.get("publications", 0.0),
        publications,
        knowledge / n_alive if n_alive else 0.0,
        digital / n_alive if n_alive else 0.0,
        absorptive / n_alive if n_alive else 0.0,
        float(status_counts[ENROLLED]),
        enrolled_1,
        enrolled_2,
        enrolled_3,
        float(graduates),
        float(status_counts[EMPLOYED]),
        float(status_counts[FOUNDER]),
        float(status_counts[UNEMPLOYED]),
        float(status_counts[LEFT]),
        float(status_counts[DROPPED_OUT]),
        w.last_cohort.get("employment_rate", 0.0),
        in_region / graduates if graduates else 0.0,
        grad_skill,
        tot.get("startups_founded", 0.0),
        startups_alive,
        fl.get("firm_entries", 0.0),
        fl.get("firm_exits", 0.0),
        *gov.spent_month.tolist(),
        spent_month,
        gov.tax_month,
        unspent,
        gov.returned,
        gov.tax_total - spent_total,
        gini(va_firm),
        t,
        -1000.0 * t,
    ], strict=True))
