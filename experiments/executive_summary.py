"""Executive summaries of the scenario reports, in plain words generated from the numbers.

Each function takes the tables a command computed and returns a ``Summary``: a few paragraphs
(Markdown), warnings, and the assumptions the estimate rests on. The words follow the
intervals, not the means: an interval that includes zero is "not distinguishable from zero"
and draws a warning that the policy shows no discernible effect; a negative dividend says that
integration costs the region.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .formatting import (
    MCU_DEFINITION,
    distinguishable_from_zero,
    format_indicator,
    format_indicator_interval,
    format_interval,
    format_number,
    indicator_label,
    indicator_unit,
    is_share,
)

HEADLINE = "welfare"
HEADLINE_WORDS = "regional welfare W, the discounted value added,"
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten")
# The indicators a run report's summary names, in this order.
RUN_HEADLINES = ("value_added", "jobs", "firms_alive", "startups_alive",
                 "graduate_retention_rate", "active_projects")
FEW_SEEDS = 5


@dataclass
class Summary:
    """An executive summary: ``paragraphs`` and ``warnings`` (Markdown) and ``assumptions``
    (one Markdown line each, shown as a list)."""

    paragraphs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The summary as Markdown: warnings first in bold, then the text and assumptions."""
        parts = [f"**Warning: {w}**" for w in self.warnings] + list(self.paragraphs)
        if self.assumptions:
            parts.append("The estimate rests on these assumptions:")
            parts.append("\n".join(f"- {a}" for a in self.assumptions))
        return "\n\n".join(parts)


def horizon_words(months: int) -> str:
    """120 -> "ten years", 36 -> "three years", 18 -> "18 months", 12 -> "one year"."""
    months = int(months)
    if months <= 0:
        raise ValueError(f"horizon_words: expected a positive number of months, got {months}")
    if months % 12:
        return f"{months} months"
    years = months // 12
    word = _NUMBER_WORDS[years] if years < len(_NUMBER_WORDS) else str(years)
    return f"{word} year{'s' if years != 1 else ''}"


def channel_words(name: str) -> str:
    """``student_immersion`` -> "student immersion"."""
    return str(name).replace("_", " ")


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _with_unit(indicator: str, text: str) -> str:
    """The unit after a number, where it reads as one ("MCU", "persons"; not "%" or a scale
    like "skill [0, 1]")."""
    unit = indicator_unit(indicator)
    said = unit.lower() in indicator_label(indicator, unit=False).lower()  # "firms alive"
    return f"{text} {unit}" if unit and unit != "%" and "[" not in unit and not said else text


def _effect(row: Mapping[str, Any], value: str = "difference") -> tuple[bool | None, str]:
    """(verdict, "+2.1% [+1.7%, +2.5%] (+37,320 [+30,011, +44,629] MCU)") of a row with
    ``value``/low/high and relative/rel_low/rel_high; the verdict is
    ``distinguishable_from_zero`` of the absolute interval. Shares give percentage points
    only (a relative change of a share reads as a share)."""
    ind = str(row["indicator"])
    absolute, _ = format_indicator_interval(ind, row[value], row["low"], row["high"],
                                            difference=True)
    absolute = _with_unit(ind, absolute)
    verdict = distinguishable_from_zero(row["low"], row["high"])
    if _finite(row.get("relative")) and not is_share(ind):
        rel = format_interval(row["relative"], row.get("rel_low"), row.get("rel_high"),
                              percent=True, signed=True)
        return verdict, f"{rel} ({absolute})"
    return verdict, absolute


def _sentence(lead: str, subject: str, what: str, verdict: bool | None, mean: float,
              text: str) -> str:
    """"{lead}, {subject} raises {what} by {text}." and its variants for a fall, an interval
    that includes zero and no interval."""
    if verdict is None:
        return (f"{lead}, {subject} changes {what} by {text}; with fewer than two seeds there "
                "is no interval, so it cannot be told from zero.")
    if not verdict:
        return (f"{lead}, {subject} changes {what} by {text}, which is **not distinguishable "
                "from zero**.")
    if mean > 0:
        return f"{lead}, {subject} raises {what} by {text}."
    return f"{lead}, {subject} lowers {what.rstrip(',')}: {text}."


def _other_effects(rows: pd.DataFrame, value: str, limit: int = 3) -> str:
    """A sentence on the components (other than W) clear of zero, largest first."""
    clear = []
    for _, row in rows.iterrows():
        if row["indicator"] == HEADLINE:
            continue
        verdict, text = _effect(row, value)
        name = indicator_label(str(row["indicator"]), unit=False)
        size = abs(float(row["relative"])) if _finite(row.get("relative")) else 0.0
        if verdict:
            clear.append((size, name, text))
    clear.sort(key=lambda c: -c[0])
    parts = []
    if clear:
        shown = "; ".join(f"{name.lower()} {text}" for _, name, text in clear[:limit])
        more = f" (and {len(clear) - limit} more)" if len(clear) > limit else ""
        parts.append(f"Other effects clear of zero: {shown}{more}.")
    return " ".join(parts)


def _seed_assumptions(seeds: int, command: str, name: str) -> list[str]:
    out = [f"{seeds} paired seeds (common random numbers: every scenario sees the same "
           "random draws); the intervals are 95% intervals of the mean over those seeds and "
           "show chance alone, with every parameter at the scenario's value. Parameter "
           f"uncertainty is not in them: `helixsim {command} {name} --uncertainty N` adds it."]
    if seeds < FEW_SEEDS:
        out.append(f"Only {seeds} seeds: the intervals are rough; use --seeds 8 or more "
                   "before quoting a number.")
    return out


_COMMON = ("Many behavioural effect sizes are assumed rather than measured (marked "
           "\"Assumed\", with a plausible range, in the parameter table: `helixsim params`).")


def _no_effect(subject: str, seeds: int, *, plural: bool = False) -> str:
    shows, its = ("show", "their intervals include") if plural else \
        ("shows", "its interval includes")
    return (f"{subject} {shows} no discernible effect on W. With {seeds} seeds {its} zero; "
            "about four times the seeds halve an interval. If it still includes zero, the "
            "effect is too small to count on at this scale.")


def dividend_summary(name: str, table: pd.DataFrame, *, seeds: int, months: int,
                     shapley: pd.DataFrame | None = None,
                     parameters: Mapping[str, Any] | None = None) -> Summary:
    """The summary of ``helixsim dividend``: W of the scenario minus W of the same region
    siloed (``analysis.dividend_table``), the other components, the Shapley channels
    (``analysis.shapley_table``) when given, and the assumptions."""
    rows = table.set_index("indicator", drop=False)
    if HEADLINE not in rows.index:
        raise ValueError("dividend_summary: the table has no welfare row")
    head = rows.loc[HEADLINE]
    verdict, text = _effect(head, "dividend")
    subject = f"**{name}**"
    first = _sentence(f"Over {horizon_words(months)}, against the same region with its "
                      "helices siloed", subject, HEADLINE_WORDS, verdict,
                      float(head["dividend"]), text)
    if verdict and float(head["dividend"]) < 0:
        first += (" **Integration costs the region**: closing the channels between the "
                  "helices would leave it better off.")
    summary = Summary(paragraphs=[first])
    if verdict is False:
        summary.warnings.append(_no_effect(f"Integration in {name}", seeds))
    others = _other_effects(table, "dividend")
    if others:
        summary.paragraphs.append(others)
    if shapley is not None and not shapley.empty:
        summary.paragraphs.append(_channels_sentence(shapley, verdict,
                                                     float(head["dividend"])))
    p = parameters or {}
    summary.assumptions = [
        *_seed_assumptions(seeds, "dividend", name),
        "The siloed region is the same region with the same seeds and the same public money, "
        "with every channel between industry, university and government closed.",
        "W adds up value added from month "
        f"{format_number(p.get('burn_in_months', 0))} on, discounted at "
        f"{format_number(100 * float(p.get('discount_rate', 0.03)))}% a year.",
        _COMMON, MCU_DEFINITION + "."]
    return summary


def _channels_sentence(shapley: pd.DataFrame, verdict: bool | None, total: float) -> str:
    """Which channels the dividend comes from (Shapley values of W)."""
    if verdict is not True:
        return ("The dividend is not distinguishable from zero, so its split over the "
                "channels (Shapley values, below) says little.")
    order = shapley.sort_values("mean", ascending=total < 0)
    same_sign = order[(order["mean"] > 0) == (total > 0)]
    share_sum, main = 0.0, []
    for _, row in same_sign.iterrows():
        main.append(row)
        share_sum += abs(float(row["mean"]))
        if share_sum >= 2 / 3 * abs(total):  # "most": two thirds, not a bare majority
            break

    def named(row: pd.Series) -> str:
        share = float(row["mean"]) / total if total else math.nan
        clear = distinguishable_from_zero(row["low"], row["high"])
        note = "" if clear else ", interval includes zero"
        return (f"{channel_words(row['channel'])} ({format_number(100 * share, 2)}% of the "
                f"dividend{note})")

    if not main:
        return "No channel alone accounts for the dividend (Shapley values, below)."
    names = [named(r) for r in main]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    what = "Most of it comes from" if total > 0 else "Most of the cost comes from"
    sentence = f"{what} {text}."
    against = order[(order["mean"] > 0) != (total > 0)]
    against = against[[distinguishable_from_zero(lo, hi) is True
                       for lo, hi in zip(against["low"], against["high"], strict=True)]]
    if len(against):
        sentence += " Working against it: " + ", ".join(
            channel_words(c) for c in against["channel"]) + "."
    return sentence


def compare_summary(reference: str, table: pd.DataFrame, *, seeds: int, months: int,
                    precision: Sequence[Mapping[str, Any]] = ()) -> Summary:
    """The summary of ``helixsim compare``: each scenario against ``reference`` on paired
    seeds (``analysis.compare_table``), W first, then its other clear effects."""
    summary = Summary()
    scenarios = list(pd.unique(table["scenario"]))
    unclear: list[str] = []
    for label in scenarios:
        rows = table[table["scenario"] == label]
        head = rows[rows["indicator"] == HEADLINE]
        if head.empty:
            raise ValueError(f"compare_summary: no welfare row for {label}")
        h = head.iloc[0]
        verdict, text = _effect(h)
        sentence = _sentence(f"Over {horizon_words(months)}",
                             f"**{label}** (against **{reference}**)", HEADLINE_WORDS, verdict,
                             float(h["difference"]), text)
        others = _other_effects(rows, "difference")
        summary.paragraphs.append(sentence + (" " + others if others else ""))
        if verdict is False:
            unclear.append(label)
    if unclear:
        names = unclear[0] if len(unclear) == 1 else \
            ", ".join(unclear[:-1]) + " and " + unclear[-1]
        summary.warnings.append(_no_effect(f"{names} (against {reference})", seeds,
                                           plural=len(unclear) > 1))
    m = len(scenarios)
    summary.assumptions = _seed_assumptions(seeds, "compare", " ".join([reference, *scenarios]))
    if m > 1:
        summary.assumptions.append(f"The intervals are Bonferroni-corrected over the {m} "
                                   "comparisons, so each is wider than a single 95% interval.")
    for p in precision:
        summary.assumptions.append(
            f"Seeds were added until the half-width of the W difference of {p['scenario']} "
            f"was at most {format_number(100 * float(p['precision']))}% of it, or the cap "
            "was reached.")
    summary.assumptions += [_COMMON, MCU_DEFINITION + "."]
    return summary


def run_summary(name: str, final: pd.DataFrame, start: Mapping[str, float], *, seeds: int,
                months: int) -> Summary:
    """The summary of ``helixsim run``: where the region ends (final values with 95%
    intervals over seeds, ``commands.summary_stats``) and how it changed since month 0
    (``start``: mean of each indicator at month 0)."""
    rows = final.set_index("indicator")
    parts = []
    for ind in RUN_HEADLINES:
        if ind not in rows.index:
            continue
        r = rows.loc[ind]
        text, _ = format_indicator_interval(ind, r["mean"], r["low"], r["high"])
        parts.append(f"{indicator_label(ind, unit=False).lower()} {_with_unit(ind, text)}")
    first = (f"After {horizon_words(months)}, **{name}** ends with " + "; ".join(parts)
             + f" (mean and 95% interval over {seeds} seeds).") if parts else \
        f"**{name}** over {horizon_words(months)} on {seeds} seeds."
    summary = Summary(paragraphs=[first])
    if "value_added" in rows.index and _finite(start.get("value_added")) \
            and float(start["value_added"]) != 0:
        v0, v1 = float(start["value_added"]), float(rows.loc["value_added", "mean"])
        summary.paragraphs.append(
            f"Regional value added moves from {format_indicator('value_added', v0)} to "
            f"{format_indicator('value_added', v1)} MCU/month "
            f"({format_number(100 * (v1 / v0 - 1), 2, signed=True)}% since month 0).")
    summary.paragraphs.append(
        "This report describes the scenario on its own: none of these numbers is the effect "
        f"of a policy. For an effect, compare it with another scenario (`helixsim compare "
        f"baseline {name}`) or with the same region siloed (`helixsim dividend {name}`).")
    summary.assumptions = [
        f"{seeds} seeds; the intervals are 95% intervals of the mean over them and show "
        "chance alone, with every parameter at the scenario's value (`--uncertainty N` on "
        "`compare` and `dividend` adds parameter uncertainty)."]
    if seeds < FEW_SEEDS:
        summary.assumptions.append(f"Only {seeds} seeds: the intervals are rough; use "
                                   "--seeds 8 or more before quoting a number.")
    summary.assumptions += [_COMMON, MCU_DEFINITION + "."]
    return summary


def uncertainty_summary(name: str, *, draws: int, seeds: int, median: float, p05: float,
                        p95: float, p_positive: float, top_driver: str | None = None
                        ) -> Summary:
    """The summary of ``helixsim dividend --uncertainty``: the dividend of W over parameter
    draws (median and the 90% spread over draws), how often it is positive, and what that
    means for a decision."""
    spread = format_interval(median, p05, p95, signed=True)
    first = (f"Over {draws} plausible settings of the uncertain parameters ({seeds} paired "
             f"seeds each), the dividend of **{name}** on {HEADLINE_WORDS} has median "
             f"{spread} MCU (median [5%, 95%] over the draws); it is positive in "
             f"{format_number(100 * p_positive, 2)}% of them.")
    if p_positive >= 0.95:
        verdict = "Integration pays in nearly every plausible setting."
    elif p_positive >= 0.8:
        verdict = "Integration pays in most plausible settings, but not in all."
    elif p_positive > 0.2:
        verdict = ("Whether integration pays depends on parameters the model does not pin "
                   "down: the dividend is **not a robust gain**.")
    else:
        verdict = "**Integration costs the region** in most plausible settings."
    summary = Summary(paragraphs=[first, verdict])
    if p05 < 0 < p95:
        summary.warnings.append(
            f"The sign of the dividend is uncertain: its 90% spread over the draws "
            f"({format_interval(median, p05, p95, signed=True)} MCU) includes zero."
            + (f" The parameter that decides it most is {top_driver}." if top_driver else ""))
    summary.assumptions = [
        "The spreads are over parameter draws from the priors (what is not known about the "
        "model), not confidence intervals of a mean; each draw's mean still carries seed "
        "noise.",
        "The siloed region is the same region with the same seeds and the same public money, "
        "with every channel between industry, university and government closed.",
        _COMMON, MCU_DEFINITION + "."]
    return summary
