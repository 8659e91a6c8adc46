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


@njit(cache=True)
def hire_graduates(students, firms, skills, interest, grad_employees, grad_skill, knowledge,
                   digital, size, employees, prior_grads, graduate_knowledge, digital_rate):
    """Graduates ``students`` join ``firms`` (rows may repeat): each adds one graduate and its
    mean skill to the firm's staff, ``graduate_knowledge`` x its specialist skill to the
    firm's knowledge in its domain of interest (labour mobility), and its digital skill to
    the firm's digital maturity, which rises by min(1, ``digital_rate`` x digital skill hired /
    employees) x (1 - maturity); a firm is never smaller than its graduate staff."""
    digital_in = np.zeros(len(digital))
    for a in range(len(students)):
        i, s = firms[a], students[a]
        # Skills are float32: widen each before adding (numba's float() keeps float32).
        s0, s1 = np.float64(skills[s, 0]), np.float64(skills[s, 1])
        s2, s3 = np.float64(skills[s, 2]), np.float64(skills[s, 3])
        grad_employees[i] += 1
        grad_skill[i] += (((s0 + s1) + s2) + s3) / 4.0
        knowledge[i, interest[s]] += graduate_knowledge * s0
        digital_in[i] += s3
    for i in range(len(digital)):
        if digital_in[i] != 0:
            rate = min(max(digital_rate * digital_in[i] / max(employees[i], 1), 0.0), 1.0)
            digital[i] += rate * (1.0 - digital[i])
    for a in range(len(students)):
        i = firms[a]
        staff = grad_employees[i] + prior_grads[i]
        size[i] = max(size[i], float(staff))
        employees[i] = max(employees[i], staff)
