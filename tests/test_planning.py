"""The plan line's time estimate (experiments/planning.py), on a model whose costs are known.

A stand-in for the model charges a fake clock: building the region costs BUILD, each month
MONTH, and the first time a process reaches a month of the year it also pays LOAD, as a fresh
process does when a June's or a September's compiled kernels are first called. The estimate of
a run must then be BUILD + horizon x MONTH: the one-time loading is not a month's cost.
"""

from __future__ import annotations

import pytest

from experiments import planning

BUILD, MONTH, LOAD = 0.020, 0.002, 0.050


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fake_model(clock: Clock):
    loaded: set[int] = set()  # months of the year whose kernels this process has loaded

    class Model:
        def __init__(self, rng=None, parameters=None) -> None:
            clock.now += BUILD
            self.month = 0

        def run(self, months: int) -> Model:
            for _ in range(months):
                if self.month % 12 not in loaded:
                    loaded.add(self.month % 12)
                    clock.now += LOAD
                clock.now += MONTH
                self.month += 1
            return self

    return Model


@pytest.mark.parametrize("horizon", [120, 36, 6, 1])
def test_a_run_is_estimated_at_build_plus_its_months_without_the_loading(monkeypatch, horizon):
    import simulation.model

    clock = Clock()
    monkeypatch.setattr(simulation.model, "EcosystemModel", fake_model(clock))
    monkeypatch.setattr(planning.time, "perf_counter", clock)
    seconds, how = planning.time_per_run({}, horizon)
    assert seconds == pytest.approx(BUILD + horizon * MONTH, rel=1e-9)
    timed = min(planning.TIMING_MONTHS, horizon) + 1
    assert how == (f"timed here: one run of {timed} months of the region took "
                   f"{BUILD + timed * MONTH:.2f} s")
