"""The calibration targets of the default region: stylized facts with their ranges and sources,
and the rule that says whether an estimate meets one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .estimators import Estimate


@dataclass(frozen=True)
class Target:
    """One calibration target of the ODD: the fact, its range and source."""

    key: str
    fact: str
    target: str          # the range as the ODD states it
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


def format_value(target: Target, value: float) -> str:
    """``value`` as the target's tables show it: a percentage or three decimals; 'n/a'."""
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
            "simulated": format_value(t, e.value),
            "interval": (f"{format_value(t, e.low)} – {format_value(t, e.high)}"
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
