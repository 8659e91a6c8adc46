"""Warm-up of the process pool's fork server: importing this module readies a process for runs.

The local process pool (``experiments.executors.process_pool``) starts its workers from a fork
server, a process that imports this module once and then forks one worker per request. The
import brings in what every run needs (numpy, pandas, the model, numba) and runs one small
model of 14 months, so that numba loads every compiled kernel from its on-disk cache (or, the
first time on a machine, compiles them) in the server. Each worker forked from it starts with
all of that in memory, in milliseconds, instead of spending a second or more of its own (2-5 s
on a loaded machine) importing numba and loading the kernels, as a spawned worker does.

Why an import and not a function call: multiprocessing's fork server runs no code of ours
except the imports of its preload list (``set_forkserver_preload``).

The warm-up never raises: a fork server whose preload raised would be dead, and the pool
with it. If the warm-up fails, workers load what they need at their first run, as spawned
workers do. ``WARMED_IN`` is the process id where the warm-up ran (None if it failed), and
``THREADS`` the threads of that process when it finished (forking a process with other threads
running can deadlock the child; the pool keeps the server at one thread).
"""

from __future__ import annotations

import os
from typing import Any

# The small region whose 14 months call every kernel of the model at least once (entry, exit,
# the first graduation and the projects' whole life cycle happen within them).
WARM_REGION: dict[str, Any] = {"n_firms": 300, "intake_per_university": 300,
                               "n_universities": 2}
WARM_MONTHS = 14

WARMED_IN: int | None = None
THREADS: int | None = None


def native_threads() -> int | None:
    """The operating-system threads of this process (Linux; None where /proc is missing)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def warm() -> None:
    """Import what a run needs and run one small model through the runner's task."""
    global WARMED_IN, THREADS
    try:
        import psutil  # noqa: F401  (the workers' watch on their parent)

        from experiments.runner import RunSpec, run_one

        run_one(RunSpec("warm-up", WARM_REGION, 0, 0, WARM_MONTHS))
    except Exception:  # see the module docstring: the server must live on
        return
    WARMED_IN = os.getpid()
    THREADS = native_threads()


warm()
