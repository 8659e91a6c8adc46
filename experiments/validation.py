"""Validation of the default region against the calibration targets of MODEL.md.

``helixsim validate`` runs the default region (or a small smoke-test region) over seeds, measures
the stylized facts that MODEL.md lists as calibration targets, and compares each with its target
range. Nothing here changes the model: it only observes runs.

Pipeline
--------
1. ``simulate`` (a picklable module-level worker) runs one replication,
   ``EcosystemModel(rng=SeedSequence(root_seed, spawn_key=(j,)), **overrides)``, stepping it
   year by year to copy firm sizes every 12 months, and returns plain numpy / pandas data
   (``SeedData``), never model objects.
2. The estimators below turn the data of all seeds into one value per target:

   - ``fit_power_law``: tail exponent alpha of P(S >= s) ~ s^-alpha by maximum likelihood above
     xmin, with xmin chosen by minimising the Kolmogorov-Smirnov distance between the tail and
     the fit (Clauset, Shalizi & Newman 2009). For integer data (employees) it uses the
     continuous approximation of the discrete power law, xmin - 1/2 in place of xmin (their
     eq. 3.7), which is exact for sizes rounded to whole employees.
   - ``growth_volatility``: beta of sigma(g) ~ S^-beta, the slope of log sd(annual log growth)
     on log mean size over size bins (Stanley et al. 1996).
   - ``kaplan_meier``: new-firm survival with right censoring at the horizon.
   - ``top_share``: share of the total value held by the largest 10% of innovations.
   - ``skewness`` and ``coefficient_of_variation`` of the collaboration degree.
3. ``seed_bootstrap``: the point estimate is computed on the data of all seeds pooled; its 95%
   interval is a percentile bootstrap over seeds (whole seeds are resampled with replacement
   and the estimator re-run on the pooled resample, xmin search included), so the interval
   reflects run-to-run variation and the dependence between firms of the same run.
4. A target is met when its point estimate lies in the target range (bounds included); a target
   that cannot be estimated (say 5-year survival over a 3-year horizon) is "n/a" and counts as not
   met. ``validate`` writes ``report.md`` / ``report.html`` with figures and ``validation.json``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

DEFAULT_HORIZON = 120
CIS_WINDOW = 36            # months: the Community Innovation Survey's three-year window
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20261128
# Regions the command knows: model overrides and horizon (months).
REGIONS: dict[str, tuple[dict[str, Any], int]] = {
    "default": ({}, DEFAULT_HORIZON),
    "small": ({"n_firms": 200, "intake_per_university": 200}, 36),
}
Progress = Callable[[int, int], None]


# --- targets ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One calibration target of MODEL.md: the fact, its range and source."""

    key: str
    fact: str
    target: str          # the range as MODEL.md states it
    low: float
    high: float
    source: str
    percent: bool = False  # shown as a percentage


TARGETS: tuple[Target, ...] = (
    Target("firm_size_alpha", "Firm size tail exponent α, P(S ≥ s) ∝ s^−α",
           "0.8–1.3 (≈ 1.06 US firms)", 0.8, 1.3, "Axtell 2001"),
    Target("growth_beta", "Growth volatility scaling β, σ(g) ∝ S^−β",
           "0.1–0.3 (≈ 0.2)", 0.1, 0.3, "Stanley et al. 1996"),
    Target("survival_1y", "New-firm survival after 1 year",
           "≈ 80% (read as 75–85%)", 0.75, 0.85, "BLS, Eurostat", percent=True),
    Target("survival_5y", "New-firm survival after 5 years",
           "40–55%", 0.40, 0.55, "BLS, Eurostat", percent=True),
    Target("cis_cooperation", "Innovating firms co-operating with universities (3 years)",
           "8–15% (1.0-style baseline)", 0.08, 0.15, "EU Community Innovation Survey",
           percent=True),
    Target("graduate_retention", "Graduates staying in the region",
           "60–75% in the first years", 0.60, 0.75, "US state retention data", percent=True),
    Target("innovation_top10", "Share of innovation value held by the top 10% of innovations",
           "over half (> 50%)", 0.50, math.inf, "Scherer & Harhoff 2000", percent=True),
    Target("degree_skewness", "Collaboration degree: skewness",
           "right-skewed (> 0)", 0.0, math.inf, "SKIN-family results"),
    Target("degree_cv", "Collaboration degree: coefficient of variation",
           "heavy tail (> 1, above the exponential)", 1.0, math.inf, "SKIN-family results"),
)
TARGET_BY_KEY = {t.key: t for t in TARGETS}


class NotEstimableError(ValueError):
    """A statistic that the data cannot give; the message says why."""


# --- the worker --------------------------------------------------------------------------------

@dataclass
class SeedData:
    """What one replication contributes to validation: plain arrays and tables only."""

    replication: int
    horizon: int
    sizes: np.ndarray              # employees of firms alive at the horizon
    growth_size: np.ndarray        # start-of-year employees of firms alive over a whole year
    growth_rate: np.ndarray        # their annual log growth of employees
    birth: np.ndarray              # birth month of firms born during the run (birth_step >= 1)
    exit: np.ndarray               # their exit month, -1 if alive at the horizon
    innovating: int                # living firms with an innovation in the last CIS_WINDOW months
    cooperating: int               # ... of which with an active university project in that window
    innovating_10: int             # the same for firms with at least 10 employees (CIS population)
    cooperating_10: int
    graduates: int                 # graduates since month 0
    graduates_in_region: int       # ... not having left the region at the horizon
    cohorts: pd.DataFrame          # graduation_month, graduates, in_region
    innovation_values: np.ndarray  # value of every innovation of the run
    degrees: np.ndarray            # university projects ever started, firms with at least one
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def growth_bins(self) -> np.ndarray:
        """``growth_sums`` of this run's growth panel (additive over seeds)."""
        return growth_sums(self.growth_size, self.growth_rate)

    @cached_property
    def survival_counts(self) -> np.ndarray:
        """(2, horizon + 1): exits and all observations ending at each age in months of the
        firms born during the run, censored at the horizon (additive over seeds)."""
        t, e = survival_data(self.birth, self.exit, self.horizon)
        size = self.horizon + 1
        return np.vstack([np.bincount(t, weights=e, minlength=size)[:size],
                          np.bincount(t, minlength=size)[:size].astype(float)])


def simulate(replication: int, root_seed: int, overrides: dict[str, Any] | None = None,
             horizon: int = DEFAULT_HORIZON) -> SeedData:
    """Run replication ``replication`` of the region and return its validation data.

    The model is ``EcosystemModel(rng=SeedSequence(root_seed, spawn_key=(replication,)),
    horizon_months=horizon, **overrides)``, the same seeding as ``experiments.runner``. It is
    stepped 12 months at a time so that the employees of every firm row are copied at months
    0, 12, 24, ... for the growth-rate panel.
    """
    from simulation import EcosystemModel

    started = time.perf_counter()
    params = {**(overrides or {}), "horizon_months": int(horizon)}
    model = EcosystemModel(rng=np.random.SeedSequence(root_seed, spawn_key=(replication,)),
                           **params)
    w = model.world
    f = w.firms
    snapshots = [(f.employees[: f.n].copy(), f.alive[: f.n].copy())]
    while w.month < horizon:
        model.run(min(12, horizon - w.month))
        if w.month % 12 == 0:
            snapshots.append((f.employees[: f.n].copy(), f.alive[: f.n].copy()))
    g_size, g_rate, _ = annual_growth(snapshots)

    ft = model.firm_table()
    alive = ft["alive"].to_numpy()
    born = ft["birth_step"].to_numpy() >= 1
    since = horizon - CIS_WINDOW  # window: months since+1 .. horizon (36 months)
    innov = alive & (ft["last_innovation_month"].to_numpy() > since)
    coop = innov & (ft["last_project_month"].to_numpy() > since)
    big = ft["employees"].to_numpy() >= 10

    students = model.student_table()
    grads = students[students["graduation_month"] >= 0]
    left = (grads["status"] == "left_region").to_numpy()
    cohorts = (pd.DataFrame({"graduation_month": grads["graduation_month"].to_numpy(),
                             "graduates": 1, "in_region": (~left).astype(int)})
               .groupby("graduation_month", as_index=False).sum())
    end = model.indicators()
    values = (np.concatenate(w.innovation_values) if w.innovation_values
              else np.zeros(0))
    projects = ft["projects"].to_numpy()
    return SeedData(
        replication=replication, horizon=int(horizon),
        sizes=ft["employees"].to_numpy()[alive].astype(np.int64),
        growth_size=g_size, growth_rate=g_rate,
        birth=ft["birth_step"].to_numpy()[born].astype(np.int64),
        exit=ft["exit_step"].to_numpy()[born].astype(np.int64),
        innovating=int(innov.sum()), cooperating=int(coop.sum()),
        innovating_10=int((innov & big).sum()), cooperating_10=int((coop & big).sum()),
        graduates=len(grads), graduates_in_region=int((~left).sum()),
        cohorts=cohorts, innovation_values=values.astype(float),
        degrees=projects[projects > 0].astype(np.int64),
        elapsed=time.perf_counter() - started,
        extra={"retention_indicator": float(end["graduate_retention_rate"]),
               "firms_alive": int(alive.sum())},
    )


def annual_growth(snapshots: Sequence[tuple[np.ndarray, np.ndarray]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start size, annual log growth, year) of firms alive over each year.

    ``snapshots`` are (employees, alive) of every firm row at months 0, 12, 24, ... (rows are
    only ever appended, so row i is the same firm in every snapshot that has it). A firm counts
    for year y when it is alive at both its start and its end, with at least one employee.
    """
    sizes, rates, years = [], [], []
    for y, ((e0, a0), (e1, a1)) in enumerate(itertools.pairwise(snapshots)):
        n = len(e0)
        ok = a0 & a1[:n] & (e0 > 0) & (e1[:n] > 0)
        s0 = e0[ok].astype(float)
        sizes.append(s0)
        rates.append(np.log(e1[:n][ok] / s0))
        years.append(np.full(len(s0), y))
    if not sizes:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
    return np.concatenate(sizes), np.concatenate(rates), np.concatenate(years)


# --- estimators --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PowerLawFit:
    """Tail exponent ``alpha`` of P(X >= x) ~ x^-alpha above ``xmin`` (n_tail points), KS
    distance ``ks`` of the fit; ``discrete`` when the xmin - 1/2 approximation was used."""

    alpha: float
    xmin: float
    n_tail: int
    ks: float
    discrete: bool


def fit_power_law(x: Sequence[float] | np.ndarray, xmin: float | None = None, *,
                  discrete: bool | None = None, min_tail: int = 50,
                  max_candidates: int = 200) -> PowerLawFit:
    """Power-law tail by maximum likelihood with xmin by minimum KS distance (Clauset et al.).

    For a given xmin the MLE of the CCDF exponent is the Hill estimator
    ``alpha = n / sum(log(x_i / xmin))`` over the n points x_i >= xmin (Clauset et al. 2009,
    eq. 3.1, minus one: their alpha is the density's exponent). With ``discrete`` (default: when
    every value is a whole number) xmin - 1/2 replaces xmin in the MLE and the fitted CDF is
    evaluated at whole numbers (eq. 3.7). Without ``xmin``, every distinct value leaving at
    least ``min_tail`` points in the tail is a candidate (at most ``max_candidates``, spread
    evenly in log scale) and the one whose fit has the smallest KS distance to the tail's
    empirical distribution wins. Raises ``NotEstimableError`` with fewer than ``min_tail`` points.
    """
    x = np.asarray(x, dtype=float)
    x = np.sort(x[np.isfinite(x) & (x > 0)])
    if discrete is None:
        discrete = bool(len(x)) and bool(np.all(x == np.round(x)))
    if discrete:
        x = x[x >= 1]
    if len(x) < max(min_tail, 2):
        raise NotEstimableError(f"only {len(x)} positive values (at least {min_tail} needed)")
    uniq, counts = np.unique(x, return_counts=True)
    tail_n = len(x) - np.concatenate(([0], np.cumsum(counts)[:-1]))  # points >= uniq[j]
    logs = np.log(uniq) * counts
    tail_log = np.cumsum(logs[::-1])[::-1]                           # sum of log x over tail
    if xmin is not None:
        j = int(np.searchsorted(uniq, float(xmin), "left"))
        if j >= len(uniq) or tail_n[j] < 2:
            raise NotEstimableError(f"fewer than 2 values at or above xmin {xmin}")
        candidates = np.array([j])
        fixed = float(xmin)
    else:
        candidates = np.flatnonzero(tail_n >= min_tail)
        if len(candidates) > max_candidates:
            grid = np.geomspace(uniq[candidates[0]], uniq[candidates[-1]], max_candidates)
            candidates = np.unique(np.searchsorted(uniq, grid, "left").clip(
                candidates[0], candidates[-1]))
        fixed = None
    best: PowerLawFit | None = None
    for j in candidates:
        lo = fixed if fixed is not None else float(uniq[j])
        n = int(tail_n[j])
        shift = lo - 0.5 if discrete else lo
        total = float(tail_log[j]) - n * math.log(shift)
        if total <= 0:
            continue
        alpha = n / total
        v, c = uniq[j:], counts[j:]
        after = np.cumsum(c) / n
        before = after - c / n
        if discrete:
            model_after = 1.0 - ((v + 0.5) / shift) ** -alpha
            model_before = 1.0 - ((v - 0.5) / shift) ** -alpha
        else:
            model_after = model_before = 1.0 - (v / shift) ** -alpha
        ks = float(max(np.abs(after - model_after).max(), np.abs(before - model_before).max()))
        if best is None or ks < best.ks:
            best = PowerLawFit(alpha, lo, n, ks, bool(discrete))
    if best is None:
        raise NotEstimableError("no xmin with a tail to fit")
    return best


@dataclass(frozen=True)
class VolatilityFit:
    """``beta`` of sigma ~ S^-beta, the fit's ``intercept`` (log sigma at S = 1), r^2, bins."""

    beta: float
    intercept: float
    r2: float
    bins: pd.DataFrame  # size_low, mean_size, mean_growth, sd_growth, n, used


# Size bins of the growth panel: powers of two from 2^-LOW_OCTAVES to 2^HIGH_OCTAVES (sizes
# outside fall into the end bins), so per-seed bin sums add up across seeds.
LOW_OCTAVES, HIGH_OCTAVES = 16, 48


def growth_sums(size: Sequence[float] | np.ndarray, growth: Sequence[float] | np.ndarray,
                bins_per_octave: int = 1) -> np.ndarray:
    """(4, bins) sufficient statistics of the growth panel per size bin: count, sum of sizes,
    sum of growth rates, sum of squared growth rates. Sums of several samples add up."""
    s = np.asarray(size, dtype=float)
    g = np.asarray(growth, dtype=float)
    ok = np.isfinite(s) & np.isfinite(g) & (s > 0)
    s, g = s[ok], g[ok]
    nbins = (LOW_OCTAVES + HIGH_OCTAVES) * bins_per_octave
    key = (np.floor(np.log2(s) * bins_per_octave + 1e-9).astype(np.int64)
           + LOW_OCTAVES * bins_per_octave).clip(0, nbins - 1)
    return np.vstack([np.bincount(key, minlength=nbins).astype(float),
                      np.bincount(key, weights=s, minlength=nbins),
                      np.bincount(key, weights=g, minlength=nbins),
                      np.bincount(key, weights=g * g, minlength=nbins)])


def volatility_from_sums(sums: np.ndarray, *, bins_per_octave: int = 1, min_count: int = 30,
                         min_bins: int = 3) -> VolatilityFit:
    """``growth_volatility`` from the bin sums of ``growth_sums`` (of one or more samples)."""
    count, sum_s, sum_g, sum_g2 = sums
    present = np.flatnonzero(count)
    if len(present) == 0:
        raise NotEstimableError("no firm was alive over a whole year")
    n = count[present]
    mean_g = sum_g[present] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (sum_g2[present] - n * mean_g ** 2) / (n - 1)
    sd = np.where(n > 1, np.sqrt(np.maximum(var, 0.0)), math.nan)
    table = pd.DataFrame({
        "size_low": 2.0 ** (present / bins_per_octave - LOW_OCTAVES),
        "mean_size": sum_s[present] / n, "mean_growth": mean_g, "sd_growth": sd,
        "n": n.astype(np.int64)})
    table["used"] = (table["n"] >= min_count) & (table["sd_growth"] > 0)
    used = table[table["used"]]
    if len(used) < min_bins:
        raise NotEstimableError(f"only {len(used)} size bins with {min_count}+ firm-years "
                           f"({min_bins} needed)")
    lx, ly = np.log(used["mean_size"].to_numpy()), np.log(used["sd_growth"].to_numpy())
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (intercept + slope * lx)
    total = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / total if total > 0 else math.nan
    return VolatilityFit(float(-slope), float(intercept), r2, table)


def growth_volatility(size: Sequence[float] | np.ndarray, growth: Sequence[float] | np.ndarray,
                      *, bins_per_octave: int = 1, min_count: int = 30,
                      min_bins: int = 3) -> VolatilityFit:
    """Scaling of growth-rate volatility with size (Stanley et al. 1996).

    Start sizes are binned in powers of two (``bins_per_octave`` bins per doubling); in each bin
    with at least ``min_count`` observations the standard deviation of the growth rates
    (ddof 1) is taken against the bin's mean size, and ``log sd = intercept - beta log mean``
    is fitted by ordinary least squares over the bins. Needs ``min_bins`` such bins.
    """
    return volatility_from_sums(growth_sums(size, growth, bins_per_octave),
                                bins_per_octave=bins_per_octave, min_count=min_count,
                                min_bins=min_bins)


def kaplan_meier(duration: Sequence[float] | np.ndarray, observed: Sequence[bool] | np.ndarray
                 ) -> pd.DataFrame:
    """Kaplan-Meier survival curve: one row per distinct time with an event or a censoring.

    ``duration`` is the time to exit (event) or to the end of observation (censored);
    ``observed`` is True for an exit. At tied times exits count before censorings (the usual
    convention). Columns: time, at_risk, events, censored, survival (S just after ``time``).
    """
    t = np.asarray(duration, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape:
        raise ValueError("kaplan_meier: duration and observed differ in length")
    times, inverse = np.unique(t, return_inverse=True)
    events = np.bincount(inverse, weights=e, minlength=len(times))
    total = np.bincount(inverse, minlength=len(times)).astype(float)
    return kaplan_meier_counts(times, events, total)


def kaplan_meier_counts(times: np.ndarray, events: np.ndarray, total: np.ndarray
                        ) -> pd.DataFrame:
    """``kaplan_meier`` from counts per time: exits and all observations ending at each of the
    sorted ``times`` (counts of several samples on the same times add up)."""
    times, events, total = (np.asarray(a, dtype=float) for a in (times, events, total))
    keep = total > 0
    times, events, total = times[keep], events[keep], total[keep]
    at_risk = total[::-1].cumsum()[::-1]
    survival = np.cumprod(1.0 - events / at_risk) if len(times) else np.zeros(0)
    return pd.DataFrame({"time": times, "at_risk": at_risk.astype(np.int64),
                         "events": events.astype(np.int64),
                         "censored": (total - events).astype(np.int64), "survival": survival})


def survival_at(curve: pd.DataFrame, t: float) -> float:
    """S(t) = P(T > t) from a ``kaplan_meier`` curve; NaN beyond the last observed time
    (unless the curve has reached 0)."""
    if curve.empty:
        return math.nan
    times = curve["time"].to_numpy()
    surv = curve["survival"].to_numpy()
    if t > times[-1] and surv[-1] > 0:
        return math.nan
    i = int(np.searchsorted(times, t, "right"))
    return 1.0 if i == 0 else float(surv[i - 1])


def survival_data(birth: np.ndarray, exit_: np.ndarray, horizon: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(duration in months, exited) of firms born at ``birth`` with exit month ``exit_``
    (-1: alive), censored at ``horizon``."""
    birth = np.asarray(birth)
    exit_ = np.asarray(exit_)
    exited = exit_ >= 0
    return np.where(exited, exit_, horizon) - birth, exited


def top_share(values: Sequence[float] | np.ndarray, top: float = 0.1) -> float:
    """Share of the total held by the largest ``ceil(top * n)`` values (n values, total > 0)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0 or v.sum() <= 0:
        raise NotEstimableError("no innovation with a positive value")
    k = max(1, math.ceil(top * len(v) - 1e-9))
    return float(np.sort(v)[::-1][:k].sum() / v.sum())


def skewness(x: Sequence[float] | np.ndarray) -> float:
    """Sample skewness g1 = m3 / m2^(3/2) (Fisher-Pearson, moments about the mean)."""
    x = np.asarray(x, dtype=float)
    if len(x) < 3:
        raise NotEstimableError(f"only {len(x)} values (3 needed)")
    d = x - x.mean()
    m2 = float((d ** 2).mean())
    if m2 == 0:
        raise NotEstimableError("all values are equal")
    return float((d ** 3).mean() / m2 ** 1.5)


def coefficient_of_variation(x: Sequence[float] | np.ndarray) -> float:
    """Standard deviation (ddof 1) over the mean. An exponential has 1 and a geometric on
    1, 2, ... less than 1; a heavy (power-law or wide lognormal) tail gives more than 1."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2 or x.mean() <= 0:
        raise NotEstimableError(f"only {len(x)} firms with a project (2 needed)")
    return float(x.std(ddof=1) / x.mean())


# --- pooled statistics over seeds ---------------------------------------------------------------

def _pool(data: Sequence[SeedData], name: str) -> np.ndarray:
    arrays = [getattr(d, name) for d in data]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def pooled_survival(data: Sequence[SeedData]) -> pd.DataFrame:
    """Kaplan-Meier curve of the firms born during the runs of ``data``, pooled; firms born in
    the last month (never exposed to exit) are left out."""
    size = max(d.horizon for d in data) + 1
    counts = np.zeros((2, size))
    for d in data:
        counts[:, : d.horizon + 1] += d.survival_counts
    counts[:, 0] = 0.0
    return kaplan_meier_counts(np.arange(size), counts[0], counts[1])


def _survival(data: Sequence[SeedData], months: int) -> float:
    horizon = min(d.horizon for d in data)
    if months > horizon - 1:
        raise NotEstimableError(f"the horizon ({horizon} months) is too short for {months}-month "
                           "survival")
    curve = pooled_survival(data)
    if curve.empty:
        raise NotEstimableError("no firm was born during the run")
    value = survival_at(curve, months)
    if math.isnan(value):
        raise NotEstimableError(f"no firm born during the run was observed for {months} months")
    return value


def _ratio(num: float, den: float, what: str) -> float:
    if den <= 0:
        raise NotEstimableError(f"no {what}")
    return num / den


STATISTICS: dict[str, Callable[[Sequence[SeedData]], float]] = {
    "firm_size_alpha": lambda data: fit_power_law(_pool(data, "sizes")).alpha,
    "growth_beta": lambda data: volatility_from_sums(
        np.sum([d.growth_bins for d in data], axis=0)).beta,
    "survival_1y": lambda data: _survival(data, 12),
    "survival_5y": lambda data: _survival(data, 60),
    "cis_cooperation": lambda data: _ratio(sum(d.cooperating for d in data),
                                           sum(d.innovating for d in data),
                                           f"living firm innovated in the last {CIS_WINDOW} "
                                           "months"),
    "graduate_retention": lambda data: _ratio(sum(d.graduates_in_region for d in data),
                                              sum(d.graduates for d in data),
                                              "graduate yet (the first cohort graduates in "
                                              "June, month 10)"),
    "innovation_top10": lambda data: top_share(_pool(data, "innovation_values"), 0.1),
    "degree_skewness": lambda data: skewness(_pool(data, "degrees")),
    "degree_cv": lambda data: coefficient_of_variation(_pool(data, "degrees")),
}


@dataclass
class Estimate:
    """A pooled point estimate with its seed-bootstrap 95% interval, or the reason for none."""

    value: float
    low: float
    high: float
    per_seed: list[float]
    reason: str = ""


def _safe(statistic: Callable[[Sequence[SeedData]], float], data: Sequence[SeedData]
          ) -> tuple[float, str]:
    try:
        value = float(statistic(data))
    except NotEstimableError as err:
        return math.nan, str(err)
    return (value, "") if math.isfinite(value) else (math.nan, "not finite")


def seed_bootstrap(data: Sequence[SeedData],
                   statistics: dict[str, Callable[[Sequence[SeedData]], float]], *,
                   n_boot: int = DEFAULT_BOOTSTRAP, rng: np.random.Generator | None = None,
                   confidence: float = 0.95) -> dict[str, Estimate]:
    """Every statistic on the pooled seeds, with a percentile bootstrap interval over seeds.

    Each bootstrap replicate draws len(data) seeds with replacement (the same draw for every
    statistic) and re-runs the estimators on the pooled resample. Replicates where a statistic
    cannot be estimated are dropped; with fewer than 90% left its interval is NaN.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    k = len(data)
    points = {key: _safe(stat, data) for key, stat in statistics.items()}
    per_seed = {key: [_safe(stat, [d])[0] for d in data] for key, stat in statistics.items()}
    reps = {key: np.full(n_boot, math.nan) for key in statistics}
    for b in range(n_boot):
        sample = [data[i] for i in rng.integers(0, k, k)]
        for key, stat in statistics.items():
            if math.isfinite(points[key][0]):
                reps[key][b] = _safe(stat, sample)[0]
    tail = (1.0 - confidence) / 2.0
    out = {}
    for key in statistics:
        value, reason = points[key]
        finite = reps[key][np.isfinite(reps[key])]
        if math.isfinite(value) and n_boot > 0 and len(finite) >= 0.9 * n_boot:
            low, high = (float(q) for q in np.quantile(finite, [tail, 1.0 - tail]))
        else:
            low = high = math.nan
        out[key] = Estimate(value, low, high, per_seed[key], reason)
    return out


def verdict(target: Target, estimate: Estimate) -> str:
    """'pass' when the point estimate lies in [low, high], 'fail' outside, 'n/a' if none."""
    if not math.isfinite(estimate.value):
        return "n/a"
    return "pass" if target.low <= estimate.value <= target.high else "fail"


def distance(target: Target, value: float) -> float:
    """How far ``value`` lies outside the target range (0 inside), in the value's unit."""
    if not math.isfinite(value):
        return math.nan
    return max(target.low - value, value - target.high, 0.0)


def _fmt(target: Target, value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.1%}" if target.percent else f"{value:.3f}"


def target_rows(estimates: dict[str, Estimate]) -> list[dict[str, Any]]:
    """One JSON-ready row per target: value, interval, verdict, distance, reason."""
    rows = []
    for t in TARGETS:
        e = estimates[t.key]
        result = verdict(t, e)
        rows.append({
            "key": t.key, "fact": t.fact, "target": t.target, "low_target": t.low,
            "high_target": t.high, "source": t.source, "value": e.value, "low": e.low,
            "high": e.high, "result": result, "met": result == "pass",
            "off_by": distance(t, e.value), "per_seed": e.per_seed,
            "note": e.reason if result == "n/a" else "",
            "simulated": _fmt(t, e.value),
            "interval": (f"{_fmt(t, e.low)} – {_fmt(t, e.high)}"
                         if math.isfinite(e.low) else "n/a"),
        })
    return rows


def table_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The validation table as text cells (report and terminal)."""
    table = pd.DataFrame([{"Fact": r["fact"], "Target": r["target"],
                           "Simulated": r["simulated"], "95% interval": r["interval"],
                           "Result": r["result"], "Source": r["source"], "Note": r["note"]}
                          for r in rows])
    return table if table["Note"].astype(bool).any() else table.drop(columns="Note")


# --- running -----------------------------------------------------------------------------------

def run_seeds(seeds: int, *, root_seed: int = DEFAULT_SEED,
              overrides: dict[str, Any] | None = None, horizon: int = DEFAULT_HORIZON,
              workers: int | None = None, progress: Progress | None = None,
              executor: Executor | None = None) -> list[SeedData]:
    """Replications 0..seeds-1, in parallel on a spawn process pool when workers > 1, or on
    ``executor`` when given (which is left running: calibration reuses one for every
    evaluation)."""
    from .runner import default_workers, process_pool

    workers = default_workers() if workers is None else max(1, int(workers))
    results: list[SeedData] = []
    if progress:
        progress(0, seeds)
    if executor is None and (workers == 1 or seeds == 1):
        for j in range(seeds):
            results.append(simulate(j, root_seed, overrides, horizon))
            if progress:
                progress(len(results), seeds)
    else:
        pool = executor or process_pool(min(workers, seeds))
        try:
            futures = [pool.submit(simulate, j, root_seed, overrides, horizon)
                       for j in range(seeds)]
            for fut in as_completed(futures):
                try:
                    results.append(fut.result())
                except Exception as err:
                    raise RuntimeError(f"a validation run failed: {type(err).__name__}: "
                                       f"{err}") from err
                if progress:
                    progress(len(results), seeds)
        finally:
            if executor is None:
                pool.shutdown(cancel_futures=True)
    return sorted(results, key=lambda d: d.replication)


def validate(*, seeds: int = 8, workers: int | None = None, out: Path | None = None,
             root_seed: int = DEFAULT_SEED, region: str = "default",
             overrides: dict[str, Any] | None = None, horizon: int | None = None,
             n_boot: int = DEFAULT_BOOTSTRAP, progress: Progress | None = None
             ) -> dict[str, Any]:
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
    params = {**base, **(overrides or {})}
    horizon = int(base_horizon if horizon is None else horizon)
    resolve({**params, "horizon_months": horizon})  # bad input raises before any run
    started = time.perf_counter()
    data = run_seeds(seeds, root_seed=root_seed, overrides=params, horizon=horizon,
                     workers=workers, progress=progress)
    simulated = time.perf_counter() - started
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(2**32 - 1,)))
    estimates = seed_bootstrap(data, STATISTICS, n_boot=n_boot, rng=rng)
    rows = target_rows(estimates)
    diagnostics = _diagnostics(data)
    elapsed = time.perf_counter() - started
    meta = {"command": "helixsim validate", "region": region, "overrides": params or None,
            "horizon_months": horizon, "seeds": seeds, "root_seed": root_seed,
            "workers": workers or "all cores", "bootstrap_replicates": n_boot,
            "simulation_elapsed_s": round(simulated, 2), "elapsed_s": round(elapsed, 2)}
    result: dict[str, Any] = {
        "targets": rows, "met": sum(r["met"] for r in rows), "total": len(rows),
        "all_met": all(r["met"] for r in rows), "diagnostics": diagnostics, "meta": meta,
    }
    if out is not None:
        from .runner import write_json

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        result["report"] = str(write_validation_report(out, data, rows, diagnostics, meta))
        result["json"] = str(out / "validation.json")
        write_json(result, out / "validation.json")
    return result


def _diagnostics(data: Sequence[SeedData]) -> dict[str, Any]:
    """Details behind the headline numbers (for the report and ``--json``)."""
    out: dict[str, Any] = {}
    try:
        fit = fit_power_law(_pool(data, "sizes"))
        out["firm_size_fit"] = {"alpha": fit.alpha, "xmin": fit.xmin, "n_tail": fit.n_tail,
                                "n": len(_pool(data, "sizes")), "ks": fit.ks}
    except NotEstimableError as err:
        out["firm_size_fit"] = {"reason": str(err)}
    try:
        vol = growth_volatility(_pool(data, "growth_size"), _pool(data, "growth_rate"))
        out["growth_fit"] = {"beta": vol.beta, "intercept": vol.intercept, "r2": vol.r2,
                             "observations": len(_pool(data, "growth_size"))}
    except NotEstimableError as err:
        out["growth_fit"] = {"reason": str(err)}
    innov = sum(d.innovating_10 for d in data)
    out["cis_cooperation_10_plus_employees"] = (
        sum(d.cooperating_10 for d in data) / innov if innov else None)
    out["innovating_firms"] = sum(d.innovating for d in data)
    out["cooperating_firms"] = sum(d.cooperating for d in data)
    out["new_firms"] = len(_pool(data, "birth"))
    out["innovations"] = len(_pool(data, "innovation_values"))
    deg = _pool(data, "degrees")
    out["degree"] = ({"firms": len(deg), "mean": float(deg.mean()),
                      "median": float(np.median(deg)), "p99": float(np.quantile(deg, 0.99)),
                      "max": int(deg.max()),
                      "p99_over_median": float(np.quantile(deg, 0.99) / np.median(deg))}
                     if len(deg) else {})
    out["retention_indicator_per_seed"] = [d.extra["retention_indicator"] for d in data]
    out["run_seconds_per_seed"] = [round(d.elapsed, 3) for d in data]
    return out


def cohort_table(data: Sequence[SeedData]) -> pd.DataFrame:
    """Retention at the horizon by graduation cohort, pooled over seeds."""
    frames = [d.cohorts for d in data if len(d.cohorts)]
    if not frames:
        return pd.DataFrame(columns=["graduation_month", "years_since_graduation",
                                     "graduates", "in_region", "retention"])
    t = pd.concat(frames).groupby("graduation_month", as_index=False)[
        ["graduates", "in_region"]].sum()
    horizon = min(d.horizon for d in data)
    t.insert(1, "years_since_graduation", (horizon - t["graduation_month"]) / 12.0)
    t["retention"] = t["in_region"] / t["graduates"]
    return t


# --- figures (matplotlib object API only) ---------------------------------------------------------

def _figure(width: float, height: float) -> Figure:
    from .report import DPI

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.add_subplot()
    return fig


def _style(ax: Any, xlabel: str, ylabel: str, title: str, legend: str = "best") -> None:
    """Labels, bold title, a small frameless legend at ``legend`` and a light grid."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontweight="bold")
    ax.legend(fontsize=8, frameon=False, loc=legend)
    ax.grid(True, color="0.9", linewidth=0.8, which="major")
    ax.set_axisbelow(True)


def ccdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values v, empirical P(X >= v))."""
    x = np.sort(np.asarray(x, dtype=float))
    v, counts = np.unique(x, return_counts=True)
    return v, (len(x) - np.concatenate(([0], np.cumsum(counts)[:-1]))) / len(x)


def size_ccdf_figure(data: Sequence[SeedData], target: Target) -> Figure:
    """Firm-size CCDF on log-log axes: per seed (grey), pooled (points), the fitted tail and the
    target slopes anchored at xmin."""
    fig = _figure(7.5, 5.0)
    ax = fig.axes[0]
    for d in data:
        v, p = ccdf(d.sizes)
        ax.step(v, p, where="post", color="0.75", linewidth=0.7)
    pooled = _pool(data, "sizes")
    v, p = ccdf(pooled)
    ax.plot(v, p, ".", color="#1f78b4", markersize=3, label=f"pooled, {len(data)} seeds")
    try:
        fit = fit_power_law(pooled)
    except NotEstimableError:
        fit = None
    if fit is not None:
        anchor = float(p[np.searchsorted(v, fit.xmin)])
        xs = np.geomspace(fit.xmin, v[-1], 50)
        shift = fit.xmin - 0.5 if fit.discrete else fit.xmin

        def line(a: float) -> np.ndarray:
            return anchor * ((xs - (0.5 if fit.discrete else 0.0)) / shift) ** -a
        ax.fill_between(xs, line(target.high), line(target.low), color="#33a02c", alpha=0.15,
                        linewidth=0, label=f"target α {target.low:g}–{target.high:g}")
        ax.plot(xs, line(1.06), color="#33a02c", linewidth=1.4, linestyle="--",
                label="α = 1.06 (Axtell 2001)")
        ax.plot(xs, line(fit.alpha), color="#c92a2a", linewidth=2.0,
                label=f"fit α = {fit.alpha:.2f} above xmin = {fit.xmin:g}")
        ax.axvline(fit.xmin, color="0.5", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _style(ax, "Firm size s (employees)", "P(S ≥ s)",
           "Firm-size distribution at the horizon", "lower left")
    return fig


def growth_figure(data: Sequence[SeedData], target: Target) -> Figure:
    """Growth-rate sd by size bin (log-log) with the fitted line and the target slopes."""
    fig = _figure(7.5, 5.0)
    ax = fig.axes[0]
    try:
        vol = growth_volatility(_pool(data, "growth_size"), _pool(data, "growth_rate"))
    except NotEstimableError as err:
        ax.text(0.5, 0.5, f"not estimable: {err}", ha="center", transform=ax.transAxes)
        return fig
    b = vol.bins
    used = b[b["used"]]
    ax.scatter(used["mean_size"], used["sd_growth"], s=12 + 60 * np.sqrt(used["n"] / used["n"]
                                                                            .max()),
               color="#1f78b4", zorder=3, label="size bins (area ∝ √firms)")
    rest = b[~b["used"]]
    if len(rest):
        ax.scatter(rest["mean_size"], rest["sd_growth"], s=10, facecolor="none",
                   edgecolor="0.5", label="bins with too few firms (not fitted)")
    xs = np.geomspace(used["mean_size"].min(), used["mean_size"].max(), 50)
    ax.plot(xs, np.exp(vol.intercept) * xs ** -vol.beta, color="#c92a2a", linewidth=2.0,
            label=f"fit β = {vol.beta:.3f} (r² = {vol.r2:.2f})")
    x0 = float(np.exp(np.log(used["mean_size"]).mean()))
    y0 = float(np.exp(vol.intercept) * x0 ** -vol.beta)
    ax.fill_between(xs, y0 * (xs / x0) ** -target.low, y0 * (xs / x0) ** -target.high,
                    color="#33a02c", alpha=0.15, linewidth=0,
                    label=f"target β {target.low:g}–{target.high:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _style(ax, "Mean start-of-year size in bin (employees)", "sd of annual log growth",
           "Growth-rate volatility against firm size")
    return fig


def survival_figure(data: Sequence[SeedData]) -> Figure:
    """Kaplan-Meier survival of new firms (pooled, and per seed) with the 1- and 5-year targets."""
    fig = _figure(7.5, 4.8)
    ax = fig.axes[0]

    for d in data:
        c = pooled_survival([d])
        if len(c):
            ax.step(np.r_[0, c["time"]] / 12, np.r_[1, c["survival"]], where="post",
                    color="0.75", linewidth=0.7)
    c = pooled_survival(data)
    if len(c):
        ax.step(np.r_[0, c["time"]] / 12, np.r_[1, c["survival"]], where="post",
                color="#1f78b4", linewidth=2.0, label=f"Kaplan-Meier, pooled {len(data)} seeds")
    for key, year in (("survival_1y", 1), ("survival_5y", 5)):
        t = TARGET_BY_KEY[key]
        ax.plot([year, year], [t.low, t.high], color="#33a02c", linewidth=6, alpha=0.6,
                solid_capstyle="butt", label="target ranges (BLS, Eurostat)"
                if year == 1 else None)
    ax.set_xlim(0, max(d.horizon for d in data) / 12)
    ax.set_ylim(0, 1.02)
    _style(ax, "Years since birth", "Share of new firms still alive",
           "Survival of firms born during the run")
    return fig


def concentration_figure(data: Sequence[SeedData]) -> Figure:
    """Share of innovation value held by the top x% of innovations, with the 10% mark."""
    fig = _figure(6.5, 4.8)
    ax = fig.axes[0]
    v = np.sort(_pool(data, "innovation_values"))[::-1]
    if len(v) and v.sum() > 0:
        x = np.arange(1, len(v) + 1) / len(v)
        y = np.cumsum(v) / v.sum()
        ax.plot(np.r_[0, x], np.r_[0, y], color="#1f78b4", linewidth=2.0,
                label=f"{len(v):,} innovations, pooled seeds")
        share = top_share(v, 0.1)
        ax.plot([0.1], [share], "o", color="#c92a2a", zorder=3,
                label=f"top 10% hold {share:.1%}")
    ax.plot([0, 1], [0, 1], color="0.6", linewidth=0.8, linestyle=":", label="equal values")
    ax.fill_between([0.095, 0.105], [0.5, 0.5], [1.0, 1.0], color="#33a02c", alpha=0.35,
                    linewidth=0, label="target: top 10% > 50%")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _style(ax, "Share of innovations, largest first", "Share of total innovation value",
           "Concentration of innovation value", "lower right")
    return fig


def degree_figure(data: Sequence[SeedData]) -> Figure:
    """Frequency of collaboration degrees (log y) with a geometric reference of the same mean."""
    fig = _figure(6.5, 4.5)
    ax = fig.axes[0]
    deg = _pool(data, "degrees")
    if len(deg):
        k, counts = np.unique(deg, return_counts=True)
        ax.bar(k, counts / len(deg), color="#1f78b4", width=0.7,
               label=f"{len(deg):,} firms with a university project")
        p = 1.0 / deg.mean()
        ks = np.arange(1, k.max() + 1)
        ax.plot(ks, p * (1 - p) ** (ks - 1), "o--", color="#c92a2a", markersize=4,
                linewidth=1.0, label="geometric, same mean (thin-tailed benchmark)")
        ax.set_yscale("log")
    _style(ax, "University projects ever started by the firm (degree)",
           "Share of collaborating firms", "Collaboration degree distribution")
    return fig


def retention_figure(cohorts: pd.DataFrame) -> Figure:
    """Share of each graduation cohort still in the region at the horizon, with the target."""
    fig = _figure(6.5, 4.2)
    ax = fig.axes[0]
    t = TARGET_BY_KEY["graduate_retention"]
    if len(cohorts):
        ax.bar(cohorts["years_since_graduation"], cohorts["retention"], width=0.7,
               color="#ff7f00", label="cohort retention at the horizon")
    ax.axhspan(t.low, t.high, color="#33a02c", alpha=0.25, zorder=3,
               label=f"target {t.low:.0%}–{t.high:.0%}")
    ax.set_ylim(0, 1)
    _style(ax, "Years since graduation at the horizon", "Share of the cohort in the region",
           "Graduate retention by cohort", "lower right")
    return fig


# --- report ------------------------------------------------------------------------------------

METHODS = "\n\n".join([
    "**Rule.** A target is met (*pass*) when the simulated point estimate lies inside the target "
    "range, bounds included; *fail* otherwise; *n/a* when the runs cannot give the statistic "
    "(the note says why), which counts as not met.",
    "**Interval.** The 95% interval is a percentile bootstrap over seeds: whole seeds are "
    "resampled with replacement and every estimator is re-run on the pooled resample (the "
    "xmin search included). It describes the model's run-to-run variation, not uncertainty "
    "about the target; with few seeds it is on the narrow side.",
    "**Estimators.**",
    "\n".join([
        "- *Firm size tail α*: employees of firms alive at the horizon, pooled over seeds. "
        "Maximum-likelihood (Hill) estimate of α in P(S ≥ s) ∝ s^−α above xmin, with the "
        "discrete approximation xmin − ½ (Clauset, Shalizi & Newman 2009, eq. 3.7); xmin "
        "minimises the Kolmogorov–Smirnov distance between the tail and the fit (at least 50 "
        "firms in the tail).",
        "- *Growth volatility β*: annual log growth of employees of firms alive over a whole "
        "year (months 0–12, 12–24, ...) against the start-of-year size. Sizes are binned in "
        "powers of two; in every bin with 30 or more firm-years the standard deviation of "
        "growth is taken against the bin's mean size, and β is minus the OLS slope of log sd "
        "on log mean size (Stanley et al. 1996).",
        "- *New-firm survival*: firms born during the run (entrants, graduate start-ups, "
        "spin-offs); Kaplan–Meier estimate of P(age at exit > 12 months) and (> 60 months), "
        "right-censored at the horizon.",
        f"- *Co-operation with universities*: among firms alive at the horizon that innovated "
        f"in the last {CIS_WINDOW} months (the CIS reference period), the share with an active "
        "university project in the same window. The CIS surveys firms with 10+ employees; that "
        "variant is under Details.",
        "- *Graduate retention*: graduates since month 0 who have not left the region at the "
        "horizon, over all graduates (the `graduate_retention_rate` indicator, pooled); the "
        "cohort table splits it by years since graduation.",
        "- *Innovation value*: share of the summed value of all innovations (annualised rise "
        "in value added) held by the largest ⌈10%⌉ of them.",
        "- *Collaboration degree*: university projects a firm ever started, over firms with at "
        "least one. Right skew: sample skewness g1 > 0. Heavy tail: coefficient of variation "
        "> 1, more dispersed than an exponential (a geometric degree distribution on 1, 2, ... "
        "has CV < 1). No power-law fit: degrees span only a few integers.",
    ]),
])


def write_validation_report(out: Path, data: Sequence[SeedData], rows: list[dict[str, Any]],
                            diagnostics: dict[str, Any], meta: dict[str, Any]) -> Path:
    from . import report

    table = table_frame(rows)
    met = sum(r["met"] for r in rows)
    failing = [r for r in rows if not r["met"]]
    summary = (f"**{met} of {len(rows)} targets met.**" + (
        " Not met: " + "; ".join(
            f"{r['fact']} ({r['simulated']}, target {r['target']})" for r in failing) + "."
        if failing else ""))
    per_seed = pd.DataFrame({r["key"]: r["per_seed"] for r in rows})
    per_seed.insert(0, "replication", [d.replication for d in data])
    fit = diagnostics.get("firm_size_fit", {})
    growth = diagnostics.get("growth_fit", {})
    detail = []
    if "xmin" in fit:
        detail.append(f"- Firm-size fit: α = {fit['alpha']:.3f} above xmin = {fit['xmin']:g} "
                      f"employees ({fit['n_tail']:,} of {fit['n']:,} living firms, KS distance "
                      f"{fit['ks']:.3f}).")
    if "beta" in growth:
        detail.append(f"- Growth fit: β = {growth['beta']:.3f}, r² = {growth['r2']:.3f} over "
                      f"{growth['observations']:,} firm-years.")
    coop10 = diagnostics.get("cis_cooperation_10_plus_employees")
    detail.append(f"- Co-operation: {diagnostics['cooperating_firms']:,} of "
                  f"{diagnostics['innovating_firms']:,} innovating firms; among firms with 10+ "
                  "employees (the CIS population): "
                  + (f"{coop10:.1%}." if coop10 is not None else "n/a."))
    deg = diagnostics.get("degree") or {}
    if deg:
        detail.append(f"- Degree: {deg['firms']:,} firms, mean {deg['mean']:.2f}, median "
                      f"{deg['median']:g}, 99th percentile {deg['p99']:g}, max {deg['max']}; "
                      f"p99/median {deg['p99_over_median']:.2f}.")
    detail.append(f"- {diagnostics['new_firms']:,} firms born during the runs; "
                  f"{diagnostics['innovations']:,} innovations.")
    cohorts = cohort_table(data)
    sections = [
        report.Section("Targets", summary, tables=[("Calibration targets of MODEL.md against "
                                                    "the simulated region", table)]),
        report.Section("Method", METHODS),
        report.Section("Details", "\n".join(detail),
                       tables=[("Per-seed estimates", per_seed),
                               ("Graduate retention at the horizon by cohort (pooled)",
                                cohorts)]),
        report.Section("Figures", "", figures=[
            ("firm_size_ccdf.png", "Firm-size CCDF (log-log) against the target slope",
             size_ccdf_figure(data, TARGET_BY_KEY["firm_size_alpha"])),
            ("growth_volatility.png", "Growth-rate volatility against size, fitted line",
             growth_figure(data, TARGET_BY_KEY["growth_beta"])),
            ("survival.png", "Kaplan-Meier survival of new firms with the 1- and 5-year targets",
             survival_figure(data)),
            ("innovation_concentration.png", "Concentration of innovation value",
             concentration_figure(data)),
            ("degree_distribution.png", "Collaboration degree distribution",
             degree_figure(data)),
            ("retention_cohorts.png", "Graduate retention by cohort", retention_figure(cohorts)),
        ]),
    ]
    return report.write_report(out, "Validation against the calibration targets", sections,
                               {**meta, **report.environment_meta()})
