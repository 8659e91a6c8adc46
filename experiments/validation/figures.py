"""The validation report: one figure per stylized fact (matplotlib object API only) and the
report writer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.report import Section, environment_meta, new_figure, style_axes, write_report

from .estimators import NotEstimableError, ccdf, fit_power_law, growth_volatility, top_share
from .observations import CIS_WINDOW, SeedData, cohort_table, pool, pooled_survival
from .targets import TARGET_BY_KEY, Target, table_frame


def size_ccdfnew_figure(data: Sequence[SeedData], target: Target) -> Figure:
    """Firm-size CCDF on log-log axes: per seed (grey), pooled (points), the fitted tail and the
    target slopes anchored at xmin."""
    fig = new_figure(7.5, 5.0)
    ax = fig.axes[0]
    for d in data:
        v, p = ccdf(d.sizes)
        ax.step(v, p, where="post", color="0.75", linewidth=0.7)
    pooled = pool(data, "sizes")
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
    style_axes(ax, "Firm size s (employees)", "P(S ≥ s)",
           "Firm-size distribution at the horizon", "lower left")
    return fig


def growthnew_figure(data: Sequence[SeedData], target: Target) -> Figure:
    """Growth-rate sd by size bin (log-log) with the fitted line and the target slopes."""
    fig = new_figure(7.5, 5.0)
    ax = fig.axes[0]
    try:
        vol = growth_volatility(pool(data, "growth_size"), pool(data, "growth_rate"))
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
    style_axes(ax, "Mean start-of-year size in bin (employees)", "sd of annual log growth",
           "Growth-rate volatility against firm size")
    return fig


def survivalnew_figure(data: Sequence[SeedData]) -> Figure:
    """Kaplan-Meier survival of new firms (pooled, and per seed) with the 1- and 5-year targets."""
    fig = new_figure(7.5, 4.8)
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
    style_axes(ax, "Years since birth", "Share of new firms still alive",
           "Survival of firms born during the run")
    return fig


def concentrationnew_figure(data: Sequence[SeedData]) -> Figure:
    """Share of innovation value held by the top x% of innovations, with the 10% mark."""
    fig = new_figure(6.5, 4.8)
    ax = fig.axes[0]
    v = np.sort(pool(data, "innovation_values"))[::-1]
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
    style_axes(ax, "Share of innovations, largest first", "Share of total innovation value",
           "Concentration of innovation value", "lower right")
    return fig


def degreenew_figure(data: Sequence[SeedData]) -> Figure:
    """Frequency of collaboration degrees (log y) with a geometric reference of the same mean."""
    fig = new_figure(6.5, 4.5)
    ax = fig.axes[0]
    deg = pool(data, "degrees")
    if len(deg):
        k, counts = np.unique(deg, return_counts=True)
        ax.bar(k, counts / len(deg), color="#1f78b4", width=0.7,
               label=f"{len(deg):,} firms with a university project")
        p = 1.0 / deg.mean()
        ks = np.arange(1, k.max() + 1)
        ax.plot(ks, p * (1 - p) ** (ks - 1), "o--", color="#c92a2a", markersize=4,
                linewidth=1.0, label="geometric, same mean (thin-tailed benchmark)")
        ax.set_yscale("log")
    style_axes(ax, "University projects ever started by the firm (degree)",
           "Share of collaborating firms", "Collaboration degree distribution")
    return fig


def retentionnew_figure(cohorts: pd.DataFrame) -> Figure:
    """Share of each graduation cohort still in the region at the horizon, with the target."""
    fig = new_figure(6.5, 4.2)
    ax = fig.axes[0]
    t = TARGET_BY_KEY["graduate_retention"]
    if len(cohorts):
        ax.bar(cohorts["years_since_graduation"], cohorts["retention"], width=0.7,
               color="#ff7f00", label="cohort retention at the horizon")
    ax.axhspan(t.low, t.high, color="#33a02c", alpha=0.25, zorder=3,
               label=f"target {t.low:.0%}–{t.high:.0%}")
    ax.set_ylim(0, 1)
    style_axes(ax, "Years since graduation at the horizon", "Share of the cohort in the region",
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
        f"- *Co-operation with universities*: among firms alive at the horizon with 10 or more "
        f"employees (the population the CIS surveys) that innovated in the last {CIS_WINDOW} "
        "months (the CIS reference period), the share with an active university project in "
        "the same window. The share over innovating firms of every size is under Details.",
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
    coop_all = diagnostics.get("cis_cooperation_all_sizes")
    detail.append(f"- Co-operation: {diagnostics['cooperating_firms']:,} of "
                  f"{diagnostics['innovating_firms']:,} innovating firms with 10+ employees "
                  f"(the CIS population); over innovating firms of every size "
                  f"({diagnostics['cooperating_firms_all_sizes']:,} of "
                  f"{diagnostics['innovating_firms_all_sizes']:,}): "
                  + (f"{coop_all:.1%}." if coop_all is not None else "n/a."))
    deg = diagnostics.get("degree") or {}
    if deg:
        detail.append(f"- Degree: {deg['firms']:,} firms, mean {deg['mean']:.2f}, median "
                      f"{deg['median']:g}, 99th percentile {deg['p99']:g}, max {deg['max']}; "
                      f"p99/median {deg['p99_over_median']:.2f}.")
    detail.append(f"- {diagnostics['new_firms']:,} firms born during the runs; "
                  f"{diagnostics['innovations']:,} innovations.")
    cohorts = cohort_table(data)
    sections = [
        Section("Targets", summary, tables=[("Calibration targets of the ODD against "
                                                    "the simulated region", table)]),
        Section("Method", METHODS),
        Section("Details", "\n".join(detail),
                       tables=[("Per-seed estimates", per_seed),
                               ("Graduate retention at the horizon by cohort (pooled)",
                                cohorts)]),
        Section("Figures", "", figures=[
            ("firm_size_ccdf.png", "Firm-size CCDF (log-log) against the target slope",
             size_ccdfnew_figure(data, TARGET_BY_KEY["firm_size_alpha"])),
            ("growth_volatility.png", "Growth-rate volatility against size, fitted line",
             growthnew_figure(data, TARGET_BY_KEY["growth_beta"])),
            ("survival.png", "Kaplan-Meier survival of new firms with the 1- and 5-year targets",
             survivalnew_figure(data)),
            ("innovation_concentration.png", "Concentration of innovation value",
             concentrationnew_figure(data)),
            ("degree_distribution.png", "Collaboration degree distribution",
             degreenew_figure(data)),
            ("retention_cohorts.png", "Graduate retention by cohort", retentionnew_figure(cohorts)),
        ]),
    ]
    return write_report(out, "Validation against the calibration targets", sections,
                               {**meta, **environment_meta()})
