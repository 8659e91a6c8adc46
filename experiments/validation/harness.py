"""``validate``: run the region over seeds, estimate every target with its interval over seeds,
and write the report; ``run_seeds``: the runs alone (calibration evaluates its moments on
them). Nothing here changes the model: it only observes runs."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.runner import Progress, replications, run_many
from experiments.seeding import AUXILIARY_STREAM, ROOT_SEED, seed_sequence
from experiments.storage import write_json

from .estimators import (
    DEFAULT_BOOTSTRAP,
    NotEstimableError,
    fit_power_law,
    growth_volatility,
    seed_bootstrap,
)
from .figures import write_validation_report
from .observations import DEFAULT_HORIZON, STATISTICS, SeedData, observe, pool
from .targets import target_rows

# Regions the command knows: model overrides and horizon (months).
REGIONS: dict[str, tuple[dict[str, Any], int]] = {
    "default": ({}, DEFAULT_HORIZON),
    "small": ({"n_firms": 200, "intake_per_university": 200}, 36),
}


def run_seeds(seeds: int, *, root_seed: int = ROOT_SEED,
              overrides: Mapping[str, Any] | None = None, horizon: int = DEFAULT_HORIZON,
              workers: int | None = None, progress: Progress | None = None,
              executor: Executor | None = None, kinds: list[str | None] | None = None
              ) -> list[SeedData]:
    """Replications 0..seeds-1 of the region with ``overrides``, observed by ``observe``, on
    ``executor`` (left running: calibration reuses one for every evaluation) or on one made
    for ``workers``. Raises ``ParameterError`` for invalid parameters (resolved once, for every
    replication) and ``RuntimeError`` if a run fails: every target needs every seed. The
    machine kinds of the runs are appended to ``kinds`` when given."""
    from simulation.parameters import resolve

    params = resolve(overrides, horizon_months=int(horizon))
    specs = replications("validation", params, seeds, root_seed, int(horizon))
    runs = run_many(specs, task=observe, executor=executor, workers=workers,
                    progress=progress)
    runs.raise_failures("validation run")
    if kinds is not None:
        kinds.extend(runs.kinds)
    return [data for _, data in runs.completed()]


def validate(*, seeds: int = 8, workers: int | None = None, out: Path | None = None,
             root_seed: int = ROOT_SEED, region: str = "default",
             overrides: dict[str, Any] | None = None, horizon: int | None = None,
             n_boot: int = DEFAULT_BOOTSTRAP, progress: Progress | None = None,
             keep_steps: bool = False) -> dict[str, Any]:
    """Run the region over ``seeds`` seeds, estimate every target, write the report.

    ``region`` names an entry of ``REGIONS``; ``overrides`` and ``horizon`` adjust it (tests).
    Raises ``ParameterError`` for invalid parameters before anything runs, ``ValueError`` for
    an unknown region or fewer than 2 seeds. Returns a JSON-ready dict: ``targets`` (rows),
    ``all_met``, ``met``, ``report``, ``meta`` and diagnostics.
    """
    from simulation.parameters import resolve

    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; choose from {', '.join(REGIONS)}")
    if seeds < 2:
        raise ValueError("validation needs at least 2 seeds for an interval")
    base, base_horizon = REGIONS[region]
    horizon = int(base_horizon if horizon is None else horizon)
    # Bad input raises before any run; the runs get the resolved parameters as they are.
    changed = {**base, **(overrides or {})}
    params = resolve(changed, horizon_months=horizon)
    started = time.perf_counter()
    data = run_seeds(seeds, root_seed=root_seed, overrides=params, horizon=horizon,
                     workers=workers, progress=progress)
    simulated = time.perf_counter() - started
    rng = np.random.default_rng(seed_sequence(root_seed, AUXILIARY_STREAM))
    estimates = seed_bootstrap(data, STATISTICS, n_boot=n_boot, rng=rng)
    rows = target_rows(estimates)
    diagnostics = _diagnostics(data)
    elapsed = time.perf_counter() - started
    meta = {"command": "helixsim validate", "region": region, "overrides": changed or None,
            "horizon_months": horizon, "seeds": seeds, "root_seed": root_seed,
            "workers": workers or "all cores", "bootstrap_replicates": n_boot,
            "simulation_elapsed_s": round(simulated, 2), "elapsed_s": round(elapsed, 2)}
    result: dict[str, Any] = {
        "targets": rows, "met": sum(r["met"] for r in rows), "total": len(rows),
        "all_met": all(r["met"] for r in rows), "diagnostics": diagnostics, "meta": meta,
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        result["report"] = str(write_validation_report(out, data, rows, diagnostics, meta))
        result["json"] = str(out / "validation.json")
        write_json(result, out / "validation.json")
    if keep_steps:  # the runs' monthly indicators, for the per-year tables (export.finish)
        result["_steps"] = pd.concat([d.extra["steps"].assign(label=f"{region} region",
                                                              replication=d.replication)
                                      for d in data], ignore_index=True)
    return result


def _diagnostics(data: Sequence[SeedData]) -> dict[str, Any]:
    """Details behind the headline numbers (for the report and ``--json``)."""
    out: dict[str, Any] = {}
    try:
        fit = fit_power_law(pool(data, "sizes"))
        out["firm_size_fit"] = {"alpha": fit.alpha, "xmin": fit.xmin, "n_tail": fit.n_tail,
                                "n": len(pool(data, "sizes")), "ks": fit.ks}
    except NotEstimableError as err:
        out["firm_size_fit"] = {"reason": str(err)}
    try:
        vol = growth_volatility(pool(data, "growth_size"), pool(data, "growth_rate"))
        out["growth_fit"] = {"beta": vol.beta, "intercept": vol.intercept, "r2": vol.r2,
                             "observations": len(pool(data, "growth_size"))}
    except NotEstimableError as err:
        out["growth_fit"] = {"reason": str(err)}
    # The target is measured on firms with 10+ employees (the CIS population); the share over
    # all innovating firms, micro-firms included, is kept as a detail.
    innov = sum(d.innovating for d in data)
    out["cis_cooperation_all_sizes"] = (
        sum(d.cooperating for d in data) / innov if innov else None)
    out["innovating_firms"] = sum(d.innovating_10 for d in data)
    out["cooperating_firms"] = sum(d.cooperating_10 for d in data)
    out["innovating_firms_all_sizes"] = innov
    out["cooperating_firms_all_sizes"] = sum(d.cooperating for d in data)
    out["new_firms"] = len(pool(data, "birth"))
    out["innovations"] = len(pool(data, "innovation_values"))
    deg = pool(data, "degrees")
    out["degree"] = ({"firms": len(deg), "mean": float(deg.mean()),
                      "median": float(np.median(deg)), "p99": float(np.quantile(deg, 0.99)),
                      "max": int(deg.max()),
                      "p99_over_median": float(np.quantile(deg, 0.99) / np.median(deg))}
                     if len(deg) else {})
    out["retention_indicator_per_seed"] = [d.extra["retention_indicator"] for d in data]
    out["run_seconds_per_seed"] = [round(d.elapsed, 3) for d in data]
    return out

