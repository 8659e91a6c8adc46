"""Kernel of the monthly indicators over firms (simulation/indicators.py)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def firm_totals(alive, employees, knowledge, digital, absorptive, platform_member, origin,
                grad_employees, grad_skill, startup_origins):
    """One pass over the firm rows: [living firms, their employees, their knowledge (L1),
    digital maturity, absorptive capacity, platform members, start-ups of the origins
    ``startup_origins``, graduates employed (all rows), their skill (all rows)]."""
    out = np.zeros(9)
    for i in range(len(alive)):
        out[7] += grad_employees[i]
        out[8] += grad_skill[i]
        if not alive[i]:
            continue
        out[0] += 1.0
        out[1] += employees[i]
        for j in range(knowledge.shape[1]):
            out[2] += knowledge[i, j]
        out[3] += digital[i]
        out[4] += absorptive[i]
        out[5] += platform_member[i]
        for o in startup_origins:
            if origin[i] == o:
                out[6] += 1.0
    return out
