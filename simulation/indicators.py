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
from .synergy import transmission
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


SPEND_KEYS = tuple(f"spend_{name}" for name in INSTRUMENTS)
STARTUP_ORIGINS = np.array([GRADUATE_STARTUP, SPINOFF], dtype=np.int8)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, towards 1 = concentrated): the
    formula is the kernel's (simulation/kernels/indicators.py, ``gini_coefficient``)."""
    return float(kernels.gini_coefficient(np.asarray(x, dtype=float)))


def compute(w: World) -> dict[str, float]:
    f, st, pr, gov, u = w.firms, w.students, w.projects, w.gov, w.unis
    nf = f.n
    if w.scratch.value_added is not None:
        rows, va_firm = w.scratch.value_added  # computed by accounting this month
    else:
        rows = np.flatnonzero(f.alive[:nf])
        va_firm = f.value_added(rows, w.p["graduate_premium"])
    n_alive = len(rows)
    fl, tot = w.scratch.flows, w.totals
    status_counts = st.status_counts
    by_prog = w.enrolled.sum(axis=0)
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
    t = transmission(w.tally.cells)
    out = {
        "month": float(w.month),
        "value_added": float(va_firm.sum()),
        "welfare": w.welfare,
        "firm_link_outlays": fl.get("firm_link_outlays", 0.0),
        "jobs": jobs,
        "firms_alive": float(n_alive),
        "innovations_incremental": fl.get("innovations_incremental", 0.0),
        "innovations_radical": fl.get("innovations_radical", 0.0),
        "patents": fl.get("patents", 0.0),
        "innovations_total": tot.get("innovations_incremental", 0.0)
        + tot.get("innovations_radical", 0.0),
        "active_projects": n_active,
        "active_brokered_projects": n_brokered,
        "projects_started": fl.get("projects_started", 0.0),
        "share_firms_collaborating": n_collaborating / max(n_alive, 1),
        "network_density": density,
        "largest_component_share": component,
        "platform_members": members,
        "platform_matches": fl.get("platform_matches", 0.0),
        "internships": w.last_cohort.get("internships", 0.0),
        "university_knowledge": float(u.knowledge.sum(axis=1).mean()),
        "publications": fl.get("publications", 0.0),
        "publications_total": float(u.publications.sum()),
        "mean_firm_knowledge": knowledge / n_alive if n_alive else 0.0,
        "mean_digital_maturity": digital / n_alive if n_alive else 0.0,
        "mean_absorptive_capacity": absorptive / n_alive if n_alive else 0.0,
        "students_enrolled": float(status_counts[ENROLLED]),
        "enrolled_1_0": float(by_prog[0]),
        "enrolled_2_0": float(by_prog[1]),
        "enrolled_3_0": float(by_prog[2]),
        "graduates_total": float(graduates),
        "alumni_employed": float(status_counts[EMPLOYED]),
        "alumni_founders": float(status_counts[FOUNDER]),
        "alumni_unemployed": float(status_counts[UNEMPLOYED]),
        "alumni_left": float(status_counts[LEFT]),
        "dropped_out": float(status_counts[DROPPED_OUT]),
        "graduate_employment_rate": w.last_cohort.get("employment_rate", 0.0),
        "graduate_retention_rate": in_region / graduates if graduates else 0.0,
        "graduate_skill": grad_skill,
        "startups_founded": tot.get("startups_founded", 0.0),
        "startups_alive": startups_alive,
        "firm_entries": fl.get("firm_entries", 0.0),
        "firm_exits": fl.get("firm_exits", 0.0),
    }
    for key, spent in zip(SPEND_KEYS, gov.spent_month.tolist(), strict=True):
        out[key] = spent
    out["spend_total"] = float(gov.spent_month.sum())
    out["tax_revenue"] = gov.tax_month
    out["gov_unspent"] = float(gov.balance.sum())
    out["gov_returned"] = gov.returned
    out["gov_net_fiscal"] = gov.tax_total - float(gov.spent.sum())
    out["gini_value_added"] = kernels.gini_coefficient(va_firm)
    out["synergy_T"] = t
    out["synergy_S"] = -1000.0 * t
    return out
