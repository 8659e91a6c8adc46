"""What the ``helixsim run / compare / dividend`` commands compute, apart from the terminal.

Each function validates its inputs first (so a bad scenario writes nothing), runs the
replications through ``experiments.runner`` (on ``executor`` when one is given, which a caller
may reuse across commands; else on a pool of ``workers``), analyses them with
``experiments.analysis`` and writes a report folder; it returns a plain dict that the CLI prints
as a table or as JSON, with ``_run_ids``: the runs it is made of, for its per-year tables
(``experiments.export.finish``: the folder may hold other runs, an earlier model's say).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.parameters import CHANNELS, ParameterError
from simulation.scenarios import Scenario, ScenarioError, load

from . import analysis, report, scenario_reports, uncertainty
from .ownership import plan_runs
from .runner import Progress, RunSet, RunSpec, replications, run_many
from .seeding import ROOT_SEED
from .storage import write_parquet

HEADLINE = "welfare"


def prepare(names: Sequence[str], months: int | None) -> list[Scenario]:
    """Load every scenario and check the horizon against their timelines; nothing is written."""
    scenarios = [load(name) for name in names]
    if months is not None:
        for sc in scenarios:
            try:
                sc.parameters.replace(horizon_months=months)
            except ParameterError as err:
                raise ScenarioError(sc.path or sc.name, "timeline" if "timeline" in str(err)
                                    else "horizon_months", f"with --months {months}: "
                                    f"{err.reason or err}") from None
    return scenarios


def horizon_of(sc: Scenario, months: int | None) -> int:
    return int(months if months is not None else sc.horizon)


def summary_stats(runs: RunSet, label: str, indicators: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% t-interval over replications of final values."""
    rows = []
    for ind in indicators:
        x = analysis.finals(runs.summary, label, ind).to_numpy()
        iv = analysis.paired_interval(x)  # an interval of the mean of x itself
        rows.append({"indicator": ind, "mean": iv.mean, "low": iv.low, "high": iv.high,
                     "n": iv.n})
    return pd.DataFrame(rows)


def run_scenario(name: str, *, seeds: int, workers: int | None, out: Path,
                 root_seed: int = ROOT_SEED, months: int | None = None,
                 progress: Progress | None = None, executor: Executor | None = None
                 ) -> dict[str, Any]:
    started = time.perf_counter()
    (sc,) = prepare([name], months)
    specs = replications(sc.name, sc.parameters, seeds, root_seed, horizon_of(sc, months))
    plan_runs(out, [s.run_id for s in specs])
    runs = run_many(specs, workers=workers, executor=executor, out_dir=out,
                    progress=progress)
    runs.raise_failures()
    write_parquet(runs.summary, out / "summary.parquet")
    indicators = [c for c in runs.steps.columns if c not in ("run_id", "label", "replication",
                                                             "step", "month")]
    table = summary_stats(runs, sc.name, indicators)
    meta = report.run_meta("run", seeds, workers, started, kinds=runs.kinds, scenario=sc.name,
                           root_seed=root_seed)
    path = scenario_reports.run_report(sc, table, runs.steps, seeds=seeds,
                                       months=horizon_of(sc, months)).write(out, meta)
    return {"scenario": sc.name, "seeds": seeds, "report": str(path),
            "steps": str(out / "runs"), "summary_file": str(out / "summary.parquet"),
            "final": table.to_dict(orient="records"), "meta": meta, "_run_ids": runs.run_ids}


def compare_scenarios(names: Sequence[str], *, seeds: int, workers: int | None, out: Path,
                      root_seed: int = ROOT_SEED, months: int | None = None,
                      precision: float | None = None, max_seeds: int = 200,
                      progress: Progress | None = None, executor: Executor | None = None,
                      draws: int | None = None, posterior: Path | None = None,
                      dry_run: bool = False, announce: Announce | None = None
                      ) -> dict[str, Any]:
    """Every scenario against the first on paired seeds; optional sequential precision.

    With ``draws``, under parameter uncertainty instead (``under_uncertainty``)."""
    if draws is not None:
        return under_uncertainty(uncertainty.plan_compare(
            names, draws=draws, seeds=seeds, root_seed=root_seed, months=months,
            posterior=posterior), uncertainty.compare, out=out, workers=workers,
            executor=executor, progress=progress, dry_run=dry_run, announce=announce)
    started = time.perf_counter()
    scenarios = prepare(names, months)
    if len({sc.name for sc in scenarios}) != len(scenarios):
        raise ScenarioError(names[0], "", "each scenario may be named only once in a comparison")
    base, others = scenarios[0], scenarios[1:]
    n = seeds
    while True:
        specs = [s for sc in scenarios for s in replications(
            sc.name, sc.parameters, n, root_seed, horizon_of(sc, months))]
        plan_runs(out, [s.run_id for s in specs])
        runs = run_many(specs, workers=workers, executor=executor, out_dir=out,
                        progress=progress)
        runs.raise_failures()
        table = analysis.compare_table(runs.summary, base.name, [o.name for o in others],
                                       [c for c, _, _ in analysis.COMPONENTS])
        head = table[table["indicator"] == HEADLINE]
        widest = float(((head["high"] - head["low"]) / 2 / head["difference"].abs()).max()) \
            if len(head) else math.nan
        if precision is None or (math.isfinite(widest) and widest <= precision) or n >= max_seeds:
            break
        n = min(max_seeds, max(n + 2, math.ceil(n * 1.5)))
    crn = _precision_figures(runs, base.name, [o.name for o in others], precision)
    write_parquet(runs.summary, out / "summary.parquet")
    meta = report.run_meta("compare", n, workers, started, kinds=runs.kinds, baseline=base.name,
                           scenarios=[o.name for o in others], root_seed=root_seed)
    path = scenario_reports.compare_report(
        base, others, table, runs.steps, seeds=n, months=horizon_of(base, months),
        precision=crn).write(out, meta)
    return {"baseline": base.name, "seeds": n, "report": str(path),
            "differences": table.to_dict(orient="records"), "precision": crn,
            "achieved_relative_half_width": widest,
            "precision_reached": None if precision is None else bool(
                math.isfinite(widest) and widest <= precision),
            "meta": meta, "_run_ids": runs.run_ids}


def _precision_figures(runs: RunSet, base: str, others: Sequence[str],
                       precision: float | None) -> list[dict[str, Any]]:
    if precision is None:
        return []
    out = []
    for label in others:
        a = analysis.finals(runs.summary, base, HEADLINE)
        b = analysis.finals(runs.summary, label, HEADLINE)
        a, b = a.align(b, join="inner")
        d = (b - a).to_numpy()
        paired = analysis.seeds_needed(float(np.std(d, ddof=1)), float(d.mean()), precision,
                                       comparisons=len(others))
        indep_sd = math.sqrt(float(np.var(a, ddof=1) + np.var(b, ddof=1)))
        independent = analysis.seeds_needed(indep_sd, float(d.mean()), precision,
                                            comparisons=len(others))
        out.append({"scenario": label, "indicator": HEADLINE, "precision": precision,
                    "seeds_paired": paired, "seeds_independent": independent,
                    "ratio": independent / paired if paired > 0 else math.nan})
    return out


Announce = Callable[[str], None]


def under_uncertainty(plan: uncertainty.Plan, analyse: Callable[..., dict[str, Any]], *,
                      out: Path, workers: int | None, executor: Executor | None,
                      progress: Progress | None, dry_run: bool, announce: Announce | None
                      ) -> dict[str, Any]:
    """Announce how many runs a validated uncertainty plan makes, then (unless ``dry_run``,
    which writes nothing) run it through the one runner and analyse it."""
    started = time.perf_counter()
    if announce:
        announce(plan.describe())
    if dry_run:
        return {"command": plan.command, "scenarios": [sc.name for sc in plan.scenarios],
                "draws": plan.design.draws, "seeds": plan.seeds, "runs": plan.runs,
                "plan": plan.describe(), "dry_run": True}
    plan_runs(out, [s.run_id for s in plan.specs])
    runs = uncertainty.execute(plan, out=out, workers=workers, executor=executor,
                               progress=progress)
    return {**analyse(plan, runs, out=out, workers=workers, started=started),
            "_run_ids": runs.run_ids}



def channel_label(name: str, config: tuple[bool, ...]) -> str:
    return f"{name}[" + "".join("1" if c else "0" for c in config) + "]"


def _dividend_specs(scenarios: Sequence[Scenario], params: Any, *, seeds: int,
                    root_seed: int, horizon: int, attribution: bool
                    ) -> tuple[list[RunSpec], dict[tuple[bool, ...], str]]:
    """The runs of a dividend: the scenario, its siloed counterfactual, the channel
    configurations with ``attribution`` and the baseline (``scenarios[1]``, if any)."""
    sc = scenarios[0]
    specs = replications(sc.name, params, seeds, root_seed, horizon)
    specs += replications(f"{sc.name} (siloed)", params.replace(siloed=True), seeds, root_seed,
                          horizon)
    configs: dict[tuple[bool, ...], str] = {}
    if attribution:
        for config in analysis.configurations():
            label = channel_label(sc.name, config)
            configs[config] = label
            switches = {f"channel_{ch}": on for ch, on in zip(CHANNELS, config, strict=True)}
            specs += replications(label, params.replace(**switches), seeds, root_seed, horizon)
    if len(scenarios) > 1:
        specs += replications(scenarios[1].name, scenarios[1].parameters, seeds, root_seed,
                              horizon)
    return specs, configs


def dividend_runs(name: str, *, seeds: int, months: int | None, attribution: bool,
                  baseline: str | None = "baseline") -> tuple[int, str]:
    """(distinct runs, what they are) of ``dividend`` without uncertainty: the count the
    runner will make on an empty folder (a configuration equal to the scenario, all channels
    open, is one run). Validates the scenarios; runs nothing."""
    names = [name] + ([baseline] if baseline and baseline != name else [])
    scenarios = prepare(names, months)
    horizon = horizon_of(scenarios[0], months)
    specs, configs = _dividend_specs(scenarios, scenarios[0].parameters, seeds=seeds,
                                     root_seed=ROOT_SEED, horizon=horizon,
                                     attribution=attribution)
    distinct = len({s.run_id for s in specs})
    parts = ["the scenario", "siloed"] + ([f"{len(configs)} channel configurations"]
                                          if configs else []) \
        + ([f"baseline {scenarios[1].name}"] if len(scenarios) > 1 else [])
    return distinct, (f"{seeds} seeds x {distinct // seeds} configurations "
                      f"({', '.join(parts)}; the same run is made once), {horizon} months")


def dividend(name: str, *, seeds: int, workers: int | None, out: Path,
             root_seed: int = ROOT_SEED, months: int | None = None,
             attribution: bool = False, baseline: str | None = "baseline",
             progress: Progress | None = None,
             changes: dict[str, Any] | None = None,
             executor: Executor | None = None, draws: int | None = None,
             posterior: Path | None = None, dry_run: bool = False,
             announce: Announce | None = None) -> dict[str, Any]:
    """The ecological dividend of a scenario against its siloed counterfactual.

    ``changes`` are parameters set on top of the scenario's in every run of it (its siloed
    and channel variants included), as the dashboard's levers do; the baseline is left as is.
    With ``draws``, under parameter uncertainty instead (``under_uncertainty``; ``changes`` are
    fixed in every draw, ``baseline`` does not apply).
    """
    if draws is not None:
        return under_uncertainty(uncertainty.plan_dividend(
            name, draws=draws, seeds=seeds, root_seed=root_seed, months=months,
            attribution=attribution, posterior=posterior, changes=changes),
            uncertainty.dividend, out=out,
            workers=workers, executor=executor, progress=progress, dry_run=dry_run,
            announce=announce)
    started = time.perf_counter()
    names = [name] + ([baseline] if baseline and baseline != name else [])
    scenarios = prepare(names, months)
    sc = scenarios[0]
    horizon = horizon_of(sc, months)
    siloed_label = f"{sc.name} (siloed)"
    try:  # checked before anything runs or is written, like the scenario itself
        params = sc.parameters.replace(**(changes or {}))
    except ParameterError as err:
        raise ScenarioError(sc.path or sc.name, err.key or "parameters",
                            err.reason or str(err)) from None
    specs, configs = _dividend_specs(scenarios, params, seeds=seeds, root_seed=root_seed,
                                     horizon=horizon, attribution=attribution)
    plan_runs(out, [s.run_id for s in specs])
    runs = run_many(specs, workers=workers, executor=executor, out_dir=out,
                    progress=progress)
    runs.raise_failures()
    write_parquet(runs.summary, out / "summary.parquet")

    table = analysis.dividend_table(runs.summary, sc.name, siloed_label)
    synergy = {"S_scenario": float(analysis.finals(runs.summary, sc.name, "synergy_S").mean()),
               "S_siloed": float(analysis.finals(runs.summary, siloed_label, "synergy_S").mean())}
    s_diff = analysis.paired_interval(
        analysis.finals(runs.summary, sc.name, "synergy_S")
        - analysis.finals(runs.summary, siloed_label, "synergy_S"))
    synergy.update(change_vs_siloed=s_diff.mean, low=s_diff.low, high=s_diff.high)
    if len(scenarios) > 1:
        b = scenarios[1].name
        s_base = analysis.paired_interval(
            analysis.finals(runs.summary, sc.name, "synergy_S")
            - analysis.finals(runs.summary, b, "synergy_S"))
        synergy.update(baseline=b, change_vs_baseline=s_base.mean, baseline_low=s_base.low,
                       baseline_high=s_base.high)
    result: dict[str, Any] = {"scenario": sc.name, "seeds": seeds,
                              "dividend": table.to_dict(orient="records"), "synergy": synergy}
    shares, total = None, None
    if attribution:
        shares = analysis.shapley_table(runs.summary, configs, HEADLINE)
        all_open = analysis.finals(runs.summary, configs[(True,) * len(CHANNELS)], HEADLINE)
        none_open = analysis.finals(runs.summary, configs[(False,) * len(CHANNELS)], HEADLINE)
        total = float((all_open - none_open).mean())
        result["shapley"] = shares.to_dict(orient="records")
        result["shapley_total"] = total
    meta = report.run_meta("dividend", seeds, workers, started, kinds=runs.kinds, scenario=sc.name,
                           root_seed=root_seed, attribution=attribution)
    path = scenario_reports.dividend_report(
        sc, siloed_label, table, synergy, runs.steps, seeds=seeds, months=horizon,
        shapley=shares, shapley_total=total).write(out, meta)
    result.update(report=str(path), meta=meta, _run_ids=runs.run_ids)
    return result
