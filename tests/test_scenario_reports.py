"""The reports of run / compare / dividend for people: the summary follows the numbers, tables
fit the page without raw names, every figure explains itself, compare draws one difference band
per scenario with policy events on the time axis.

The tables come from synthetic runs through the real analysis functions (``analysis``), so no
model runs here; one end-to-end compare on a small region checks the written files.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from experiments import analysis, commands, figures, scenario_reports
from experiments.report import render_report
from experiments.scenario_reports import MAX_COLUMNS
from simulation.indicators import INDICATORS
from simulation.parameters import CHANNELS
from simulation.scenarios import load

COMPONENTS = [c for c, _, _ in analysis.COMPONENTS]
# Everyday magnitudes of each component at the end of a run (W in MCU, counts, shares).
LEVELS = {"welfare": 37320.4, "value_added": 311.7, "jobs": 12345.0, "startups_alive": 6.0,
          "university_knowledge": 181.2, "publications_total": 4899.0, "alumni_employed": 576.0,
          "graduate_skill": 0.513, "gov_net_fiscal": -249.6}
SCI = re.compile(r"\d\.?\d*e[+-]?\d+", re.I)


def summary_table(deltas: dict[str, float], labels: tuple[str, str], *, seeds: int = 6,
                  noise: float = 0.01, seed: int = 0) -> pd.DataFrame:
    """Final values of two labels on paired seeds: the second = the first + level x (delta +
    noise x a fixed spread from -1 to 1), so the paired differences have mean delta x level
    exactly and a known spread (no luck of the draw decides an interval)."""
    rng = np.random.default_rng(seed)
    spread = np.linspace(-1.0, 1.0, seeds)
    rows = []
    for rep in range(seeds):
        base = {k: v * (1 + 0.05 * rng.standard_normal()) for k, v in LEVELS.items()}
        rows.append({"label": labels[0], "replication": rep, **base})
        rows.append({"label": labels[1], "replication": rep, **{
            k: v + LEVELS[k] * (deltas.get(k, 0.0) + noise * spread[rep])
            for k, v in base.items()}})
    return pd.DataFrame(rows)


def steps_table(labels: list[str], *, seeds: int = 4, months: int = 24, seed: int = 1
                ) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k, label in enumerate(labels):
        for rep in range(seeds):
            for step in range(months + 1):
                rows.append({"label": label, "replication": rep, "step": step,
                             "welfare": (300 + 10 * k) * step + 50 * rng.standard_normal(),
                             "value_added": 300 + k * 2 + rng.standard_normal(),
                             "jobs": 12000 + 40 * k + 30 * rng.standard_normal(),
                             "active_projects": max(0.0, 5 + rng.standard_normal()),
                             "graduate_retention_rate": 0.9 + 0.01 * rng.standard_normal(),
                             "startups_alive": max(0.0, 6 + k + rng.standard_normal()),
                             "synergy_S": -2 + 0.1 * rng.standard_normal()})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def scenario():
    """model_3_0 under a short name: its timeline opens the platform at month 13."""
    return dataclasses.replace(load("model_3_0"), name="s3", description="A test scenario.")


def shapley_frame(means: list[float]) -> pd.DataFrame:
    total = sum(means)
    return pd.DataFrame({"channel": list(CHANNELS), "mean": means,
                         "low": [m - 30 for m in means], "high": [m + 30 for m in means],
                         "share": [m / total for m in means], "n": 6})


def dividend_report(scenario, welfare_delta: float, *, noise: float = 0.01,
                    shapley: pd.DataFrame | None = None):
    siloed = f"{scenario.name} (siloed)"
    summary = summary_table({"welfare": welfare_delta, "value_added": welfare_delta},
                            (siloed, scenario.name), noise=noise)
    table = analysis.dividend_table(summary, scenario.name, siloed)
    synergy = {"S_scenario": -1.69, "S_siloed": -3.63, "change_vs_siloed": 1.93, "low": 0.04,
               "high": 3.82}
    return table, scenario_reports.dividend_report(
        scenario, siloed, table, synergy, steps_table([scenario.name, siloed]), seeds=6,
        months=120, shapley=shapley)


def compare_report(scenario, deltas: dict[str, float], *, noise: float = 0.002):
    reference = dataclasses.replace(scenario, name="ref")
    others = [dataclasses.replace(scenario, name=n) for n in deltas]
    parts = [summary_table({"welfare": d, "jobs": d}, ("ref", name), noise=noise)
             for name, d in deltas.items()]
    # the same seed: every part has the same reference rows, so keep the first part's
    ref = parts[0][parts[0]["label"] == "ref"]
    summary = pd.concat([ref] + [p[p["label"] != "ref"] for p in parts])
    table = analysis.compare_table(summary, "ref", list(deltas), COMPONENTS)
    steps = steps_table(["ref", *deltas])
    return table, scenario_reports.compare_report(reference, others, table, steps, seeds=6,
                                                  months=24)


# --- the summary follows the numbers -------------------------------------------------------------

def test_a_clear_positive_dividend_raises_w_without_a_warning(scenario):
    table, rep = dividend_report(scenario, 0.05)
    head = table.set_index("indicator").loc["welfare"]
    assert head["low"] > 0
    text = rep.summary.markdown()
    assert "**s3** raises regional welfare W" in text
    assert "not distinguishable" not in text.split("\n\n")[0]
    assert rep.summary.warnings == []
    assert "against the same region with its helices siloed" in text
    assert "over ten years" in text.lower()


def test_an_interval_across_zero_is_not_distinguishable_and_warns(scenario):
    table, rep = dividend_report(scenario, 0.0005, noise=0.02)
    head = table.set_index("indicator").loc["welfare"]
    assert head["low"] < 0 < head["high"]
    text = rep.summary.markdown()
    assert "changes regional welfare W" in text and "**not distinguishable from zero**" in text
    assert len(rep.summary.warnings) == 1
    assert "no discernible effect" in rep.summary.warnings[0]
    assert "raises" not in rep.summary.paragraphs[0]


def test_a_negative_dividend_says_integration_costs(scenario):
    table, rep = dividend_report(scenario, -0.05)
    assert table.set_index("indicator").loc["welfare", "high"] < 0
    text = rep.summary.markdown()
    assert "lowers regional welfare W" in text and "Integration costs the region" in text
    assert ",:" not in text  # the sentence reads "... value added: -5% [...]"
    assert rep.summary.warnings == []


def test_the_summary_names_the_channels_the_dividend_comes_from(scenario):
    shares = shapley_frame([20.0, 600.0, 10.0, -5.0, 900.0])
    _, rep = dividend_report(scenario, 0.05, shapley=shares)
    text = rep.summary.markdown()
    assert "Most of it comes from brokerage" in text and "student immersion" in text
    assert "joint research" not in text  # a small share is not "most of it"


def test_channels_of_an_indistinct_dividend_are_not_read_as_sources(scenario):
    shares = shapley_frame([20.0, 600.0, 10.0, -5.0, 900.0])
    _, rep = dividend_report(scenario, 0.0005, noise=0.02, shapley=shares)
    assert "Most of it comes from" not in rep.summary.markdown()
    assert "says little" in rep.summary.markdown()


@pytest.mark.parametrize(("delta", "noise", "warnings"), [(0.05, 0.01, 0), (0.0005, 0.02, 1)])
def test_only_a_warning_is_styled_as_one_in_the_html(scenario, delta, noise, warnings):
    _, rep = dividend_report(scenario, delta, noise=noise)
    _md, page, _ = render_report(rep.title, [], {}, rep.summary.markdown())
    summary = page[page.index('<section class="summary">'):page.index("</section>")]
    assert summary.count('<p class="warning">') == warnings
    assert summary.count("<p") == len(rep.summary.paragraphs) + warnings + 1  # + assumptions


def test_the_summary_lists_the_assumptions(scenario):
    _, rep = dividend_report(scenario, 0.05)
    text = " ".join(rep.summary.assumptions)
    for words in ("6 paired seeds", "--uncertainty", "same public money", "discounted at 3%",
                  "Assumed", "MCU = million currency units"):
        assert words in text


def test_compare_warns_only_for_the_scenario_without_an_effect(scenario):
    table, rep = compare_report(scenario, {"strong": 0.05, "weak": 0.0})
    rows = table[table["indicator"] == "welfare"].set_index("scenario")
    assert rows.loc["strong", "low"] > 0 and rows.loc["weak", "low"] < 0 < rows.loc["weak",
                                                                                     "high"]
    strong, weak = rep.summary.paragraphs[:2]
    assert "**strong** (against **ref**) raises" in strong
    assert "not distinguishable" not in strong
    assert "**weak** (against **ref**) changes" in weak
    assert "not distinguishable from zero" in weak
    assert len(rep.summary.warnings) == 1
    assert "weak" in rep.summary.warnings[0] and "strong" not in rep.summary.warnings[0]


# --- what people see: numbers, tables, figures ---------------------------------------------------

@pytest.fixture(scope="module")
def reports(scenario):
    shares = shapley_frame([20.0, 600.0, 10.0, -5.0, 900.0])
    final = commands.summary_stats(_FakeRuns(steps_table(["s3"])), "s3",
                                   ["welfare", "value_added", "jobs", "active_projects",
                                    "graduate_retention_rate", "startups_alive", "synergy_S"])
    run = scenario_reports.run_report(scenario, final, steps_table(["s3"]), seeds=4, months=24)
    _, cmp = compare_report(scenario, {f"p{i}": 0.01 * i for i in range(5)})
    _, div = dividend_report(scenario, 0.05, shapley=shares)
    return {"run": run, "compare": cmp, "dividend": div}


class _FakeRuns:
    """What summary_stats reads of a RunSet: the summary (last month of each run)."""

    def __init__(self, steps: pd.DataFrame) -> None:
        last = steps["step"].max()
        self.summary = steps[steps["step"] == last].reset_index(drop=True)


def light(sections: list) -> list:
    """The sections with each figure swapped for a tiny blank one (captions kept): the
    text of a report without the time its PNGs take."""
    return [dataclasses.replace(sec, figures=[(n, c, Figure(figsize=(0.3, 0.3)))
                                              for n, c, _ in sec.figures]) for sec in sections]


@pytest.mark.parametrize("kind", ["run", "compare", "dividend"])
def test_html_has_no_scientific_notation_and_no_raw_names(reports, kind):
    rep = reports[kind]
    md, page, _files = render_report(rep.title, light(rep.sections), {"seeds": 6},
                                     rep.summary.markdown())
    text = re.sub(r"<(img|a)[^>]*>", "", page)
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    assert SCI.findall(text) == []
    for _caption, df in rep.tables():
        cells = [str(c) for c in df.columns] + [str(v) for v in df.to_numpy().ravel()]
        raw = [c for c in cells if c in INDICATORS and "_" in c]
        assert raw == [], (kind, raw)
    assert "MCU = million currency units" in md
    assert md.index("## Summary") < md.index("## How this report was made")


@pytest.mark.parametrize("kind", ["run", "compare", "dividend"])
def test_tables_fit_within_the_column_limit(reports, kind):
    tables = reports[kind].tables()
    assert tables
    for caption, df in tables:
        assert len(df.columns) <= MAX_COLUMNS, (caption, list(df.columns))


@pytest.mark.parametrize("kind", ["run", "compare", "dividend"])
def test_every_figure_has_title_units_legend_and_a_caption_that_guides(reports, kind):
    figs = reports[kind].figures()
    assert figs
    for name, caption, fig in figs:
        titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [
            ax.get_title() for ax in fig.axes]
        assert any(t.strip() for t in titles), name
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        assert legends, name
        labels = [fig._supylabel.get_text() if fig._supylabel else ""] + [
            ax.get_ylabel() for ax in fig.axes] + [ax.get_xlabel() for ax in fig.axes]
        assert any("(" in lab for lab in labels), (name, labels)  # a unit in brackets
        words = caption.split()
        assert len(words) >= 20, (name, caption)
        assert re.search(r"\b(look|where|whose|tallest)\b", caption, re.I), (name, caption)


def test_compare_report_draws_every_scenario_against_the_reference(reports):
    figs = [(n, f) for n, _, f in reports["compare"].figures() if n.startswith("difference_")]
    assert figs[0][0] == "difference_welfare.png"
    for name, fig in figs:
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
        assert titles == [f"p{i} minus ref (4 paired seeds)" for i in range(5)], name
        bands = [c for ax in fig.axes for c in ax.collections if c.get_gid() == "band"]
        assert len(bands) == 5, name


def test_relative_is_shown_as_a_percentage(reports):
    df = reports["dividend"].tables()[0][1]
    for cell in df["Relative [95% interval]"]:
        assert cell == "–" or cell.count("%") == 3, cell


def test_counts_cannot_get_negative_intervals(scenario):
    final = pd.DataFrame([{"indicator": "innovations_radical", "mean": 1.333, "low": -2.461,
                           "high": 5.128, "n": 3},
                          {"indicator": "alumni_left", "mean": 4.0, "low": 1.0, "high": 7.0,
                           "n": 3}])
    df, note = scenario_reports.final_values_table(final)
    cells = dict(zip(df["Indicator (unit)"], df["Mean [95% interval]"], strict=True))
    assert cells["Radical innovations (per month)"] == "1.33 [0.00, 5.13] *"
    assert cells["Graduates who left the region (persons)"] == "4.00 [1.00, 7.00]"
    assert note.startswith("* ")


def test_the_dividend_table_keeps_every_column_in_its_data_file(scenario, tmp_path):
    table, rep = dividend_report(scenario, 0.05)
    rep.sections = light(rep.sections)
    path = rep.write(tmp_path / "out", {"seeds": 6})
    data = pd.read_csv(path.parent / "tables" / "dividend.csv")
    assert list(data.columns) == list(table.columns)  # raw names and all 13 columns
    assert "tables/dividend.csv" in path.read_text(encoding="utf-8")


# --- compare figures -----------------------------------------------------------------------------

@pytest.mark.parametrize("n_others", [1, 3, 5])
def test_difference_figure_has_one_band_per_compared_scenario(n_others):
    others = [f"p{i}" for i in range(n_others)]
    steps = steps_table(["ref", *others])
    fig = figures.difference_panels(steps, "ref", others, "welfare")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == n_others
    bands = [[c for c in ax.collections if c.get_gid() == "band"] for ax in visible]
    assert [len(b) for b in bands] == [1] * n_others
    colours = {tuple(np.round(b[0].get_facecolor()[0][:3], 3)) for b in bands}
    assert len(colours) == n_others  # distinct colours, no merged blob
    for ax, label in zip(visible, others, strict=True):
        assert ax.get_title().startswith(f"{label} minus ref")


def test_difference_band_is_the_paired_interval_of_the_mean():
    steps = steps_table(["ref", "p"], seeds=5)
    fig = figures.difference_panels(steps, "ref", ["p"], "jobs")
    ax = fig.axes[0]
    line = next(ln for ln in ax.lines if ln.get_gid() == "mean difference")
    last = steps[steps["step"] == 24].set_index(["label", "replication"])["jobs"]
    diff = (last["p"] - last["ref"]).to_numpy()
    iv = analysis.paired_interval(diff)
    assert line.get_ydata()[-1] == pytest.approx(iv.mean)
    band = next(c for c in ax.collections if c.get_gid() == "band")
    vertices = band.get_paths()[0].vertices
    at_end = vertices[np.isclose(vertices[:, 0], 24 / 12), 1]
    assert at_end.min() == pytest.approx(iv.low) and at_end.max() == pytest.approx(iv.high)


def test_policy_events_are_marked_on_the_time_axis(scenario):
    events = figures.timeline_events(scenario.parameters["timeline"])
    assert events == [(13, "platform on: yes")]
    steps = steps_table(["ref", "s3"])
    fig = figures.difference_panels(steps, "ref", ["s3"], "welfare", events={"s3": events})
    marks = [ln for ln in fig.axes[0].lines if ln.get_gid() == "policy event"]
    assert [ln.get_xdata()[0] for ln in marks] == [pytest.approx(13 / 12)]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "platform on: yes" in texts


def test_timeline_events_group_changes_of_one_month():
    events = figures.timeline_events([(49, "matching_rate", 0.7), (49, "budget_share_x", 0.3),
                                      (61, "platform_on", False)])
    assert events == [(49, "budget share x: 0.3, +1 more"), (61, "platform on: no")]


def test_level_panels_one_panel_per_scenario_with_the_reference_dashed():
    labels = ["ref", "a", "b", "c", "d", "e"]
    fig = figures.level_panels(steps_table(labels), "jobs", labels, reference="ref")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    for ax, label in zip(visible, labels, strict=True):
        gids = [c.get_gid() for c in ax.collections]
        assert sorted(gids) == ["band 25-75", "band 5-95"]
        dashed = [ln for ln in ax.lines if ln.get_gid() == "reference"]
        assert len(dashed) == (0 if label == "ref" else 1)


def test_level_panels_draw_the_median_of_the_seeds_against_years():
    steps = steps_table(["ref", "a"], seeds=5)
    fig = figures.level_panels(steps, "jobs", ["ref", "a"], reference="ref")
    for ax, label in zip(fig.axes, ["ref", "a"], strict=True):
        line = next(ln for ln in ax.lines if ln.get_gid() == "median")
        assert line.get_xdata()[-1] == pytest.approx(24 / 12)
        expected = steps[steps["label"] == label].groupby("step")["jobs"].median()
        np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
    assert "Jobs (persons)" in fig._supylabel.get_text()


def test_figures_reject_unknown_labels():
    steps = steps_table(["ref", "a"])
    with pytest.raises(ValueError, match="nowhere"):
        figures.difference_panels(steps, "ref", ["nowhere"], "jobs")
    with pytest.raises(ValueError, match="reference"):
        figures.difference_panels(steps, "ref", ["ref"], "jobs")
    with pytest.raises(ValueError, match="missing column"):
        figures.level_panels(steps, "no_such_indicator", ["a"])


# --- end to end ----------------------------------------------------------------------------------

SMALL = """
n_universities = 2
n_firms = 120
intake_per_university = 120
horizon_months = 14
"""


def test_compare_writes_a_report_with_summary_difference_figures_and_data(tmp_path):
    paths = []
    for name, extends in (("small_base", "baseline"), ("small_3", "model_3_0")):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'description = "{name}"\nextends = "{extends}"\n[parameters]\n{SMALL}')
        paths.append(str(path))
    result = commands.compare_scenarios(paths, seeds=3, workers=1, out=tmp_path / "out")
    out = tmp_path / "out"
    md = (out / "report.md").read_text(encoding="utf-8")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert md.startswith("# Compare against small_base\n\n## Summary")
    assert "**small_3** (against **small_base**)" in md
    assert (out / "figures" / "difference_welfare.png").exists()
    data = pd.read_csv(out / "tables" / "differences.csv")
    assert len(data) == len(result["differences"]) and "indicator" in data.columns
    # The provenance table says whose exp, log and pow numpy used: runs match run for run
    # only on machines of one kind.
    assert re.search(r"\| Vector maths \| x86_v[34] \((AVX-512|no AVX-512)", md)
    # The provenance table's commit hash is hex and can look like "155e5"; it is not a number.
    visible = re.sub(r"<(img|a)[^>]*>|<style>.*?</style>|Git commit</th><td>[0-9a-f]+", "",
                     page, flags=re.S)
    assert SCI.findall(visible) == []


# --- the uncertainty report's summary ------------------------------------------------------------

@pytest.mark.parametrize(("p", "p05", "p95", "words", "warned"), [
    (1.0, 10.0, 90.0, "nearly every plausible setting", False),
    (0.85, -5.0, 90.0, "most plausible settings, but not in all", True),
    (0.5, -40.0, 40.0, "**not a robust gain**", True),
    (0.05, -90.0, -10.0, "**Integration costs the region**", False),
])
def test_uncertainty_summary_follows_p_positive_and_the_spread(p, p05, p95, words, warned):
    from experiments.executive_summary import uncertainty_summary

    s = uncertainty_summary("s3", draws=64, seeds=2, median=(p05 + p95) / 2, p05=p05, p95=p95,
                            p_positive=p, top_driver="graduate_premium")
    text = s.markdown()
    assert words in text
    assert f"positive in {100 * p:g}% of them" in text
    assert bool(s.warnings) is warned
    if warned:
        assert "includes zero" in s.warnings[0] and "graduate_premium" in s.warnings[0]
