"""Speed benchmark of the fast path: this checkout against the commit where it started.

Both implementations run in fresh subprocesses with one BLAS/OpenMP thread, alternating old /
new within each repeat so that a change in machine load hits both alike; the old one is a
detached git worktree of ``--base`` (default e3c1045, created under /tmp if missing) put first
on PYTHONPATH, the new one is this checkout. Printed for each:

- the default region (3 universities, 2,000 firms, ~40,000 students, 120 months) and the
  metro region (``--metro``; 20 universities, 100,000 firms, 1,000,000 students): the median
  over repeats of build + run CPU seconds, runs per core-second, the new/old ratio (the median
  of each repeat's ratio), and for the metro region the peak RSS of each;
- start-up: seconds to import the model, and the first model step of a process, which for the
  fast path loads (or, the first time on a machine, compiles) the kernels;
- a batch of small runs through ``experiments.runner.run_many`` (``--batch``): the direct
  loop of model runs against the runner with Parquet storage on 1 worker, alternating, three
  times (its overhead as a share of model time: the median of the three); a 2-worker process
  pool started for the batch (cold: the workers' imports and kernel loading included), wall
  and CPU seconds (workers included); a second pool started the same way in the same process
  (what a command that runs several batches pays for each later one); the same batch on a
  warm pool (``--spawn``: this checkout's batch on spawn pools too); and, in a fresh process,
  ``run_many(..., workers=2)`` on the pool it makes for the batch (cold: the pool's start
  included);
- end to end, wall and CPU seconds of the whole command (every process it starts included):
  ``--demo``, ``helixsim dividend model_3_0 --attribution --seeds 6`` (the command of
  ``make demo``); ``--uncertainty [N]``, ``helixsim dividend model_3_0 --uncertainty N``
  (default 64 draws, 2 seeds each, a scenario and a siloed run each: 256 default-region
  runs); ``--calibrate [N]``, ``helixsim calibrate --budget N --seeds K --no-write`` (default
  N = 24 evaluations, K = ``--calibrate-seeds`` = 4: at most 96 default-region runs, a minute
  or two a side on two cores; the calibration file is never written: the old commit's option
  for that was ``--dry-run``, and a tree that has neither is skipped). Each writes to a fresh
  temporary folder. A command whose options a tree lacks is skipped with a message.

The 1-minute load average at start and end is printed: on a shared machine quote ratios, not
absolute seconds. The script only reports and always exits 0.

    python benchmarks/speed.py                       # default region, 5 repeats
    python benchmarks/speed.py --repeats 3 --metro --batch --demo
    python benchmarks/speed.py --new HEAD        # a snapshot of HEAD, not the working tree
    python benchmarks/speed.py --no-default --repeats 1 --uncertainty --calibrate
    python benchmarks/speed.py --no-default --repeats 1 --uncertainty 2 --calibrate 2 \
        --calibrate-seeds 1                      # check that the options work (seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE = "e3c1045"
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SIZES: dict[str, dict[str, int]] = {
    "default": {},
    "metro": {"n_universities": 20, "n_firms": 100_000, "intake_per_university": 12_500},
}
SMALL = {"n_firms": 300, "intake_per_university": 300, "n_universities": 2}
BATCH_RUNS, BATCH_MONTHS = 24, 60
DEMO = ["dividend", "model_3_0", "--attribution", "--seeds", "6"]
UNCERTAINTY_DRAWS = 64
CALIBRATE_BUDGET, CALIBRATE_SEEDS = 24, 4


# --- children ----------------------------------------------------------------------------
def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_run(size: str) -> dict[str, Any]:
    """Child: import, one warm-up month (loads the kernels), then one timed 120-month run."""
    t0, c0 = time.perf_counter(), time.process_time()
    from simulation import EcosystemModel

    t1, c1 = time.perf_counter(), time.process_time()
    EcosystemModel(rng=0, horizon_months=14, **SMALL).run()  # every kernel loaded
    t2, c2 = time.perf_counter(), time.process_time()
    model = EcosystemModel(rng=1, horizon_months=120, **SIZES[size])
    model.run()
    t3, c3 = time.perf_counter(), time.process_time()
    return {"import_s": t1 - t0, "first_step_s": t2 - t1, "run_s": t3 - t2,
            "run_cpu_s": c3 - c2, "import_cpu_s": c1 - c0, "first_step_cpu_s": c2 - c1,
            "peak_rss_mib": _peak_rss_mib(),
            "value_added": float(model.indicators()["value_added"])}


def _tree_cpu() -> dict[int, float]:
    """CPU seconds of every living descendant of this process (workers, a fork server)."""
    import psutil

    out = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def _pool_batch(specs: list[Any], out: Path, method: str | None) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its pool's processes) of a batch on a 2-worker
    pool made for it, as ``run_many(..., workers=2)`` makes one."""
    from experiments.executors import process_pool
    from experiments.runner import run_many

    before, c0, t0 = _tree_cpu(), time.process_time(), time.perf_counter()
    pool = process_pool(2, method) if method else process_pool(2)
    try:
        run_many(specs, executor=pool, out_dir=out).raise_failures()
        # Before the shutdown, while the workers still live to be counted.
        after = _tree_cpu()
    finally:
        pool.shutdown()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu + sum(v - before.get(pid, 0.0) for pid, v in after.items())


def measure_batch(method: str | None = None) -> dict[str, Any]:
    """Child: the same batch of small runs directly and through the runner on 1 worker with
    storage (alternating, three times), on a 2-worker pool the batch starts (cold), on a second
    pool started the same way, and on a warm 2-worker pool; ``method``: the pools' start
    method (default: the pool's own)."""
    from experiments.executors import process_pool
    from experiments.runner import replications, run_many
    from simulation import EcosystemModel

    EcosystemModel(rng=0, horizon_months=14, **SMALL).run()  # kernels loaded in this process
    out: dict[str, Any] = {"runs": BATCH_RUNS, "months": BATCH_MONTHS}
    direct, runner = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(3):
            # New specs each time: hashing the run ids is part of the runner's overhead.
            def batch(i: int = i) -> list[Any]:
                return replications("batch", SMALL, BATCH_RUNS, 7 + i, BATCH_MONTHS)
            for which in ("direct", "runner") if i % 2 == 0 else ("runner", "direct"):
                specs = batch()
                c0 = time.process_time()
                if which == "direct":
                    for spec in specs:
                        EcosystemModel(rng=spec.seed(), parameters=spec.resolved).run()
                    direct.append(time.process_time() - c0)
                else:
                    run_many(specs, workers=1, out_dir=Path(tmp) / f"one{i}").raise_failures()
                    runner.append(time.process_time() - c0)
        specs = replications("batch", SMALL, BATCH_RUNS, 7, BATCH_MONTHS)
        out["pool_cold_s"], out["pool_cold_cpu_s"] = _pool_batch(specs, Path(tmp) / "cold",
                                                                 method)
        out["pool_second_s"], out["pool_second_cpu_s"] = _pool_batch(
            replications("batch", SMALL, BATCH_RUNS, 8, BATCH_MONTHS), Path(tmp) / "second",
            method)
        pool = process_pool(2, method) if method else process_pool(2)
        try:
            run_many(specs[:2], executor=pool).raise_failures()  # start and warm the workers
            t0 = time.perf_counter()
            run_many(specs, executor=pool, out_dir=Path(tmp) / "warm").raise_failures()
            out["pool_warm_s"] = time.perf_counter() - t0
        finally:
            pool.shutdown()
    out["direct_cpu_s"] = statistics.median(direct)
    out["runner_1_cpu_s"] = statistics.median(runner)
    out["runner_overhead"] = statistics.median(r / d - 1.0 for r, d in zip(runner, direct,
                                                                           strict=True))
    out["pool_cold_start_s"] = out["pool_cold_s"] - out["pool_warm_s"]
    return out


def measure_cold_batch() -> dict[str, Any]:
    """Child: the batch on the 2-worker pool that ``run_many(..., workers=2)`` makes for it, in
    a fresh process whose own kernels are loaded (as a command's are, by its time estimate):
    wall seconds, the pool's cold start included."""
    from experiments.runner import replications, run_many
    from simulation import EcosystemModel

    EcosystemModel(rng=0, horizon_months=14, **SMALL).run()  # kernels loaded in this process
    specs = replications("batch", SMALL, BATCH_RUNS, 7, BATCH_MONTHS)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_many(specs, workers=2, out_dir=Path(tmp) / "own").raise_failures()
        return {"pool_own_cold_s": time.perf_counter() - t0}


# --- parent --------------------------------------------------------------------------------
def base_tree(base: str) -> Path:
    """A detached worktree of commit ``base`` (created once under the temporary folder)."""
    sha = _git("rev-parse", base)
    path = Path(tempfile.gettempdir()) / f"helixsim-speed-{sha[:10]}"
    if not (path / "simulation").is_dir():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT,
                       check=True, capture_output=True)
    return path


def _git(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def child(tree: Path, *args: str) -> dict[str, Any]:
    """Run this script's child mode with ``tree`` first on the path, on one core."""
    env = dict(os.environ, **ONE_CORE, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True,
                          check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def subreaper() -> bool:
    """Make this process the child subreaper of its descendants (Linux): a process orphaned
    by a command (a pool's fork server outlives the command's own exit by a moment) is then
    reparented here and reaped by ``command``, so its CPU seconds count. False if not."""
    import ctypes

    try:
        # 36 = PR_SET_CHILD_SUBREAPER
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_orphans(timeout: float = 60.0) -> None:
    """Wait for the descendants a finished command left behind (see ``subreaper``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if not pid:
            time.sleep(0.05)


def command_args(tree: Path, what: str, size: int | None = None,
                 seeds: int | None = None) -> list[str] | str:
    """The helixsim arguments of end-to-end command ``what`` for ``tree``, or why it is
    skipped there."""
    cli = tree / "helixsim" / "cli.py"
    source = cli.read_text() if cli.is_file() else ""
    if what == "demo":
        return list(DEMO)
    if what == "uncertainty":
        if '"--uncertainty"' not in source:
            return "no dividend --uncertainty at this commit"
        return ["dividend", "model_3_0", "--uncertainty", str(size or UNCERTAINTY_DRAWS)]
    if what == "calibrate":
        body = source[source.find("def calibrate("):]
        body = body[:body.find("\n@app.")]
        # The option that fits and reports but leaves simulation/calibration.toml as it is.
        if '"--no-write"' in body:
            keep = "--no-write"
        elif '"--dry-run"' in body and "leave the parameter table" in body:
            keep = "--dry-run"
        else:
            return "no calibrate option that leaves the calibration file alone at this commit"
        return ["calibrate", "--budget", str(size or CALIBRATE_BUDGET), "--seeds",
                str(seeds or CALIBRATE_SEEDS), keep]
    raise ValueError(what)


def command(tree: Path, args: list[str]) -> dict[str, Any]:
    """Wall and CPU seconds of ``helixsim ARGS --out <temporary folder>``, every process it
    starts included (they are reaped here: see ``subreaper``)."""
    env = dict(os.environ, **ONE_CORE, PYTHONPATH=str(tree))
    guarded = tree / "simulation" / "calibration.toml"
    kept = guarded.read_bytes() if guarded.is_file() else None
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "helixsim", *args, "--out", tmp],
                              env=env, cwd=tmp, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        _reap_orphans()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if kept is not None and guarded.read_bytes() != kept:  # never: the options above say so
        guarded.write_bytes(kept)
        return {"error": f"the command rewrote {guarded}; restored"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


def median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default=BASE, help=f"commit to compare with (default {BASE})")
    ap.add_argument("--new", default=None,
                    help="commit to measure as new, from a detached worktree (default: this "
                    "checkout as it is)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--metro", action="store_true", help="also the metro region (~15 s a run)")
    ap.add_argument("--batch", action="store_true", help="also the batch through the runner")
    ap.add_argument("--spawn", action="store_true", help="with --batch: also this checkout's "
                    "batch on spawn pools (the start method before the fork server)")
    ap.add_argument("--demo", action="store_true", help="also the make demo command")
    ap.add_argument("--uncertainty", type=int, nargs="?", const=UNCERTAINTY_DRAWS, default=None,
                    metavar="N", help="also helixsim dividend model_3_0 --uncertainty N "
                    f"(default {UNCERTAINTY_DRAWS})")
    ap.add_argument("--calibrate", type=int, nargs="?", const=CALIBRATE_BUDGET, default=None,
                    metavar="N", help="also helixsim calibrate --budget N (default "
                    f"{CALIBRATE_BUDGET}) --seeds K, never writing the calibration file")
    ap.add_argument("--calibrate-seeds", type=int, default=CALIBRATE_SEEDS, metavar="K",
                    help=f"seeds per evaluation of --calibrate (default {CALIBRATE_SEEDS})")
    ap.add_argument("--no-default", action="store_true", help="skip the default region")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        # This script's folder holds benchmarks/experiments.py, which would shadow the package.
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
        result = (measure_batch(*args.child[1:]) if args.child[0] == "batch"
                  else measure_cold_batch() if args.child[0] == "coldbatch"
                  else measure_run(args.child[1]))
        print(json.dumps(result))
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    trees = {"old": base_tree(args.base), "new": base_tree(args.new) if args.new else ROOT}
    commits = {"old": _git("rev-parse", "--short", "HEAD", cwd=trees["old"]),
               "new": _git("rev-parse", "--short", "HEAD", cwd=trees["new"])}
    if not args.new and _git("status", "--porcelain", "--", "simulation"):
        commits["new"] += " + uncommitted"
    load_start = os.getloadavg()[0]
    results: dict[str, Any] = {"commits": commits, "repeats": args.repeats, "sizes": {}}
    sizes = ([] if args.no_default else ["default"]) + (["metro"] if args.metro else [])
    for size in sizes:
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for i in range(args.repeats):
            for which in ("old", "new") if i % 2 == 0 else ("new", "old"):
                log(f"{size}: repeat {i + 1}/{args.repeats}, {which} ...")
                runs[which].append(child(trees[which], "--child", "run", size))
        ratios = [o["run_cpu_s"] / n["run_cpu_s"] for o, n in zip(runs["old"], runs["new"],
                                                                   strict=True)
                  if "error" not in o and "error" not in n]
        results["sizes"][size] = {"runs": runs, "ratio": statistics.median(ratios)
                                  if ratios else float("nan")}
    if args.batch:
        results["batch"] = {}
        for which in ("old", "new"):
            log(f"batch, {which} ...")
            results["batch"][which] = child(trees[which], "--child", "batch")
            if "error" not in results["batch"][which]:
                log(f"batch, {which}, on the pool run_many makes ...")
                results["batch"][which].update(child(trees[which], "--child", "coldbatch"))
        if args.spawn:
            log("batch, new on spawn pools ...")
            results["batch"]["new, spawn"] = child(trees["new"], "--child", "batch", "spawn")
    reaps = subreaper()
    results["commands"] = {}
    wanted = [("demo", None, None)] if args.demo else []
    if args.uncertainty is not None:
        wanted.append(("uncertainty", args.uncertainty, None))
    if args.calibrate is not None:
        wanted.append(("calibrate", args.calibrate, args.calibrate_seeds))
    for what, size, seeds in wanted:
        argv = {w: command_args(trees[w], what, size, seeds) for w in ("old", "new")}
        entry: dict[str, Any] = {"args": argv, "old": [], "new": [], "reaped": reaps}
        results["commands"][what] = entry
        for i in range(max(1, min(args.repeats, 2))):
            for which in ("old", "new") if i % 2 == 0 else ("new", "old"):
                if isinstance(argv[which], str):
                    entry[which] = [{"error": f"skipped: {argv[which]}"}]
                    continue
                log(f"{what}, {which}: helixsim {' '.join(argv[which])} ...")
                entry[which].append(command(trees[which], argv[which]))
    results["load_average"] = [load_start, os.getloadavg()[0]]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results))
    return 0


def machine() -> str:
    """Processor, Python and the numerical libraries' versions, for the record of a figure."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    libs = []
    for name in ("numpy", "numba", "mesa"):
        try:
            libs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            libs.append(f"{name} absent")
    return (f"{cpu}; Python {platform.python_version()}; {', '.join(libs)} "
            "(one environment for both sides)")


def report(r: dict[str, Any]) -> str:
    c = r["commits"]
    out = [f"helixsim speed: old = {c['old']} (start of the fast path), new = {c['new']}",
           f"  fresh subprocess per run, one thread, old/new alternating, {r['repeats']} repeats;"
           f" 1-min load average {r['load_average'][0]:.2f} at start, "
           f"{r['load_average'][1]:.2f} at end ({os.cpu_count()} logical CPUs)",
           f"  machine: {machine()}", ""]
    for size, s in r["sizes"].items():
        out.append(f"{size} region, 120 months (build + run, CPU seconds; medians):")
        for which in ("old", "new"):
            runs = [x for x in s["runs"][which] if "error" not in x]
            if not runs:
                out.append(f"  {which}: failed: {s['runs'][which][0]['error']}")
                continue
            cpu = median(runs, "run_cpu_s")
            line = (f"  {which}  {cpu:8.3f} s CPU ({median(runs, 'run_s'):.3f} s wall)  "
                    f"{1.0 / cpu:6.2f} runs per core-second;  import "
                    f"{median(runs, 'import_s'):.2f} s, first step "
                    f"{median(runs, 'first_step_s'):.2f} s")
            if size == "metro":
                line += f";  peak RSS {max(x['peak_rss_mib'] for x in runs):,.0f} MiB"
            out.append(line)
        out.append(f"  new is {s['ratio']:.2f}x old in runs per core-second "
                   "(median of the repeats' ratios)")
        out.append("")
    if "batch" in r:
        out.append(f"batch of {BATCH_RUNS} small runs ({SMALL}, {BATCH_MONTHS} months):")
        for which, b in r["batch"].items():
            if "error" in b:
                out.append(f"  {which}: failed: {b['error']}")
                continue
            out.append(f"  {which}  direct {b['direct_cpu_s']:.2f} s CPU; runner + storage on 1 "
                       f"worker {b['runner_1_cpu_s']:.2f} s CPU (overhead "
                       f"{100 * b['runner_overhead']:+.1f}% of model time, median of 3)")
            line = f"       2-worker pool: cold {b['pool_cold_s']:.2f} s wall"
            if "pool_cold_cpu_s" in b:  # (older JSON has neither)
                line += (f" ({b['pool_cold_cpu_s']:.2f} s CPU, workers included); a second "
                         f"pool {b['pool_second_s']:.2f} s wall ({b['pool_second_cpu_s']:.2f}"
                         " s CPU)")
            out.append(line + f"; warm {b['pool_warm_s']:.2f} s wall (cold start "
                       f"{b['pool_cold_start_s']:.2f} s)")
            if "pool_own_cold_s" in b:
                out.append(f"       run_many(workers=2) on the pool it makes (cold, in a fresh "
                           f"process): {b['pool_own_cold_s']:.2f} s wall")
        out.append("")
    for what, e in r.get("commands", {}).items():
        shown = next((e["args"][w] for w in ("new", "old") if not isinstance(e["args"][w], str)),
                     [what])
        out.append("end to end: helixsim " + " ".join(shown) + " (medians; every process "
                   "the command starts included"
                   + ("" if e["reaped"] else ", except processes it orphans") + "):")
        for which in ("old", "new"):
            runs = e[which]
            ok = [x for x in runs if "error" not in x]
            if not ok:
                out.append(f"  {which}: {runs[0]['error'] if runs else 'not run'}")
                continue
            out.append(f"  {which}  {median(ok, 'wall_s'):.1f} s wall, {median(ok, 'cpu_s'):.1f} s "
                       f"CPU   (helixsim {' '.join(e['args'][which])})")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
