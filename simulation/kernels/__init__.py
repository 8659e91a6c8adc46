"""Compiled kernels of the mechanisms' per-firm, per-project and per-student loops (numba).

Why: a month of the default region is a few thousand rows per table, so the array code spent
most of its time in the overhead of thousands of small numpy calls (gathers, masks, reductions),
not in arithmetic. Each kernel here fuses one mechanism step into one pass over its rows, named
for what it models (``grow_firms``, ``innovate``, ...); docs/performance.md has the measurements.

Random numbers are drawn by the mechanisms with the numpy Generators of ``simulation.rng`` in
the same order and shapes as before and passed in, so a seed gives the same draws and common
random numbers between scenarios hold as before. The two exceptions keep that promise too:
where only a few rows read a per-row draw, a mechanism passes the month's start state of the
stream and the kernel computes those rows' numbers (``stream.py``), the numbers the every-row
draw would give them; and standard normals, which numba draws three times faster than numpy,
are drawn by a kernel from the purpose's own Generator (``draws.py``, through
``rng.Streams.standard_normal``), the same numbers in the same order. Kernels take the state arrays
and plain numbers, update the arrays in place and return what the mechanism books.

numba is imported here lazily, at the first use of a kernel (the first model step), so that
importing the package and the command line's start-up do not pay for it. Compiled code is
cached on disk (``cache=True``): in ``__pycache__`` beside these files, or, where that is not
writable (an installed wheel), in the user's cache directory; ``NUMBA_CACHE_DIR`` overrides
both. The first run on a machine compiles every kernel once.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Kernel name -> module of this package that defines it.
_MODULES = {
    "gibrat_exponent": "firms",
    "grow_firms": "firms",
    "pay_and_absorb": "firms",
    "exit_firms": "firms",
    "exit_probability": "firms",
    "displace": "firms",
    "start_firms": "firms",
    "row_sum": "firms",
    "innovate": "innovation",
    "innovation_probability": "innovation",
    "certainly_no_innovation": "innovation",
    "end_projects": "projects",
    "free_firms": "projects",
    "searching_firms": "projects",
    "choose_partners": "projects",
    "search_probability": "projects",
    "search_probability_bound": "projects",
    "within_capacity": "projects",
    "matches_within_capacity": "projects",
    "accept_offers": "projects",
    "screen_firms": "projects",
    "open_projects": "projects",
    "grants_due": "projects",
    "run_projects": "projects",
    "hire_graduates": "labour",
    "merge_rows": "labour",
    "group_rows": "labour",
    "who_founds": "labour",
    "tied_seekers": "labour",
    "untied_seekers": "labour",
    "employer_weights": "labour",
    "retention_cover": "labour",
    "cohort_skills": "labour",
    "without_ties": "labour",
    "seekers_draws": "labour",
    "fill_vacancies": "labour",
    "by_employability": "labour",
    "stay_or_leave": "labour",
    "index_staff": "labour",
    "jobs_lost": "labour",
    "unemployed_flows": "labour",
    "weighted_picks": "labour",
    "firm_totals": "indicators",
    "in_incubation": "engagement",
    "support_incubated": "engagement",
    "engaged_fte": "engagement",
    "staff_time_left": "engagement",
    "funding_base": "research",
    "research_output": "research",
    "publication_rates": "research",
    "book_publications": "research",
    "living_value_added": "accounting",
    "university_grants": "accounting",
    "share_rd_subsidies": "accounting",
    "gini_of_sorted": "indicators",
    "gini_of_values": "indicators",
    "sorted_values": "indicators",
    "project_network": "indicators",
    "transmission_bits": "indicators",
    "small_totals": "indicators",
    "teaching_exponent": "students",
    "skills_now": "students",
    "store_skills": "students",
    "drop_out": "students",
    "final_year": "students",
    "graduate_cohort": "students",
    "move_up_a_year": "students",
    "monthly_skill_rates": "students",
    "file_by_month": "students",
    "enrol_cohort": "students",
    "immersion_engagement": "students",
    "willing_partners": "students",
    "standard_normals": "draws",
    "generator_list": "draws",
    "add_generator": "draws",
    "uniforms_at": "stream",
    "row_uniforms": "stream",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    kernel = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = kernel  # later look-ups skip this hook
    return kernel
