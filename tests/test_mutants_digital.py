"""Digital transformation (mechanism 6): what a digitally skilled hire does to its employer.

Written against the survivors of a mutation sample (benchmarks/mutation.py, docs/testing.md).
"""

from __future__ import annotations

import numpy as np

from simulation import kernels
from simulation.state import EMPLOYED, UNEMPLOYED


def hire_effect(digital: np.ndarray, firms: np.ndarray, skill: np.ndarray,
                employees: np.ndarray, rate: float) -> None:
    """Hire one graduate per entry of ``firms`` with digital skill ``skill`` through the
    labour market's hiring kernel, leaving every other skill at zero, and update ``digital``."""
    n_firms, n_hires = len(digital), len(firms)
    skills = np.zeros((n_hires, 4), dtype=np.float32)
    skills[:, 3] = skill
    employees = np.asarray(employees, dtype=np.int64).copy()
    # The hires are unemployed graduates who become employed.
    status = np.full(n_hires, UNEMPLOYED, dtype=np.int8)
    counts = np.zeros(6, dtype=np.int64)
    counts[UNEMPLOYED] = n_hires
    kernels.hire_graduates(np.arange(n_hires, dtype=np.int64), np.asarray(firms, np.int64),
                           EMPLOYED, status, np.full(n_hires, -1, dtype=np.int32), counts,
                           skills, np.zeros(n_hires, dtype=np.int64),
                           np.zeros(n_firms, dtype=np.int64), np.zeros(n_firms),
                           np.zeros((n_firms, 4)), digital, employees.astype(float),
                           employees, np.zeros(n_firms, dtype=np.int64), 0.0, rate,
                           np.zeros(n_firms))


def test_a_hire_moves_maturity_by_rate_times_skill_per_employee_toward_one():
    # Maturity d rises by r * (sum of the hires' digital skill / employees) * (1 - d): one
    # hire in a firm of 50 moves it a little, never to full maturity; a firm without hires
    # is untouched; several hires at one firm add up before the saturation.
    digital = np.array([0.2, 0.5, 0.3])
    employees = np.array([50, 10, 8])
    firms = np.array([0, 1, 1])
    skill = np.array([0.5, 0.4, 0.6])
    before = digital.copy()
    hire_effect(digital, firms, skill, employees, rate=0.2)
    step0 = 0.2 * 0.5 / 50
    step1 = 0.2 * (0.4 + 0.6) / 10
    np.testing.assert_allclose(digital, [before[0] + step0 * (1 - before[0]),
                                         before[1] + step1 * (1 - before[1]), before[2]])
    assert digital[0] < 0.21


def test_a_very_large_hiring_step_saturates_at_full_maturity():
    digital = np.array([0.4, 0.1])
    hire_effect(digital, np.array([0, 0, 0]), np.array([1.0, 1.0, 1.0]), np.array([1, 5]),
                rate=10.0)
    np.testing.assert_allclose(digital, [1.0, 0.1])
