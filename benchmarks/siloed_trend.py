"""Does the siloed run open with a start-up transient? Year-by-year value added of the siloed
default region (mean of seeds), its growth, jobs, mean absorptive capacity and the incumbents'
knowledge relative to month 0
(job-weighted mean over surviving incumbents).

    .venv/bin/python benchmarks/siloed_trend.py --seeds 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulation import EcosystemModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for seed in range(args.seeds):
        model = EcosystemModel(rng=seed, siloed=True)
        f = model.world.firms
        n0 = f.n
        level0 = f.knowledge[:n0].sum(axis=1).copy()
        rows = []
        for year in range(model.parameters["horizon_months"] // 12 + 1):
            if year:
                model.run(12)
            ind = model.indicators()
            alive = f.alive[:n0]
            # Weighted by jobs: large firms, where the old start was furthest from steady state.
            ratio = np.average(f.knowledge[:n0].sum(axis=1)[alive] / level0[alive],
                               weights=f.employees[:n0][alive])
            rows.append((ind["value_added"], ind["jobs"], ind["mean_absorptive_capacity"], ratio))
        runs.append(rows)
    mean = np.mean(np.array(runs), axis=0)
    print(f"{'year':>4} {'VA MCU/month':>13} {'growth':>7} {'jobs':>8} {'absorptive':>10} "
          f"{'incumbent knowledge (job-weighted)':>34}")
    for year, (va, jobs, absorptive, ratio) in enumerate(mean):
        growth = f"{va / mean[year - 1, 0] - 1:7.1%}" if year else " " * 7
        print(f"{year:>4} {va:>13.1f} {growth} {jobs:>8.0f} {absorptive:>10.3f} {ratio:>34.3f}")


if __name__ == "__main__":
    main()
