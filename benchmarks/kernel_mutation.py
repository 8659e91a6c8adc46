"""Mutation testing of the compiled kernels (simulation/kernels/), by sampling.

benchmarks/mutation.py cannot reach the kernels: mutmut switches its mutants on at run time
through trampolines in the Python code, and a numba kernel is compiled code. Here a mutant is
written into the kernel's source file itself, in a detached git worktree of the current commit
(this checkout is never touched), and the tests run there, so numba compiles the mutated
module afresh (its cache is keyed by the source file; the worktree's cache is its own folder).

The mutants: every binary arithmetic operator (+ and -, * and / swapped, in expressions and
in augmented assignments), the first comparison of every comparison (< and <=, > and >=, ==
and != swapped) and every numeric constant (+1) of the kernel modules, read with Python's
``ast``; the mutated module is written back with ``ast.unparse`` (so comments go; the code is
the same, which the clean run checks). ``--sample N --seed S`` tests a seeded random sample of
N of them; the kill rate of a random sample estimates the full run's, and is given with a 95%
Wilson score interval (as in benchmarks/mutation.py).

Each mutant runs tests/test_fast_path.py first (the five small-region runs against the
replaced numpy implementation's tables); if it survives that, the kernels' own tests (``KERNEL
TESTS`` below), stopping at the first failure. A mutant that no test notices "survives":
either a test is missing or the change cannot alter behaviour (an equivalent mutant); the
script prints each survivor's line for a look. A mutant that numba refuses to compile counts
as killed (its kernel cannot run). Not part of ``make test``: a mutant costs 20-60 s, most of
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
    "test_mutants_digital", "test_research_kernels", "test_stream_positions",
    "test_student_kernels")]
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


def pytest(tree: Path, tests: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           *tests], cwd=tree, capture_output=True, text=True, env=env,
                          timeout=1800)


def last_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=40, help="mutants to test (default 40)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="one JSON line a mutant, then totals")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="kernel-mutation-") as tmp:
        tree, cache = Path(tmp) / "tree", Path(tmp) / "numba-cache"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), "HEAD"], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            return _run(tree, cache, commit, args)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           capture_output=True)


def _run(tree: Path, cache: Path, commit: str, args: argparse.Namespace) -> int:
    files = sorted(p for p in (tree / KERNELS).glob("*.py") if p.name != "__init__.py")
    originals = {f: f.read_text() for f in files}
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
    clean = pytest(tree, FAST_PATH + KERNEL_TESTS, cache)
    if clean.returncode != 0:
        print(f"the clean run fails ({last_line(clean)}): no mutant can be scored",
              file=sys.stderr)
        return 1
    killed = 0
    for f, i, kind, line in chosen:
        tree_ = ast.parse(originals[f])
        _, node = sites(tree_)[i]
        code = ast.get_source_segment(originals[f], node) or ""
        mutate(kind, node)
        f.write_text(ast.unparse(tree_))
        started = time.perf_counter()
        stage, done = "fast path", pytest(tree, FAST_PATH, cache)
        if done.returncode == 0:
            stage, done = "kernel tests", pytest(tree, KERNEL_TESTS, cache)
        f.write_text(ast.unparse(ast.parse(originals[f])))
        status = "killed" if done.returncode != 0 else "survived"
        killed += status == "killed"
        say({"status": status, "stage": stage, "file": f.name, "line": line, "kind": kind,
             "code": " ".join(code.split())[:80], "tests": last_line(done),
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
