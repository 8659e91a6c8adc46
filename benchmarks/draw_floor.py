"""How much of a run is the random numbers alone, and the compiled kernels: floors under speed.

A run's random numbers are drawn from numpy Generators, one stream per purpose and month
(simulation/rng.py), in the shapes the mechanisms need (one draw per firm row, project or
graduate). Any faster implementation that keeps the same seeds and common random numbers must
draw exactly these numbers, so their cost is a floor under the run's cost. This script
records every Generator call a default-region run makes (purpose, month, method, arguments),
replays the calls alone on fresh streams (positioning included), and prints the run's CPU time,
the replay's, and their ratio: the largest speed-up any implementation that keeps the draws
could reach if everything else cost nothing.

Some purposes are read by a few rows only (innovation.gain and .patent, collaboration.choice
and .accept): their mechanisms take the month's start state (``Streams.start_state``) and
kernels compute the numbers at those rows' positions, the numbers the every-row draw would
give them. Each such start state is recorded and replayed as one call with no values: the
numbers the kernels compute are in the kernels' time below, not in "its draws alone", and
not in the count of values (which counts the values Generators drew).

It then times the run's compiled kernels (simulation/kernels/) alone: every kernel the
mechanisms call is wrapped by a timer for one run, and the timer's own cost (measured on an
empty kernel, the same way) is taken off each call. The kernels do the model's arithmetic, so
"draws + kernels" is what a run would cost if all the Python and numpy between them cost
nothing (a compiled month, say) while the arithmetic stayed what it is; the script prints that
floor and the speed-up it leaves.

    python benchmarks/draw_floor.py               # default region, seed 1, 3 repeats
    python benchmarks/draw_floor.py --metro

Prints figures only; always exits 0. Use one thread (OMP_NUM_THREADS=1) and quote ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from simulation import EcosystemModel
from simulation.rng import Streams

SIZES: dict[str, dict[str, int]] = {
    "default": {},
    "metro": {"n_universities": 20, "n_firms": 100_000, "intake_per_university": 12_500},
}
SMALL = {"n_firms": 300, "intake_per_university": 300, "n_universities": 2}


def fingerprint(out: Any) -> float | None:
    """A number that changes when a call's result does (None for calls that work in place)."""
    if out is None or isinstance(out, np.random.BitGenerator):  # in place, or advanced
        return None
    return float(np.sum(np.asarray(out, dtype=float)))


class Recorder:
    """Stands in for a month's Generator: passes every call through and records it."""

    def __init__(self, gen: Any, purpose: str, month: int, log: list[tuple],
                 prefix: str = "") -> None:
        self._gen, self._purpose, self._month, self._log = gen, purpose, month, log
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name == "bit_generator":
            # A stream positioned through its bit generator (an advance past numbers it does
            # not need): recorded as a call too.
            return Recorder(self._gen.bit_generator, self._purpose, self._month, self._log,
                            "bit_generator.")
        method = getattr(self._gen, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            # Arguments are copied: a mechanism may change an array after passing it.
            entry = [self._purpose, self._month, self._prefix + name,
                     tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args),
                     {k: v.copy() if isinstance(v, np.ndarray) else v
                      for k, v in kwargs.items()}, None]
            out = method(*args, **kwargs)
            entry[5] = fingerprint(out)
            if isinstance(out, np.random.BitGenerator):
                entry.append(0)  # an advance draws no number
            else:
                entry.append(int(np.size(out)) if out is not None else int(np.size(args[0])))
            self._log.append(tuple(entry))
            return out
        return call


def record(size: str, seed: int) -> tuple[list, np.random.SeedSequence]:
    log: list[tuple] = []
    model = EcosystemModel(rng=seed, horizon_months=120, **SIZES[size])
    streams = model.world.streams
    real_get = streams.get

    def get(purpose: str, month: int) -> Any:
        gen = real_get(purpose, month)
        # Shuffles and permutations in place work on the caller's array through the proxy.
        return Recorder(gen, purpose, month, log)

    real_start = streams.start_state

    def start_state(purpose: str, month: int) -> np.ndarray:
        words = real_start(purpose, month)
        log.append((purpose, month, "start_state", (), {}, fingerprint(words), 0))
        return words

    streams.get = get  # type: ignore[method-assign]
    streams.start_state = start_state  # type: ignore[method-assign]
    # The month-0 draws of build_world are not recorded; they are made once per run.
    model.run()
    return log, streams.root


def replay(log: list, root: np.random.SeedSequence, check: bool = False) -> float:
    """CPU seconds of the recorded calls on fresh streams; with ``check``, each result is
    compared with the recorded one (so the replay is known to draw the run's numbers)."""
    streams = Streams(root)
    gens: dict[tuple[str, int], np.random.Generator] = {}
    c0 = time.process_time()
    for purpose, month, name, args, kwargs, seen, _ in log:
        if name == "start_state":  # the month's stream taken as its start state
            out = streams.start_state(purpose, month)
        else:
            key = (purpose, month)
            gen = gens.get(key)
            if gen is None:
                gen = gens[key] = streams.get(purpose, month)
            target = gen.bit_generator if name.startswith("bit_generator.") else gen
            out = getattr(target, name.removeprefix("bit_generator."))(*args, **kwargs)
        if check and fingerprint(out) != seen and not (seen != seen):  # NaN equals NaN here
            raise SystemExit(f"replay differs at {purpose}, month {month}, {name}")
    return time.process_time() - c0


def kernel_time(size: str, seed: int) -> tuple[float, int]:
    """CPU seconds one run spends inside its compiled kernels (dispatch included, the timer's
    own cost per call taken off), and the number of kernel calls."""
    from numba import njit

    from simulation import kernels

    @njit(cache=False)
    def empty(a: np.ndarray) -> int:
        return 0

    clock = time.process_time
    spent = [0.0, 0]

    def timed(kernel: Any) -> Any:
        def call(*args: Any) -> Any:
            c0 = clock()
            out = kernel(*args)
            spent[0] += clock() - c0
            spent[1] += 1
            return out
        return call

    probe, block = timed(empty), np.zeros(4)
    probe(block)
    samples = []
    for _ in range(7):
        before = spent[0]
        for _ in range(2000):
            probe(block)
        samples.append((spent[0] - before) / 2000)
    per_call = statistics.median(samples)  # an empty kernel's call as this timer sees it
    names = list(kernels._MODULES)
    real = {name: getattr(kernels, name) for name in names}
    spent[:] = [0.0, 0]
    try:
        for name in names:
            setattr(kernels, name, timed(real[name]))
        EcosystemModel(rng=seed, horizon_months=120, **SIZES[size]).run()
    finally:
        for name in names:
            setattr(kernels, name, real[name])
    return max(spent[0] - spent[1] * per_call, 0.0), spent[1]


def timed_run(size: str, seed: int) -> float:
    c0 = time.process_time()
    EcosystemModel(rng=seed, horizon_months=120, **SIZES[size]).run()
    return time.process_time() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metro", action="store_true", help="the metro region instead")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    size = "metro" if args.metro else "default"
    EcosystemModel(rng=0, horizon_months=14, **SMALL).run()  # kernels loaded
    log, root = record(size, args.seed)
    replay(log, root, check=True)
    calls = len(log)
    values = sum(entry[-1] for entry in log)
    starts = sum(entry[2] == "start_state" for entry in log)
    runs, floors, in_kernels = [], [], []
    for _ in range(args.repeats):
        runs.append(timed_run(size, args.seed))
        floors.append(replay(log, root))
        spent, kernel_calls = kernel_time(size, args.seed)
        in_kernels.append(spent)
    run, floor = statistics.median(runs), statistics.median(floors)
    kernel = statistics.median(in_kernels)
    print(f"{size} region, 120 months, seed {args.seed}, median of {args.repeats} (CPU s):")
    print(f"  whole run (build included)   {run:.3f} s")
    print(f"  its draws alone              {floor:.3f} s   ({calls:,} Generator calls, "
          f"{values:,} values; {starts:,} of the calls start states)")
    print(f"  draws' share of the run      {100 * floor / run:.0f}%; a run that kept the draws "
          f"and cost nothing else would be {run / floor:.1f}x faster")
    print(f"  its compiled kernels alone   {kernel:.3f} s   ({kernel_calls:,} kernel calls; "
          f"{100 * kernel / run:.0f}% of the run)")
    rest = run - floor - kernel
    print(f"  draws + kernels              {floor + kernel:.3f} s; the Python and numpy "
          f"between them {rest:.3f} s ({100 * rest / run:.0f}%); a run that kept the draws "
          f"and the kernels and cost nothing else would be {run / (floor + kernel):.1f}x "
          f"faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
