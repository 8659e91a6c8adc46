"""Indicator tables of a set of configurations, for comparing two implementations of the model.

It uses only the public API (``EcosystemModel``, ``simulation.scenarios.load``), so it runs on
any commit of the project: put that commit's checkout first on PYTHONPATH, e.g. a detached git
worktree of the commit where the fast path started::

    git worktree add --detach /tmp/start e3c1045
    PYTHONPATH=/tmp/start python benchmarks/fast_path_reference.py --out /tmp/ref-start
    python benchmarks/fast_path_reference.py --out /tmp/ref-new      # this checkout
    python benchmarks/fast_path_reference.py --compare /tmp/ref-start /tmp/ref-new

``--compare`` prints the largest relative difference of every indicator over every
configuration and seed (|a - b| / max(|a|, |b|, 1e-300), 0 where both are equal). The compact
reference that tests/test_fast_path.py checks is written with ``--compact FOLDER`` (run on the
start commit: ``--compact tests/fast_path_reference``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Small regions: entry, exit, start-ups, projects, the platform and brokerage all happen.
SMALL = dict(n_firms=300, intake_per_university=250, n_universities=2, horizon_months=36,
             platform_on=True, share_edu_3_0=0.3, entry_rate=0.01)
# (label, scenario or None for the defaults, overrides, seeds) of the full comparison.
CONFIGS: list[tuple[str, str | None, dict, tuple[int, ...]]] = [
    ("default", None, {}, (1, 2, 3)),
    ("model_3_0", "model_3_0", {}, (1, 2)),
    ("integration_does_not_pay", "integration_does_not_pay", {}, (1, 2)),
    ("siloed", None, {"siloed": True}, (1, 2)),
    ("small_entry_exit", None, SMALL, (1, 2, 3, 4)),
    ("small_model_3_0", "model_3_0", {k: SMALL[k] for k in
                                      ("n_firms", "intake_per_university", "n_universities",
                                       "horizon_months")}, (5, 6)),
]
SMALL_SIZES = {k: SMALL[k] for k in ("n_firms", "intake_per_university", "n_universities",
                                     "horizon_months")}
# The compact reference (tests/fast_path_reference/): small regions only, a few indicators,
# every month; (label, scenario, overrides, seeds).
COMPACT: list[tuple[str, str | None, dict, tuple[int, ...]]] = [
    ("small_entry_exit", None, SMALL, (1, 2)),
    ("small_model_3_0", "model_3_0", SMALL_SIZES, (5,)),
    ("small_siloed", None, {**SMALL, "siloed": True}, (3,)),
    ("small_integration_does_not_pay", "integration_does_not_pay", SMALL_SIZES, (4,)),
]
COMPACT_INDICATORS = (
    "value_added", "welfare", "jobs", "firms_alive", "innovations_total", "active_projects",
    "projects_started", "platform_members", "university_knowledge", "publications_total",
    "mean_firm_knowledge", "mean_absorptive_capacity", "students_enrolled", "graduates_total",
    "alumni_employed", "startups_founded", "firm_entries", "firm_exits", "spend_total",
    "gov_net_fiscal", "gini_value_added", "synergy_T",
)


def run(config: tuple[str, str | None, dict, tuple[int, ...]], seed: int) -> pd.DataFrame:
    return run_model(config, seed).datacollector.get_model_vars_dataframe()


def final_firms(model: Any) -> pd.DataFrame:
    """Every firm row at the end of the run: state the indicators only summarise."""
    f = model.world.firms
    n = f.n
    return pd.DataFrame({"firm": np.arange(n), "productivity": f.productivity[:n],
                         "cash": f.cash[:n], "absorptive": f.absorptive[:n],
                         "knowledge": f.knowledge[:n].sum(axis=1),
                         "trust": f.trust[:n].sum(axis=1)})


def run_model(config: tuple[str, str | None, dict, tuple[int, ...]], seed: int) -> Any:
    from simulation import EcosystemModel

    _, scenario, overrides, _ = config
    if scenario is None:
        model = EcosystemModel(rng=seed, **overrides)
    else:
        from simulation.scenarios import load

        model = EcosystemModel(rng=seed, parameters=load(scenario).parameters, **overrides)
    return model.run()


def commit() -> str:
    import simulation

    root = Path(simulation.__file__).resolve().parent.parent
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                         text=True, check=False)
    return out.stdout.strip() or "unknown"


def write_all(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for config in CONFIGS:
        for seed in config[3]:
            run(config, seed).to_csv(out / f"{config[0]}-{seed}.csv", float_format="%.17g")
            print(f"{config[0]} seed {seed}", file=sys.stderr, flush=True)
    (out / "commit.json").write_text(json.dumps({"commit": commit()}))


def write_compact(folder: Path) -> None:
    """indicators.csv (config, seed, month, COMPACT_INDICATORS), final_firms.csv (config,
    seed, every firm row's state at the end) and configs.json."""
    folder.mkdir(parents=True, exist_ok=True)
    frames, finals = [], []
    for config in COMPACT:
        for seed in config[3]:
            model = run_model(config, seed)
            for table, out in ((model.datacollector.get_model_vars_dataframe()[
                    list(COMPACT_INDICATORS)], frames), (final_firms(model), finals)):
                table = table.reset_index(drop=True)
                if out is frames:
                    table.insert(0, "month", np.arange(len(table)))
                table.insert(0, "seed", seed)
                table.insert(0, "config", config[0])
                out.append(table)
    pd.concat(frames).to_csv(folder / "indicators.csv", index=False, float_format="%.17g")
    # 14 digits: ample for the test's relative tolerance of 1e-9, and a smaller file.
    pd.concat(finals).to_csv(folder / "final_firms.csv", index=False, float_format="%.14g")
    meta = {"commit": commit(), "indicators": list(COMPACT_INDICATORS),
            "configs": {label: {"scenario": scenario, "overrides": overrides,
                                "seeds": list(seeds)}
                        for label, scenario, overrides, seeds in COMPACT}}
    (folder / "configs.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {folder} from commit {meta['commit']}", file=sys.stderr)


def relative_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    return np.where(a == b, 0.0, np.abs(a - b) / scale)


def compare(old: Path, new: Path) -> int:
    worst: dict[str, float] = {}
    for path in sorted(old.glob("*.csv")):
        a = pd.read_csv(path, index_col=0)
        b = pd.read_csv(new / path.name, index_col=0)
        for col in a.columns:
            d = float(relative_difference(a[col].to_numpy(float), b[col].to_numpy(float)).max())
            worst[col] = max(worst.get(col, 0.0), d)
        whole = float(relative_difference(a.to_numpy(float), b.to_numpy(float)).max())
        print(f"{path.stem:34s} max relative difference {whole:.3g}")
    meta = [json.loads((p / "commit.json").read_text())["commit"][:10] for p in (old, new)]
    print(f"\nper indicator, over every configuration and seed ({meta[0]} vs {meta[1]}):")
    for col, d in sorted(worst.items(), key=lambda kv: -kv[1]):
        print(f"  {col:32s} {d:.3g}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="folder for one CSV per configuration and seed")
    ap.add_argument("--compact", type=Path, help="write the compact reference into this folder")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.compact:
        write_compact(args.compact)
    if args.out:
        write_all(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
