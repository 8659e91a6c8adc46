"""Mutation testing of the model's mechanisms, the synergy indicator and the statistics.

mutmut (configured in pyproject.toml, [tool.mutmut]) plants one small change at a time (a
flipped comparison, a changed constant, a dropped argument) in simulation/mechanisms/,
simulation/synergy.py and experiments/analysis.py, and runs the tests that reach the changed
function. A mutant the tests do not notice "survives": either a test is missing or the change
is equivalent (it cannot alter behaviour). This script runs mutmut and prints the kill ratio
per module and every survivor with its diff, marking the survivors known to be equivalent.

Not part of `make test`: a full run takes long (mechanism mutants run model simulations).

    python benchmarks/mutation.py                       # everything
    python benchmarks/mutation.py analysis synergy      # just these modules
    python benchmarks/mutation.py mechanisms.policy --workers 2
    python benchmarks/mutation.py --report              # figures of the last run, no run

Hypothesis runs derandomised (CI=1, tests/conftest.py), so a mutant's verdict does not depend
on the examples drawn. mutmut keeps its results in mutants/ and re-tests only what changed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "analysis": "experiments.analysis",
    "synergy": "simulation.synergy",
    "mechanisms": "simulation.mechanisms",
}
DETECTED = ("killed", "timeout")  # a mutant that hangs the tests is caught as well
LEFT = ("survived", "no tests", "suspicious")

# Survivors that cannot change behaviour, by mutant name, with the reason. Names follow
# mutmut's numbering of the current code, so they must be revisited when a function changes.
EQUIVALENT: dict[str, str] = {
    "experiments.analysis.x_paired_interval__mutmut_5":
        "np.asarray of numbers is numeric without dtype=float; callers pass floats",
    "experiments.analysis.x_paired_interval__mutmut_7":
        "np.asarray of numbers is numeric without dtype=float; callers pass floats",
    "experiments.analysis.x_compare_table__mutmut_33":
        "an empty Series' mean is already NaN, and relative_to(NaN) is NaN",
    "experiments.analysis.x_dividend_table__mutmut_31":
        "an empty Series' mean is already NaN, and relative_to(NaN) is NaN",
    "experiments.analysis.x_seeds_needed__mutmut_62":
        "a larger growth step is bisected back: the same smallest n, found in other steps",
    "experiments.analysis.x_seeds_needed__mutmut_64":
        "growth by one instead of 10% reaches the same smallest n, only more slowly",
    "experiments.analysis.x_seeds_needed__mutmut_65":
        "a larger growth step is bisected back: the same smallest n, found in other steps",
    "experiments.analysis.x_shapley__mutmut_6":
        "one more factorial in the table is never read",
    "experiments.analysis.x_shapley__mutmut_34":
        "values are numeric arrays; float weights make the sum float either way",
    "experiments.analysis.x_shapley__mutmut_36":
        "values are numeric arrays; float weights make the sum float either way",
    "experiments.analysis.x_shapley__mutmut_38":
        "values are numeric arrays; float weights make the sum float either way",
    "experiments.analysis.x_shapley__mutmut_40":
        "values are numeric arrays; float weights make the sum float either way",
    "simulation.synergy.x_entropy__mutmut_3": "counts / total is float division for any numbers",
    "simulation.synergy.x_entropy__mutmut_5": "counts / total is float division for any numbers",
    "simulation.synergy.x_entropy__mutmut_7":
        "no counts: the sum over an empty selection is 0.0 (as -0.0), the same value",
    "simulation.synergy.x_transmission__mutmut_9": "entropy() converts the sums to float",
    "simulation.synergy.x_transmission__mutmut_11": "entropy() converts the sums to float",
    "simulation.synergy.x_transmission__mutmut_55":
        "differs only when |T| is exactly 1e-12 bits",
}


def mutmut() -> str:
    exe = Path(sys.executable).with_name("mutmut")
    found = str(exe) if exe.exists() else shutil.which("mutmut")
    if not found:
        sys.exit("mutmut is not installed: pip install -e '.[test]'")
    return found


def patterns(selected: list[str]) -> list[str]:
    """mutmut name patterns for the selected modules (``mechanisms.policy`` for one file)."""
    out = []
    for name in selected:
        head, _, tail = name.partition(".")
        if head not in TARGETS:
            sys.exit(f"unknown module {name!r}; choose from {', '.join(TARGETS)}")
        out.append(f"{TARGETS[head]}{'.' + tail if tail else ''}.*")
    return out


def results() -> dict[str, str]:
    """Mutant name -> status of every mutant mutmut knows about."""
    done = subprocess.run([mutmut(), "results", "--all", "true"], cwd=ROOT, text=True,
                          capture_output=True, check=True)
    status = {}
    for line in done.stdout.splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line)
        if m:
            status[m.group(1)] = m.group(2).strip()
    return status


def module_of(mutant: str) -> str:
    return mutant.split(".x", 1)[0]


def diff(mutant: str) -> str:
    shown = subprocess.run([mutmut(), "show", mutant], cwd=ROOT, text=True, capture_output=True)
    return "\n".join(f"      {line}" for line in shown.stdout.splitlines()
                     if re.match(r"^[-+](?![-+])", line))


def report(selected: list[str], *, show_diffs: bool) -> float:
    globs = [p[:-2] for p in patterns(selected)]
    status = {k: v for k, v in results().items()
              if any(k.startswith(g + ".") or k.startswith(g + ".x") for g in globs)}
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name, st in status.items():
        by_module[module_of(name)][st] += 1
    print(f"{'module':36} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} "
          f"{'equiv.':>6} {'not run':>7} {'kill ratio':>10}")
    totals = Counter()
    for module in sorted(by_module):
        c = by_module[module]
        equivalent = sum(1 for n, st in status.items()
                         if module_of(n) == module and st == "survived" and n in EQUIVALENT)
        checked = sum(v for k, v in c.items() if k in DETECTED + LEFT)
        caught = sum(c[k] for k in DETECTED)
        totals.update(c)
        totals["equivalent"] += equivalent
        ratio = caught / checked if checked else float("nan")
        print(f"{module:36} {sum(c.values()):7d} {c['killed']:7d} {c['timeout']:7d} "
              f"{c['survived']:8d} {equivalent:6d} {sum(c.values()) - checked:7d} "
              f"{ratio:10.1%}")
    checked = sum(v for k, v in totals.items() if k in DETECTED + LEFT)
    caught = sum(totals[k] for k in DETECTED)
    ratio = caught / checked if checked else float("nan")
    real = checked - totals["equivalent"]
    print(f"{'all':36} {sum(v for k, v in totals.items() if k != 'equivalent'):7d} "
          f"{totals['killed']:7d} {totals['timeout']:7d} {totals['survived']:8d} "
          f"{totals['equivalent']:6d} {'':7} {ratio:10.1%}")
    if real:
        print(f"kill ratio without the equivalent mutants: {caught / real:.1%} "
              f"({caught} of {real})")
    survivors = sorted(n for n, st in status.items() if st in LEFT)
    if survivors:
        print(f"\n{len(survivors)} surviving mutants:")
        for name in survivors:
            why = EQUIVALENT.get(name)
            print(f"  {name} [{status[name]}]" + (f"  equivalent: {why}" if why else ""))
            if show_diffs:
                print(diff(name))
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", default=list(TARGETS),
                    help="analysis, synergy, mechanisms or mechanisms.<file> (default: all)")
    ap.add_argument("--workers", type=int, default=1, help="mutants run in parallel")
    ap.add_argument("--report", action="store_true", help="only print the last run's figures")
    ap.add_argument("--no-diffs", action="store_true", help="list survivors without diffs")
    args = ap.parse_args()
    if not args.report:
        started = time.perf_counter()
        env = {**os.environ, "CI": "1"}
        subprocess.run([mutmut(), "run", "--max-children", str(args.workers),
                        *patterns(args.modules)], cwd=ROOT, env=env, check=False,
                       stdout=subprocess.DEVNULL)
        print(f"mutmut run: {time.perf_counter() - started:.0f} s with {args.workers} "
              f"worker(s) for {', '.join(args.modules)}\n")
    report(args.modules, show_diffs=not args.no_diffs)


if __name__ == "__main__":
    main()
