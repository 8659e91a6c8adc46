"""Optimisation benchmark: NSGA-II against random search with the same number of model runs.

Both searches run the example spec (``experiments/examples/optimise_budget.toml`` unless
another is given) on the same cells (draws and seeds) and the same number of candidates
(population x generations, plus the starting scenario), so they make the same number of model
runs; the fresh re-evaluation is left out. For each root seed (``--repeats``) it prints, per
search: the model runs, the wall time, the Pareto set's size, its hypervolume and the best
robust value of each objective. The hypervolume is computed on the objectives turned to be
minimised and scaled to [0, 1] between the best and worst values either search found in that
repeat, with the reference point at 1.1 in every objective: larger is better, and the two are
comparable only within a repeat. Then the median over repeats of each and of their ratio.

    python benchmarks/optimise.py                       # 1 repeat, 2 workers
    python benchmarks/optimise.py --repeats 3 --workers 2
    python benchmarks/optimise.py path/to/spec.toml

The script only reports: it never fails on a missed target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402 - after the thread settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "experiments" / "examples" / "optimise_budget.toml"


def run_search(spec, workers: int, folder: Path) -> dict:
    from experiments import optimise as opt

    enc = opt.Encoding(spec)
    evaluate = opt.ModelEvaluator(spec, folder, workers=workers)
    started = time.perf_counter()
    result = opt.search(spec, enc, evaluate, folder)
    elapsed = time.perf_counter() - started
    table = opt.candidates_table(spec, enc, result)
    front = table[table["pareto"]]
    F = np.column_stack([opt.to_minimise(front[o.name].to_numpy(), o)
                         for o in spec.objectives])
    best = {o.name: float(opt.to_minimise(np.array([F[:, i].min()]), o)[0])
            for i, o in enumerate(spec.objectives)}
    return {"runs": evaluate.done, "seconds": elapsed, "pareto": len(front), "F": F,
            "best": best}


def hypervolumes(fronts: list[np.ndarray]) -> list[float]:
    from pymoo.indicators.hv import HV

    both = np.vstack(fronts)
    lo, hi = both.min(axis=0), both.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    indicator = HV(ref_point=np.full(both.shape[1], 1.1))
    return [float(indicator((f - lo) / span)) for f in fronts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(EXAMPLE))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    from experiments.optimise_spec import load

    base = load(args.spec)
    print(f"spec {args.spec}: population {base.population} x {base.generations} generations, "
          f"{base.draws} draws x {base.replications} seeds; {args.workers} workers; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    rows: dict[str, list[dict]] = {"nsga2": [], "random": []}
    for r in range(args.repeats):
        seed = base.seed + r
        results = {}
        for algorithm in ("nsga2", "random"):
            spec = base.with_search(algorithm=algorithm, seed=seed)
            with tempfile.TemporaryDirectory() as tmp:
                results[algorithm] = run_search(spec, args.workers, Path(tmp))
        hv = hypervolumes([results["nsga2"]["F"], results["random"]["F"]])
        for (algorithm, res), h in zip(results.items(), hv, strict=True):
            res["hypervolume"] = h
            rows[algorithm].append(res)
            best = ", ".join(f"{k} {v:,.4g}" for k, v in res["best"].items())
            print(f"seed {seed} {algorithm:>6}: {res['runs']} runs in {res['seconds']:.1f} s, "
                  f"Pareto set {res['pareto']}, hypervolume {h:.4f}; best: {best}")
    med = {a: statistics.median(x["hypervolume"] for x in rs) for a, rs in rows.items()}
    ratios = [a["hypervolume"] / b["hypervolume"] if b["hypervolume"] > 0 else float("inf")
              for a, b in zip(rows["nsga2"], rows["random"], strict=True)]
    print(f"median hypervolume: nsga2 {med['nsga2']:.4f}, random {med['random']:.4f}; "
          f"median ratio nsga2 / random {statistics.median(ratios):.3f} over "
          f"{args.repeats} repeat(s)")


if __name__ == "__main__":
    main()
