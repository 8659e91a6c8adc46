"""Posterior calibration: simulations, model runs and wall time, and which part dominates.

    .venv/bin/python benchmarks/posterior.py [--budget 120] [--seeds 2] [--check 20]
                                             [--workers 2] [--months 120]
    .venv/bin/python benchmarks/posterior.py --from results/posterior-default

The first form runs `helixsim posterior` with these options in a temporary folder; the second
reads a finished run's folder. Prints figures; it does not pass or fail. The split is the wall
time of the simulation batches (runs on the workers) against the rest (emulator fits, NROY
sampling, the posterior, the report) in the parent process.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from experiments.posterior import (  # noqa: E402
    SIMULATIONS_FILE,
    calibrate_posterior,
    region_problem,
)


def summarise(folder: Path, wall: float | None) -> None:
    meta = json.loads((folder / "posterior.json").read_text())["meta"]
    sims = pd.read_parquet(folder / SIMULATIONS_FILE)
    simulated = float(sims["seconds"].sum())  # each point's share of its batch's wall time
    elapsed = float(meta["elapsed_s"]) if wall is None else wall
    seeds = int(meta["seeds"])
    print(f"folder: {folder}")
    print(f"simulations (waves): {len(sims)} points x {seeds} replication(s); predictive "
          f"check: {meta['check_draws']} draws; model runs in all: {meta['model_runs']}")
    print(f"horizon: {meta['horizon_months']} months; workers: see the command line")
    print(f"wall time: {elapsed:.0f} s ({elapsed / max(1, meta['model_runs']):.2f} s per run)")
    print(f"  simulation batches of the waves: {simulated:.0f} s "
          f"({simulated / elapsed:.0%} of the wall time)")
    print(f"  the rest (predictive check runs, emulators, posterior, report): "
          f"{elapsed - simulated:.0f} s")
    print("dominant part: " + ("model runs" if simulated > 0.5 * elapsed else
                               "emulation and reporting"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="folder", type=Path, default=None)
    ap.add_argument("--budget", type=int, default=120)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--check", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--months", type=int, default=120)
    args = ap.parse_args()
    if args.folder is not None:
        summarise(args.folder, None)
        return
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        calibrate_posterior(region_problem(args.months), out=Path(tmp), budget=args.budget,
                            seeds=args.seeds, check=args.check, workers=args.workers)
        summarise(Path(tmp), time.perf_counter() - started)


if __name__ == "__main__":
    main()
