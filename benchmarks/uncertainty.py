"""Uncertainty benchmark: runs and wall time of ``helixsim dividend model_3_0 --uncertainty 64``
on 2 workers, split into its parts, and which part dominates.

The command's work is timed in three parts, as the command does it:

- plan:     loading the scenario, drawing the design (scrambled Sobol' over the priors) and
            resolving every run's parameters (the run ids);
- runs:     the model runs through the one runner (``experiments.runner.run_many``) on a local
            process pool of ``--workers`` workers (default 2), Parquet per run;
- analysis: the statistics over draws (quantiles, variance split, rank correlations, the random
            forest, scenario discovery) and the report (figures rendered to PNG).

It prints the number of runs, each part's wall time and share, the runs per minute and the time
per run per worker, and the headline of the report (P(D > 0)). Figures measured on a shared or
busy machine say little about speed; compare the printed CPU count and load average.

    python benchmarks/uncertainty.py                  # 64 draws x 2 seeds, default horizon
    python benchmarks/uncertainty.py --quick          # 8 draws x 2 seeds, 36 months
    python benchmarks/uncertainty.py --draws 16 --out results/bench-uncertainty
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments import uncertainty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="model_3_0")
    parser.add_argument("--draws", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--months", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="8 draws of 36 months: a smoke test of the benchmark itself")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the report here (default: a temporary folder)")
    args = parser.parse_args()
    draws, months = (8, 36) if args.quick else (args.draws, args.months)
    print(f"cpus {os.cpu_count()}, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        plan = uncertainty.plan_dividend(args.scenario, draws=draws, seeds=args.seeds,
                                         months=months)
        t1 = time.perf_counter()
        print(f"plan: {plan.describe()}", flush=True)
        runs = uncertainty.execute(plan, out=out, workers=args.workers)
        t2 = time.perf_counter()
        result = uncertainty.dividend(plan, runs, out=out, workers=args.workers, started=t0)
        t3 = time.perf_counter()

    parts = {"plan": t1 - t0, "runs": t2 - t1, "analysis and report": t3 - t2}
    total = t3 - t0
    print(f"\n{plan.runs} runs in {total:.1f} s wall on {args.workers} workers "
          f"({plan.runs / (parts['runs'] / 60):.1f} runs/min; "
          f"{parts['runs'] * args.workers / plan.runs:.2f} s per run per worker)")
    for name, seconds in parts.items():
        print(f"  {name:20s} {seconds:8.1f} s  {seconds / total:6.1%}")
    top = max(parts, key=parts.get)
    print(f"dominant part: {top} ({parts[top] / total:.0%} of the wall time)")
    head = result["dividend"][0]
    print(f"P(D(W) > 0) = {result['p_positive']:.2f}; median D(W) {head['median']:,.0f} MCU, "
          f"90% of draws in [{head['p05']:,.0f}, {head['p95']:,.0f}]; parameter share of one "
          f"run's variance {result['variance']['parameter_share']:.0%}")
    for row in result["drivers"][:3]:
        print(f"  driver: {row['parameter']} (rank correlation {row['spearman']:+.2f})")
    for box in result["sign_boxes"][:2]:
        print(f"  D < 0 when {box['rule']} ({box['density']:.0%} of {box['n']} draws)")
    if args.out:
        print(f"report: {result['report']}")


if __name__ == "__main__":
    main()
