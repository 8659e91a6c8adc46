"""Memory and work budgets: refuse a region or a batch that cannot fit, before allocating it.

Every parameter can be in its range while their combination is not: 100 universities with a
million students a year each over 100 years is a table of ten billion student rows. This
module estimates a run's memory from its sizes alone and refuses a region above the budget
with one line (a ``ParameterError``, exit code 2 from the command line), and caps the number of
runs a batch may plan.

Memory of one run (bytes), from its sizes::

    M = OVERHEAD + A_F * F * b_firm + A_S * S * b_student + T * (H + 1)

    F = n_firms * (1 + 0.15 * H / 12) + 16          firm rows (world.build_world's capacity)
    S = U * intake * (programme_years + ceil(H / 12) + 1)   student rows, every cohort kept
    b_firm    = bytes of one firm row: 8 (n_domains + U) + the fixed columns (state.Firms)
    b_student = bytes of one student row (state.Students)
    T         = bytes the indicator table keeps per month (one Python float per indicator)

with ``U = n_universities``, ``H = horizon_months``. The row sizes are read from the state
classes themselves, so a new column is counted without editing this formula. ``A_F`` and
``A_S`` (``SLACK_FIRMS`` = 2.5, ``SLACK_STUDENTS`` = 1.5) cover what the mechanisms allocate
around the tables (per-month temporaries over the firms and the enrolled students, the firm
table growing by doubling when entry outruns its reserve); ``OVERHEAD`` (12 MiB) is what a
built model costs besides its tables (Mesa, small arrays, the first month's caches). All three
are measured, not derived: ``benchmarks/memory.py`` prints this estimate next to the measured
peak resident memory of runs of eight sizes (from 9 MB to 235 MB measured, the estimate was
1.1 to 1.5 times the measured peak when they were set), so the estimate errs on the safe side.

The budget for one run is ``MEMORY_SHARE`` (half) of the memory available now, divided by
the number of runs held in memory at once (the workers), unless the ``HELIXSIM_MEMORY_BUDGET``
environment variable (or the command line's ``--memory-budget``) sets it: bytes, or a number
with a unit (``512M``, ``8G``, ``1.5T``).

A batch plans at most ``MAX_RUNS`` runs (``HELIXSIM_MAX_RUNS`` or ``--max-runs`` raise it),
counted from the design before anything is sampled or allocated.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from .parameters import ParameterError

MEMORY_ENV = "HELIXSIM_MEMORY_BUDGET"
RUNS_ENV = "HELIXSIM_MAX_RUNS"
MEMORY_SHARE = 0.5          # of the memory available, shared by the workers
MAX_RUNS = 100_000          # runs one batch may plan by default
OVERHEAD = 12 * 2**20       # bytes: a built model besides its tables (measured, see module doc)
SLACK_FIRMS = 2.5           # temporaries around the firm table (measured, see module doc)
SLACK_STUDENTS = 1.5        # temporaries around the student table (measured, see module doc)
# The parameters the estimate grows with: a design that varies one is checked at its largest.
SIZE_PARAMETERS = ("n_firms", "n_universities", "intake_per_university", "programme_years",
                   "n_domains", "horizon_months")
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class BudgetError(ParameterError):
    """A region or a batch above its budget. ``key`` names the size that drives it."""


def _row_bytes(table: Any) -> int:
    return sum(getattr(table, name)[:1].nbytes for name in table._arrays())


def row_bytes(n_domains: int, n_universities: int) -> tuple[int, int]:
    """(bytes of one firm row, bytes of one student row) as the state classes store them."""
    from .state import Firms, Students

    return (_row_bytes(Firms.empty(1, n_domains, n_universities)),
            _row_bytes(Students.empty(1)))


def sizes(params: dict[str, Any]) -> dict[str, int]:
    """Rows of the firm and student tables a run allocates, and its months."""
    h = int(params["horizon_months"])
    u = int(params["n_universities"])
    firms = int(params["n_firms"] * (1 + 0.15 * h / 12.0)) + 16
    students = u * int(params["intake_per_university"]) * (
        int(params["programme_years"]) + math.ceil(h / 12) + 1)
    return {"firms": firms, "students": students, "months": h + 1}


def estimate(params: dict[str, Any]) -> int:
    """Estimated peak memory of one run (bytes), from its sizes (formula in the module doc)."""
    from .indicators import INDICATORS

    b_firm, b_student = row_bytes(int(params["n_domains"]), int(params["n_universities"]))
    n = sizes(params)
    # The collector keeps a list of Python floats per indicator: a pointer and a float object.
    per_month = len(INDICATORS) * (8 + 24)
    return int(OVERHEAD + SLACK_FIRMS * n["firms"] * b_firm
               + SLACK_STUDENTS * n["students"] * b_student + n["months"] * per_month)


def parse_bytes(text: str, what: str = MEMORY_ENV) -> int:
    """Bytes from ``"8G"``, ``"512M"``, ``"1.5T"`` or a plain number of bytes (> 0)."""
    found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:i?B)?\s*", str(text), re.I)
    value = float(found.group(1)) * _UNITS[found.group(2).upper()] if found else 0.0
    if not found or not math.isfinite(value) or value < 1:
        raise BudgetError("", f"{what}: expected a size such as 512M, 8G or a number of "
                              f"bytes, got {str(text)[:40]!r}")
    return int(value)


def available_memory() -> int:
    """Bytes of memory available to new allocations now (psutil)."""
    import psutil

    return int(psutil.virtual_memory().available)


def memory_budget(workers: int = 1, override: str | int | None = None) -> tuple[int, str]:
    """(bytes one run may use, where that figure comes from, for messages)."""
    if override is None:
        override = os.environ.get(MEMORY_ENV) or None
    if override is not None:
        value = override if isinstance(override, int) else parse_bytes(override)
        return value, f"the budget set by {MEMORY_ENV} or --memory-budget"
    workers = max(int(workers), 1)
    share = int(MEMORY_SHARE * available_memory() / workers)
    per = f" per worker ({workers} workers)" if workers > 1 else ""
    return share, (f"the default budget: {MEMORY_SHARE:.0%} of the memory available "
                   f"({_size(available_memory())}){per}; set {MEMORY_ENV} or --memory-budget "
                   f"to raise it")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} PB"  # pragma: no cover


def format_bytes(n: float) -> str:
    """A size for people: ``1.5 GB``."""
    return _size(n)


def _driver(params: dict[str, Any]) -> str:
    """The size parameter behind most of the estimate, for the error's key."""
    b_firm, b_student = row_bytes(int(params["n_domains"]), int(params["n_universities"]))
    n = sizes(params)
    return "n_firms" if n["firms"] * b_firm >= n["students"] * b_student \
        else "intake_per_university"


def check_memory(params: dict[str, Any], *, workers: int = 1,
                 budget: int | None = None, source: str = "") -> int:
    """The run's estimate (bytes); ``BudgetError`` when it is above the budget.

    ``budget`` (bytes) with ``source`` (why that budget, for the message) overrides the
    default of ``memory_budget(workers)``.
    """
    need = estimate(params)
    if budget is None:
        budget, source = memory_budget(workers)
    if need > budget:
        key = _driver(params)
        n = sizes(params)
        raise BudgetError(
            key, f"the region needs about {_size(need)} of memory per run "
            f"({n['firms']:,} firm rows, {n['students']:,} student rows over "
            f"{n['months'] - 1} months), above {_size(budget)}, {source}")
    return need


def max_runs(override: int | str | None = None) -> int:
    """Runs one batch may plan: ``override``, else ``HELIXSIM_MAX_RUNS``, else ``MAX_RUNS``."""
    if override is None:
        override = os.environ.get(RUNS_ENV) or None
    if override is None:
        return MAX_RUNS
    try:
        value = int(str(override).replace("_", "").strip())
    except ValueError:
        value = 0
    if value < 1:
        raise BudgetError("", f"{RUNS_ENV}: expected a whole number of runs >= 1, got "
                              f"{str(override)[:40]!r}")
    return value


def check_runs(count: int, what: str, *, cap: int | str | None = None) -> int:
    """``count`` when a batch of that many runs is within the cap; ``BudgetError`` otherwise.

    ``what`` says how the count was made ("200 points x 3 replications"), for the message.
    """
    limit = max_runs(cap)
    if count > limit:
        raise BudgetError("", f"{what} = {_count(count)} runs, above the cap of {limit:,} runs "
                          f"per batch; make the design smaller, or raise the cap with "
                          f"{RUNS_ENV} or --max-runs")
    return count


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 10^{math.log10(n):.1f}"
