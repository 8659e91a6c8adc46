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
not in the count of values (which counts the values Generators drew). The firms' growth and
margin normals are drawn by compiled code from their Generators (``Streams.standard_normal``):
they are recorded and replayed as such, and counted as draws, not as kernels.

It then times the run's compiled kernels (simulation/kernels/) alone: every kernel the
mechanisms call is wrapped by a timer for one run, and the timer's own cost (measured on an
empty kernel, the same way) is taken off each call. The kernels do the model's arithmetic, so
"draws + kernels" is what a run would cost if all the Python and numpy between them cost
nothing (a compiled month, say) while the arithmetic stayed what it is; the script prints that
floor and the speed-up it leaves.

With ``--by-step`` it also says where the Python and numpy between the kernels and draws are:
each mechanism step's own CPU time in the run (its sub-steps' taken off), the part of it in
its kernels, the part in its draws (the replay's calls that step made), and the rest, largest
rest first: the most a compiled month could take out of each step (the rest includes numpy's
vectorised powers and exponentials, which compiled code would still have to compute).

    python benchmarks/draw_floor.py               # default region, seed 1, 3 repeats
    python benchmarks/draw_floor.py --metro
    python benchmarks/draw_floor.py --by-step

Prints figures only; exits 0 (2 on a bad option). Use one thread (OMP_NUM_THREADS=1) and
quote ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from simulation import EcosystemModel, mechanisms
from simulation import indicators as indicators_module
from simulation import model as model_module
from simulation.rng import Streams

SIZES: dict[str, dict[str, int]] = {
    "default": {},
    "metro": {"n_universities": 20, "n_firms": 100_000, "intake_per_university": 12_500},
}
SMALL = {"n_firms": 300, "intake_per_university": 300, "n_universities": 2}
# A recorded call the run made through Streams' own compiled draws (Streams.standard_normal);
# the kernel behind it is a draw, so the kernels' timer leaves it to the draws.
COMPILED = "compiled."
DRAW_KERNELS = {"standard_normals"}

# The steps --by-step reports: each mechanism's apply and the sub-steps that apply calls
# through its module (so that wrapping the module's attribute sees every call), and the
# month's indicators, and the world's build (its draws are not among the recorded ones). Time
# outside them all is the model's own ("model").
STEPS: tuple[tuple[Any, str, str], ...] = (
    *((module, "apply", module.__name__.rsplit(".", 1)[1]) for module in mechanisms.ORDER),
    *((mechanisms.collaboration, name, f"collaboration.{name}")
      for name in ("end_projects", "search_and_match", "broker", "run_projects")),
    *((mechanisms.labour_market, name, f"labour_market.{name}")
      for name in ("dropout", "alumni_flows", "graduate")),
    *((mechanisms.firm_dynamics, name, f"firm_dynamics.{name}")
      for name in ("grow", "exits", "entry")),
    (mechanisms.teaching, "new_academic_year", "teaching.new_academic_year"),
    (indicators_module, "compute", "indicators"),
    (model_module, "build_world", "build"),
)


class StepClock:
    """Charges CPU time to the innermost step running (the wrapped functions of STEPS): each
    change of step charges the time since the last change to the step that was running."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        """Nothing charged yet; the time from now on is the model's until a step starts."""
        self.current = "model"
        self.spent: dict[str, float] = {}
        self._since = time.process_time()

    def switch(self, label: str) -> str:
        now = time.process_time()
        self.spent[self.current] = self.spent.get(self.current, 0.0) + now - self._since
        self._since = now
        previous, self.current = self.current, label
        return previous

    def wrap(self, function: Any, label: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            previous = self.switch(label)
            try:
                return function(*args, **kwargs)
            finally:
                self.switch(previous)
        return call

    def install(self) -> list[tuple[Any, str, Any]]:
        """Wraps every step of STEPS; returns what ``restore`` puts back."""
        saved = []
        for module, name, label in STEPS:
            real = getattr(module, name)
            saved.append((module, name, real))
            setattr(module, name, self.wrap(real, label))
        return saved

    @staticmethod
    def restore(saved: list[tuple[Any, str, Any]]) -> None:
        for module, name, real in reversed(saved):
            setattr(module, name, real)


def fingerprint(out: Any) -> float | None:
    """A number that changes when a call's result does (None for calls that work in place)."""
    if out is None or isinstance(out, np.random.BitGenerator):  # in place, or advanced
        return None
    return float(np.sum(np.asarray(out, dtype=float)))


class Recorder:
    """Stands in for a month's Generator: passes every call through and records it."""

    def __init__(self, gen: Any, purpose: str, month: int, log: list[tuple],
                 clock: StepClock, prefix: str = "") -> None:
        self._gen, self._purpose, self._month, self._log = gen, purpose, month, log
        self._clock, self._prefix = clock, prefix

    def __getattr__(self, name: str) -> Any:
        if name == "bit_generator":
            # A stream positioned through its bit generator (an advance past numbers it does
            # not need): recorded as a call too.
            return Recorder(self._gen.bit_generator, self._purpose, self._month, self._log,
                            self._clock, "bit_generator.")
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
            entry.append(self._clock.current)  # the step that drew it
            self._log.append(tuple(entry))
            return out
        return call


def record(size: str, seed: int) -> tuple[list, np.random.SeedSequence]:
    """Every Generator call of one run: (purpose, month, method, args, kwargs, fingerprint of
    the result, values drawn, the step that made it)."""
    log: list[tuple] = []
    clock = StepClock()
    saved = clock.install()
    model = EcosystemModel(rng=seed, horizon_months=120, **SIZES[size])
    streams = model.world.streams
    real_get = streams.get

    def get(purpose: str, month: int) -> Any:
        gen = real_get(purpose, month)
        # Shuffles and permutations in place work on the caller's array through the proxy.
        return Recorder(gen, purpose, month, log, clock)

    real_start = streams.start_state

    def start_state(purpose: str, month: int) -> np.ndarray:
        words = real_start(purpose, month)
        log.append((purpose, month, "start_state", (), {}, fingerprint(words), 0,
                    clock.current))
        return words

    real_normal = streams.standard_normal

    def standard_normal(purpose: str, month: int, n: int) -> np.ndarray:
        # Normals drawn by compiled code (kernels.standard_normals): a draw, recorded as one,
        # and replayed the same way (the get it makes inside returns a Recorder, unused).
        out = real_normal(purpose, month, n)
        log.append((purpose, month, COMPILED + "standard_normal", (n,), {}, fingerprint(out),
                    int(n), clock.current))
        return out

    streams.get = get  # type: ignore[method-assign]
    streams.start_state = start_state  # type: ignore[method-assign]
    streams.standard_normal = standard_normal  # type: ignore[method-assign]
    # The month-0 draws of build_world are not recorded; they are made once per run.
    try:
        model.run()
    finally:
        clock.restore(saved)
    return log, streams.root


def replay(log: list, root: np.random.SeedSequence, check: bool = False,
           by_step: dict[str, float] | None = None) -> float:
    """CPU seconds of the recorded calls on fresh streams; with ``check``, each result is
    compared with the recorded one (so the replay is known to draw the run's numbers). With
    ``by_step``, each call's seconds are added there under the step that made it (the timer's
    own cost included: see ``timer_cost``)."""
    streams = Streams(root)
    gens: dict[tuple[str, int], np.random.Generator] = {}
    clock = time.process_time
    c0 = clock()
    for purpose, month, name, args, kwargs, seen, _, step in log:
        if by_step is not None:
            t0 = clock()
        if name == "start_state":  # the month's stream taken as its start state
            out = streams.start_state(purpose, month)
        elif name.startswith(COMPILED):
            out = getattr(streams, name.removeprefix(COMPILED))(purpose, month, *args)
        else:
            key = (purpose, month)
            gen = gens.get(key)
            if gen is None:
                gen = gens[key] = streams.get(purpose, month)
            target = gen.bit_generator if name.startswith("bit_generator.") else gen
            out = getattr(target, name.removeprefix("bit_generator."))(*args, **kwargs)
        if by_step is not None:
            by_step[step] = by_step.get(step, 0.0) + clock() - t0
        if check and fingerprint(out) != seen and not (seen != seen):  # NaN equals NaN here
            raise SystemExit(f"replay differs at {purpose}, month {month}, {name}")
    return clock() - c0


def timer_cost() -> float:
    """CPU seconds that timing one call with process_time adds (median over samples)."""
    clock, samples = time.process_time, []
    for _ in range(7):
        spent = 0.0
        for _ in range(2000):
            t0 = clock()
            spent += clock() - t0
        samples.append(spent / 2000)
    return statistics.median(samples)


def kernel_time(size: str, seed: int, by_step: dict[str, float] | None = None
                ) -> tuple[float, int]:
    """CPU seconds one run spends inside its compiled kernels (dispatch included, the timer's
    own cost per call taken off), and the number of kernel calls. With ``by_step``, each
    step's kernel seconds (the timer's cost taken off too) are added there."""
    from numba import njit

    from simulation import kernels

    @njit(cache=False)
    def empty(a: np.ndarray) -> int:
        return 0

    clock = time.process_time
    spent = [0.0, 0]
    steps = StepClock()
    per_step: dict[str, list] = {}

    def timed(kernel: Any) -> Any:
        def call(*args: Any) -> Any:
            c0 = clock()
            out = kernel(*args)
            took = clock() - c0
            spent[0] += took
            spent[1] += 1
            tally = per_step.setdefault(steps.current, [0.0, 0])
            tally[0] += took
            tally[1] += 1
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
    names = [name for name in kernels._MODULES if name not in DRAW_KERNELS]
    real = {name: getattr(kernels, name) for name in names}
    spent[:] = [0.0, 0]
    per_step.clear()
    saved = steps.install()
    steps.start()
    try:
        for name in names:
            setattr(kernels, name, timed(real[name]))
        EcosystemModel(rng=seed, horizon_months=120, **SIZES[size]).run()
    finally:
        for name in names:
            setattr(kernels, name, real[name])
        steps.restore(saved)
    if by_step is not None:
        for step, (took, calls) in per_step.items():
            by_step[step] = by_step.get(step, 0.0) + max(took - calls * per_call, 0.0)
    return max(spent[0] - spent[1] * per_call, 0.0), spent[1]


def timed_run(size: str, seed: int, by_step: dict[str, float] | None = None) -> float:
    """CPU seconds of one run; with ``by_step``, each step's own seconds are added there (a
    run of its own: the kernels' timer would add its cost to them)."""
    clock = StepClock() if by_step is not None else None
    saved = clock.install() if clock is not None else []
    try:
        if clock is not None:
            clock.start()
        c0 = time.process_time()
        EcosystemModel(rng=seed, horizon_months=120, **SIZES[size]).run()
        took = time.process_time() - c0
    finally:
        StepClock.restore(saved)
    if clock is not None:
        clock.switch("model")  # charges the last stretch
        for step, seconds in clock.spent.items():
            by_step[step] = by_step.get(step, 0.0) + seconds
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metro", action="store_true", help="the metro region instead")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--by-step", action="store_true",
                    help="also each step's time, kernels, draws and the rest between them")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    size = "metro" if args.metro else "default"
    EcosystemModel(rng=0, horizon_months=14, **SMALL).run()  # kernels loaded
    log, root = record(size, args.seed)
    replay(log, root, check=True)
    calls = len(log)
    values = sum(entry[6] for entry in log)
    starts = sum(entry[2] == "start_state" for entry in log)
    runs, floors, in_kernels = [], [], []
    steps: list[tuple[dict[str, float], dict[str, float], dict[str, float]]] = []
    overhead = timer_cost()
    for _ in range(args.repeats):
        runs.append(timed_run(size, args.seed))
        floors.append(replay(log, root))
        spent, kernel_calls = kernel_time(size, args.seed)
        in_kernels.append(spent)
        if args.by_step:
            # Three runs: each step's own time, its draws' (the replay), its kernels'.
            own: dict[str, float] = {}
            drawn: dict[str, float] = {}
            computed: dict[str, float] = {}
            timed_run(size, args.seed, own)
            replay(log, root, by_step=drawn)
            kernel_time(size, args.seed, computed)
            steps.append((own, drawn, computed))
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
    if args.by_step:
        print_steps(steps, log, overhead, run)
    return 0


def print_steps(steps: list[tuple[dict[str, float], dict[str, float], dict[str, float]]],
                log: list, overhead: float, run: float) -> None:
    """Each step's own seconds, its draws', its kernels' and the rest (medians over the
    repeats), the largest rest first; ``run`` is a plain run's seconds, to show what timing
    the steps costs."""
    calls: dict[str, int] = {}
    for entry in log:
        calls[entry[7]] = calls.get(entry[7], 0) + 1
    labels = sorted({label for own, _, _ in steps for label in own})

    def median(part: int, label: str) -> float:
        return statistics.median(step[part].get(label, 0.0) for step in steps)

    rows = []
    for label in labels:
        own = median(0, label)
        drawn = max(median(1, label) - calls.get(label, 0) * overhead, 0.0)
        computed = median(2, label)
        rows.append((own - drawn - computed, label, own, drawn, computed))
    rows.sort(reverse=True)
    print("\nby step (CPU ms a run, medians; a step's own time leaves out its sub-steps';")
    print("'build' is the world's, its draws not recorded; 'model' the rest of the run):")
    print(f"  {'step':34s} {'own':>8s} {'draws':>8s} {'kernels':>8s} {'between':>8s}")
    for rest, label, own, drawn, computed in rows:
        print(f"  {label:34s} {1e3 * own:8.1f} {1e3 * drawn:8.1f} {1e3 * computed:8.1f} "
              f"{1e3 * rest:8.1f}")
    total = [sum(row[i] for row in rows) for i in (2, 3, 4, 0)]
    print(f"  {'all':34s} {1e3 * total[0]:8.1f} {1e3 * total[1]:8.1f} {1e3 * total[2]:8.1f} "
          f"{1e3 * total[3]:8.1f}")
    # A step's own time, its draws' and its kernels' come from three runs, so a step whose
    # between is small can show a few negative ms of run-to-run noise; each change of step
    # also reads the process clock (about a microsecond), mostly charged to the enclosing
    # rows ('model', a mechanism's own).
    print(f"  the steps' sum {1e3 * total[0]:.1f} ms against a plain run's {1e3 * run:.1f} ms "
          f"(the step timer's cost and run-to-run noise); the three columns come from "
          f"three runs")


if __name__ == "__main__":
    raise SystemExit(main())
