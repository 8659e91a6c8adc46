"""What a batch command is about to do: how many runs, and about how long they will take.

Every batch command prints one plan line before it starts (``helixsim.cli`` through
``describe``), and ``--dry-run`` stops after it. The time is estimated from a short timing of
the command's own region on this machine, not from a table: one run of 1 month and one of
``TIMING_MONTHS`` months of the region (``time_per_run``) give the cost of building the region
and the cost of a month; a run of the horizon costs build + horizon x month, and the runs are
spread over the workers (the number of rounds, ``ceil(runs / workers)``, times one run).

The timing takes a fraction of a second for the default region once the kernels are loaded;
a fresh process first loads those its months call (a warm-up run of the timed months, about
a second). It leaves out what it cannot see: starting the worker processes (about a second
each), runs that a resumed folder already holds (they are not run again, so the estimate is an
upper bound then), other jobs sharing the cores, designs whose points change the region's
size (the base region is timed), and a region whose months cost more as it fills (the first
year's months are timed: 120-month runs of the default region, `model_3_0` and
`integration_does_not_pay` took 1.1 to 1.9 times their estimates, measured 2026-12-06; before
the warm-up covered the timed months, the loading made the estimates four to five times a
run's cost).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TIMING_MONTHS = 12


@dataclass(frozen=True)
class Estimate:
    """Seconds of one run of the horizon and of the whole batch, and how they were found."""

    run_s: float
    total_s: float
    workers: int
    how: str


def time_per_run(parameters: Mapping[str, Any] | None, horizon: int) -> tuple[float, str]:
    """(seconds of one run of ``horizon`` months of the region, how it was timed)."""
    from simulation.model import EcosystemModel
    from simulation.parameters import resolve

    months = max(1, min(TIMING_MONTHS, int(horizon)))
    base = dict(parameters or {})

    def timed(m: int) -> float:
        params = resolve({**base, "horizon_months": max(m, _timeline_end(base))})
        started = time.perf_counter()
        model = EcosystemModel(rng=0, parameters=params)
        model.run(m)
        return time.perf_counter() - started

    # The first model of a process pays for imports and caches, and the first call of each
    # compiled kernel for loading it (a June's and a September's kernels, several times the
    # months' own cost: the timing of the default region's first year, 0.17 s loading them,
    # 0.04 s once loaded), so the warm-up runs every month that is timed.
    timed(months + 1)
    one = timed(1)
    longer = timed(months + 1)
    per_month = max((longer - one) / months, 0.0)
    build = max(one - per_month, 0.0)
    return build + per_month * horizon, (f"timed here: one run of {months + 1} months of the "
                                         f"region took {longer:.2f} s")


def _timeline_end(parameters: Mapping[str, Any]) -> int:
    """The last scheduled month of a timeline (a horizon shorter than it is refused)."""
    timeline = parameters.get("timeline") or ()
    months = [int(t[0]) for t in timeline if isinstance(t, (list, tuple)) and t]
    return max(months, default=0)


def estimate(runs: int, parameters: Mapping[str, Any] | None, horizon: int,
             workers: int | None) -> Estimate:
    """The time of ``runs`` runs of ``horizon`` months of a region on ``workers`` workers."""
    from .executors import default_workers

    n = max(1, min(workers or default_workers(), max(runs, 1)))
    run_s, how = time_per_run(parameters, horizon)
    return Estimate(run_s, math.ceil(runs / n) * run_s if runs else 0.0, n, how)


def duration(seconds: float) -> str:
    """Seconds as people say them: "under a second", "40 s", "3 min", "2 h 10 min"."""
    if not math.isfinite(seconds):
        return "unknown"
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def describe(runs: int, what: str, est: Estimate | None, *, at_most: bool = False) -> str:
    """The plan line: "12 runs (3 seeds x 4 configurations); about 8 s on 2 workers (...)"."""
    count = f"{'at most ' if at_most else ''}{runs:,} run{'s' if runs != 1 else ''}"
    text = f"{count} ({what})" if what else count
    if est is not None:
        about = ("at most " if at_most else "") + ("about " if est.total_s >= 1 else "")
        text += (f"; {about}{duration(est.total_s)} on {est.workers} worker"
                 f"{'s' if est.workers != 1 else ''} "
                 f"({duration(est.run_s)} a run, {est.how})")
    return text
