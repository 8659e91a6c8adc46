"""Who holds the dividend? D(W) of a scenario and the share of it held by its top firms.

Runs a scenario and its siloed counterfactual on paired seeds (replication j of both uses
``SeedSequence(root_seed, spawn_key=(j,))``, as the experiment layer does), accumulates each
firm row's discounted value added after the burn-in as the welfare indicator W does (W also
subtracts the firms' link outlays, which are not split by firm here), and prints per seed:
D(W), and the share of the value-added dividend (the paired difference of the summed rows)
held by the ten firm rows with the largest paired gain (incumbent rows line up across the two
runs; rows created during a run are pooled as "new firms", since their rows need not match).

    .venv/bin/python benchmarks/dividend_concentration.py model_3_0 --seeds 4
    .venv/bin/python benchmarks/dividend_concentration.py model_3_0 --set transfer_rate=0
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulation import EcosystemModel
from simulation.scenarios import load


def firm_welfare(kwargs: dict, seed: np.random.SeedSequence) -> tuple[float, np.ndarray, int]:
    """(W, per-row discounted value added, incumbent rows) of one run."""
    model = EcosystemModel(rng=seed, **kwargs)
    p, f = model.parameters, model.world.firms
    burn = p.get("burn_in_months", 0)
    n0 = f.n
    per_row = np.zeros(0)
    while model.running:
        model.step()
        month = model.world.month
        if month <= burn:
            continue
        va = f.value_added(slice(0, f.n), p["graduate_premium"])
        if len(per_row) < f.n:
            per_row = np.concatenate([per_row, np.zeros(f.n - len(per_row))])
        per_row += va / (1.0 + p["discount_rate"]) ** ((month - burn) / 12.0)
    return float(model.indicators()["welfare"]), per_row, n0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--root-seed", type=int, default=20261201)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="parameter override for both runs (repeatable)")
    args = parser.parse_args()
    changes = {}
    for item in args.set:
        name, value = item.split("=", 1)
        changes[name] = ast.literal_eval(value)
    scenario = load(args.scenario)
    kwargs = scenario.model_kwargs(**changes)
    dividends, shares = [], []
    print(f"{'seed':>4} {'D(W) MCU':>12} {'top share':>10} {'new firms share':>16}")
    for j in range(args.seeds):
        seed = np.random.SeedSequence(args.root_seed, spawn_key=(j,))
        w_s, rows_s, n0 = firm_welfare(kwargs, seed)
        w_b, rows_b, _ = firm_welfare({**kwargs, "siloed": True}, seed)
        d = w_s - w_b
        d_va = rows_s.sum() - rows_b.sum()  # the value-added part of D(W)
        per_firm = rows_s[:n0] - rows_b[:n0]
        new = rows_s[n0:].sum() - rows_b[n0:].sum()
        top = np.sort(per_firm)[::-1][: args.top].sum()
        dividends.append(d)
        shares.append(top / d_va if d_va else np.nan)
        print(f"{j:>4} {d:>12.1f} {top / d_va:>10.1%} {new / d_va:>16.1%}")
    d = np.array(dividends)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
    print(f"mean D(W) = {d.mean():.1f} MCU (+/- {half:.1f}, normal 95%), "
          f"mean top-{args.top} share = {np.nanmean(shares):.1%}")


if __name__ == "__main__":
    main()
