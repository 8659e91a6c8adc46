"""Statistics of paired scenario runs: paired-t intervals, comparisons, dividend, Shapley.

Runs of different scenarios on the same replication index share their random numbers, so
their outcomes are compared pair by pair: the difference per replication has a much smaller
variance than either outcome (common random numbers). Intervals are paired-t intervals;
comparisons of several scenarios against one baseline use a Bonferroni correction.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from simulation.parameters import CHANNELS

# Components of the dividend: (indicator at the end of the run, helix it speaks for, meaning).
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    ("welfare", "region", "W: discounted value added net of link outlays"),
    ("value_added", "industry", "firms' value added, last month"),
    ("jobs", "society", "jobs"),
    ("startups_alive", "industry", "start-ups and spin-offs alive"),
    ("university_knowledge", "university", "university knowledge"),
    ("publications_total", "university", "publications"),
    ("alumni_employed", "students", "graduates employed in the region"),
    ("graduate_skill", "students", "skill of graduates working in the region"),
    ("gov_net_fiscal", "government", "government net fiscal position"),
)


@dataclass(frozen=True)
class Interval:
    """Mean of paired differences with its confidence interval."""

    mean: float
    low: float
    high: float
    sd: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    def relative_to(self, reference: float) -> tuple[float, float, float]:
        """(mean, low, high) divided by |reference| (nan if the reference is 0)."""
        if reference == 0 or not math.isfinite(reference):
            return (math.nan, math.nan, math.nan)
        r = abs(reference)
        return (self.mean / r, self.low / r, self.high / r)


def paired_interval(diff: Sequence[float] | np.ndarray, *, confidence: float = 0.95,
                    comparisons: int = 1) -> Interval:
    """Paired-t interval of the mean difference, Bonferroni-corrected for ``comparisons``.

    With identical runs (all differences 0) the interval is exactly [0, 0]; with one
    replication the bounds are nan.
    """
    d = np.asarray(diff, dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n)
    sd = float(d.std(ddof=1))
    alpha = (1.0 - confidence) / max(comparisons, 1)
    t = float(stats.t.ppf(1.0 - alpha / 2.0, n - 1))
    half = t * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, sd, n)


def seeds_needed(sd: float, mean: float, precision: float, *, confidence: float = 0.95,
                 comparisons: int = 1, start: int = 2) -> int:
    """Smallest n whose t-interval half-width is at most ``precision`` x |mean|.

    ``sd`` is the standard deviation of one difference (paired) or, for independent runs,
    sqrt(var_a + var_b). Solved by iteration because t depends on n.
    """
    if not (math.isfinite(sd) and math.isfinite(mean)) or mean == 0:
        return -1
    target = precision * abs(mean)
    alpha = (1.0 - confidence) / max(comparisons, 1)
    limit = 10_000_000

    def enough(n: int) -> bool:
        return float(stats.t.ppf(1.0 - alpha / 2.0, n - 1)) * sd / math.sqrt(n) <= target

    # The half-width falls with n: grow by 10% steps until it is small enough, then bisect
    # back, so the answer is the smallest such n and not the first step past it.
    lo = hi = max(start, 2)
    if enough(hi):
        return hi
    while not enough(hi):
        if hi >= limit:
            return limit
        lo, hi = hi, min(max(hi + 1, int(hi * 1.1)), limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return hi


def finals(summary: pd.DataFrame, label: str, indicator: str) -> pd.Series:
    """Final values of an indicator for one label, indexed by replication."""
    rows = summary.loc[summary["label"] == label]
    return rows.set_index("replication")[indicator].sort_index()


def compare_table(summary: pd.DataFrame, baseline: str, others: Sequence[str],
                  indicators: Sequence[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """Each other label against the baseline on paired replications, for each indicator.

    Intervals are Bonferroni-corrected over the number of comparisons (labels).
    """
    rows = []
    for label in others:
        for ind in indicators:
            a, b = finals(summary, baseline, ind).align(finals(summary, label, ind),
                                                         join="inner")
            iv = paired_interval(b - a, confidence=confidence, comparisons=len(others))
            rel = iv.relative_to(float(a.mean()) if len(a) else math.nan)
            rows.append({"scenario": label, "indicator": ind, "baseline_mean": float(a.mean()),
                         "scenario_mean": float(b.mean()), "difference": iv.mean,
                         "low": iv.low, "high": iv.high, "relative": rel[0],
                         "rel_low": rel[1], "rel_high": rel[2], "n": iv.n})
    return pd.DataFrame(rows)


def dividend_table(summary: pd.DataFrame, scenario: str, siloed: str, *,
                   confidence: float = 0.95) -> pd.DataFrame:
    """The dividend D = scenario - siloed for W and each component, with paired intervals."""
    rows = []
    for ind, helix, meaning in COMPONENTS:
        s, c = finals(summary, siloed, ind).align(finals(summary, scenario, ind), join="inner")
        iv = paired_interval(c - s, confidence=confidence)
        rel = iv.relative_to(float(s.mean()) if len(s) else math.nan)
        rows.append({"component": meaning, "indicator": ind, "helix": helix,
                     "scenario_mean": float(c.mean()), "siloed_mean": float(s.mean()),
                     "dividend": iv.mean, "low": iv.low, "high": iv.high,
                     "relative": rel[0], "rel_low": rel[1], "rel_high": rel[2], "n": iv.n})
    return pd.DataFrame(rows)


def configurations(n: int = len(CHANNELS)) -> list[tuple[bool, ...]]:
    """All 2^n on/off combinations of the channels, all-closed first."""
    return list(itertools.product((False, True), repeat=n))


def shapley(values: Mapping[tuple[bool, ...], np.ndarray]) -> np.ndarray:
    """Exact Shapley values of each player, per replication: shape (players, replications).

    ``values[config]`` is the outcome with the players marked True switched on (one value per
    replication). The values add up to v(all) - v(none) for every replication (efficiency).
    """
    n = len(next(iter(values)))
    fact = [math.factorial(k) for k in range(n + 1)]
    phi = np.zeros((n, len(np.atleast_1d(next(iter(values.values()))))))
    for config in itertools.product((False, True), repeat=n):
        size = sum(config)
        for i in range(n):
            if config[i]:
                continue
            with_i = (*config[:i], True, *config[i + 1:])
            weight = fact[size] * fact[n - size - 1] / fact[n]
            phi[i] += weight * (np.asarray(values[with_i], dtype=float)
                                - np.asarray(values[config], dtype=float))
    return phi


def shapley_table(summary: pd.DataFrame, labels: Mapping[tuple[bool, ...], str],
                  indicator: str = "welfare", *, confidence: float = 0.95,
                  channels: Sequence[str] = CHANNELS) -> pd.DataFrame:
    """Shapley shares of the dividend of ``indicator`` over the channels, with intervals.

    ``labels[config]`` is the label of the runs with that channel configuration.
    """
    series = {cfg: finals(summary, lab, indicator) for cfg, lab in labels.items()}
    common = sorted(set.intersection(*(set(s.index) for s in series.values())))
    values = {cfg: s.loc[common].to_numpy() for cfg, s in series.items()}
    phi = shapley(values)
    total = phi.sum(axis=0)
    rows = []
    for i, name in enumerate(channels):
        iv = paired_interval(phi[i], confidence=confidence)
        rows.append({"channel": name, "mean": iv.mean, "low": iv.low, "high": iv.high,
                     "share": iv.mean / total.mean() if total.mean() != 0 else math.nan,
                     "n": iv.n})
    return pd.DataFrame(rows)
