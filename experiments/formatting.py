"""Numbers, labels and intervals for people: one way to write them in reports, the terminal
and the dashboard.

- ``format_number``: thousands separators, a few significant digits, no exponent for everyday
  magnitudes (exponent only below 1e-6 or from 1e15 on); ``format_percent`` writes a fraction
  as a percentage (0.021 -> "2.1%"); ``format_interval`` writes "value [low, high]" with one
  number of decimals for all three.
- ``indicator_label`` / ``indicator_unit``: an indicator's short name and its unit from the
  indicator table (``simulation.indicators.INDICATORS``); shares are shown as percentages, so
  their unit reads "%".
- ``indicator_bounds`` and ``clip_to_bounds``: the range a quantity can take (counts cannot go
  below 0, shares not above 1) and an interval cut to it, with a note when it was cut.
- ``format_indicator`` / ``format_indicator_interval``: all of the above for one indicator.
- ``distinguishable_from_zero`` and ``zero_verdict``: whether an interval excludes 0, in words.
- ``parameter_label``: a model parameter's name for people, from the parameter table.

Why intervals are clipped rather than bootstrapped: the reports' intervals are t-intervals over
seeds (paired-t for differences). The true mean of a count lies in [0, inf), so the part of an
interval below 0 holds no possible value; cutting it off keeps every possible value the
interval held, so coverage is not reduced. A percentile bootstrap would also stay within the
bounds, but with the 8 seeds of a default run it covers less than its nominal 95%, it needs
random numbers of its own, and it would differ from the t-intervals of every other table.
The cut is reported (the note), so a reader knows the interval was wider.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from simulation.indicators import INDICATORS

MISSING = "–"
# What "MCU" means, for every report and page that shows money.
MCU_DEFINITION = "MCU = million currency units, the model's unit of money"

# Short names of the indicators of simulation.indicators (the table gives unit and meaning;
# these are the words a table meant for people shows). An indicator missing here is named by
# the first words of its meaning in the table.
LABELS: dict[str, str] = {
    "month": "Month",
    "value_added": "Regional value added",
    "firm_link_outlays": "Firms' own spending on cross-helix links",
    "welfare": "Welfare W, discounted value added",
    "jobs": "Jobs",
    "firms_alive": "Firms alive",
    "innovations_incremental": "Incremental innovations",
    "innovations_radical": "Radical innovations",
    "patents": "Patents granted",
    "innovations_total": "Innovations so far",
    "active_projects": "Active university-industry projects",
    "active_brokered_projects": "Active brokered projects",
    "projects_started": "Projects started",
    "share_firms_collaborating": "Firms collaborating with a university",
    "network_density": "Collaboration network density",
    "largest_component_share": "Largest connected group of organisations",
    "platform_members": "Firms on the digital platform",
    "platform_matches": "Projects found through the platform",
    "internships": "Graduating students with an internship",
    "university_knowledge": "University knowledge, mean level",
    "publications": "Publications",
    "publications_total": "Publications so far",
    "mean_firm_knowledge": "Firm knowledge, mean level",
    "mean_digital_maturity": "Digital maturity of firms, mean",
    "mean_absorptive_capacity": "Absorptive capacity of firms, mean",
    "students_enrolled": "Students enrolled",
    "enrolled_1_0": "Students in Education Model 1.0",
    "enrolled_2_0": "Students in Education Model 2.0",
    "enrolled_3_0": "Students in Education Model 3.0",
    "graduates_total": "Graduates so far",
    "alumni_employed": "Graduates employed in the region",
    "alumni_founders": "Graduates running a start-up",
    "alumni_unemployed": "Graduates unemployed in the region",
    "alumni_left": "Graduates who left the region",
    "dropped_out": "Students who dropped out",
    "graduate_employment_rate": "Latest cohort employed at graduation",
    "graduate_retention_rate": "Graduates still in the region",
    "graduate_skill": "Skill of graduates working in the region",
    "startups_founded": "Start-ups and spin-offs founded",
    "startups_alive": "Start-ups and spin-offs alive",
    "firm_entries": "New firms",
    "firm_exits": "Firm exits",
    "spend_block_grants": "Government spending on block grants",
    "spend_research_grants": "Government spending on research grants",
    "spend_rd_subsidies": "Government spending on R&D subsidies",
    "spend_matching_grants": "Government spending on matching grants",
    "spend_incubator_support": "Government spending on incubator support",
    "spend_platform_investment": "Government spending on the platform",
    "spend_retention_subsidy": "Government spending on graduate retention subsidies",
    "spend_total": "Government spending, all instruments",
    "tax_revenue": "Tax revenue",
    "gov_unspent": "Public money released, not yet spent",
    "gov_returned": "Unspent public money returned",
    "gov_net_fiscal": "Government net fiscal position",
    "gini_value_added": "Gini index of value added across firms",
    "synergy_T": "Triple-helix transmission T",
    "synergy_S": "Triple-helix synergy S",
}

# Units (of the indicator table) whose quantities cannot be negative: counts, levels, skills.
_NON_NEGATIVE_UNITS = {"month", "persons", "firms", "per month", "innovations", "projects",
                       "students", "papers", "knowledge units"}
_UNIT_INTERVAL_UNITS = {"share", "skill [0, 1]", "index"}
# Money that cannot be negative either: value added (productivity x labour), money paid or
# held. (W is not listed: firms' outlays counted in it may make it negative.)
_NON_NEGATIVE_MONEY = ("value_added", "spend_", "tax_revenue", "gov_unspent", "gov_returned")


def _real(value: Any, what: str) -> float | None:
    """``value`` as a float, None when missing; a TypeError naming ``what`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:  # pandas' NA and NaT are missing values too
            import pandas as pd

            if value is pd.NA or value is pd.NaT:
                return None
        except ImportError:  # pragma: no cover - pandas is a dependency
            pass
        raise TypeError(f"{what}: expected a number, got {type(value).__name__} {value!r}")
    v = float(value)
    return None if math.isnan(v) else v


def _check_digits(digits: int) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits: expected a whole number from 1 to 15, got {digits!r}")


def _decimals(magnitude: float, digits: int) -> int:
    """Decimals that show ``digits`` significant digits of ``magnitude`` (none for large)."""
    if magnitude == 0 or not math.isfinite(magnitude):
        return 0
    return max(0, digits - 1 - math.floor(math.log10(magnitude)))


def _everyday(magnitude: float) -> bool:
    return magnitude == 0 or 1e-6 <= magnitude < 1e15


def _fixed(v: float, decimals: int, signed: bool) -> str:
    text = f"{v:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        text = text.lstrip("-")  # no "-0.0"
        return text
    return "+" + text if signed and v > 0 else text


def _strip(text: str) -> str:
    if "." not in text:
        return text
    head, _, tail = text.partition(".")
    tail = tail.rstrip("0")
    return head + ("." + tail if tail else "")


def _special(v: float | None, signed: bool) -> str | None:
    if v is None:
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 and not signed else ("+∞" if v > 0 else "-∞")
    return None


def format_number(value: Any, digits: int = 3, *, signed: bool = False) -> str:
    """A number for people: ``digits`` significant digits, thousands separators.

    Numbers of ``10**digits`` and more are rounded to whole numbers ("37,320", never
    "3.732e+04"); trailing zeros are dropped (2.50 -> "2.5"); "-0" is "0". Only magnitudes
    outside everyday use (below 1e-6 or from 1e15 on) take an exponent ("2.5e-07").
    ``signed`` puts "+" before positive numbers. None and NaN give "–".
    """
    _check_digits(digits)
    v = _real(value, "format_number")
    special = _special(v, signed)
    if special is not None:
        return special
    assert v is not None
    a = abs(v)
    if not _everyday(a):
        mantissa, _, exponent = f"{v:.{digits - 1}e}".partition("e")
        text = _strip(mantissa) + "e" + exponent
        return "+" + text if signed and v > 0 else text
    return _strip(_fixed(v, _decimals(a, digits), signed))


def format_percent(fraction: Any, digits: int = 2, *, signed: bool = False) -> str:
    """A fraction as a percentage: 0.02106 -> "2.1%", 0.125 -> "12.5%", 0.0005 -> "0.05%".

    ``digits`` significant digits, but at least one decimal below 100% (a share of 12.5% is
    not "13%"); ``signed`` puts "+" before positive values. None and NaN give "–".
    """
    _check_digits(digits)
    v = _real(fraction, "format_percent")
    special = _special(v, signed)
    if special is not None:
        return special if v is None else special + "%"
    assert v is not None
    p = 100.0 * v
    a = abs(p)
    if not _everyday(a):
        return format_number(p, digits, signed=signed) + "%"
    decimals = _decimals(a, digits)
    if 0 < a < 100:
        decimals = max(decimals, 1)
    return _strip(_fixed(p, decimals, signed)) + "%"


def format_interval(value: Any, low: Any, high: Any, *, percent: bool = False,
                    digits: int | None = None, signed: bool = False) -> str:
    """"value [low, high]" with the same decimals for all three.

    The largest magnitude of the three gets ``digits`` significant digits (default 3, or 2
    with ``percent``) and the others as many decimals, so "2.1% [1.7%, 2.5%]" and
    "1.33 [0.00, 5.13]" line up. A missing bound gives "value [–, –]"; ``low`` above
    ``high`` is a ValueError.
    """
    digits = (2 if percent else 3) if digits is None else digits
    _check_digits(digits)
    v, lo, hi = (_real(x, "format_interval") for x in (value, low, high))
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"format_interval: low {lo!r} is above high {hi!r}")
    scale = 100.0 if percent else 1.0
    finite = [abs(x * scale) for x in (v, lo, hi) if x is not None and math.isfinite(x)]
    top = max(finite, default=0.0)
    # The largest number sets the decimals; one far smaller (rounding noise such as 9e-18
    # next to 0.0013) shows as 0 in those decimals rather than in exponent notation.
    if not _everyday(top):
        one = format_percent if percent else format_number
        parts = [one(x, digits, signed=signed) for x in (v, lo, hi)]
        return f"{parts[0]} [{parts[1]}, {parts[2]}]"
    decimals = _decimals(top, digits)
    if percent and 0 < top < 100:
        decimals = max(decimals, 1)

    def one_of(x: float | None, sign: bool) -> str:
        special = _special(x, sign)
        if special is not None:
            return special + ("%" if percent and x is not None else "")
        assert x is not None
        return _fixed(x * scale, decimals, sign) + ("%" if percent else "")

    return f"{one_of(v, signed)} [{one_of(lo, signed)}, {one_of(hi, signed)}]"


# --- indicators ----------------------------------------------------------------------------------

def indicator_unit(name: str) -> str:
    """The unit shown with an indicator: the indicator table's, "%" for shares (shown as
    percentages), "" for an unknown name."""
    if name not in INDICATORS:
        return ""
    unit = INDICATORS[name][0]
    return "%" if unit == "share" else unit


def _fallback_label(name: str) -> str:
    if name in INDICATORS:
        meaning = INDICATORS[name][1].split(":")[-1].strip().rstrip(".")
        first = meaning.split(". ")[0].split(" (")[0]
        if 0 < len(first) <= 60:
            return first[:1].upper() + first[1:]
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def indicator_label(name: str, *, unit: bool = True) -> str:
    """An indicator's name for people, with its unit in brackets: ``alumni_left`` ->
    "Graduates who left the region (persons)". Unknown names are made readable
    (``foo_bar`` -> "Foo bar") and get no unit."""
    if name.startswith("spend_") and name != "spend_total" and name not in LABELS:
        label = "Government spending on " + name[len("spend_"):].replace("_", " ")
    else:
        label = LABELS.get(name) or _fallback_label(name)
    shown = indicator_unit(name) if unit else ""
    return f"{label} ({shown})" if shown else label


def is_share(name: str) -> bool:
    """True when the indicator is a share in [0, 1] (shown as a percentage)."""
    return name in INDICATORS and INDICATORS[name][0] == "share"


def indicator_bounds(name: str, *, difference: bool = False) -> tuple[float, float]:
    """(lowest, highest) value the indicator can take; (-inf, inf) when unbounded or unknown.

    With ``difference`` the bounds of a difference of two values (a share difference lies in
    [-1, 1]; a difference of counts is unbounded).
    """
    unit = INDICATORS[name][0] if name in INDICATORS else ""
    if unit in _UNIT_INTERVAL_UNITS:
        return (-1.0, 1.0) if difference else (0.0, 1.0)
    non_negative = unit in _NON_NEGATIVE_UNITS or (
        name in INDICATORS and name.startswith(_NON_NEGATIVE_MONEY))
    if non_negative and not difference:
        return (0.0, math.inf)
    return (-math.inf, math.inf)


def _range_words(floor: float, ceiling: float, show: Any) -> str:
    if math.isinf(ceiling):
        return f"{show(floor)} or more"
    if math.isinf(floor):
        return f"{show(ceiling)} or less"
    return f"{show(floor)} to {show(ceiling)}"


def _clip(low: Any, high: Any, bounds: tuple[float, float], show: Any
          ) -> tuple[float | None, float | None, str | None]:
    lo, hi = _real(low, "clip_to_bounds"), _real(high, "clip_to_bounds")
    floor, ceiling = (float(b) for b in bounds)
    if math.isnan(floor) or math.isnan(ceiling) or floor > ceiling:
        raise ValueError(f"clip_to_bounds: bounds must be (lowest, highest), got {bounds!r}")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip_to_bounds: low {lo!r} is above high {hi!r}")
    cut = False
    if lo is not None and lo < floor:
        lo, hi, cut = floor, (max(hi, floor) if hi is not None else hi), True
    if hi is not None and hi > ceiling:
        hi, lo, cut = ceiling, (min(lo, ceiling) if lo is not None else lo), True
    if not cut:
        return lo, hi, None
    return lo, hi, ("interval cut to the possible range ("
                    f"{_range_words(floor, ceiling, show)})")


def clip_to_bounds(low: Any, high: Any, bounds: tuple[float, float]
                   ) -> tuple[float | None, float | None, str | None]:
    """(low, high, note): the interval cut to ``bounds`` = (lowest, highest); the note says
    it was cut and to what range ("interval cut to the possible range (0 or more)"), None
    when nothing was cut. Missing bounds stay missing. ``low`` above ``high`` or bounds the
    wrong way round are a ValueError."""
    return _clip(low, high, bounds, format_number)


def format_indicator(name: str, value: Any, *, signed: bool = False) -> str:
    """One value of an indicator: shares as percentages, other values as ``format_number``.
    Differences of shares (``signed``) read as percentage points ("+1.2 pp")."""
    if is_share(name):
        text = format_percent(value, signed=signed)
        return text[:-1] + " pp" if signed and text.endswith("%") else text
    return format_number(value, signed=signed)


def format_indicator_interval(name: str, value: Any, low: Any, high: Any, *,
                              difference: bool = False) -> tuple[str, str | None]:
    """(text, note) of an indicator's value and interval, cut to the indicator's bounds.

    ``difference``: the numbers are differences of two values (signed, bounds of a
    difference, shares in percentage points). The note says when the interval was cut.
    """
    share = is_share(name)
    show = (lambda x: format_percent(x)) if share else format_number
    lo, hi, note = _clip(low, high, indicator_bounds(name, difference=difference), show)
    if share:
        text = format_interval(value, lo, hi, percent=True, signed=difference)
        if difference:
            text = text.replace("%", " pp")
        return text, note
    return format_interval(value, lo, hi, signed=difference), note


# --- is it distinguishable from zero? ------------------------------------------------------------

def distinguishable_from_zero(low: Any, high: Any) -> bool | None:
    """True when the interval lies wholly above or below 0, False when it includes 0 (a
    bound at exactly 0 included), None when a bound is missing (too few seeds)."""
    lo, hi = _real(low, "distinguishable_from_zero"), _real(high, "distinguishable_from_zero")
    if lo is None or hi is None:
        return None
    if lo > hi:
        raise ValueError(f"distinguishable_from_zero: low {lo!r} is above high {hi!r}")
    return lo > 0 or hi < 0


def zero_verdict(low: Any, high: Any, confidence: float = 0.95) -> str:
    """The interval against zero in words, to follow "the effect is ...":
    "above zero (the whole 95% interval is positive)", "below zero (...negative)",
    "not distinguishable from zero (the 95% interval includes zero)", or "undetermined
    (no interval: fewer than two seeds)"."""
    if not 0 < confidence < 1:
        raise ValueError(f"zero_verdict: confidence must be between 0 and 1, got {confidence!r}")
    level = format_percent(confidence)
    known = distinguishable_from_zero(low, high)
    if known is None:
        return "undetermined (no interval: fewer than two seeds)"
    if not known:
        return f"not distinguishable from zero (the {level} interval includes zero)"
    if float(low) > 0:
        return f"above zero (the whole {level} interval is positive)"
    return f"below zero (the whole {level} interval is negative)"


# --- parameters ----------------------------------------------------------------------------------

_LABEL_CHARS = 60  # a parameter's label is the start of its description, cut at a word


def parameter_label(name: str, *, unit: bool = True) -> str:
    """A parameter's name for people: the first sentence of its description in the parameter
    table (``simulation.parameters``) without its asides in brackets, cut at a word after
    about 60 characters, with its unit in brackets: ``dropout_rate`` -> "Annual hazard that an
    enrolled student drops out (per year)"; a cut label ends in "…". Unknown names are made readable
    (``foo_bar`` -> "Foo bar"). Tables that show it keep the raw name beside it."""
    import re

    from simulation.parameters import PARAMETERS

    p = PARAMETERS.get(name)
    if p is None or not p.doc.strip():
        text = str(name).replace("_", " ").strip()
        return text[:1].upper() + text[1:]
    first = re.split(r"(?<=[.;:])\s", p.doc.strip())[0].rstrip(".;:")
    first = re.sub(r"\s*\([^()]*\)", "", first).strip() or first
    if len(first) > _LABEL_CHARS:
        first = first[:_LABEL_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return f"{first} ({p.unit})" if unit and p.unit else first
