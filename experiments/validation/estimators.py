"""Estimators of the stylized facts, on plain arrays, and the bootstrap over seeds.

The methods and their sources are described in docs/validation.md; each function's docstring
says what it computes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_BOOTSTRAP = 1000


class NotEstimableError(ValueError):
    """A statistic that the data cannot give; the message says why."""


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



def ccdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values v, empirical P(X >= v))."""
    x = np.sort(np.asarray(x, dtype=float))
    v, counts = np.unique(x, return_counts=True)
    return v, (len(x) - np.concatenate(([0], np.cumsum(counts)[:-1]))) / len(x)


@dataclass
class Estimate:
    """A pooled point estimate with its seed-bootstrap 95% interval, or the reason for none."""

    value: float
    low: float
    high: float
    per_seed: list[float]
    reason: str = ""


Statistic = Callable[[Sequence[Any]], float]  # pooled data of some seeds -> one value


def estimate_or_reason(statistic: Statistic, data: Sequence[Any]) -> tuple[float, str]:
    """(value, "") of ``statistic`` on ``data``, or (NaN, why) when it cannot be estimated."""
    try:
        value = float(statistic(data))
    except NotEstimableError as err:
        return math.nan, str(err)
    return (value, "") if math.isfinite(value) else (math.nan, "not finite")


def seed_bootstrap(data: Sequence[Any], statistics: dict[str, Statistic], *,
                   n_boot: int = DEFAULT_BOOTSTRAP, rng: np.random.Generator | None = None,
                   confidence: float = 0.95) -> dict[str, Estimate]:
    """Every statistic on the pooled seeds, with a percentile bootstrap interval over seeds.

    Each bootstrap replicate draws len(data) seeds with replacement (the same draw for every
    statistic) and re-runs the estimators on the pooled resample. Replicates where a statistic
    cannot be estimated are dropped; with fewer than 90% left its interval is NaN.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    k = len(data)
    points = {key: estimate_or_reason(stat, data) for key, stat in statistics.items()}
    per_seed = {key: [estimate_or_reason(stat, [d])[0] for d in data]
                for key, stat in statistics.items()}
    reps = {key: np.full(n_boot, math.nan) for key in statistics}
    for b in range(n_boot):
        sample = [data[i] for i in rng.integers(0, k, k)]
        for key, stat in statistics.items():
            if math.isfinite(points[key][0]):
                reps[key][b] = estimate_or_reason(stat, sample)[0]
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

