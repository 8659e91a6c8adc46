"""Memory benchmark: the budget's estimate of a run next to its measured peak memory.

For each region size it runs ``EcosystemModel`` to its horizon in a fresh subprocess (one
BLAS thread) and prints ``simulation.budget.estimate`` next to the measured peak resident
memory the run added (peak RSS after the run minus RSS after the imports, so the interpreter
and libraries are not counted) and their ratio. The budget refuses a region by its estimate,
so the estimate should be at or above the measured peak (ratio >= 1) without being wildly
above it. The script only reports and always exits 0::

    python benchmarks/memory.py                      # the default sizes
    python benchmarks/memory.py --sizes small,default --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {
    "small": {"n_firms": 200, "intake_per_university": 200, "horizon_months": 36},
    "default": {},
    "students10x": {"intake_per_university": 33_340, "horizon_months": 60},
    "firms10x": {"n_firms": 20_000, "horizon_months": 60},
    "long": {"horizon_months": 600, "n_firms": 500, "intake_per_university": 500},
    "firms100x": {"n_firms": 200_000, "horizon_months": 24},
    "students30x": {"intake_per_university": 100_000, "horizon_months": 24},
    "wide": {"n_universities": 40, "intake_per_university": 500, "n_firms": 5_000,
             "horizon_months": 36},
}

CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from simulation.model import EcosystemModel
from simulation.budget import estimate
from simulation.parameters import resolve

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

kwargs = json.loads(sys.argv[2])
params = resolve(kwargs)
base = rss()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
model = EcosystemModel(rng=1, **kwargs)
model.run()
model.dataframe()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"estimate": estimate(params), "measured": peak - base,
                  "peak_before": peak_before - base}))
"""


def measure(kwargs: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), json.dumps(kwargs)],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout)


def main() -> None:
    from simulation.budget import format_bytes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: " +
                    ", ".join(SIZES))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for name in args.sizes.split(","):
        result = {"size": name, **measure(SIZES[name])}
        rows.append(result)
        if args.json:
            continue
        if "error" in result:
            print(f"{name:12s} failed: {result['error']}")
            continue
        ratio = result["estimate"] / max(result["measured"], 1)
        print(f"{name:12s} estimate {format_bytes(result['estimate']):>10s}   measured peak "
              f"{format_bytes(result['measured']):>10s}   estimate/measured {ratio:5.2f}",
              flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
