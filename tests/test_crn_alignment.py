"""Common random numbers after firm entry and exit: a firm's draws do not depend on which
other firms were born or died (rng.py: draws are made for every row, then indexed).

test_determinism.py checks alignment in month 1 only. Here two runs on one seed differ only in
how many firms enter or exit, in a region where nothing else links the incumbents to each other
(no graduate hiring, no projects, no public money, no platform): each incumbent's size,
productivity, cash, innovations, patents and exit must then be the same in both runs, every
month. A mechanism that draws one number per living firm (or per firm alive last month)
instead of one per row shifts every firm after the first exit or entry onto another firm's
numbers, and this test sees it.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation.state import INCUMBENT

# Incumbents interact only through the random streams.
ISOLATED = dict(n_universities=2, n_firms=250, intake_per_university=150, horizon_months=30,
                graduate_vacancy_rate=0.0, founder_rate=0.0, reemployment_rate=0.0,
                search_rate=0.0, channel_brokerage=False, gov_budget=0.0, platform_on=False,
                innovation_hazard=0.0,  # innovation: see the last test
                displacement_share=0.0, capstone_students_per_firm=0)
NO_EXIT = dict(exit_hazard_young=0.0, exit_hazard_mid=0.0, exit_hazard_mature=0.0)
SEEDS = (1, 4, 9, 17)
FIELDS = ("size", "employees", "productivity", "cash", "innovations", "patents", "knowledge",
          "alive")


def paired_months(seed: int, a: dict, b: dict, months: int):
    """Step two runs side by side; yield (month, world a, world b, incumbent rows)."""
    ma = EcosystemModel(rng=seed, **{**ISOLATED, **a})
    mb = EcosystemModel(rng=seed, **{**ISOLATED, **b})
    inc = np.flatnonzero(ma.world.firms.origin[: ma.world.firms.n] == INCUMBENT)
    for _ in range(months):
        ma.step()
        mb.step()
        yield ma.world.month, ma.world, mb.world, inc


def assert_same(month: int, rows: np.ndarray, wa, wb, fields=FIELDS) -> None:
    for name in fields:
        va, vb = getattr(wa.firms, name)[rows], getattr(wb.firms, name)[rows]
        np.testing.assert_array_equal(va, vb, err_msg=f"month {month}: incumbents' {name}")


@pytest.mark.parametrize("seed", SEEDS)
def test_incumbents_keep_their_draws_when_other_firms_enter(seed):
    few = dict(entry_rate=0.0, channel_incubation=False)
    many = dict(entry_rate=0.02, channel_incubation=True, spinoff_rate=1.0)
    entered = 0
    for month, wa, wb, inc in paired_months(seed, few, many, ISOLATED["horizon_months"]):
        assert wa.firms.n == len(inc)  # no entry at all in the first run
        entered = wb.firms.n - len(inc)
        assert_same(month, inc, wa, wb)
    assert entered > 20  # the second run did have entrants, spin-offs among them


@pytest.mark.parametrize("seed", SEEDS)
def test_survivors_keep_their_draws_when_other_firms_exit(seed):
    exits = dict(exit_hazard_young=0.05, exit_hazard_mid=0.05, exit_hazard_mature=0.05,
                 exit_size_elasticity=0.0)
    base = dict(NO_EXIT, entry_rate=0.01)
    for month, wa, wb, inc in paired_months(seed, base, {**base, **exits}, 24):
        alive_b = inc[wb.firms.alive[inc]]
        # Without the hazard a firm exits only when its cash runs out, in both runs alike.
        assert wa.firms.alive[alive_b].all()
        assert_same(month, alive_b, wa, wb, fields=FIELDS[:-1])
    assert len(alive_b) < 0.6 * len(inc)  # many firms did exit in the second run


@pytest.mark.parametrize("seed", SEEDS)
def test_exit_draws_stay_with_their_firm_when_other_firms_run_out_of_cash(seed):
    """The same exit hazard in both runs, but the second starts firms with little cash, so
    some of them exit for want of cash. Cash moves by the same amounts in both runs (only the
    starting level differs), so every firm solvent in both runs must exit by the hazard in
    both or in neither."""
    hazard = dict(exit_hazard_young=0.03, exit_hazard_mid=0.03, exit_hazard_mature=0.03,
                  exit_size_elasticity=0.0, entry_rate=0.0, channel_incubation=False,
                  margin=0.0, margin_sigma=0.3)
    poor = dict(hazard, initial_cash_months=0.3)
    cash_exits = hazard_exits = 0
    alive_a = alive_b = None
    for month, wa, wb, inc in paired_months(seed, hazard, poor, 24):
        fa, fb = wa.firms, wb.firms
        if alive_a is not None:
            both = inc[alive_a & alive_b]
            solvent = both[(fa.cash[both] >= 0) & (fb.cash[both] >= 0)]
            np.testing.assert_array_equal(fa.alive[solvent], fb.alive[solvent],
                                          err_msg=f"month {month}: hazard exits differ")
            cash_exits += int(((fb.cash[both] < 0) & ~fb.alive[both]).sum())
            hazard_exits += int((~fa.alive[solvent]).sum())
        alive_a, alive_b = fa.alive[inc].copy(), fb.alive[inc].copy()
    assert cash_exits > 5 and hazard_exits > 20


@pytest.mark.parametrize("seed", SEEDS)
def test_entrants_line_up_when_created_in_the_same_order(seed):
    """Two runs with the same exits and entries but a different unrelated lever (the
    discount rate, which feeds nothing back) give every entrant the same path."""
    a = dict(entry_rate=0.02, channel_incubation=True, spinoff_rate=1.0)
    for month, wa, wb, _ in paired_months(seed, a, {**a, "discount_rate": 0.2}, 18):
        assert wa.firms.n == wb.firms.n
        rows = np.arange(wa.firms.n)
        assert_same(month, rows, wa, wb)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_innovation_draws_line_up_after_entry(seed):
    few = dict(entry_rate=0.0, channel_incubation=False, innovation_hazard=0.05)
    many = dict(few, entry_rate=0.02)
    for month, wa, wb, inc in paired_months(seed, few, many, 12):
        assert_same(month, inc, wa, wb, fields=("innovations", "productivity", "knowledge"))
