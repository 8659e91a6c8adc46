"""Scale benchmark: how fast and how big helixsim runs, next to a per-agent Mesa loop.

For each region size (default, 10x, 100x, metro) it runs ``EcosystemModel`` for 120 months and
prints the seconds to build the model, seconds per simulated year, total run seconds,
agent-updates per second (enrolled students + living firms, summed over every step, divided
by run seconds), seconds per agent-update, and peak memory (RSS). Every run happens in a fresh
subprocess with one BLAS/OpenMP thread, so peak RSS is per size and the figures are for one
core; each size is repeated (``--repeats``) and the median is reported.

In the same run it measures an idiomatic per-agent Mesa loop (one ``mesa.Agent`` per student,
``agents.shuffle_do("step")``, four skills updated as s += r (1 - s) with a per-agent rate) and
prints the speed-up of helixsim over it at every size. Last, it lists the performance targets
with the measured value next to each, marked "met" / "not met". The script only reports: it
never fails on a missed target and always exits 0 (a crashed child is reported as failed).

Run it with ``make bench`` (which runs ``python benchmarks/scale.py``) or directly::

    python benchmarks/scale.py                                # all sizes, default repeats
    python benchmarks/scale.py --sizes default,10x --repeats 5
    python benchmarks/scale.py --json                         # machine-readable results

All sizes together take about four minutes; the 100x size alone needs about 2 GB of memory.
The Mesa loop's rate is agents / median step time; numbers on a shared machine are noisy, so
compare runs by their printed load average and cpu/wall ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HORIZON = 120  # months
SEED = 1
MESA_STEPS = (5, 20)  # steps of the Mesa loop: at least 5, up to 20 for small models
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Region sizes. Firms and students scale by 10x and 100x from the default region; universities
# scale with them (3 x factor) but are capped at 20, the metro region's count, with the intake
# per university set so that total intake scales exactly. Every other parameter keeps its
# default (so, e.g., the government budget and faculty per university do not scale).
SIZES: dict[str, dict[str, int]] = {
    "default": {"n_universities": 3, "n_firms": 2_000, "intake_per_university": 3_334},
    "10x": {"n_universities": 20, "n_firms": 20_000, "intake_per_university": 5_001},
    "100x": {"n_universities": 20, "n_firms": 200_000, "intake_per_university": 50_010},
    "metro": {"n_universities": 20, "n_firms": 100_000, "intake_per_university": 12_500},
}
DEFAULT_REPEATS = {"default": 3, "10x": 3, "100x": 1, "metro": 1}
# Agents of the per-agent Mesa loop for each size: one per enrolled student at the start, at
# most ``--mesa-max`` (a larger size is then compared with the rate at the largest count).
MESA_AGENTS = {"default": 40_000, "10x": 400_000, "100x": 4_000_000, "metro": 1_000_000}
MESA_MAX = 1_000_000

# Targets.
DEFAULT_RUN_S = 0.5
SPEEDUP = 10.0
METRO_RUN_S = 60.0
METRO_RSS_MIB = 2048.0  # 2 GiB
COST_TOLERANCE = 1.10  # seconds per agent-update may exceed the default's by timing noise only


# --- the per-agent Mesa loop --------------------------------------------------------------------
def _mesa_classes() -> tuple[type, type]:
    """The per-agent Mesa model (imported lazily so the parent process stays light)."""
    import mesa

    class StudentAgent(mesa.Agent):
        """One student as a Mesa agent: four skills and their monthly rates."""

        def __init__(self, model: mesa.Model, rates: tuple[float, ...]) -> None:
            super().__init__(model)
            self.rates = rates
            self.skills = [model.random.uniform(0.05, 0.3) for _ in range(4)]

        def step(self) -> None:
            skills, rates = self.skills, self.rates
            for j in range(4):
                skills[j] += rates[j] * (1.0 - skills[j])

    class StudentModel(mesa.Model):
        """Students of the default programme mix, each with a rate 1 - (1 - R)^aptitude."""

        def __init__(self, n_agents: int, rng: int = SEED) -> None:
            super().__init__(rng=rng)
            from simulation import DEFAULTS

            base = [DEFAULTS["teach_rate_1_0"], DEFAULTS["teach_rate_2_0"],
                    DEFAULTS["teach_rate_3_0"]]
            shares = [1.0 - DEFAULTS["share_edu_2_0"] - DEFAULTS["share_edu_3_0"],
                      DEFAULTS["share_edu_2_0"], DEFAULTS["share_edu_3_0"]]
            sigma = DEFAULTS["aptitude_sigma"]
            for _ in range(n_agents):
                prog = self.random.choices(range(3), weights=shares)[0]
                aptitude = self.random.lognormvariate(0.0, sigma)
                StudentAgent(self, tuple(1.0 - (1.0 - r) ** aptitude for r in base[prog]))

        def step(self) -> None:
            self.agents.shuffle_do("step")

    return StudentAgent, StudentModel


def _peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def mesa_steps(n_agents: int) -> int:
    """Steps to time: about 800,000 agent-steps, within MESA_STEPS."""
    low, high = MESA_STEPS
    return max(low, min(high, 800_000 // max(n_agents, 1)))


def measure_mesa(n_agents: int) -> dict[str, Any]:
    """Child: build the per-agent Mesa model and time its steps one by one (median step)."""
    _, model_class = _mesa_classes()
    t0 = time.perf_counter()
    model = model_class(n_agents)
    t1 = time.perf_counter()
    times = []
    for _ in range(mesa_steps(n_agents)):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    step_s = statistics.median(times)
    return {"agents": n_agents, "steps": len(times), "build_s": t1 - t0, "step_s": step_s,
            "agent_steps_per_s": n_agents / step_s, "peak_rss_mib": _peak_rss_mib()}


# --- helixsim ------------------------------------------------------------------------------
def measure_model(size: str) -> dict[str, Any]:
    """Child: build and run one region for HORIZON months; time, count updates, peak RSS."""
    from simulation import EcosystemModel

    rss_imported = _peak_rss_mib()
    params = dict(SIZES[size], horizon_months=HORIZON)
    t0 = time.perf_counter()
    model = EcosystemModel(rng=SEED, **params)
    t1 = time.perf_counter()
    c1 = time.process_time()
    model.run()
    t2 = time.perf_counter()
    c2 = time.process_time()
    peak = _peak_rss_mib()
    df = model.datacollector.get_model_vars_dataframe()
    # Agents a step updates: those present at its start (DataCollector rows 0..HORIZON-1).
    students = float(df["students_enrolled"].to_numpy()[:HORIZON].sum())
    firms = float(df["firms_alive"].to_numpy()[:HORIZON].sum())
    updates = students + firms
    run_s = t2 - t1
    return {
        "size": size, "params": params, "months": model.month,
        "enrolled_start": int(df["students_enrolled"].iloc[0]),
        "firms_start": int(df["firms_alive"].iloc[0]),
        "mean_agents_per_step": updates / HORIZON,
        "build_s": t1 - t0, "run_s": run_s, "run_cpu_s": c2 - c1,
        "s_per_year": run_s / (HORIZON / 12.0),
        "agent_updates": updates, "student_updates": students, "firm_updates": firms,
        "agent_updates_per_s": updates / run_s,
        "s_per_agent_update": run_s / updates,
        "peak_rss_mib": peak, "rss_after_import_mib": rss_imported,
        "student_rows": model.world.students.n, "firm_rows": model.world.firms.n,
    }


# --- parent: subprocesses, medians, report -------------------------------------------------
def run_child(args: list[str]) -> dict[str, Any]:
    """Run this script in a fresh one-core subprocess and parse its JSON answer."""
    env = dict(os.environ, **ONE_CORE)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env,
                          capture_output=True, text=True, cwd=ROOT, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure over repeats; peak RSS is the largest of the repeats."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"], "repeats": 0}
    out = dict(ok[0])
    for key, value in ok[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in ok)
    out["peak_rss_mib"] = max(r["peak_rss_mib"] for r in ok)
    out["repeats"] = len(ok)
    if len(ok) < len(runs):
        out["failed_repeats"] = len(runs) - len(ok)
    return out


def mesa_count(size: str, mesa_max: int) -> int:
    return min(MESA_AGENTS[size], mesa_max)


def nearest_mesa(agents: float, mesa: dict[int, dict[str, Any]]) -> int | None:
    """The measured Mesa agent count closest (in ratio) to ``agents``."""
    counts = [n for n, r in mesa.items() if "error" not in r]
    if not counts:
        return None
    return min(counts, key=lambda n: abs(math.log(n / agents)))


def collect(sizes: list[str], repeats: int | None, mesa_max: int, log: Any) -> dict[str, Any]:
    results: dict[str, Any] = {"meta": meta(sizes, repeats, mesa_max), "sizes": {}, "mesa": {}}
    for size in sizes:
        n = repeats if repeats is not None else DEFAULT_REPEATS[size]
        runs = []
        for i in range(n):
            log(f"helixsim {size}: run {i + 1}/{n} ...")
            runs.append(run_child(["--one", size]))
        results["sizes"][size] = median_of(runs)
    counts: dict[int, int] = {}
    for size in sizes:
        count = mesa_count(size, mesa_max)
        n = repeats if repeats is not None else DEFAULT_REPEATS[size]
        counts[count] = max(counts.get(count, 0), n)
    for count, n in sorted(counts.items()):
        runs = []
        for i in range(n):
            log(f"Mesa per-agent loop, {count:,} agents: run {i + 1}/{n} ...")
            runs.append(run_child(["--mesa", str(count)]))
        results["mesa"][count] = median_of(runs)
    for size in sizes:
        r = results["sizes"][size]
        if "error" in r:
            continue
        near = mesa_count(size, mesa_max)
        if "error" in results["mesa"].get(near, {"error": ""}):
            near = nearest_mesa(r["mean_agents_per_step"], results["mesa"])
        if near is None:
            continue
        r["mesa_agents"] = near
        r["mesa_at_size"] = near == MESA_AGENTS[size]
        r["mesa_agent_steps_per_s"] = results["mesa"][near]["agent_steps_per_s"]
        r["speedup_vs_mesa"] = r["agent_updates_per_s"] / r["mesa_agent_steps_per_s"]
    base = results["sizes"].get("default", {})
    for r in results["sizes"].values():
        if "error" not in r and "s_per_agent_update" in base:
            r["cost_ratio_to_default"] = r["s_per_agent_update"] / base["s_per_agent_update"]
    results["targets"] = targets(results)
    results["meta"]["load_average_end"] = _load()
    return results


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _git_state() -> str:
    """The commit measured, and whether simulation/ has uncommitted changes."""
    def git(*args: str) -> str:
        try:
            proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  check=False)
        except OSError:
            return ""
        return proc.stdout.strip() if proc.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown"
    dirty = git("status", "--porcelain", "--", "simulation")
    return head + (" + uncommitted changes in simulation/" if dirty else "")


def meta(sizes: list[str], repeats: int | None, mesa_max: int) -> dict[str, Any]:
    return {
        "code": _git_state(),
        "python": platform.python_version(), "numpy": _version("numpy"),
        "mesa": _version("mesa"), "cpu": _cpu_name(), "logical_cpus": os.cpu_count(),
        "load_average_start": _load(), "horizon_months": HORIZON, "seed": SEED,
        "threads": ONE_CORE, "mesa_steps": MESA_STEPS, "mesa_max": mesa_max,
        "sizes": {s: SIZES[s] for s in sizes},
        "repeats": {s: repeats if repeats is not None else DEFAULT_REPEATS[s] for s in sizes},
    }


def _mark(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "not met")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    sizes = results["sizes"]
    good = {k: v for k, v in sizes.items() if "error" not in v}
    out = []
    d = good.get("default")
    out.append({
        "target": f"default region, {HORIZON} months <= {DEFAULT_RUN_S} s on one core",
        "measured": (f"{d['run_s']:.3f} s run ({d['build_s'] + d['run_s']:.3f} s with build)"
                     if d else "-"),
        "met": d["run_s"] <= DEFAULT_RUN_S if d else None})
    speed = {k: v["speedup_vs_mesa"] for k, v in good.items() if "speedup_vs_mesa" in v}
    out.append({
        "target": f">= {SPEEDUP:g}x the per-agent Mesa loop at every size",
        "measured": ", ".join(f"{k} {v:.1f}x" for k, v in speed.items()) or "-",
        "met": (all(v >= SPEEDUP for v in speed.values()) and len(speed) == len(sizes))
        if speed else None})
    m = good.get("metro")
    out.append({
        "target": f"metro region, {HORIZON} months <= {METRO_RUN_S:g} s",
        "measured": (f"{m['run_s']:.1f} s run ({m['build_s'] + m['run_s']:.1f} s with build)"
                     if m else "-"),
        "met": m["run_s"] <= METRO_RUN_S if m else None})
    out.append({
        "target": f"metro region, peak memory <= {METRO_RSS_MIB:,.0f} MiB (2 GiB)",
        "measured": f"{m['peak_rss_mib']:,.0f} MiB" if m else "-",
        "met": m["peak_rss_mib"] <= METRO_RSS_MIB if m else None})
    cost = {k: v["cost_ratio_to_default"] for k, v in good.items()
            if "cost_ratio_to_default" in v and k != "default"}
    out.append({
        "target": ("cost per step grows no faster than the population (s/agent-update <= "
                   f"{COST_TOLERANCE:g} x default's)"),
        "measured": ", ".join(f"{k} {v:.2f}x" for k, v in cost.items()) or "-",
        "met": all(v <= COST_TOLERANCE for v in cost.values()) if cost else None})
    for t in out:
        t["status"] = _mark(t["met"])
    return out


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join("-" * w for w in widths)
    fmt = [
        "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                  for i, (h, w) in enumerate(zip(header, widths, strict=True))),
        line,
    ]
    for r in rows:
        fmt.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(fmt)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "?"


def report(results: dict[str, Any], sizes: list[str], mesa_max: int) -> str:
    m = results["meta"]
    load = (f"; 1-min load average {m['load_average_start']:.2f} at start, "
            f"{m['load_average_end']:.2f} at end" if m["load_average_start"] is not None else "")
    out = [
        "helixsim scale benchmark",
        f"  Python {m['python']}, numpy {m['numpy']}, mesa {m['mesa']}; {m['cpu']}, "
        f"{m['logical_cpus']} logical CPUs{load}",
        f"  code: git {m['code']}",
        "  every run in a fresh subprocess with OMP/OPENBLAS/MKL_NUM_THREADS=1 (one core); "
        f"seed {SEED}; {HORIZON} months; median of the repeats, peak RSS = largest",
        "  sizes: firms and students x10 / x100 from the default region; universities "
        "3 x factor, capped at 20 (metro's count); intake per university sets total intake;",
        "  all other parameters at their defaults",
    ]
    for s in sizes:
        p = SIZES[s]
        out.append(f"    {s:8s} universities {p['n_universities']:>3}, firms "
                   f"{p['n_firms']:>9,}, intake/university {p['intake_per_university']:>7,} "
                   f"(4 cohorts: {4 * p['n_universities'] * p['intake_per_university']:,} "
                   "admitted)")
    out.append("  agent-updates = enrolled students + living firms at the start of each step, "
               "summed over all steps")
    out.append("")

    rows1, rows2 = [], []
    for s in sizes:
        r = results["sizes"][s]
        if "error" in r:
            rows1.append([s, "failed: " + r["error"], *[""] * 8])
            rows2.append([s, *[""] * 7])
            continue
        rows1.append([
            s, f"{r['enrolled_start']:,}", f"{r['firms_start']:,}",
            f"{r['mean_agents_per_step']:,.0f}", f"{r['build_s']:.3f}", f"{r['s_per_year']:.3f}",
            f"{r['run_s']:.3f}", f"{r['run_cpu_s'] / r['run_s']:.2f}",
            f"{r['peak_rss_mib']:,.0f}", str(r["repeats"]),
        ])
        if "mesa_agent_steps_per_s" in r:
            label = f"{r['mesa_agents']:,}" + ("" if r["mesa_at_size"] else " (nearest)*")
            mesa_rate, ratio = f"{r['mesa_agent_steps_per_s']:,.0f}", \
                f"{r['speedup_vs_mesa']:.1f}x"
        else:
            label = mesa_rate = ratio = "-"
        rows2.append([
            s, f"{r['agent_updates']:,.0f}", f"{r['agent_updates_per_s']:,.0f}",
            f"{r['s_per_agent_update'] * 1e9:.1f}",
            f"{r.get('cost_ratio_to_default', float('nan')):.2f}", label, mesa_rate, ratio,
        ])
    out.append(_table(["size", "enrolled@0", "firms@0", "agents/step", "build s",
                       "s/sim-year", "run s", "cpu/wall", "peak RSS MiB", "repeats"], rows1))
    out.append("")
    out.append(_table(["size", "agent-updates", "updates/s", "ns/update", "x default",
                       "Mesa agents", "Mesa agent-steps/s", "helixsim/Mesa"], rows2))
    if any(not r.get("mesa_at_size", True) for r in results["sizes"].values()):
        out.append("  * Mesa loop not run at this size (above --mesa-max): the rate at the nearest "
                   "measured count is used;\n    Mesa's rate falls as agents grow, so this "
                   "favours Mesa.")
    out.append("")

    rows3 = []
    for n, r in sorted(results["mesa"].items()):
        if "error" in r:
            rows3.append([f"{n:,}", "failed: " + r["error"], "", "", "", ""])
        else:
            rows3.append([f"{n:,}", f"{r['build_s']:.2f}", str(r["steps"]), f"{r['step_s']:.3f}",
                          f"{r['agent_steps_per_s']:,.0f}", f"{r['peak_rss_mib']:,.0f}"])
    out.append("Per-agent Mesa loop (one mesa.Agent per student, agents.shuffle_do('step'), "
               "4 skills s += r(1 - s));")
    out.append(f"  rate = agents / median step time; at most {mesa_max:,} agents; "
               "a Mesa step here is one month of teaching only:")
    out.append(_table(["agents", "build s", "steps", "median s/step", "agent-steps/s",
                       "peak RSS MiB"], rows3))
    out.append("")

    out.append("Targets (information only):")
    for t in results["targets"]:
        out.append(f"  [{t['status']:>12}] {t['target']}: {t['measured']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(SIZES),
                    help=f"comma-separated sizes among {', '.join(SIZES)} (default: all)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="runs per size (default: 3 for default/10x, 1 for 100x/metro)")
    ap.add_argument("--json", action="store_true", help="print machine-readable results")
    ap.add_argument("--mesa-max", type=int, default=MESA_MAX,
                    help=f"largest per-agent Mesa loop to build (default {MESA_MAX:,})")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child: one helixsim run
    ap.add_argument("--mesa", type=int, help=argparse.SUPPRESS)  # child: one Mesa loop run
    args = ap.parse_args(argv)

    if args.one or args.mesa:
        sys.path.insert(0, str(ROOT))
    if args.one:
        print(json.dumps(measure_model(args.one)))
        return 0
    if args.mesa:
        print(json.dumps(measure_mesa(args.mesa)))
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size(s) {', '.join(unknown)}; choose among {', '.join(SIZES)}")
    if args.repeats is not None and args.repeats < 1:
        ap.error("--repeats must be at least 1")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = collect(sizes, args.repeats, args.mesa_max, log)
    if args.json:
        results["mesa"] = {str(k): v for k, v in results["mesa"].items()}
        print(json.dumps(results, indent=2))
    else:
        print(report(results, sizes, args.mesa_max))
    return 0


if __name__ == "__main__":
    sys.exit(main())
