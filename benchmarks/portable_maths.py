"""What portable maths costs: runs with numpy's AVX-512 routines on and switched off.

On an AVX-512 machine numpy takes exp, log and pow of float arrays with routines of its own
(machine kind x86_v4); with ``NPY_DISABLE_CPU_FEATURES`` set to
``experiments.machine_kind.portable_setting()`` it takes the C library's, and its runs are an
AVX2 machine's (x86_v3) to the last bit (tests/test_machine_kind.py checks both). This script
prints what the switch costs: the CPU seconds of the same run in fresh one-thread processes,
alternating the two settings within each repeat so that a change of load hits both, and the
median of the repeats' ratios; and how far apart the two settings' runs are, indicator by
indicator, over the whole horizon (the cells that differ, the largest relative difference,
and whether any count differs: a count moves only when a last bit has tipped a decision).

    python benchmarks/portable_maths.py                 # default region, 5 repeats
    python benchmarks/portable_maths.py --metro --repeats 3

On a machine without AVX-512 the two settings are the same routines (both sides print kind
x86_v3, and the ratio is noise). Prints figures only; exits 0 (2 on a bad option).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The project before this folder, whose experiments.py would hide the experiments package.
sys.path.insert(0, str(ROOT))
from draw_floor import SIZES  # noqa: E402  (the regions every speed benchmark runs)

# One run in a fresh process: its CPU seconds (build and run), its kind, its indicator table.
_CHILD = """
import json, sys, time
import numpy as np
from experiments.machine_kind import vector_maths
from simulation import EcosystemModel
sizes, seed, table = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# Kernels loaded before the timing: a June's and a September's are first called in the
# first year, so the warm-up runs one (as the worker pool's warm-up does).
EcosystemModel(rng=seed, horizon_months=14, **sizes).run()
c0 = time.process_time()
model = EcosystemModel(rng=seed, horizon_months=120, **sizes).run()
took = time.process_time() - c0
names, values = model.indicator_values()
np.save(table, values.T)  # months x indicators
print(json.dumps({"seconds": took, "kind": vector_maths(), "names": names}))
"""


def one_run(size: str, seed: int, portable: bool, table: Path) -> dict:
    from experiments.machine_kind import PORTABLE_VARIABLE, portable_setting

    env = {k: v for k, v in os.environ.items() if k != PORTABLE_VARIABLE}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if portable:
        env[PORTABLE_VARIABLE] = portable_setting()
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(SIZES[size]), str(seed),
                           str(table)], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


def apart(a: np.ndarray, b: np.ndarray, names: list[str]) -> str:
    """Words for how far two indicator tables (months x indicators) are apart."""
    differ = a != b
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    rel = np.where(differ, np.abs(a - b) / scale, 0.0)
    counts = [j for j in range(len(names))
              if np.all(a[:, j] == np.rint(a[:, j])) and np.any(differ[:, j])]
    worst = int(np.argmax(rel.max(axis=0)))
    first = np.argwhere(differ.any(axis=1))
    return (f"{int(differ.sum()):,} of {differ.size:,} indicator-months differ"
            + (f", from month {int(first[0, 0])}; largest relative difference "
               f"{rel.max():.1e} ({names[worst]}); "
               + (f"counts that differ: {', '.join(names[j] for j in counts)}" if counts
                  else "no count differs") if differ.any() else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metro", action="store_true", help="the metro region instead")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    from experiments.machine_kind import PORTABLE_VARIABLE, portable_setting, vector_maths

    size = "metro" if args.metro else "default"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    print(f"portable maths at {commit}: {size} region, 120 months, seed {args.seed}, "
          f"{args.repeats} repeats alternating, fresh one-thread processes")
    print(f"  this machine: {vector_maths()}; {PORTABLE_VARIABLE}="
          f"{portable_setting()!r} for the switched-off side")
    seconds: dict[bool, list[float]] = {False: [], True: []}
    ratios, kinds = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tables = {False: Path(tmp) / "as_is.npy", True: Path(tmp) / "portable.npy"}
        for r in range(args.repeats):
            order = (False, True) if r % 2 == 0 else (True, False)
            took = {}
            for portable in order:
                out = one_run(size, args.seed, portable, tables[portable])
                took[portable] = out["seconds"]
                kinds[portable], names = out["kind"], out["names"]
                seconds[portable].append(out["seconds"])
            ratios.append(took[True] / took[False])
            print(f"  repeat {r + 1}/{args.repeats}: as is {took[False]:.3f} s, "
                  f"switched off {took[True]:.3f} s", flush=True)
        a, b = np.load(tables[False]), np.load(tables[True])
    print(f"  as is ({kinds[False]}):        median {statistics.median(seconds[False]):.3f} "
          "s CPU a run")
    print(f"  switched off ({kinds[True]}): median {statistics.median(seconds[True]):.3f} "
          "s CPU a run")
    print(f"  switched off / as is: {statistics.median(ratios):.3f} (median of the repeats' "
          f"ratios; range {min(ratios):.3f}-{max(ratios):.3f})")
    print(f"  the two runs: {apart(a, b, names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
