"""Bayesian calibration of the free parameters (``helixsim posterior``): what the targets pin
down and what they leave open.

Method: history matching with Gaussian-process emulators (Craig et al. 1997; Vernon et al.
2010; for agent-based models McCulloch et al., JASSS 2022), then emulator-based approximate
Bayesian computation (Wilkinson 2014) for the weighted posterior sample.

- **Prior.** Each free parameter of ``experiments.calibration.FREE`` is uniform on its bounds,
  log-uniform where the calibration searches on a log scale; all work is done in the unit cube
  of those scales.
- **Simulations.** A simulation is one parameter point run on ``seeds`` replications (common
  random numbers: replications 0..seeds-1 of one root seed at every point), observed by the
  validation task and reduced to the target statistics on the pooled replications, as the
  point calibration and ``helixsim validate`` compute them. All simulations of a batch go
  through the one batch runner on one executor kept for the whole calibration (process pool
  or Dask).
- **Waves.** Wave 1 is a Latin hypercube over the prior (``scipy.stats.qmc``). After each wave
  one Gaussian process per target (scikit-learn; Matérn 5/2 with one length scale per
  parameter plus a white-noise term that absorbs seed noise) is fitted to every simulation so
  far. The implausibility of a point for a target is how far the emulated statistic lies
  outside the target's range, in emulator standard deviations; a point is *not ruled out yet*
  (NROY) when no target's implausibility exceeds ``CUTOFF`` = 3 (Pukelsheim's three-sigma
  rule). The next wave's design is drawn from the NROY part of a large prior sample, so the
  simulations concentrate where the targets can be met.
- **Posterior.** The ABC posterior with the targets' ranges as acceptance region (a uniform
  kernel of the empirical tolerances): p(θ | targets) ∝ p(θ) · P(every statistic in its range
  | θ). The probability comes from the final emulators, one Gaussian predictive per target,
  taken as independent: the product over targets of Φ((high − μ)/σ) − Φ((low − μ)/σ). A large
  prior sample weighted by it is the weighted posterior sample, written to
  ``posterior.parquet`` (one column per parameter plus ``weight``, summing to 1).
- **Checks.** Per parameter the prior and posterior 90% intervals and their width ratio in the
  unit scale (near 1: the targets say nothing about the parameter; small: they pin it down),
  the posterior correlations, the emulator's out-of-sample errors on the last wave, and a
  posterior predictive check: ``check`` draws from the posterior simulated again, each
  target's predicted distribution against its range.
- **Resume.** Every simulation is appended to ``simulations.parquet`` in the output folder,
  keyed by its point; the designs are deterministic functions of the seed and of the
  simulations before them, so a rerun with the same setup replays the same path from the cache
  and runs only what is missing, giving the same posterior.

Reading it (Carrella 2021; McCulloch et al. 2022): a parameter whose posterior is as wide as
its prior is not identified by these targets, whatever value a point fit reports for it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from .calibration import FREE, FreeParameter, Moments, moments_of
from .executors import executor_for
from .report import Section, environment_meta, new_figure, style_axes, write_report
from .runner import MODEL_VERSION, RunSpec, Task, run_many
from .seeding import AUXILIARY_STREAM, CALIBRATION_SEED
from .storage import json_text, write_json, write_parquet
from .validation import DEFAULT_HORIZON, TARGETS, Target, format_value

DEFAULT_BUDGET = 150     # simulations (parameter points), predictive check not included
DEFAULT_SEEDS = 2        # replications per simulation
DEFAULT_WAVES = 3
DEFAULT_CHECK = 20       # posterior draws simulated again for the predictive check
CUTOFF = 3.0             # implausibility above which a point is ruled out
CANDIDATES = 50_000      # prior sample for the NROY space and the posterior
MIN_WAVE = 4             # fewest simulations in a wave
POSTERIOR_FILE = "posterior.parquet"
SIMULATIONS_FILE = "simulations.parquet"
SETUP_FILE = "posterior_setup.json"
PREDICTIVE_FILE = "predictive.parquet"
# Width ratios below IDENTIFIED: pinned down; above WEAK: the targets say (almost) nothing.
IDENTIFIED, WEAK = 0.5, 0.8

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """A calibration problem: free parameters (their bounds are the prior), targets, and the
    simulator: ``task`` runs one replication (a module-level function of a ``RunSpec``, as the
    batch runner needs) and ``aggregate`` turns a point's replications into statistics."""

    free: tuple[FreeParameter, ...]
    targets: tuple[Target, ...]
    task: Task
    aggregate: Callable[[Sequence[Any]], Moments]
    horizon: int
    base: dict[str, Any] = field(default_factory=dict)
    label: str = "posterior"
    of_model: bool = True  # the free parameters are the model's (checked, defaults shown)


def region_problem(horizon: int = DEFAULT_HORIZON, base: Mapping[str, Any] | None = None,
                   free: Sequence[FreeParameter] = FREE) -> Problem:
    """The default region's calibration: the free parameters of the point calibration and the
    validation targets with their ranges."""
    from .validation import observe

    return Problem(free=tuple(free), targets=TARGETS, task=observe, aggregate=moments_of,
                   horizon=int(horizon), base=dict(base or {}), label="posterior")


# --- a cheap stand-in model with a known answer (for checks) ----------------------------------

TOY_TRUTH = {"a": 0.3, "b": 0.6, "c": 0.5}
TOY_NOISE = 0.02


def toy_observe(spec: RunSpec) -> dict[str, float]:
    """A stand-in for the model: a + b and a − b identify a and b, a > low is one-sided and
    c changes nothing; each replication adds its own seed noise."""
    rng = np.random.default_rng(spec.seed())
    a, b = float(spec.parameters["a"]), float(spec.parameters["b"])
    noise = rng.normal(0.0, TOY_NOISE, 3)
    return {"sum": a + b + noise[0], "diff": a - b + noise[1], "a_level": a + noise[2]}


def mean_of(observations: Sequence[Mapping[str, float]]) -> Moments:
    """Statistics of the stand-in: the mean over replications."""
    keys = observations[0].keys() if observations else ()
    return {k: float(np.mean([o[k] for o in observations])) for k in keys}


def toy_problem(half_width: float = 0.05) -> Problem:
    """The stand-in's calibration problem: ranges centred on the statistics at ``TOY_TRUTH``."""
    a, b = TOY_TRUTH["a"], TOY_TRUTH["b"]
    free = tuple(FreeParameter(n, 0.0, 1.0, False, (), "stand-in") for n in "abc")
    targets = (
        Target("sum", "a + b", "", a + b - half_width, a + b + half_width, "synthetic"),
        Target("diff", "a − b", "", a - b - half_width, a - b + half_width, "synthetic"),
        Target("a_level", "a above 0.2", "> 0.2", 0.2, math.inf, "synthetic"),
    )
    return Problem(free=free, targets=targets, task=toy_observe, aggregate=mean_of,
                   horizon=1, label="toy", of_model=False)


# --- simulation ---------------------------------------------------------------------------------

def point_of(free: Sequence[FreeParameter], u: Sequence[float]) -> dict[str, float]:
    """The parameter values of unit-cube coordinates ``u``."""
    return {p.name: p.from_unit(x) for p, x in zip(free, u, strict=True)}


def simulate(problem: Problem, units: np.ndarray, *, seeds: int, root_seed: int,
             executor: Executor, progress: Callable[[int], None] | None = None,
             keep_steps: list[pd.DataFrame] | None = None,
             kinds: list[str | None] | None = None) -> list[Moments]:
    """The statistics of every point (rows of ``units``) over ``seeds`` replications, in the
    order of the points; a point with a failed replication gets NaN statistics. With
    ``keep_steps`` the runs' monthly indicators (the model's observations carry them) are
    appended to it, labelled by point, for the per-year tables (export.finish); the runs'
    machine kinds are appended to ``kinds`` when given."""
    points = [point_of(problem.free, u) for u in units]
    specs = [RunSpec(problem.label, {**problem.base, **p}, j, root_seed, problem.horizon)
             for p in points for j in range(seeds)]
    runs = run_many(specs, task=problem.task, executor=executor,
                    progress=(lambda done, _total: progress(done)) if progress else None)
    if kinds is not None:
        kinds.extend(runs.kinds)
    out = []
    for i in range(len(points)):
        block = specs[i * seeds:(i + 1) * seeds]
        if keep_steps is not None:
            for s in block:
                extra = getattr(runs.results.get(s.run_id), "extra", None)
                if isinstance(extra, dict) and "steps" in extra:
                    keep_steps.append(extra["steps"].assign(label=f"posterior draw {i + 1}",
                                                            replication=s.replication))
        if all(s.run_id in runs.results for s in block):
            m = problem.aggregate([runs.results[s.run_id] for s in block])
        else:
            m = {}
        out.append({t.key: float(m.get(t.key, math.nan)) for t in problem.targets})
    return out


# --- emulators ----------------------------------------------------------------------------------

@dataclass
class Emulators:
    """One Gaussian process per target, fitted on the unit-cube points; a target with too few
    finite statistics has none (it then constrains nothing, and the report says so)."""

    targets: tuple[Target, ...]
    models: dict[str, Any]

    def predict(self, units: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Mean and standard deviation of each emulated statistic at ``units``."""
        out = {}
        for key, gp in self.models.items():
            # Small matrices: more BLAS threads only contend with the workers (and on a busy
            # machine with everything else): GP fits measured 5x slower.
            with threadpool_limits(1):
                mu, sd = gp.predict(units, return_std=True)
            out[key] = (np.asarray(mu, float), np.maximum(np.asarray(sd, float), 1e-12))
        return out

    def implausibility(self, units: np.ndarray) -> np.ndarray:
        """(points, targets with an emulator): distance outside each range in emulator sds."""
        pred = self.predict(units)
        cols = []
        for t in self.targets:
            if t.key in pred:
                mu, sd = pred[t.key]
                cols.append(np.maximum.reduce([t.low - mu, mu - t.high, np.zeros_like(mu)]) / sd)
        return np.column_stack(cols) if cols else np.zeros((len(units), 0))

    def log_probability(self, units: np.ndarray) -> np.ndarray:
        """log P(every emulated statistic in its range) at ``units`` (targets independent)."""
        from scipy.stats import norm

        total = np.zeros(len(units))
        pred = self.predict(units)
        for t in self.targets:
            if t.key not in pred:
                continue
            mu, sd = pred[t.key]
            lo, hi = (t.low - mu) / sd, (t.high - mu) / sd
            total += _log_interval(lo, hi, norm)
        return total


def _log_interval(lo: np.ndarray, hi: np.ndarray, norm: Any) -> np.ndarray:
    """log(Φ(hi) − Φ(lo)) without underflow far in either tail."""
    out = np.empty_like(lo)
    right, left = lo > 0, hi < 0
    mid = ~(right | left)
    with np.errstate(divide="ignore"):
        a, b = norm.logsf(lo[right]), norm.logsf(hi[right])
        out[right] = a + np.log1p(-np.exp(np.minimum(b - a, 0.0)))
        a, b = norm.logcdf(hi[left]), norm.logcdf(lo[left])
        out[left] = a + np.log1p(-np.exp(np.minimum(b - a, 0.0)))
        out[mid] = np.log(np.maximum(norm.cdf(hi[mid]) - norm.cdf(lo[mid]), 1e-300))
    return np.maximum(out, -1e6)


def fit_emulators(units: np.ndarray, stats: pd.DataFrame, targets: Sequence[Target],
                  seed: int) -> Emulators:
    """Fit the emulators (deterministic for a given ``seed``)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    d = units.shape[1]
    models = {}
    for t in targets:
        y = stats[t.key].to_numpy(float)
        ok = np.isfinite(y)
        if ok.sum() < max(5, d + 2):
            continue
        kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                  * Matern(length_scale=np.full(d, 0.5), length_scale_bounds=(0.05, 20.0),
                           nu=2.5)
                  + WhiteKernel(0.1, (1e-6, 1.0)))
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=2,
                                      random_state=seed)
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings(), threadpool_limits(1):
            # A length scale at its bound means the statistic hardly depends on the parameter:
            # that is a result (read in the report), not a failure.
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(units[ok], y[ok])
        models[t.key] = gp
    return Emulators(tuple(targets), models)


# --- the calibration ----------------------------------------------------------------------------

def wave_sizes(budget: int, waves: int) -> list[int]:
    """Simulations per wave: half the budget on the prior, the rest split over later waves."""
    if waves == 1:
        return [budget]
    first = max(MIN_WAVE, budget // 2)
    rest = budget - first
    sizes = [first] + [rest // (waves - 1) + (1 if i < rest % (waves - 1) else 0)
                       for i in range(waves - 1)]
    return [s for s in sizes if s > 0]


def _rng(root_seed: int, stream: int) -> np.random.Generator:
    # Design and posterior draws use streams no replication uses.
    return np.random.default_rng(np.random.SeedSequence(root_seed,
                                                        spawn_key=(AUXILIARY_STREAM, stream)))


def _key(u: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(f"{x:.12g}") for x in u)


@dataclass
class HistoryMatch:
    """Every simulation (``table``: wave, unit coordinates ``u_<name>``, values, statistics),
    the waves' NROY shares and the final emulators."""

    problem: Problem
    table: pd.DataFrame
    waves: list[dict[str, Any]]
    emulators: Emulators
    validation: pd.DataFrame
    simulated: int
    reused: int


def history_match(problem: Problem, *, budget: int, waves: int, seeds: int, root_seed: int,
                  executor: Executor, cache: pd.DataFrame | None = None,
                  on_batch: Callable[[pd.DataFrame], None] | None = None,
                  progress: Callable[[int], None] | None = None, batch: int = 8,
                  kinds: list[str | None] | None = None) -> HistoryMatch:
    """Run the waves (see the module docstring). ``cache`` holds earlier simulations (as
    ``table``), reused for the same points; ``on_batch`` receives the table after each batch
    of new simulations (to persist it); ``progress(runs done)`` counts replications; the
    machine kinds of the new simulations' runs are appended to ``kinds`` when given."""
    from scipy.stats import qmc

    free, d = problem.free, len(problem.free)
    ucols = [f"u_{p.name}" for p in free]
    known: dict[tuple[float, ...], dict[str, Any]] = {}
    if cache is not None and not cache.empty:
        for rec in cache.to_dict("records"):
            known[_key([rec[c] for c in ucols])] = rec
    rows: list[dict[str, Any]] = []
    reused = simulated = 0
    wave_info: list[dict[str, Any]] = []
    emulators: Emulators | None = None
    validation = pd.DataFrame()

    def frame() -> pd.DataFrame:
        return pd.DataFrame(rows)

    for w, n in enumerate(wave_sizes(budget, waves), start=1):
        rng = _rng(root_seed, w)
        if emulators is None:
            design = qmc.LatinHypercube(d=d, seed=rng).random(n)
            nroy_share = 1.0
        else:
            cand = rng.random((CANDIDATES, d))
            imp = emulators.implausibility(cand).max(axis=1, initial=0.0)
            inside = np.flatnonzero(imp <= CUTOFF)
            nroy_share = len(inside) / CANDIDATES
            if len(inside) >= n:
                design = cand[rng.choice(inside, size=n, replace=False)]
            else:  # a small NROY space: its points and the least implausible others
                design = cand[np.argsort(imp, kind="stable")[:n]]
        wave_info.append({"wave": w, "simulations": n, "nroy_share_before": nroy_share})
        new_rows: list[dict[str, Any]] = []
        todo = []
        for i, u in enumerate(design):
            rec = known.get(_key(u))
            if rec is None:
                todo.append(i)
            else:
                reused += 1
                new_rows.append({**rec, "wave": w, "index": i})
        # New points in batches: each batch is persisted before the next starts.
        for start in range(0, len(todo), batch):
            idx = todo[start:start + batch]
            t0 = time.perf_counter()
            base = (simulated + reused) * seeds  # replayed points count as done
            stats = simulate(problem, design[idx], seeds=seeds, root_seed=root_seed,
                             executor=executor, kinds=kinds,
                             progress=(lambda k, b=base: progress(b + k)) if progress else None)
            seconds = (time.perf_counter() - t0) / len(idx)
            for i, m in zip(idx, stats, strict=True):
                u = design[i]
                rec = {"wave": w, "index": i, **dict(zip(ucols, map(float, u), strict=True)),
                       **point_of(free, u), **m, "seconds": seconds}
                known[_key(u)] = rec
                new_rows.append(rec)
            simulated += len(idx)
            if on_batch:
                on_batch(pd.DataFrame(rows + sorted(new_rows, key=lambda r: r["index"])))
        new_rows.sort(key=lambda r: r["index"])
        if emulators is not None:
            validation = _emulator_errors(emulators, pd.DataFrame(new_rows), ucols, w)
        rows.extend(new_rows)
        table = frame()
        emulators = fit_emulators(table[ucols].to_numpy(float), table, problem.targets,
                                  seed=root_seed % (2**32))
    assert emulators is not None
    return HistoryMatch(problem, frame(), wave_info, emulators, validation, simulated, reused)


def _emulator_errors(emulators: Emulators, new: pd.DataFrame, ucols: list[str], wave: int
                     ) -> pd.DataFrame:
    """How well the emulators of the waves before predicted wave ``wave``'s simulations."""
    pred = emulators.predict(new[ucols].to_numpy(float))
    rows = []
    for t in emulators.targets:
        if t.key not in pred:
            continue
        y = new[t.key].to_numpy(float)
        ok = np.isfinite(y)
        mu, sd = pred[t.key]
        z = (y[ok] - mu[ok]) / sd[ok]
        rows.append({"target": t.key, "wave": wave, "points": int(ok.sum()),
                     "within_3_sd": float(np.mean(np.abs(z) <= 3)) if ok.any() else math.nan,
                     "rmse": float(np.sqrt(np.mean((y[ok] - mu[ok]) ** 2))) if ok.any()
                     else math.nan})
    return pd.DataFrame(rows)


@dataclass
class Posterior:
    """The weighted posterior sample in unit coordinates and values, and its summaries."""

    free: tuple[FreeParameter, ...]
    units: np.ndarray
    weight: np.ndarray
    best_probability: float    # max over the prior sample of P(every target in range)

    @property
    def values(self) -> pd.DataFrame:
        return pd.DataFrame({p.name: [p.from_unit(x) for x in self.units[:, i]]
                             for i, p in enumerate(self.free)})

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the weights."""
        return float(1.0 / np.sum(self.weight ** 2))

    def frame(self) -> pd.DataFrame:
        """The format of ``posterior.parquet``: one column per parameter plus ``weight``."""
        return self.values.assign(weight=self.weight)

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` unit-cube points resampled by weight (systematic resampling)."""
        cum = np.cumsum(self.weight)
        cum[-1] = 1.0
        positions = (rng.random() + np.arange(n)) / n
        return self.units[np.searchsorted(cum, positions)]


def posterior_of(emulators: Emulators, free: Sequence[FreeParameter], root_seed: int,
                 candidates: int = CANDIDATES) -> Posterior:
    """Weight a prior sample by the emulated probability that every target is met; keep the
    points carrying all but 1e-9 of the weight."""
    u = _rng(root_seed, 0).random((candidates, len(free)))
    logp = emulators.log_probability(u)
    best = float(np.exp(logp.max()))
    w = np.exp(logp - logp.max())
    order = np.argsort(-w, kind="stable")
    keep = order[np.cumsum(w[order]) <= (1 - 1e-9) * w.sum() + w[order[0]]]
    keep.sort()
    weight = w[keep] / w[keep].sum()
    return Posterior(tuple(free), u[keep], weight, best)


# --- summaries ----------------------------------------------------------------------------------

def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of ``x`` under weights ``w`` (inverse of the weighted empirical cdf)."""
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    cum /= cum[-1]
    return np.asarray(x[order][np.minimum(np.searchsorted(cum, q), len(x) - 1)], float)


def identification(width_ratio: float) -> str:
    """Plain words for a width ratio."""
    if width_ratio < IDENTIFIED:
        return "identified"
    return "weakly identified" if width_ratio < WEAK else "not identified"


def parameter_summary(post: Posterior, defaults: Mapping[str, float] | None = None
                      ) -> pd.DataFrame:
    """Per parameter: prior and posterior 90% intervals (values), median, the width ratio in
    the unit scale and what it means."""
    rows = []
    for i, p in enumerate(post.free):
        lo, med, hi = weighted_quantile(post.units[:, i], post.weight, [0.05, 0.5, 0.95])
        ratio = float((hi - lo) / 0.9)
        rows.append({"parameter": p.name, "scale": "log" if p.log else "linear",
                     "prior_low": p.from_unit(0.05), "prior_high": p.from_unit(0.95),
                     "posterior_low": p.from_unit(lo), "posterior_median": p.from_unit(med),
                     "posterior_high": p.from_unit(hi), "width_ratio": ratio,
                     "reading": identification(ratio),
                     **({"default": float(defaults[p.name])} if defaults else {})})
    return pd.DataFrame(rows)


def correlations(post: Posterior) -> pd.DataFrame:
    """Weighted posterior correlations in the unit scale."""
    names = [p.name for p in post.free]
    cov = np.cov(post.units.T, aweights=post.weight)
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return pd.DataFrame(cov / np.outer(sd, sd), index=names, columns=names)


def predictive_table(targets: Sequence[Target], check: pd.DataFrame) -> pd.DataFrame:
    """Each target's range against its posterior predictive distribution."""
    rows = []
    for t in targets:
        y = check[t.key].to_numpy(float) if t.key in check else np.zeros(0)
        ok = y[np.isfinite(y)]
        inside = (ok >= t.low) & (ok <= t.high)
        rows.append({"target": t.key, "range": _range(t),
                     "median": format_value(t, float(np.median(ok))) if len(ok) else "n/a",
                     "90% predictive": (f"{format_value(t, float(np.quantile(ok, 0.05)))} – "
                                        f"{format_value(t, float(np.quantile(ok, 0.95)))}")
                     if len(ok) else "n/a",
                     "P(in range)": float(inside.mean()) if len(ok) else math.nan,
                     "draws": len(ok)})
    return pd.DataFrame(rows)


def _range(t: Target) -> str:
    hi = "∞" if not math.isfinite(t.high) else format_value(t, t.high)
    return f"{format_value(t, t.low)} – {hi}"


# --- figures ------------------------------------------------------------------------------------

def interval_figure(summary: pd.DataFrame, free: Sequence[FreeParameter],
                    post: Posterior, truth: Mapping[str, float] | None = None) -> Figure:
    """Prior and posterior intervals of every parameter on its unit (search) scale."""
    fig = new_figure(7.0, 0.55 * len(free) + 1.4)
    ax = fig.axes[0]
    for i, p in enumerate(free):
        y = len(free) - 1 - i
        q = weighted_quantile(post.units[:, i], post.weight, [0.05, 0.25, 0.5, 0.75, 0.95])
        ax.plot([0.05, 0.95], [y + 0.18] * 2, color="0.7", lw=4,
                label="prior 90%" if i == 0 else None, solid_capstyle="butt")
        ax.plot([q[0], q[4]], [y - 0.05] * 2, color="C0", lw=3,
                label="posterior 90%" if i == 0 else None, solid_capstyle="butt")
        ax.plot([q[1], q[3]], [y - 0.05] * 2, color="C0", lw=7,
                label="posterior 50%" if i == 0 else None, solid_capstyle="butt")
        ax.plot(q[2], y - 0.05, "o", color="white", mec="C0", ms=5)
        if truth and p.name in truth:
            ax.plot(p.to_unit(truth[p.name]), y - 0.05, "x", color="C3", ms=8, mew=2,
                    label="true value" if i == 0 else None)
        ratio = summary.loc[i, "width_ratio"]
        ax.text(1.02, y, f"{ratio:.2f} {summary.loc[i, 'reading']}", va="center", fontsize=8,
                transform=ax.get_yaxis_transform())
    ax.set_yticks(range(len(free)), [p.name for p in reversed(free)])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(free) - 0.3)
    style_axes(ax, "position within the prior bounds (0 = low, 1 = high; log scale where "
               "marked)", "", "Prior and posterior intervals (width ratio at right)",
               legend=None)
    fig.legend(loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return fig


def corner_figure(post: Posterior, n: int = 1500) -> Figure:
    """Posterior pairs (resampled points) and marginals, in the unit scale."""
    d = len(post.free)
    fig = Figure(figsize=(1.6 * d + 1, 1.6 * d + 1), dpi=110, layout="constrained")
    axes = fig.subplots(d, d, squeeze=False)
    pts = post.draws(n, _rng(0, 1))
    for i in range(d):
        for j in range(d):
            ax = axes[i][j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(post.units[:, i], bins=20, range=(0, 1), weights=post.weight,
                        color="C0", alpha=0.8)
                ax.set_yticks([])
            else:
                ax.plot(pts[:, j], pts[:, i], ".", ms=1.5, alpha=0.3, color="C0")
                ax.set_ylim(0, 1)
            ax.set_xlim(0, 1)
            ax.tick_params(labelsize=6)
            if i == d - 1:
                ax.set_xlabel(post.free[j].name, fontsize=7)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(post.free[i].name, fontsize=7)
            elif j > 0:
                ax.set_yticklabels([])
    fig.suptitle("Posterior pairs and marginals (unit scale of the prior bounds)",
                 fontweight="bold")
    return fig


def predictive_figure(targets: Sequence[Target], check: pd.DataFrame) -> Figure:
    """Each target's posterior predictive draws against its range."""
    k = len(targets)
    cols = 3
    rows = math.ceil(k / cols)
    fig = Figure(figsize=(9.5, 2.3 * rows + 0.6), dpi=110, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, t in zip(axes, targets, strict=False):
        y = check[t.key].to_numpy(float) if t.key in check else np.zeros(0)
        y = y[np.isfinite(y)]
        scale = 100.0 if t.percent else 1.0
        lo = t.low * scale
        hi = t.high * scale if math.isfinite(t.high) else None
        vals = y * scale
        span = [lo] + ([hi] if hi is not None else []) + list(vals)
        left, right = min(span), max(span)
        pad = 0.15 * (right - left or 1.0)
        ax.axvspan(lo, hi if hi is not None else right + pad, color="C2", alpha=0.2,
                   label="target range")
        if len(vals):
            ax.hist(vals, bins=12, color="C0", alpha=0.85, label="posterior predictive")
        ax.set_xlim(left - pad, right + pad)
        ax.set_yticks([])
        ax.set_title(t.key + (" (%)" if t.percent else ""), fontsize=9, fontweight="bold")
        ax.tick_params(labelsize=7)
    for ax in axes[k:]:
        ax.set_axis_off()
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    fig.suptitle("Posterior predictive check: each target's statistic over posterior draws",
                 fontweight="bold")
    return fig


def waves_figure(table: pd.DataFrame, free: Sequence[FreeParameter]) -> Figure:
    """Where each wave simulated, per parameter: history matching's refocusing."""
    fig = new_figure(7.0, 0.5 * len(free) + 1.4)
    ax = fig.axes[0]
    for w in sorted(table["wave"].unique()):
        sub = table[table["wave"] == w]
        for i, p in enumerate(free):
            y = len(free) - 1 - i + 0.12 * (w - 2)
            ax.plot(sub[f"u_{p.name}"], np.full(len(sub), y), "|", ms=6, color=f"C{w - 1}",
                    label=f"wave {w}" if i == 0 else None)
    ax.set_yticks(range(len(free)), [p.name for p in reversed(free)])
    ax.set_xlim(0, 1)
    style_axes(ax, "position within the prior bounds", "", "Simulated points by wave",
               legend="upper right")
    return fig


# --- the command --------------------------------------------------------------------------------

def check_options(*, budget: int, seeds: int, waves: int, check: int,
                  workers: int | None) -> None:
    """One-line ``ValueError`` naming the option for impossible settings."""
    if seeds < 1:
        raise ValueError(f"--seeds {seeds}: needs at least 1 replication per simulation")
    if waves < 1 or waves > 10:
        raise ValueError(f"--waves {waves}: expected 1 to 10")
    if budget < MIN_WAVE * waves or budget > 100_000:
        raise ValueError(f"--budget {budget}: expected {MIN_WAVE * waves} to 100000 "
                         f"simulations for {waves} wave(s)")
    if check < 0 or check > 10_000:
        raise ValueError(f"--check {check}: expected 0 to 10000 posterior draws")
    if workers is not None and not 1 <= workers <= 512:
        raise ValueError(f"--workers {workers}: expected 1 to 512")


def calibrate_posterior(problem: Problem | None = None, *, out: Path,
                        budget: int = DEFAULT_BUDGET, seeds: int = DEFAULT_SEEDS,
                        waves: int = DEFAULT_WAVES, check: int = DEFAULT_CHECK,
                        root_seed: int = CALIBRATION_SEED, workers: int | None = None,
                        scheduler: str | None = None, progress: Progress | None = None,
                        truth: Mapping[str, float] | None = None,
                        command: str = "helixsim posterior") -> dict[str, Any]:
    """History-match ``problem`` (default: the default region), write the posterior, the
    simulations and the report into ``out``; return a JSON-ready summary."""
    check_options(budget=budget, seeds=seeds, waves=waves, check=check, workers=workers)
    problem = problem or region_problem()
    if problem.of_model:
        from simulation.parameters import resolve

        resolve({**problem.base, "horizon_months": problem.horizon})  # bad input raises now
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    setup = {"model_version": MODEL_VERSION, "problem": problem.label, "seeds": seeds,
             "root_seed": root_seed, "horizon_months": problem.horizon,
             "free": [[p.name, p.low, p.high, p.log] for p in problem.free],
             "targets": [[t.key, t.low, t.high] for t in problem.targets],
             "base": problem.base}
    sim_path, setup_path = out / SIMULATIONS_FILE, out / SETUP_FILE
    cache = None
    same = setup_path.exists() and (json.loads(setup_path.read_text())
                                    == json.loads(json_text(setup)))
    if same and sim_path.exists():
        cache = pd.read_parquet(sim_path)
    write_json(setup, setup_path)
    total = (budget + check) * seeds
    started = time.perf_counter()
    def tick(done: int) -> None:
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    kinds: list[str | None] = []  # the machine kinds of this call's runs (a scheduler's too)
    with executor_for(scheduler, workers) as pool:
        hm = history_match(problem, budget=budget, waves=waves, seeds=seeds,
                           root_seed=root_seed, executor=pool, cache=cache, kinds=kinds,
                           on_batch=lambda t: write_parquet(t, sim_path), progress=tick)
        write_parquet(hm.table, sim_path)
        kinds.extend([None] * (hm.reused * seeds))  # replayed points: their kinds not kept
        post = posterior_of(hm.emulators, problem.free, root_seed)
        write_parquet(post.frame(), out / POSTERIOR_FILE)
        check_table = pd.DataFrame()
        kept: list[pd.DataFrame] = []
        if check:
            draws = post.draws(check, _rng(root_seed, 99))
            ucols = [f"u_{p.name}" for p in problem.free]
            check_table = _saved_check(out / PREDICTIVE_FILE, draws, ucols) if same else None
            if check_table is not None:  # replayed: the kinds of its runs were not kept
                kinds.extend([None] * (check * seeds))
            else:
                base = len(hm.table) * seeds
                stats = simulate(problem, draws, seeds=seeds, root_seed=root_seed,
                                 executor=pool, progress=lambda k: tick(base + k),
                                 keep_steps=kept, kinds=kinds)
                check_table = pd.concat([pd.DataFrame(draws, columns=ucols),
                                         pd.DataFrame(stats)], axis=1)
                write_parquet(check_table, out / PREDICTIVE_FILE)
    elapsed = time.perf_counter() - started
    if progress:
        progress(total, total)
    result = _report(problem, hm, post, check_table, out=out, budget=budget, seeds=seeds,
                     waves=waves, root_seed=root_seed, elapsed=elapsed,
                     truth=truth, command=command, kinds=kinds)
    if kept:  # the posterior predictive runs, for the per-year tables
        result["_steps"] = pd.concat(kept, ignore_index=True)
    return result


def _saved_check(path: Path, draws: np.ndarray, ucols: list[str]) -> pd.DataFrame | None:
    """The predictive check of an earlier run of the same setup, if it drew these points."""
    if not path.is_file():
        return None
    try:
        saved = pd.read_parquet(path)
    except Exception:  # damaged: simulate again
        return None
    if list(saved.columns[:len(ucols)]) != ucols or len(saved) != len(draws):
        return None
    return saved if np.array_equal(saved[ucols].to_numpy(float), draws) else None


def _defaults(problem: Problem) -> dict[str, float] | None:
    if not problem.of_model:
        return None
    from simulation.parameters import DEFAULTS

    return {p.name: float(DEFAULTS[p.name]) for p in problem.free}


def _report(problem: Problem, hm: HistoryMatch, post: Posterior, check: pd.DataFrame, *,
            out: Path, budget: int, seeds: int, waves: int, root_seed: int, elapsed: float,
            truth: Mapping[str, float] | None, command: str,
            kinds: list[str | None] | None = None) -> dict[str, Any]:
    summary = parameter_summary(post, _defaults(problem))
    corr = correlations(post)
    ppc = predictive_table(problem.targets, check) if len(check) else pd.DataFrame()
    runs = (len(hm.table) + len(check)) * seeds
    identified = summary.loc[summary["reading"] == "identified", "parameter"].tolist()
    weak = summary.loc[summary["reading"] == "weakly identified", "parameter"].tolist()
    unidentified = summary.loc[summary["reading"] == "not identified", "parameter"].tolist()
    missing = [t.key for t in problem.targets if t.key not in hm.emulators.models]

    def names(xs: list[str]) -> str:
        return ", ".join(f"`{x}`" for x in xs) if xs else "none"

    headline = (
        f"**Identified by the targets** (posterior 90% interval under half the prior's): "
        f"{names(identified)}. **Weakly identified**: {names(weak)}. **Not identified** "
        f"(posterior about as wide as the prior): {names(unidentified)}.")
    fit_note = (
        f"The best point of the prior sample meets every target with emulated probability "
        f"{post.best_probability:.2g}"
        + (" — the targets cannot all be met at once inside the bounds, so the posterior sits "
           "on the best compromise and its intervals are narrower than the data justify."
           if post.best_probability < 0.05 else ".")
        + f" Effective posterior sample size {post.ess:,.0f} of {len(post.weight):,} weighted "
          "points.")
    method = (
        f"History matching with Gaussian-process emulators in {len(hm.waves)} wave(s) "
        f"({', '.join(str(w['simulations']) for w in hm.waves)} simulations), then the "
        "emulator-based ABC posterior that every statistic lies in its target range. "
        f"{len(hm.table)} simulations of {seeds} replication(s) each "
        f"({hm.simulated} run now, {hm.reused} replayed from `{SIMULATIONS_FILE}`), plus "
        f"{len(check)} posterior draws simulated again for the predictive check: {runs} model "
        f"runs in all, {elapsed:.0f} s. The priors are uniform on the bounds (log-uniform "
        "where marked log). The width ratio is the posterior 90% interval over the prior's, "
        "on the prior's scale: near 1 the targets say nothing about the parameter, whatever "
        "a point fit reports for it.")
    if missing:
        method += (f" Targets without an emulator (too few simulations could estimate them; "
                   f"they constrain nothing here): {names(missing)}.")
    waves_table = pd.DataFrame(hm.waves).rename(columns={
        "nroy_share_before": "share of prior not ruled out before the wave"})
    sections = [
        Section("What the targets identify", headline + "\n\n" + fit_note + "\n\n" + method,
                tables=[("Prior and posterior 90% intervals per parameter",
                         _summary_cells(summary))],
                figures=[("intervals", "Prior (grey) and posterior (blue) intervals on the "
                          "prior's scale.", interval_figure(summary, problem.free, post, truth))]),
        Section("Posterior correlations",
                "Weighted correlations on the prior's scale. A strong correlation means the "
                "targets pin down a combination of the two parameters rather than each.",
                tables=[("Posterior correlation matrix", corr.round(2).reset_index(
                    names="parameter"))],
                figures=[("corner", "Posterior pairs (resampled) and marginals.",
                          corner_figure(post))]),
    ]
    if len(ppc):
        sections.append(Section(
            "Posterior predictive check",
            f"{len(check)} draws from the posterior, each simulated on {seeds} replication(s): "
            "the share of draws whose statistic falls in the target range, and its "
            "predictive interval.",
            tables=[("Targets under the posterior", ppc)],
            figures=[("predictive", "Each target's posterior predictive draws (blue) "
                      "against its range (green).", predictive_figure(problem.targets,
                                                                     check))]))
    sections.append(Section(
        "Waves and emulators",
        "Where each wave simulated, and how well the emulators of the earlier waves predicted "
        "the last wave's simulations (share within 3 emulator standard deviations: near 1 "
        "means the emulators' uncertainty is honest).",
        tables=[("Waves", waves_table)]
        + ([("Emulator check on the last wave", hm.validation.round(4))]
           if len(hm.validation) else []),
        figures=[("waves", "Simulated points by wave on the prior's scale.",
                  waves_figure(hm.table, problem.free))]))
    meta = {"command": command, "budget": budget, "waves": waves, "seeds": seeds,
            "root_seed": root_seed, "horizon_months": problem.horizon,
            "check_draws": len(check), "model_runs": runs, "elapsed_s": round(elapsed, 1),
            "model_version": MODEL_VERSION, **environment_meta(kinds or None)}
    report = write_report(out, "Posterior calibration", sections, meta)
    write_json({"parameters": summary.to_dict("records"), "correlations": corr.to_dict(),
                "predictive": ppc.to_dict("records"), "waves": hm.waves, "meta": meta},
               out / "posterior.json")
    return {"parameters": summary.to_dict("records"), "identified": identified,
            "weakly_identified": weak, "not_identified": unidentified,
            "best_probability": post.best_probability, "ess": post.ess,
            "simulations": len(hm.table), "simulated": hm.simulated, "reused": hm.reused,
            "check_draws": len(check), "model_runs": runs, "elapsed_s": round(elapsed, 1),
            "predictive": ppc.to_dict("records"), "posterior": str(out / POSTERIOR_FILE),
            "report": str(report), "out": str(out)}


def _summary_cells(summary: pd.DataFrame) -> pd.DataFrame:
    def g(x: float) -> str:
        return f"{x:.3g}"
    cells = pd.DataFrame({
        "Parameter": summary["parameter"] + np.where(summary["scale"] == "log", " (log)", ""),
        "Prior 90%": [f"{g(a)} – {g(b)}" for a, b in zip(summary["prior_low"],
                                                         summary["prior_high"], strict=True)],
        "Posterior median": summary["posterior_median"].map(g),
        "Posterior 90%": [f"{g(a)} – {g(b)}" for a, b in zip(
            summary["posterior_low"], summary["posterior_high"], strict=True)],
        "Width ratio": summary["width_ratio"].round(2),
        "Reading": summary["reading"]})
    if "default" in summary:
        cells.insert(2, "Current default", summary["default"].map(g))
    return cells
