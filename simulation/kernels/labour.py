"""Kernels of mechanism 7, graduation and the labour market (mechanisms/labour_market.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lose_jobs(alive, employer):
    """Rows of students whose employer (a firm row, -1 for none) has exited."""
    out = np.empty(len(employer), dtype=np.int64)
    m = 0
    for s in range(len(employer)):
        e = employer[s]
        if e >= 0 and not alive[e]:
            out[m] = s
            m += 1
    return out[:m]


@njit(cache=True)
def rows_with_status(status, code, count):
    """The ``count`` rows whose status is ``code``, in row order."""
    out = np.empty(count, dtype=np.int64)
    m = 0
    for s in range(len(status)):
        if status[s] == code:
            if m == count:
                break
            out[m] = s
            m += 1
    return out[:m]
