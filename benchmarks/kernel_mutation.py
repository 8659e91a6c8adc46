"""Mutation testing of the compiled kernels (simulation/kernels/), by sampling.

benchmarks/mutation.py cannot reach the kernels: mutmut switches its mutants on at run time
through trampolines in the Python code, and a numba kernel is compiled code. Here a mutant is
written into the kernel's source file itself, in a detached git worktree of the current commit
(this checkout is never touched; what it tests is the last commit), and the tests run there,
so numba compiles the mutated module afresh. numba checks only the source file of the kernel
it loads from its cache, not those of the kernels it calls, so the cached kernels of every
module that imports the mutated one are removed before the mutant runs and again once the
source is restored (the worktree's cache is a folder of its own): a kernel that calls a
mutated helper (``firms.row_sum``, ``stream.uniform_at``) is compiled with the mutant, and none
keeps it afterwards.

The mutants: every binary arithmetic operator (+ and -, * and / swapped, in expressions and
in augmented assignments), the first comparison of every comparison (< and <=, > and >=, ==
and != swapped) and every numeric constant (+1) of the kernel modules, read with Python's
``ast``; the mutated module is written back with ``ast.unparse`` (so comments go; the script
checks that the unparsed module parses to the same tree, and the clean run that its tests
pass). ``--sample N --seed S`` tests a seeded random sample of
N of them; the kill rate of a random sample estimates the full run's, and is given with a 95%
Wilson score interval (as in benchmarks/mutation.py).

Each mutant runs tests/test_fast_path.py first (the five small-region runs against the
replaced numpy implementation's tables); if it survives that, the kernels' own tests (``KERNEL
TESTS`` below), stopping at the first failure. A mutant that no test notices "survives":
either a test is missing or the change cannot alter behaviour (an equivalent mutant); the
script prints each survivor's line for a look. A mutant that numba refuses to compile counts
as killed (its kernel cannot run), as does one whose tests run past ``--timeout`` seconds (a
loop that no longer ends). Not part of ``make test``: a mutant costs 20-60 s, most of
it numba compiling the mutated module.

    python benchmarks/kernel_mutation.py --sample 40 --seed 1
    python benchmarks/kernel_mutation.py --sample 40 --seed 1 --json > kernels.jsonl
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS = "simulation/kernels"
FAST_PATH = ["tests/test_fast_path.py"]
KERNEL_TESTS = [f"tests/{name}.py" for name in (
    "test_accounting_kernels", "test_collaboration_kernels", "test_engagement_kernels",
    "test_entry", "test_firm_kernel_formulas", "test_indicator_kernels", "test_invariants",
    "test_kernels_as_python", "test_kernel_bounds", "test_mutants_digital",
    "test_research_kernels", "test_stream_positions", "test_student_kernels")]
SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def sites(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    """The mutable places of a module, in ``ast.walk`` order: (kind, node)."""
    out: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in SWAP_BIN:
            out.append(("bin", node))
        elif isinstance(node, ast.AugAssign) and type(node.op) in SWAP_BIN:
            out.append(("aug", node))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAP_CMP:
            out.append(("cmp", node))
        elif (isinstance(node, ast.Constant) and type(node.value) in (int, float)
              and not isinstance(node.value, bool)):
            out.append(("const", node))
    return out


def mutate(kind: str, node: ast.AST) -> None:
    if kind in ("bin", "aug"):
        node.op = SWAP_BIN[type(node.op)]()
    elif kind == "cmp":
        node.ops[0] = SWAP_CMP[type(node.ops[0])]()
    else:
        node.value = node.value + 1


def wilson(k: int, n: int) -> tuple[float, float]:
    """benchmarks/mutation.py's 95% Wilson score interval (loaded by path: benchmarks/ is no
    package, and putting it on the module path would shadow the experiments package)."""
    spec = importlib.util.spec_from_file_location("mutation", Path(__file__).with_name(
        "mutation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.wilson(k, n)


def pytest(tree: Path, tests: list[str], cache: Path, timeout: float
           ) -> tuple[int | None, str]:
    """(exit code, the last line pytest printed); None for a run past ``timeout`` seconds."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                               "no:cacheprovider", *tests], cwd=tree, capture_output=True,
                              text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout:.0f} s"
    lines = done.stdout.strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def importers(files: list[Path]) -> dict[str, set[str]]:
    """Module stem -> the stems of the kernel modules that import it (and itself)."""
    out = {f.stem: {f.stem} for f in files}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                used = node.module.rsplit(".", 1)[-1]
                if used in out:
                    out[used].add(f.stem)
    # An importer's importers call the helper too.
    changed = True
    while changed:
        changed = False
        for stems in out.values():
            more = set().union(*(out[s] for s in stems)) - stems
            if more:
                stems |= more
                changed = True
    return out


def forget(cache: Path, stems: set[str]) -> None:
    """Remove numba's cached kernels of the modules ``stems`` (files named module.kernel-...)."""
    for path in cache.rglob("*"):
        if path.is_file() and path.name.split(".", 1)[0] in stems:
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=40, help="mutants to test (default 40)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds a mutant's tests may take before it counts as killed")
    ap.add_argument("--json", action="store_true", help="one JSON line a mutant, then totals")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="kernel-mutation-") as tmp:
        tree, cache = Path(tmp) / "tree", Path(tmp) / "numba-cache"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), "HEAD"], cwd=ROOT,
                       check=True, capture_output=True)
        # SIGTERM as an exception, so that the worktree is removed on a kill too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            return _run(tree, cache, commit, args)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           capture_output=True)
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def _run(tree: Path, cache: Path, commit: str, args: argparse.Namespace) -> int:
    files = sorted(p for p in (tree / KERNELS).glob("*.py") if p.name != "__init__.py")
    originals = {f: f.read_text() for f in files}
    callers = importers(files)
    for f in files:  # what is written back for every mutant is the same code
        if ast.dump(ast.parse(ast.unparse(ast.parse(originals[f])))) != ast.dump(
                ast.parse(originals[f])):
            print(f"{f.name}: ast.unparse changes its code; no mutant can be scored",
                  file=sys.stderr)
            return 1
    everything = [(f, i, kind, node.lineno) for f in files
                  for i, (kind, node) in enumerate(sites(ast.parse(originals[f])))]
    chosen = random.Random(args.seed).sample(everything, min(args.sample, len(everything)))
    say = (lambda record: print(json.dumps(record), flush=True)) if args.json else \
        (lambda record: print(f"{record['status']:9} {record['file']}:{record['line']} "
                              f"{record['kind']:5} {record['code']!r} ({record['stage']}, "
                              f"{record['seconds']} s)", flush=True))
    if not args.json:
        print(f"kernel mutation at {commit}: {len(everything)} mutants in {len(files)} "
              f"modules, {len(chosen)} sampled (seed {args.seed})", flush=True)
    # The clean run: every module as ast.unparse writes it, no mutant; it must pass.
    for f in files:
        f.write_text(ast.unparse(ast.parse(originals[f])))
    code, last = pytest(tree, FAST_PATH + KERNEL_TESTS, cache, 4 * args.timeout)
    if code != 0:
        print(f"the clean run fails ({last}): no mutant can be scored", file=sys.stderr)
        return 1
    killed = 0
    for f, i, kind, line in chosen:
        tree_ = ast.parse(originals[f])
        _, node = sites(tree_)[i]
        source = ast.get_source_segment(originals[f], node) or ""
        mutate(kind, node)
        f.write_text(ast.unparse(tree_))
        forget(cache, callers[f.stem])
        started = time.perf_counter()
        stage = "fast path"
        code, last = pytest(tree, FAST_PATH, cache, args.timeout)
        if code == 0:
            stage = "kernel tests"
            code, last = pytest(tree, KERNEL_TESTS, cache, args.timeout)
        f.write_text(ast.unparse(ast.parse(originals[f])))
        forget(cache, callers[f.stem])
        status = "killed" if code != 0 else "survived"
        killed += status == "killed"
        say({"status": status, "stage": stage, "file": f.name, "line": line, "kind": kind,
             "code": " ".join(source.split())[:80], "tests": last,
             "seconds": round(time.perf_counter() - started)})
    low, high = wilson(killed, len(chosen))
    total = {"commit": commit, "mutants": len(everything), "sampled": len(chosen),
             "killed": killed, "kill_rate": killed / max(len(chosen), 1),
             "wilson_95": [round(low, 3), round(high, 3)]}
    print(json.dumps(total) if args.json else
          f"{killed} of {len(chosen)} killed ({100 * total['kill_rate']:.0f}%, 95% interval "
          f"[{100 * low:.0f}%, {100 * high:.0f}%]); survivors are missing tests or equivalent "
          "mutants: read each line above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
