"""What one run of the region gives validation (``SeedData``, observed by the run task
``observe``), and the target statistics on the pooled data of several runs (``STATISTICS``)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .estimators import (
    NotEstimableError,
    Statistic,
    annual_growth,
    coefficient_of_variation,
    fit_power_law,
    growth_sums,
    kaplan_meier_counts,
    skewness,
    survival_at,
    survival_data,
    top_share,
    volatility_from_sums,
)

if TYPE_CHECKING:
    from experiments.runner import RunSpec

DEFAULT_HORIZON = 120
CIS_WINDOW = 36            # months: the Community Innovation Survey's three-year window


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



def observe(spec: RunSpec) -> SeedData:
    """The batch runner's task for validation: run ``spec`` and return its ``SeedData``.

    The model is stepped 12 months at a time so that the employees of every firm row are
    copied at months 0, 12, 24, ... for the growth-rate panel.
    """
    from simulation.model import EcosystemModel

    started = time.perf_counter()
    horizon = int(spec.horizon)
    model = EcosystemModel(rng=spec.seed(), parameters=spec.resolved)
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
        replication=spec.replication, horizon=int(horizon),
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
               "firms_alive": int(alive.sum()),
               # the monthly indicators, for the command's per-year tables (export.finish)
               "steps": model.dataframe().reset_index()},
    )


def pool(data: Sequence[SeedData], name: str) -> np.ndarray:
    """The array ``name`` of every run of ``data``, concatenated."""
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


STATISTICS: dict[str, Statistic] = {
    "firm_size_alpha": lambda data: fit_power_law(pool(data, "sizes")).alpha,
    "growth_beta": lambda data: volatility_from_sums(
        np.sum([d.growth_bins for d in data], axis=0)).beta,
    "survival_1y": lambda data: _survival(data, 12),
    "survival_5y": lambda data: _survival(data, 60),
    # The CIS samples enterprises with 10 or more employees: measure on that population.
    "cis_cooperation": lambda data: _ratio(sum(d.cooperating_10 for d in data),
                                           sum(d.innovating_10 for d in data),
                                           "living firm with 10+ employees innovated in the "
                                           f"last {CIS_WINDOW} months"),
    "graduate_retention": lambda data: _ratio(sum(d.graduates_in_region for d in data),
                                              sum(d.graduates for d in data),
                                              "graduate yet (the first cohort graduates in "
                                              "June, month 10)"),
    "innovation_top10": lambda data: top_share(pool(data, "innovation_values"), 0.1),
    "degree_skewness": lambda data: skewness(pool(data, "degrees")),
    "degree_cv": lambda data: coefficient_of_variation(pool(data, "degrees")),
}




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

