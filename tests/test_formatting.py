"""Numbers, labels and intervals for people (experiments.formatting): analytic cases and bad
inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments.formatting import (
    MISSING,
    clip_to_bounds,
    distinguishable_from_zero,
    format_indicator,
    format_indicator_interval,
    format_interval,
    format_number,
    format_percent,
    indicator_bounds,
    indicator_label,
    indicator_unit,
    is_share,
    zero_verdict,
)
from simulation.indicators import INDICATORS


@pytest.mark.parametrize(("value", "text"), [
    (37320.4, "37,320"),
    (137693.575, "137,694"),
    (1500, "1,500"),
    (np.int64(1500), "1,500"),
    (1234567.0, "1,234,567"),
    (999.6, "1,000"),
    (12.5, "12.5"),
    (2.0, "2"),
    (1.333, "1.33"),
    (-3.75, "-3.75"),
    (0.02106, "0.0211"),
    (0.00012, "0.00012"),
    (0.0, "0"),
    (-0.0001, "-0.0001"),
    (np.float32(0.5), "0.5"),
])
def test_format_number_everyday_magnitudes(value, text):
    assert format_number(value) == text
    assert "e" not in text


def test_format_number_rounds_to_zero_without_a_sign():
    assert format_number(-0.0004, 1) == "-0.0004"
    assert format_number(-1e-4 / 3, 1) == "-0.00003"
    assert format_number(-0.4, 1) == "-0.4"
    assert format_number(-0.04, 1) == "-0.04"
    assert format_number(-0.0, signed=True) == "0"


def test_format_number_exponent_only_outside_everyday_magnitudes():
    assert format_number(2.5e-7) == "2.5e-07"
    assert format_number(9.9999e-7) == "1e-06"  # the mantissa's rounding carries
    assert format_number(3.2e15) == "3.2e+15"
    assert format_number(9.99e14) == "999,000,000,000,000"


def test_format_number_sign_missing_and_infinite():
    assert format_number(2.1, signed=True) == "+2.1"
    assert format_number(-2.1, signed=True) == "-2.1"
    assert format_number(0, signed=True) == "0"
    assert format_number(None) == MISSING
    assert format_number(float("nan")) == MISSING
    assert format_number(pd.NA) == MISSING
    assert format_number(math.inf) == "∞"
    assert format_number(-math.inf) == "-∞"
    assert format_number(math.inf, signed=True) == "+∞"


@pytest.mark.parametrize(("fraction", "text"), [
    (0.02106, "2.1%"),
    (0.125, "12.5%"),
    (0.0005, "0.05%"),
    (0.95, "95%"),
    (1.0, "100%"),
    (2.5, "250%"),
    (0.0, "0%"),
    (-0.0213, "-2.1%"),
])
def test_format_percent(fraction, text):
    assert format_percent(fraction) == text


def test_format_percent_signed_and_missing():
    assert format_percent(0.0211, signed=True) == "+2.1%"
    assert format_percent(None) == MISSING
    assert format_percent(float("nan")) == MISSING


def test_format_interval_shares_decimals():
    assert format_interval(0.021, 0.017, 0.025, percent=True) == "2.1% [1.7%, 2.5%]"
    assert format_interval(0.021, 0.017, 0.025, percent=True, signed=True) \
        == "+2.1% [+1.7%, +2.5%]"
    assert format_interval(1.333, 0.0, 5.128) == "1.33 [0.00, 5.13]"
    assert format_interval(37320.4, 30011.2, 44629.0) == "37,320 [30,011, 44,629]"
    assert format_interval(0.0005, -0.0003, 0.0013, percent=True) == "0.05% [-0.03%, 0.13%]"
    # rounding noise next to everyday numbers is 0, not 9.25e-18
    assert format_interval(9.25e-18, -0.00126, 0.00126, signed=True) \
        == "0.00000 [-0.00126, +0.00126]"
    assert format_interval(2.5e-8, 1e-8, 4e-8) == "2.5e-08 [1e-08, 4e-08]"
    assert format_interval(5.0, None, float("nan")) == f"5.00 [{MISSING}, {MISSING}]"


def test_format_interval_bad_inputs():
    with pytest.raises(ValueError, match="above high"):
        format_interval(1.0, 2.0, 0.5)
    with pytest.raises(TypeError, match="expected a number"):
        format_interval("1", 0.0, 2.0)
    with pytest.raises(ValueError, match="digits"):
        format_interval(1.0, 0.0, 2.0, digits=0)


@pytest.mark.parametrize("bad", ["12", b"1", [1.0], True, object()])
def test_format_number_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="format_number: expected a number"):
        format_number(bad)


@pytest.mark.parametrize("digits", [0, -1, 16, 2.5, True])
def test_format_number_rejects_bad_digits(digits):
    with pytest.raises(ValueError, match="digits"):
        format_number(1.0, digits)


def test_labels_carry_the_units_of_the_indicator_table():
    assert indicator_label("alumni_left") == "Graduates who left the region (persons)"
    assert indicator_label("value_added") == "Regional value added (MCU/month)"
    assert indicator_label("welfare", unit=False) == "Welfare W, discounted value added"
    # a share is shown as a percentage, so its unit reads %
    assert indicator_label("graduate_retention_rate") == "Graduates still in the region (%)"
    assert indicator_unit("graduate_retention_rate") == "%"
    assert indicator_unit("synergy_S") == INDICATORS["synergy_S"][0]
    assert indicator_label("spend_rd_subsidies") == \
        "Government spending on R&D subsidies (MCU/month)"


def test_every_indicator_has_a_readable_label_with_its_unit():
    for name, (unit, _meaning) in INDICATORS.items():
        label = indicator_label(name)
        assert "_" not in label, name
        assert label.count("(") == 1, (name, label)  # one bracket: the unit
        shown = "%" if unit == "share" else unit
        assert label.endswith(f"({shown})"), (name, label)


def test_every_indicator_has_a_short_label_of_its_own():
    # The fallback (the first words of the meaning) reads badly, e.g. "Their share of project
    # costs" for firm_link_outlays: a new indicator needs its entry in LABELS.
    from experiments.formatting import LABELS
    assert sorted(set(INDICATORS) - set(LABELS) - {"month"}) == []


def test_unknown_names_are_made_readable_without_a_unit():
    assert indicator_label("not_an_indicator") == "Not an indicator"
    assert indicator_unit("not_an_indicator") == ""
    assert indicator_bounds("not_an_indicator") == (-math.inf, math.inf)
    assert not is_share("not_an_indicator")


def test_bounds_follow_the_unit():
    assert indicator_bounds("innovations_radical") == (0.0, math.inf)
    assert indicator_bounds("alumni_left") == (0.0, math.inf)
    assert indicator_bounds("share_firms_collaborating") == (0.0, 1.0)
    assert indicator_bounds("graduate_skill") == (0.0, 1.0)
    assert indicator_bounds("gov_net_fiscal") == (-math.inf, math.inf)
    assert indicator_bounds("spend_total") == (0.0, math.inf)
    assert indicator_bounds("value_added") == (0.0, math.inf)
    assert indicator_bounds("welfare") == (-math.inf, math.inf)  # outlays may exceed it
    # differences: counts unbounded, shares within [-1, 1]
    assert indicator_bounds("alumni_left", difference=True) == (-math.inf, math.inf)
    assert indicator_bounds("share_firms_collaborating", difference=True) == (-1.0, 1.0)


def test_clip_to_bounds_cuts_and_says_so():
    assert clip_to_bounds(-2.461, 5.128, (0.0, math.inf)) == (
        0.0, 5.128, "interval cut to the possible range (0 or more)")
    lo, hi, note = clip_to_bounds(0.9, 1.07, (0.0, 1.0))
    assert (lo, hi) == (0.9, 1.0) and note is not None and "0 to 1" in note
    assert clip_to_bounds(1.0, 2.0, (0.0, math.inf)) == (1.0, 2.0, None)
    assert clip_to_bounds(None, 2.0, (0.0, math.inf)) == (None, 2.0, None)
    # an interval wholly outside collapses onto the bound
    assert clip_to_bounds(-3.0, -1.0, (0.0, math.inf))[:2] == (0.0, 0.0)


def test_clip_to_bounds_bad_inputs():
    with pytest.raises(ValueError, match="above high"):
        clip_to_bounds(3.0, 1.0, (0.0, 1.0))
    with pytest.raises(ValueError, match="bounds"):
        clip_to_bounds(0.1, 0.2, (1.0, 0.0))
    with pytest.raises(ValueError, match="bounds"):
        clip_to_bounds(0.1, 0.2, (math.nan, 1.0))
    with pytest.raises(TypeError, match="expected a number"):
        clip_to_bounds("0", 1.0, (0.0, 1.0))


def test_indicator_intervals_respect_bounds():
    # the count with a negative interval
    text, note = format_indicator_interval("innovations_radical", 1.333, -2.461, 5.128)
    assert text == "1.33 [0.00, 5.13]" and note is not None and "0 or more" in note
    text, note = format_indicator_interval("graduate_retention_rate", 0.95, 0.9, 1.02)
    assert text == "95% [90%, 100%]" and "0% to 100%" in note
    # a difference of counts may be negative: nothing is cut
    text, note = format_indicator_interval("alumni_left", -2.0, -5.0, 1.0, difference=True)
    assert text == "-2.00 [-5.00, +1.00]" and note is None
    text, note = format_indicator_interval("share_firms_collaborating", 0.012, 0.004, 0.02,
                                           difference=True)
    assert text == "+1.2 pp [+0.4 pp, +2.0 pp]" and note is None
    text, note = format_indicator_interval("welfare", 37320.4, 30011.2, 44629.0)
    assert text == "37,320 [30,011, 44,629]" and note is None


def test_format_indicator_shares_as_percentages():
    assert format_indicator("share_firms_collaborating", 0.213) == "21.3%"
    assert format_indicator("share_firms_collaborating", 0.012, signed=True) == "+1.2 pp"
    assert format_indicator("jobs", 12345.6) == "12,346"


@pytest.mark.parametrize(("low", "high", "expected"), [
    (0.1, 0.3, True), (-0.3, -0.1, True), (-0.1, 0.3, False), (0.0, 0.3, False),
    (-0.3, 0.0, False), (0.0, 0.0, False), (None, 0.3, None), (math.nan, 0.3, None),
])
def test_distinguishable_from_zero(low, high, expected):
    assert distinguishable_from_zero(low, high) is expected


def test_zero_verdict_in_words():
    assert zero_verdict(0.017, 0.025) == "above zero (the whole 95% interval is positive)"
    assert zero_verdict(-0.025, -0.017).startswith("below zero")
    assert zero_verdict(-0.0003, 0.0013) == \
        "not distinguishable from zero (the 95% interval includes zero)"
    assert zero_verdict(-1, 1, confidence=0.9).endswith("(the 90% interval includes zero)")
    assert zero_verdict(math.nan, math.nan).startswith("undetermined")


def test_zero_verdict_bad_inputs():
    with pytest.raises(ValueError, match="confidence"):
        zero_verdict(0.1, 0.2, confidence=95)
    with pytest.raises(ValueError, match="above high"):
        zero_verdict(0.3, 0.1)
    with pytest.raises(TypeError, match="expected a number"):
        distinguishable_from_zero("low", 1.0)
