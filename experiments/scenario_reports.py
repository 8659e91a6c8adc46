"""The reports of ``helixsim run``, ``compare`` and ``dividend``, written for people.

Each ``*_report`` function builds the executive summary (``experiments.executive_summary``), tables
with indicator labels and units (at most ``MAX_COLUMNS`` columns, so they fit the page; every
column with the raw names goes to ``tables/*.csv``), and figures with a title, units, a legend
and a caption that says what to look at; ``write_*`` functions write them with
``report.write_report``. The commands (``experiments.commands``) compute the numbers; nothing
here runs a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from . import figures, report
from .executive_summary import (
    HEADLINE,
    Summary,
    compare_summary,
    dividend_summary,
    horizon_words,
)
from .executive_summary import run_summary as _run_summary
from .formatting import (
    MCU_DEFINITION,
    distinguishable_from_zero,
    format_indicator,
    format_indicator_interval,
    format_interval,
    format_number,
    format_percent,
    indicator_label,
    is_share,
)

MAX_COLUMNS = 7
# Indicators over time: levels in run, differences in compare (W first).
TIME_INDICATORS = ("value_added", "jobs", "active_projects", "graduate_retention_rate",
                   "startups_alive", "synergy_S")
COMPARE_INDICATORS = ("welfare", *TIME_INDICATORS)
DIVIDEND_LEVELS = ("welfare", "value_added", "startups_alive")
# The headline indicators of a run report's first table; the others follow in an appendix.
RUN_TABLE = ("welfare", "value_added", "jobs", "firms_alive", "innovations_total",
             "active_projects", "share_firms_collaborating", "university_knowledge",
             "publications_total", "students_enrolled", "graduates_total",
             "graduate_retention_rate", "startups_alive", "mean_digital_maturity",
             "gov_net_fiscal", "synergy_S")
YES_NO = {True: "yes", False: "no", None: "–"}


@dataclass
class Report:
    """A report before it is written: title, summary, sections."""

    title: str
    summary: Summary
    sections: list[report.Section]

    def figures(self) -> list[tuple[str, str, Figure]]:
        return [f for s in self.sections for f in s.figures]

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [(t[0], t[1]) for s in self.sections for t in s.tables]

    def write(self, out: Path, meta: dict) -> Path:
        return report.write_report(out, self.title, self.sections, meta,
                                   summary=self.summary.markdown())


CUT_NOTE = ("* The interval is cut to what the quantity can take (a count cannot be "
            "negative, a share cannot pass 100%); the t-interval over seeds reached beyond it.")


def _events(scenario: Any) -> list[figures.Event]:
    try:
        return figures.timeline_events(scenario.parameters["timeline"])
    except (KeyError, AttributeError, TypeError):
        return []


# --- run -----------------------------------------------------------------------------------------

def final_values_table(final: pd.DataFrame, indicators: Sequence[str] | None = None
                       ) -> tuple[pd.DataFrame, str]:
    """(table, note) of final values for people: Indicator (unit), mean [95% interval], cut
    to what each quantity can take (counts not below 0, shares not above 100%)."""
    rows = final.set_index("indicator")
    names = [i for i in (indicators or list(rows.index)) if i in rows.index]
    out, notes = [], []
    for ind in names:
        r = rows.loc[ind]
        text, note = format_indicator_interval(ind, r["mean"], r["low"], r["high"])
        notes.append(note)
        out.append({"Indicator (unit)": indicator_label(ind),
                    "Mean [95% interval]": text + (" *" if note else "")})
    return pd.DataFrame(out), CUT_NOTE if any(notes) else ""


def _level_caption(indicator: str, labels: Sequence[str], seeds: int, months: int,
                   reference: str | None, events: bool) -> str:
    what = indicator_label(indicator)
    text = (f"{what} over {horizon_words(months)}: the line is the median of {seeds} seeds "
            "and the bands hold the middle 50% and 90% of runs. ")
    if reference is not None and len(labels) > 1:
        text += (f"Each scenario has its own panel, with {reference}'s median dashed in grey: "
                 "look at how far each line runs from the dashed one, and whether its bands "
                 "still cover it.")
    else:
        text += ("Look at where the line ends and how wide the bands are: wide bands mean the "
                 "outcome depends much on chance.")
    if events:
        text += " Dotted lines mark the policy changes of the timeline."
    return text


def run_report(scenario: Any, final: pd.DataFrame, steps: pd.DataFrame, *, seeds: int,
               months: int) -> Report:
    """The report of ``helixsim run``: ``final`` is ``commands.summary_stats`` (indicator,
    mean, low, high, n), ``steps`` the runs' monthly table."""
    name = scenario.name
    start = steps[steps["step"] == steps["step"].min()].mean(numeric_only=True).to_dict()
    summary = _run_summary(name, final, start, seeds=seeds, months=months)
    head, head_note = final_values_table(final, RUN_TABLE)
    rest = [i for i in final["indicator"] if i not in RUN_TABLE]
    full, full_note = final_values_table(final, rest)
    events = {name: _events(scenario)}
    figs = [(f"level_{ind}.png", _level_caption(ind, [name], seeds, months, None,
                                                bool(events[name])),
             figures.level_panels(steps, ind, [name], events=events))
            for ind in TIME_INDICATORS if ind in steps.columns]
    sections = [
        report.Section(name, scenario.description,
                       tables=[("Where the region ends: final values, mean and 95% interval "
                                f"over {seeds} seeds", head, head_note)],
                       figures=figs, data=[("final_values.csv", final)]),
        report.Section("All indicators", "The other indicators at the end of the runs.",
                       tables=[("Other final values", full, full_note)]),
    ]
    return Report(f"Scenario {name}", summary, sections)


# --- compare -------------------------------------------------------------------------------------

def _paired_cells(ind: str, r: Any, column: str) -> tuple[str, str]:
    """A paired difference with its interval, and its relative change (none for shares,
    whose difference is already in percentage points), as table cells."""
    diff, _ = format_indicator_interval(ind, r[column], r["low"], r["high"], difference=True)
    rel = "–" if is_share(ind) else format_interval(
        r["relative"], r["rel_low"], r["rel_high"], percent=True, signed=True)
    return diff, rel


def difference_table(table: pd.DataFrame, scenario: str, reference: str) -> pd.DataFrame:
    """One scenario's rows of ``analysis.compare_table`` for people."""
    rows = table[table["scenario"] == scenario]
    out = []
    for _, r in rows.iterrows():
        ind = str(r["indicator"])
        diff, rel = _paired_cells(ind, r, "difference")
        out.append({"Indicator (unit)": indicator_label(ind),
                    reference: format_indicator(ind, r["baseline_mean"]),
                    scenario: format_indicator(ind, r["scenario_mean"]),
                    "Difference [95% interval]": diff,
                    "Relative [95% interval]": rel,
                    "Clear of zero?": YES_NO[distinguishable_from_zero(r["low"], r["high"])]})
    return pd.DataFrame(out)


def compare_report(reference: Any, others: Sequence[Any], table: pd.DataFrame,
                   steps: pd.DataFrame, *, seeds: int, months: int,
                   precision: Sequence[Mapping[str, Any]] = ()) -> Report:
    """The report of ``helixsim compare``: ``table`` is ``analysis.compare_table``."""
    base = reference.name
    labels = [o.name for o in others]
    summary = compare_summary(base, table, seeds=seeds, months=months, precision=precision)
    events = {sc.name: _events(sc) for sc in [reference, *others]}
    any_events = any(events.values())
    m = len(labels)
    intro = (f"Each scenario against **{base}** on the same {seeds} seeds (common random "
             "numbers), so a difference is the policy's and not chance's. 95% paired-t "
             "intervals" + (f", Bonferroni-corrected over {m} comparisons" if m > 1 else "")
             + ". Relative differences are against the reference's mean; differences of "
             "shares are in percentage points (pp). " + MCU_DEFINITION + ".")
    tables = [(f"{label} against {base}: final values and paired differences",
               difference_table(table, label, base)) for label in labels]
    diff_figs = []
    for ind in COMPARE_INDICATORS:
        if ind not in steps.columns:
            continue
        caption = (f"{indicator_label(ind)}: each scenario minus {base} on the same seeds, "
                   "month by month. The line is the mean difference and the band its 95% "
                   "interval; where the band leaves the zero line the scenarios differ by "
                   "more than chance." + (" Dotted lines mark policy changes of either "
                                          "scenario." if any_events else ""))
        diff_figs.append((f"difference_{ind}.png", caption,
                          figures.difference_panels(steps, base, labels, ind, events=events,
                                                    comparisons=m)))
    level_figs = [(f"level_{ind}.png",
                   _level_caption(ind, [base, *labels], seeds, months, base, any_events),
                   figures.level_panels(steps, ind, [base, *labels], reference=base,
                                        events=events))
                  for ind in ("welfare", "value_added") if ind in steps.columns]
    sections = [
        report.Section("Differences against the reference", intro, tables=tables,
                       figures=diff_figs, data=[("differences.csv", table)]),
        report.Section("The scenarios side by side",
                       "Levels of the main indicators, each scenario in its own panel.",
                       figures=level_figs),
    ]
    if precision:
        crn = pd.DataFrame([{"Scenario": p["scenario"],
                             "Precision asked": format_number(100 * p["precision"]) + "%",
                             "Seeds, paired": format_number(p["seeds_paired"]),
                             "Seeds, independent": format_number(p["seeds_independent"]),
                             "Ratio": format_number(p["ratio"], 2)} for p in precision])
        sections.append(report.Section(
            "What the paired design buys",
            "Seeds needed for the W interval at the requested precision, with common random "
            "numbers (paired) and without (independent seeds, estimated from the same runs).",
            tables=[("Seeds needed", crn)], data=[("precision.csv", pd.DataFrame(precision))]))
    return Report(f"Compare against {base}", summary, sections)


# --- dividend ------------------------------------------------------------------------------------

def dividend_people_table(table: pd.DataFrame) -> pd.DataFrame:
    """``analysis.dividend_table`` for people: seven columns (the thirteen are in the CSV)."""
    out = []
    for _, r in table.iterrows():
        ind = str(r["indicator"])
        diff, rel = _paired_cells(ind, r, "dividend")
        out.append({"Component (unit)": indicator_label(ind), "Helix": r["helix"],
                    "Scenario": format_indicator(ind, r["scenario_mean"]),
                    "Siloed": format_indicator(ind, r["siloed_mean"]),
                    "Dividend [95% interval]": diff, "Relative [95% interval]": rel,
                    "Clear of zero?": YES_NO[distinguishable_from_zero(r["low"], r["high"])]})
    return pd.DataFrame(out)


def synergy_people_table(synergy: Mapping[str, Any]) -> pd.DataFrame:
    """The synergy dict of ``commands.dividend`` as rows: measure, value (millibits)."""
    rows = [("S of the scenario", format_number(synergy["S_scenario"])),
            ("S of the siloed region", format_number(synergy["S_siloed"])),
            ("Change against the siloed region [95% interval]",
             format_interval(synergy["change_vs_siloed"], synergy["low"], synergy["high"],
                             signed=True))]
    if "baseline" in synergy:
        rows.append((f"Change against {synergy['baseline']} [95% interval]",
                     format_interval(synergy["change_vs_baseline"], synergy["baseline_low"],
                                     synergy["baseline_high"], signed=True)))
    return pd.DataFrame(rows, columns=["Measure", "Synergy S (millibits)"])


def shapley_people_table(shares: pd.DataFrame) -> pd.DataFrame:
    """``analysis.shapley_table`` for people."""
    return pd.DataFrame([{
        "Channel": report.pretty(r["channel"]),
        "Shapley value of W (MCU) [95% interval]": format_interval(r["mean"], r["low"],
                                                                   r["high"], signed=True),
        "Share of the dividend": format_percent(r["share"], signed=True),
        "Clear of zero?": YES_NO[distinguishable_from_zero(r["low"], r["high"])]}
        for _, r in shares.iterrows()])


def dividend_report(scenario: Any, siloed: str, table: pd.DataFrame,
                    synergy: Mapping[str, Any], steps: pd.DataFrame, *, seeds: int,
                    months: int, shapley: pd.DataFrame | None = None,
                    shapley_total: float | None = None) -> Report:
    """The report of ``helixsim dividend``: ``table`` is ``analysis.dividend_table``,
    ``shapley`` ``analysis.shapley_table`` (with ``--attribution``)."""
    name = scenario.name
    summary = dividend_summary(name, table, seeds=seeds, months=months, shapley=shapley,
                               parameters=scenario.parameters)
    head = table.set_index("indicator").loc[HEADLINE]
    events = {name: _events(scenario)}
    any_events = bool(events[name])
    text = (f"{scenario.description}\n\nThe dividend D = W({name}) - W(siloed) on {seeds} "
            "paired seeds. The siloed region has the same region, seeds and public money, "
            "with every channel between the helices closed. " + MCU_DEFINITION + ".")
    bars_caption = ("The dividend of each component as a share of the siloed region's value, "
                    f"with its 95% interval over {seeds} paired seeds. Bars whose interval "
                    "stays on one side of the zero line are effects distinguishable from "
                    "zero; a bar to the left is a cost of integration.")
    over_time = ("How the dividend of W builds up month by month: the scenario minus its "
                 "siloed self on each seed, the mean and its 95% interval. Where the band "
                 "leaves the zero line, integration has made a difference beyond chance"
                 + (" (dotted lines: policy changes)." if any_events else "."))
    bars = table.assign(component=[indicator_label(str(i), unit=False)
                                   for i in table["indicator"]])
    figs = [("dividend_by_helix.png", bars_caption, report.dividend_bars(bars)),
            ("dividend_over_time.png", over_time,
             figures.difference_panels(steps, siloed, [name], HEADLINE, events=events))]
    figs += [(f"level_{ind}.png", _level_caption(ind, [name, siloed], seeds, months, siloed,
                                                 any_events),
              figures.level_panels(steps, ind, [name, siloed], reference=siloed,
                                   events=events))
             for ind in DIVIDEND_LEVELS if ind in steps.columns]
    sections = [report.Section(
        f"The ecological dividend of {name}", text,
        tables=[("Dividend by component and helix", dividend_people_table(table)),
                ("Triple-helix synergy S", synergy_people_table(synergy))],
        figures=figs, data=[("dividend.csv", table), ("synergy.csv", pd.DataFrame([synergy]))])]
    if shapley is not None:
        total = float(shapley_total if shapley_total is not None else shapley["mean"].sum())
        caption = ("The dividend of W split over the channels by exact Shapley values: each "
                   "green step adds to W, each red step takes from it, and the dark bar is the "
                   "total. Look at the tallest steps and at error bars that cross the previous "
                   "step's end: those channels' shares cannot be told from zero.")
        sections.append(report.Section(
            "Through which channel: Shapley attribution",
            f"Exact Shapley values over the {len(shapley)} channels, averaged over every "
            f"order in which they could open. They add up to the dividend of opening every "
            f"channel ({format_number(total)} MCU; the headline dividend is "
            f"{format_number(float(head['dividend']))} MCU).",
            tables=[("Shapley values of W by channel", shapley_people_table(shapley))],
            figures=[("shapley_waterfall.png", caption,
                      report.shapley_waterfall(shapley, total))],
            data=[("shapley.csv", shapley)]))
    return Report(f"Ecological dividend of {name}", summary, sections)


def uncertainty_people_table(dist: pd.DataFrame) -> pd.DataFrame:
    """The dividend by component over parameter draws (``uncertainty.dividend``) for people:
    median, the middle 50% and 90% of the draws, P(D > 0), relative median as a percentage."""
    out = []
    for _, r in dist.iterrows():
        ind = str(r["indicator"])
        mid50 = format_interval(r["median"], r["p25"], r["p75"], signed=True)
        mid90 = format_interval(r["median"], r["p05"], r["p95"], signed=True)
        out.append({"Component (unit)": indicator_label(ind), "Helix": r["helix"],
                    "Median [50% of draws]": mid50,
                    "90% of draws": mid90[mid90.index("["):],
                    "P(D > 0)": format_percent(r["p_positive"]),
                    "Relative, median": "–" if is_share(ind) else
                    format_percent(r["relative_median"], signed=True)})
    return pd.DataFrame(out)
