"""Experiment benchmark: runs per minute of ``run_many`` on 1 and 2 workers, Dask against the
process pool, and the runner's overhead per run against calling the model directly.

One fixed batch (by default 12 replications of the default region, 60 months each) is run
``--repeats`` times in each of these ways, interleaved so that a change in machine load hits
all of them alike; the median wall time of each is reported:

- direct:        ``EcosystemModel(rng=spec.seed(), horizon_months=...).run()`` for each run,
                 interleaved run by run with a one-run ``run_many(..., workers=1, out_dir=...)``
                 (the runner's overhead per run: noise hits both alike)
- 1 worker:      ``run_many(specs, workers=1, out_dir=...)`` (in this process, Parquet files)
- pool, 2 warm:  ``run_many(..., executor=<2-worker process pool started beforehand>)``
- pool, 2 cold:  ``run_many(..., workers=2)``, which starts (and stops) its own pool
- dask, 2 warm:  ``run_many(..., executor=<Dask LocalCluster with 2 workers>)``
- 2 processes:   the direct loop split over two processes started beforehand (no runner, no
                 storage): what two cores of this machine give at best

and the start-up of the LocalCluster once. Then it prints the ratios (the median over repeats
of each repeat's ratio, as every repeat measures all ways in turn) next to their targets:
2 workers at least 1.8x one worker (warm pool; the cold ratio is printed beside it, since a
cold pool pays for starting its fork server or, with spawn, each worker), Dask within 10%
of the process pool, and the runner's overhead per run (1 worker with storage against the
direct loop, run by run) under 5%. Every run writes to a fresh temporary folder. The script
only reports: it never fails on a missed target.

    python benchmarks/experiments.py                      # 12 runs x 60 months, 5 repeats
    python benchmarks/experiments.py --runs 24 --months 120 --repeats 5

Two workers can only be twice as fast on a machine with two idle cores: compare the printed
CPU count and load average.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread here too, like the workers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments.executors import executor_for, process_pool  # noqa: E402
from experiments.runner import (  # noqa: E402
    RunSet,
    RunSpec,
    replications,
    run_many,
)

SEED = 1


def batch(runs: int, months: int) -> list[RunSpec]:
    return replications("default", {}, runs, SEED, months)


def direct(specs: list[RunSpec]) -> None:
    from simulation import EcosystemModel

    for spec in specs:
        EcosystemModel(rng=spec.seed(), horizon_months=spec.horizon, **spec.parameters).run()


def through_runner(specs: list[RunSpec], **kwargs) -> None:
    with tempfile.TemporaryDirectory(prefix="helixsim-bench-") as out:
        _no_failures(run_many(specs, out_dir=out, **kwargs))


def independent(specs: list[RunSpec], n: int) -> float:
    """The direct loop split over ``n`` separate processes started together, no runner: the
    most that ``n`` workers can give on this machine. Returns the slowest process's seconds
    (their start-up not counted)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_direct_part, args=(specs[i::n], barrier, results))
             for i in range(n)]
    for proc in procs:
        proc.start()
    took = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    return max(took)


def _direct_part(specs: list[RunSpec], barrier: Any, results: Any) -> None:
    direct(specs[:1])  # imports
    barrier.wait()
    results.put(timed(lambda: direct(specs)))


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def warm_pool(workers: int) -> Executor:
    """A process pool whose workers have started and imported the model."""
    pool = process_pool(workers)
    tiny = RunSpec("warm-up", {"n_firms": 60, "intake_per_university": 50,
                               "n_universities": 1}, 0, SEED, 2)
    for fut in [pool.submit(_warm_up, tiny) for _ in range(workers)]:
        fut.result()
    return pool


def _warm_up(spec: RunSpec) -> int:
    from experiments.runner import run_one

    run_one(spec)
    time.sleep(0.2)  # keep this worker busy, so the next warm-up task starts another
    return os.getpid()


def interleaved(specs: list[RunSpec], flip: bool) -> tuple[float, float]:
    """Each run directly and as a one-run ``run_many`` batch with storage, back to back
    (order alternating), so that load changes hit both alike. Returns the two totals; the
    one-run batches also pay each batch's fixed costs, so their overhead is an upper bound."""
    plain = runner = 0.0
    # One results folder for the repeat, as one batch would have.
    with tempfile.TemporaryDirectory(prefix="helixsim-bench-") as out:
        for i, spec in enumerate(specs):
            def plain_run(spec: RunSpec = spec) -> None:
                direct([spec])

            def runner_run(spec: RunSpec = spec) -> None:
                _no_failures(run_many([spec], workers=1, out_dir=out))

            if (i + flip) % 2:
                runner += timed(runner_run)
                plain += timed(plain_run)
            else:
                plain += timed(plain_run)
                runner += timed(runner_run)
    return plain, runner


def _no_failures(runs: RunSet) -> None:
    if runs.failures:
        raise RuntimeError(runs.failures[0].error)


def steal_seconds() -> float | None:
    """CPU time stolen from this (virtual) machine by its host so far, if Linux reports it."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=12, help="runs in the batch (default 12)")
    parser.add_argument("--months", type=int, default=60, help="horizon (default 60)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats (default 5)")
    args = parser.parse_args()
    specs = batch(args.runs, args.months)
    # Imports and first-call costs (the model, pandas' Parquet writer) out of the way.
    direct(specs[:1])
    through_runner(specs[:1], workers=1)

    import dask
    import distributed

    import simulation

    print(f"helixsim {simulation.__version__}, Python {platform.python_version()}, "
          f"dask {dask.__version__}, distributed {distributed.__version__}")
    print(f"CPUs: {os.cpu_count()}, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"batch: {args.runs} runs of the default region, {args.months} months each; "
          f"median of {args.repeats} repeats\n")

    started = time.perf_counter()
    with executor_for("local", 2) as dask_executor:
        dask_start = time.perf_counter() - started
        pool = warm_pool(2)
        ways: dict[str, Callable[[], None]] = {
            "run_many, 1 worker": lambda: through_runner(specs, workers=1),
            "direct, 2 separate processes": lambda: None,  # timed by independent()
            "run_many, pool of 2, warm": lambda: through_runner(specs, executor=pool),
            "run_many, pool of 2, cold": lambda: through_runner(specs, workers=2),
            "run_many, Dask LocalCluster of 2": lambda: through_runner(
                specs, executor=dask_executor),
        }
        through_runner(specs[:2], executor=dask_executor)  # the Dask workers import the model
        times: dict[str, list[float]] = {"direct model loop": [],
                                         "run_many per run (interleaved)": []}
        times.update({name: [] for name in ways})
        steal_before, cpu_before = steal_seconds(), os.times()
        wall_before = time.perf_counter()
        for repeat in range(args.repeats):
            plain, runner = interleaved(specs, flip=bool(repeat % 2))
            times["direct model loop"].append(plain)
            times["run_many per run (interleaved)"].append(runner)
            for name, fn in ways.items():
                took = independent(specs, 2) if name.startswith("direct, 2") else timed(fn)
                times[name].append(took)
        wall = time.perf_counter() - wall_before
        steal_after, cpu_after = steal_seconds(), os.times()
        pool.shutdown()
    med = {name: statistics.median(t) for name, t in times.items()}

    width = max(map(len, med)) + 2
    print(f"{'':{width}}{'median s':>10}{'runs/min':>10}   all repeats (s)")
    for name, t in med.items():
        print(f"{name:{width}}{t:10.2f}{args.runs / t * 60:10.1f}   "
              f"{' '.join(f'{x:.2f}' for x in times[name])}")
    print(f"{'Dask LocalCluster start-up':{width}}{dask_start:10.2f}")
    own = cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system
    stolen = (f"; CPU stolen by the host: {steal_after - steal_before:.1f} s"
              if steal_before is not None and steal_after is not None else "")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{wall:.1f} s of timed work, {own:.1f} s CPU in this process{stolen}")

    def ratio(a: str, b: str) -> float:
        """Median over repeats of time(a) / time(b), each repeat's pair measured together."""
        return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

    one = "run_many, 1 worker"
    warm, cold = "run_many, pool of 2, warm", "run_many, pool of 2, cold"
    speedup, speedup_cold = ratio(one, warm), ratio(one, cold)
    ceiling = ratio("direct model loop", "direct, 2 separate processes")
    dask_ratio = ratio("run_many, Dask LocalCluster of 2", warm)
    overhead = ratio("run_many per run (interleaved)", "direct model loop") - 1
    batch_overhead = ratio(one, "direct model loop") - 1
    per_run_ms = statistics.median(
        (r - d) / args.runs * 1000
        for r, d in zip(times["run_many per run (interleaved)"], times["direct model loop"],
                        strict=True))
    rows = [
        ("2 workers vs 1 (warm pool)", f"{speedup:.2f}x", ">= 1.8x", speedup >= 1.8),
        ("2 separate processes vs 1 (no runner)", f"{ceiling:.2f}x", "(machine's ceiling)",
         None),
        ("2 workers vs 1 (cold pool, incl. start-up)", f"{speedup_cold:.2f}x",
         "(for reference)", None),
        ("Dask LocalCluster vs process pool (warm)", f"{dask_ratio:.3f} time ratio",
         "within 10%", abs(dask_ratio - 1) <= 0.10),
        ("runner + Parquet overhead per run", f"{overhead * 100:+.1f}% ({per_run_ms:+.1f} ms)",
         "< 5%", overhead < 0.05),
        ("  same, 1-worker batch vs direct loop", f"{batch_overhead * 100:+.1f}%",
         "(for reference)", None),
    ]
    print("\nratios: medians of per-repeat ratios (each repeat measures every way in turn)")
    print(f"{'':44}{'measured':22}{'target':21}")
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("met" if ok else "not met")
        print(f"{name:44}{value:22}{target:21}{mark}")


if __name__ == "__main__":
    main()
