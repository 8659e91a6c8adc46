"""The dashboard explains itself (issue 15), without a browser: chart axes, legends and hover
values, the dividend's sentence, and the shareable address (tests/test_dashboard_explains_browser.py
has the same in Chromium)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from dashboards import app, svg, urlstate
from dashboards.session import Session, scenario_names


# --- charts ------------------------------------------------------------------------------------
def _points(chart: str) -> list[np.ndarray]:
    return [np.array([[float(v) for v in p.split(",")] for p in pts.split()])
            for pts in re.findall(r'<polyline class="series" points="([^"]+)"', chart)]


def _plot_box(chart: str) -> tuple[float, float]:
    """(top, height) of the plot rectangle (the rect with the grey frame)."""
    m = re.search(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" '
                  r'fill="none"', chart)
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("level", [100.0, 1310.0, 2.5e6])
def test_a_six_percent_rise_fills_a_small_part_of_the_panel(level: float) -> None:
    months = np.arange(61.0)
    y = level * (1 + 0.06 * months / 60)
    chart = svg.panel_svg(svg.Panel("Value added (MCU/month)", [svg.Series(months, y)]),
                          x_max=120)
    top, height = _plot_box(chart)
    (line,) = _points(chart)
    rise = line[:, 1].max() - line[:, 1].min()
    assert rise / height < 0.08  # a min-max axis drew it over the whole height (1.0)
    assert line[:, 1].max() <= top + height + 1e-6
    assert ">0</text>" in chart  # the axis is labelled from zero
    assert "+6% since month 0" in chart


def test_negative_series_and_differences_keep_zero_on_the_axis_and_no_change_text() -> None:
    months = np.arange(30.0)
    d = np.sin(months / 5) * 10 - 3  # a dividend crossing zero
    chart = svg.panel_svg(svg.Panel("Dividend D (MCU)", [svg.Series(months, d)]), x_max=120)
    assert ">0</text>" in chart
    assert "since month" not in chart  # a change of a sign-changing series means nothing
    negative = svg.panel_svg(svg.Panel("S", [svg.Series(months, -5 - months)]), x_max=120)
    assert ">0</text>" in negative


def test_two_series_get_a_legend_and_one_series_none() -> None:
    months = np.arange(12.0)
    two = svg.Panel("Welfare W (MCU)", [
        svg.Series(months, months * 10, "#1f77b4", label="model_3_0"),
        svg.Series(months, months * 10 + 1, "#7f7f7f", True, "siloed")])
    chart = svg.panel_svg(two, x_max=120)
    legend = re.findall(r'<g class="legend-item">.*?<text[^>]*>([^<]+)</text></g>', chart)
    assert legend == ["model_3_0", "siloed"]
    assert 'stroke-dasharray="4 3"/>' in chart  # the siloed sample is dashed like its line
    one = svg.panel_svg(svg.Panel("Jobs", [svg.Series(months, months, label="x")]), x_max=120)
    assert "legend-item" not in one


def test_hover_bands_give_each_months_values_with_the_unit() -> None:
    months = np.arange(25.0)
    panel = svg.Panel("Welfare W (MCU)", [
        svg.Series(months, 1000 + months * 100, label="baseline"),
        svg.Series(months, 1000 + months * 90, label="siloed")])
    chart = svg.panel_svg(panel, x_max=120)
    tips = dict(re.findall(r'data-month="(\d+)"><title>([^<]+)</title>', chart))
    assert len(tips) == 25
    assert tips["12"] == "month 12: baseline: 2,200 MCU; siloed: 2,080 MCU"
    long = np.arange(400.0)
    many = svg.panel_svg(svg.Panel("x", [svg.Series(long, long)]), x_max=400)
    assert many.count("data-month=") == svg.HOVER_BANDS


def test_panel_text_is_escaped() -> None:
    chart = svg.panel_svg(svg.Panel("<script>x</script>", [
        svg.Series(np.arange(3.0), np.ones(3), label="<b>a"),
        svg.Series(np.arange(3.0), np.ones(3), label="b&c")]), x_max=12)
    assert "<script>" not in chart and "<b>" not in chart and "b&amp;c" in chart


# --- the dividend in a sentence --------------------------------------------------------------
def _head(d: float, low: float, high: float) -> dict[str, float]:
    return {"dividend": d, "low": low, "high": high, "relative": d / 4000}


@pytest.mark.parametrize(("low", "high"), [(-37.3, 27.3), (-1.0, 0.0), (0.0, 5.0)])
def test_an_interval_that_includes_zero_is_said_so_and_not_styled_as_success(low, high):
    text, kind = app.estimate_sentence(_head((low + high) / 2, low, high), 2)
    assert "not distinguishable from zero" in text
    assert kind == "info"


def test_an_interval_above_zero_is_a_success_and_below_zero_a_warning() -> None:
    text, kind = app.estimate_sentence(_head(22.1, 19.2, 25.0), 4)
    assert kind == "success" and "above zero" in text and "Over 4 paired seeds" in text
    assert "+22.1 [+19.2, +25.0] MCU" in text
    text, kind = app.estimate_sentence(_head(-22.1, -25.0, -19.2), 4)
    assert kind == "warning" and "below zero" in text


def test_no_interval_is_not_a_success() -> None:
    text, kind = app.estimate_sentence(_head(5.0, math.nan, math.nan), 1)
    assert kind == "info" and "undetermined" in text


def test_the_single_seed_run_is_placed_against_the_estimate() -> None:
    head = _head(-5.0, -37.3, 27.3)
    assert "lies inside this interval" in app.seed_against_estimate(1, 3.0, head)
    assert "lies outside this interval" in app.seed_against_estimate(1, 40.0, head)
    one = app.single_seed_sentence(3, 120, 120, -1.02, 1322.0)
    assert "On seed 3" in one and "-1.02 MCU" in one and "multi-seed estimate" in one


# --- the address -----------------------------------------------------------------------------
def test_pages_have_their_own_paths() -> None:
    assert urlstate.page_index("/") == 0 and urlstate.page_index("") == 0
    assert urlstate.page_index("/dividend") == 1
    assert urlstate.page_index("/policy-search/") == 3
    assert urlstate.page_index("/nowhere") == 0
    assert urlstate.location(1, "seed=2") == "/dividend?seed=2"
    assert urlstate.location(0, "") == "/"


@pytest.mark.parametrize(("scenario", "seed", "moves"), [
    ("baseline", 7, {"n_firms": "250", "matching_rate": "0.3"}),
    ("model_3_0", 0, {"platform_on": "false", "gov_budget": "12.5"}),
    ("talent_retention", 12, {"n_universities": "2", "retention_subsidy": "0.01"}),
])
def test_a_query_rebuilds_the_same_run_in_a_fresh_session(scenario, seed, moves) -> None:
    a = Session()
    a.choose_scenario(scenario)
    for name, text in moves.items():
        assert a.set_lever(name, text) is None
    a.set_share(0, 2, "0.4")
    a.set_seed(str(seed))
    assert a.reset() is None
    query = urlstate.query(a)
    b = Session()
    assert urlstate.apply(b, query, scenario_names()) == []
    assert b.scenario.name == scenario and b.explorer.seed == seed
    assert b.explorer.parameters == a.explorer.parameters
    assert urlstate.query(b) == query
    a.step(2)
    b.step(2)
    assert b.explorer.model.indicators() == a.explorer.model.indicators()


def test_the_query_holds_only_what_differs_from_the_scenario() -> None:
    s = Session()
    assert urlstate.query(s) == "scenario=baseline&seed=1"
    s.set_lever("n_firms", "300")  # typed, not yet applied: the run shown is unchanged
    assert urlstate.query(s) == "scenario=baseline&seed=1"
    s.reset()
    assert urlstate.query(s) == "scenario=baseline&seed=1&n_firms=300"


def test_bad_values_in_a_link_are_one_line_each_and_change_nothing() -> None:
    s = Session()
    errors = urlstate.apply(s, "scenario=../../etc/passwd&n_firms=abc&matching_rate=7&seed=-1"
                               "&bogus=1&mix=0.9:0.9,0:0,0:0&n_firms=5", scenario_names())
    assert len(errors) == 7
    assert all("\n" not in e and e.startswith("link: ") for e in errors)
    for words in ("'bogus' is not a setting", "n_firms is given twice",
                  "'../../etc/passwd' is not a scenario", "'n_firms': expected a number",
                  "'matching_rate': 7.0 is outside its valid range [0, 1]",
                  "mix: parameter 'edu_mix_by_university[0]': shares 2.0 + 3.0 = 1.8 exceed 1",
                  "seed: expected a whole number >= 0"):
        assert any(words in e for e in errors), words
    assert urlstate.query(s) == "scenario=baseline&seed=1"  # nothing of it applied
    assert s.errors == {}  # said once, in the link's lines, not again under the fields


def test_a_good_value_beside_a_bad_one_still_applies() -> None:
    s = Session()
    errors = urlstate.apply(s, "n_firms=300&matching_rate=nope", scenario_names())
    assert len(errors) == 1 and "matching_rate" in errors[0]
    assert s.explorer.parameters["n_firms"] == 300


@pytest.mark.parametrize(("query", "words"), [
    ("n_firms=1&" + "x" * 3000, "characters long"),
    ("&".join(f"k{i}=1" for i in range(100)), "more than 64 settings"),
    ("mix=0.1:0.1", "1 universities given, the region has 3"),
    ("mix=0.1;0.2", "expected the 2.0:3.0 shares"),
])
def test_oversized_or_malformed_links_are_refused_with_a_line(query, words) -> None:
    s = Session()
    errors = urlstate.apply(s, query, scenario_names())
    assert len(errors) == 1 and words in errors[0], errors
    assert urlstate.query(s) == "scenario=baseline&seed=1"


def test_an_address_means_its_whole_run_not_a_change_to_the_current_one() -> None:
    """Back to an older address shows that address's run: levers it does not name go back to
    the scenario's values."""
    s = Session()
    s.set_lever("n_firms", "300")
    s.set_lever("matching_rate", "0.2")
    s.reset()
    assert urlstate.apply(s, "scenario=baseline&seed=1&n_firms=400", scenario_names()) == []
    assert s.explorer.parameters["n_firms"] == 400
    assert s.explorer.parameters["matching_rate"] == Session().explorer.parameters[
        "matching_rate"]
    assert urlstate.query(s) == "scenario=baseline&seed=1&n_firms=400"
    assert urlstate.apply(s, "", scenario_names()) == []  # no address: nothing changes
    assert urlstate.query(s) == "scenario=baseline&seed=1&n_firms=400"


@pytest.mark.parametrize("seed", [1, 4, 9])
def test_the_graduates_chart_reads_in_percent(seed: int) -> None:
    """The retention share (0-1 in the indicators) is drawn, ticked and hovered in percent."""
    from experiments.formatting import format_number

    s = Session(seed=seed)
    for name, value in (("n_firms", "100"), ("intake_per_university", "60")):
        assert s.set_lever(name, value) is None
    s.reset()
    s.step(30)
    rate = s.explorer.model.indicators()["graduate_retention_rate"]
    assert 0 < rate <= 1
    chart = next(c for c in s.explorer.charts_svg.split("<svg")[1:]
                 if "Graduates still in the region" in c)
    assert "Graduates still in the region (%)</text>" in chart
    ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="#555">([\d.]+)</text>',
                                          chart)]
    assert max(ticks) >= 100 * rate > 1  # the axis reaches the value in percent
    assert f"month 30: {format_number(100 * rate)}%</title>" in chart
