"""Calibration of the default region to the targets of the ODD (``helixsim calibrate``).

Method: simulated method of moments (McFadden 1989; Gourieroux & Monfort 1996).

- **Moments.** The statistics of ``experiments.validation`` (firm-size tail exponent, growth
  volatility scaling, survival at 1 and 5 years, CIS co-operation share, graduate retention,
  innovation value concentration, collaboration degree skewness and CV), computed on the pooled
  data of ``seeds`` replications of the default region.
- **Objective.** the ODD gives ranges, not point estimates with standard errors, so the weight
  of each moment is its target's tolerance: a two-sided target contributes
  ((m - centre) / half-width)^2, at most 1 inside its range and more outside, so the fit aims at
  the middle of every range and keeps a margin for seed noise; a one-sided target (> low)
  contributes (max(0, low - m) / scale)^2, zero when met. A moment that cannot be estimated
  costs ``MISSING_PENALTY``.
- **Common random numbers.** Every evaluation uses the same seeds, so the objective is a
  deterministic function of the parameters and a direct-search optimiser can compare points
  without seed noise (the surface is still rough at the scale of single firms' events).
- **Optimiser.** Nelder-Mead (``scipy.optimize.minimize``) in the unit cube of the free
  parameters' bounds (log scale for rates spanning decades), started from the current defaults,
  stopped after ``budget`` evaluations. The seeds of one evaluation run in parallel through the
  batch runner on one executor kept for the whole fit (process pool or Dask cluster).
- **Resume.** Every evaluation is appended to ``evaluations.parquet`` in the output folder,
  keyed by the parameter values; a rerun with the same model, seeds and free parameters replays
  the same deterministic path from that cache and continues where it stopped.
- **Result.** The best point is written to ``simulation/calibration.toml`` with its provenance;
  the parameter table reads its defaults from there. Check it out of sample with
  ``helixsim validate`` (other seeds).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .executors import default_workers, executor_for
from .report import Section, environment_meta, new_figure, style_axes, write_report
from .runner import model_version
from .seeding import CALIBRATION_SEED
from .storage import atomic_write, json_text, write_json, write_parquet
from .validation import (
    DEFAULT_HORIZON,
    STATISTICS,
    TARGETS,
    Target,
    distance,
    estimate_or_reason,
    format_value,
    run_seeds,
)

DEFAULT_SEEDS = 4
DEFAULT_BUDGET = 80
MISSING_PENALTY = 100.0
INITIAL_STEP = 0.15  # initial simplex edge, as a share of each parameter's search interval

Moments = dict[str, float]
Evaluate = Callable[[dict[str, float]], Moments]
Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the calibration fits: its search bounds and the targets that inform it."""

    name: str
    low: float
    high: float
    log: bool
    informs: tuple[str, ...]
    why: str

    def to_unit(self, value: float) -> float:
        lo, hi, v = self._scale(self.low), self._scale(self.high), self._scale(value)
        return float(np.clip((v - lo) / (hi - lo), 0.0, 1.0))

    def from_unit(self, x: float) -> float:
        lo, hi = self._scale(self.low), self._scale(self.high)
        v = lo + float(np.clip(x, 0.0, 1.0)) * (hi - lo)
        return float(math.exp(v) if self.log else v)

    def _scale(self, v: float) -> float:
        return math.log(v) if self.log else float(v)


FREE: tuple[FreeParameter, ...] = (
    # Lower bound 1e-4: measured on the CIS population (10+ employees), co-operation needs
    # a rate below 5e-4 once the absorptive stock and size elasticity favour large firms.
    FreeParameter("search_rate", 0.0001, 0.05, True, ("cis_cooperation", "degree_cv"),
                  "sets how many firms ever work with a university"),
    FreeParameter("search_size_elasticity", 0.0, 1.5, False,
                  ("cis_cooperation", "degree_cv", "degree_skewness"),
                  "concentrates collaboration on large firms (CIS: co-operation rises with size)"),
    FreeParameter("experience_search_boost", 0.0, 5.0, False, ("degree_cv", "degree_skewness"),
                  "cumulative advantage: experienced collaborators search again"),
    FreeParameter("exit_hazard_young", 0.005, 0.04, False, ("survival_1y", "survival_5y"),
                  "first-year exits"),
    FreeParameter("exit_hazard_mid", 0.003, 0.03, False, ("survival_5y",),
                  "exits in years 2-5"),
    FreeParameter("leave_with_offer", 0.02, 0.4, False, ("graduate_retention",),
                  "graduates who leave despite a local offer"),
)


def term(target: Target, value: float) -> float:
    """One target's contribution to the objective (see the module docstring)."""
    if not math.isfinite(value):
        return MISSING_PENALTY
    if math.isfinite(target.high):
        half = (target.high - target.low) / 2.0
        return ((value - (target.low + half)) / half) ** 2
    scale = abs(target.low) if target.low else 1.0
    return (max(0.0, target.low - value) / scale) ** 2


def objective(moments: Mapping[str, float], targets: Sequence[Target] = TARGETS) -> float:
    """The SMM objective: the sum of ``term`` over the targets."""
    return float(sum(term(t, moments.get(t.key, math.nan)) for t in targets))


def moments_of(data: Sequence[Any]) -> Moments:
    """Point estimates of every validation statistic on pooled seed data (NaN if none)."""
    return {key: estimate_or_reason(stat, data)[0] for key, stat in STATISTICS.items()}


def simulated_moments(params: dict[str, float], *, seeds: int, root_seed: int, horizon: int,
                      executor: Executor | None, workers: int | None,
                      base: Mapping[str, Any] | None = None) -> Moments:
    """Moments of the default region with ``params`` over replications 0..seeds-1."""
    data = run_seeds(seeds, root_seed=root_seed, overrides={**(base or {}), **params},
                     horizon=horizon, workers=workers, executor=executor)
    return moments_of(data)


def _key(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(f"{v:.12g}") for v in values)


@dataclass
class CalibrationResult:
    """The fit: best parameters, objective values, the moments there and every evaluation."""

    free: tuple[FreeParameter, ...]
    start: dict[str, float]
    best: dict[str, float]
    start_objective: float
    best_objective: float
    start_moments: Moments
    best_moments: Moments
    history: pd.DataFrame
    evaluations: int
    reused: int
    elapsed: float
    message: str


def fit(evaluate: Evaluate, free: Sequence[FreeParameter], start: Mapping[str, float], *,
        budget: int = DEFAULT_BUDGET, cache: pd.DataFrame | None = None,
        on_evaluation: Callable[[pd.DataFrame], None] | None = None,
        progress: Progress | None = None) -> CalibrationResult:
    """Minimise ``objective(evaluate(params))`` over ``free`` by Nelder-Mead.

    ``evaluate`` maps a dict of the free parameters to moments; ``cache`` holds earlier
    evaluations (columns: the parameter names, ``objective`` and the moments), reused when the
    same point comes again; ``on_evaluation`` receives the history after each new evaluation
    (to persist it). ``budget`` counts evaluations, reused ones included.
    """
    from scipy.optimize import minimize

    if budget < 1:
        raise ValueError("budget must be at least 1 evaluation")
    free = tuple(free)
    names = [p.name for p in free]
    stats = list(STATISTICS)
    rows: list[dict[str, float]] = []
    known: dict[tuple[float, ...], dict[str, float]] = {}
    if cache is not None and not cache.empty:
        for rec in cache.to_dict("records"):
            known[_key([rec[n] for n in names])] = rec
    reused = 0
    started = time.perf_counter()

    def point(x: np.ndarray) -> dict[str, float]:
        return {p.name: p.from_unit(xi) for p, xi in zip(free, x, strict=True)}

    def f(x: np.ndarray) -> float:
        nonlocal reused
        params = point(x)
        key = _key(params.values())
        rec = known.get(key)
        if rec is None:
            t0 = time.perf_counter()
            m = evaluate(params)
            rec = {**params, "objective": objective(m), **{s: m.get(s, math.nan) for s in stats},
                   "seconds": time.perf_counter() - t0}
            known[key] = rec
            rows.append({"evaluation": len(rows), **rec, "reused": False})
            if on_evaluation:
                on_evaluation(pd.DataFrame(rows))
        else:
            reused += 1
            rows.append({"evaluation": len(rows), **rec, "reused": True})
        if progress:
            progress(len(rows), budget, min(r["objective"] for r in rows))
        return float(rec["objective"])

    x0 = np.array([p.to_unit(start[p.name]) for p in free])
    simplex = [x0]
    for i in range(len(free)):
        v = x0.copy()
        # Step into the cube: away from a bound the start sits on.
        v[i] = x0[i] + INITIAL_STEP if x0[i] + INITIAL_STEP <= 1.0 else x0[i] - INITIAL_STEP
        simplex.append(v)
    res = minimize(f, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(free),
                   options={"maxfev": budget, "initial_simplex": np.array(simplex),
                            "xatol": 1e-3, "fatol": 1e-3})
    history = pd.DataFrame(rows)
    first = history.iloc[0]
    best_row = history.loc[history["objective"].idxmin()]
    return CalibrationResult(
        free=free, start={n: float(first[n]) for n in names},
        best={n: float(best_row[n]) for n in names},
        start_objective=float(first["objective"]), best_objective=float(best_row["objective"]),
        start_moments={s: float(first[s]) for s in stats},
        best_moments={s: float(best_row[s]) for s in stats},
        history=history, evaluations=int((~history["reused"]).sum()), reused=reused,
        elapsed=time.perf_counter() - started, message=str(res.message))


# --- reporting ---------------------------------------------------------------------------------

def target_table(result: CalibrationResult) -> pd.DataFrame:
    """Each target with its range and the moment before and after calibration."""
    rows = []
    for t in TARGETS:
        before, after = result.start_moments[t.key], result.best_moments[t.key]
        rows.append({"Target": t.fact, "Range": t.target, "Before": format_value(t, before),
                     "After": format_value(t, after),
                     "Met after": "yes" if _met(t, after) else "no",
                     "Objective term": round(term(t, after), 4)})
    return pd.DataFrame(rows)


def _met(target: Target, value: float) -> bool:
    return distance(target, value) == 0.0


def parameter_table(result: CalibrationResult) -> pd.DataFrame:
    return pd.DataFrame([{"Parameter": p.name, "Bounds": f"[{p.low:g}, {p.high:g}]"
                          + (" (log)" if p.log else ""),
                          "Before": f"{result.start[p.name]:.4g}",
                          "After": f"{result.best[p.name]:.4g}",
                          "Informs": ", ".join(p.informs), "Why free": p.why}
                         for p in result.free])


def convergencenew_figure(history: pd.DataFrame) -> Figure:
    fig = new_figure(6.4, 3.4)
    ax = fig.axes[0]
    ax.plot(history["evaluation"], history["objective"], ".", color="0.6", label="evaluation")
    ax.plot(history["evaluation"], history["objective"].cummin(), color="C0", label="best so far")
    ax.set_yscale("log")
    style_axes(ax, "Evaluation", "SMM objective", "Calibration: objective by evaluation")
    return fig


# --- the command -------------------------------------------------------------------------------

def calibrate(*, seeds: int = DEFAULT_SEEDS, budget: int = DEFAULT_BUDGET,
              root_seed: int = CALIBRATION_SEED, horizon: int = DEFAULT_HORIZON,
              workers: int | None = None, scheduler: str | None = None, out: Path,
              write_to: Path | None = None, free: Sequence[FreeParameter] = FREE,
              base: Mapping[str, Any] | None = None, progress: Progress | None = None
              ) -> dict[str, Any]:
    """Fit ``free`` to the targets; write the report, the evaluations and (unless
    ``write_to`` is None) the calibration file. Returns a JSON-ready summary."""
    from simulation import calibrated
    from simulation.parameters import DEFAULTS, resolve

    if seeds < 1:
        raise ValueError("calibration needs at least 1 seed")
    free = tuple(free)
    resolve({**(base or {}), "horizon_months": horizon})  # bad input raises before any run
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    setup = {"model_version": model_version(), "seeds": seeds, "root_seed": root_seed,
             "horizon_months": horizon, "free": [p.name for p in free],
             "bounds": [[p.low, p.high] for p in free], "base": dict(base or {})}
    history_path, setup_path = out / "evaluations.parquet", out / "calibration_setup.json"
    cache = None
    # Earlier evaluations count only for the same model, seeds and free parameters.
    same = setup_path.exists() and (json.loads(setup_path.read_text())
                                    == json.loads(json_text(setup)))  # as write_json writes
    if same and history_path.exists():
        cache = pd.read_parquet(history_path)
    write_json(setup, setup_path)
    start = {p.name: float(DEFAULTS[p.name]) for p in free}
    n_workers = default_workers() if workers is None else max(1, int(workers))

    # One executor for every evaluation: a local pool needs no more workers than seeds.
    # The monthly indicators of the best point's runs, for the per-year tables of the fit
    # (export.finish); kept for the best evaluation so far only, so memory stays flat.
    best: dict[str, Any] = {"objective": math.inf, "steps": None}
    kinds: list[str | None] = []  # the machine kinds of this call's runs (a scheduler's too)
    with executor_for(scheduler, workers if scheduler else min(n_workers, seeds)) as pool:
        def evaluate(params: dict[str, float]) -> Moments:
            data = run_seeds(seeds, root_seed=root_seed, overrides={**(base or {}), **params},
                             horizon=horizon, workers=1, executor=pool, kinds=kinds)
            moments = moments_of(data)
            value = objective(moments)
            if value < best["objective"]:
                frames = [d.extra["steps"].assign(label="best fit", replication=d.replication)
                          for d in data if "steps" in d.extra]
                best.update(objective=value,
                            steps=pd.concat(frames, ignore_index=True) if frames else None)
            return moments
        result = fit(evaluate, free, start, budget=budget, cache=cache,
                     on_evaluation=lambda h: write_parquet(h, history_path),
                     progress=progress)
    write_parquet(result.history, history_path)
    kinds.extend([None] * (result.reused * seeds))  # replayed: their kinds were not kept

    date = dt.date.today().isoformat()
    provenance = {
        "method": "simulated method of moments: Nelder-Mead (scipy.optimize.minimize) in the "
                  "unit cube of the bounds, common random numbers; objective in "
                  "experiments/calibration.py",
        "date": date, "objective": round(result.best_objective, 6),
        "objective_before": round(result.start_objective, 6),
        "targets": [t.key for t in TARGETS], "seeds": seeds, "root_seed": root_seed,
        "horizon_months": horizon, "evaluations": len(result.history),
        "model_version": model_version(),
        "command": f"helixsim calibrate --seeds {seeds} --budget {budget} --seed {root_seed}",
    }
    calibration = calibrated.Calibration(
        values={p.name: result.best[p.name] for p in free},
        bounds={p.name: (p.low, p.high) for p in free},
        previous={p.name: _previous(p.name) for p in free},
        provenance=provenance)
    written = write_calibration(calibration, write_to) if write_to is not None else None
    write_calibration(calibration, out / "calibration.toml")

    targets, parameters = target_table(result), parameter_table(result)
    text = (f"Simulated method of moments over {seeds} seeds (root seed {root_seed}), "
            f"{len(result.history)} evaluations ({result.reused} replayed from the cache; "
            f"{result.history['seconds'].sum():.0f} s of evaluation time in all). "
            f"Objective {result.start_objective:.3g} at the defaults, "
            f"{result.best_objective:.3g} at the best point. "
            f"Optimiser: {result.message.rstrip('.')}. "
            + (f"Written to `{written}`." if written else "Not written to the parameter table "
               "(--no-write).") + " Check out of sample with `helixsim validate`.")
    meta = {"command": "helixsim calibrate", "seeds": seeds, "root_seed": root_seed,
            "budget": budget, "horizon_months": horizon, "elapsed_s": round(result.elapsed, 1),
            "model_version": model_version(), **environment_meta(kinds or None)}
    report = write_report(out, "Calibration of the default region", [
        Section("Result", text, tables=[("Targets", targets), ("Free parameters", parameters)],
                figures=[("convergence", "Objective by evaluation (log scale).",
                          convergencenew_figure(result.history))]),
    ], meta)
    return {"objective_before": result.start_objective, "objective": result.best_objective,
            "start": result.start, "best": result.best,
            "moments_before": result.start_moments, "moments": result.best_moments,
            "all_met_in_sample": all(_met(t, result.best_moments[t.key]) for t in TARGETS),
            "evaluations": len(result.history), "reused": result.reused,
            "written": str(written) if written else None, "report": str(report),
            "out": str(out), "elapsed_s": round(result.elapsed, 1), "message": result.message,
            # the best point's runs, when this call simulated it (not replayed from the cache)
            **({"_steps": best["steps"]} if best["steps"] is not None
               and best["objective"] == result.best_objective else {})}


def write_calibration(calibration: Any, path: Path) -> Path:
    """Write a ``simulation.calibrated.Calibration`` to ``path`` as TOML, atomically."""
    from simulation import calibrated

    return atomic_write(path, calibrated.dumps(calibration))


def _previous(name: str) -> float:
    """The default before any calibration: the calibration file's ``previous`` if it has one,
    else the current default."""
    from simulation.parameters import CALIBRATION, DEFAULTS

    return float(CALIBRATION.previous.get(name, DEFAULTS[name]))
