"""The parameter table: every model parameter with its unit, valid range, default and source.

This module is the single place that the model, the documentation (``docs/parameters.md`` is
generated from it), the scenario validator and the dashboard read. Money is in MCU (million
currency units of the region), time in months, people in persons.

Defaults marked "assumed" are modelling choices of this project; the others cite the stylized
fact or study they follow. Parameters fitted by ``helixsim calibrate`` take their default from
``simulation/calibration.toml`` (see ``simulation.calibrated``), and their source says so. The
file is read the first time defaults are needed (``resolve``, ``DEFAULTS``, ``PARAMETERS``),
not when the package is imported.

One parameter path: ``resolve(overrides)`` checks every value against the constraint its row
declares (``Param.constraint``: an ``Interval``, ``Options``, ``Boolean``, ``Vector``,
``ShareTriples`` or ``Timeline``), then the joint constraints and every state the timeline
passes through, and returns an immutable ``Parameters``. Passing a ``Parameters`` on (to the
model, a run spec, ``resolve``) never checks it again; ``Parameters.replace`` checks only what
it changes (and the joint constraints).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .calibrated import CALIBRATION_FILE, Calibration, CalibrationFileError
from .calibrated import read as read_calibration


class ParameterError(ValueError):
    """A parameter has an unknown name, a wrong type or a value outside its valid range.

    ``key`` is the parameter (or ``timeline[i]``) the error is about ("" when it is about
    several) and ``reason`` what is wrong with it, so that a scenario file can report
    ``file: parameters.key: reason``. ``str(err)`` is one line: ``parameter 'key': reason``
    (or ``message`` when given, or ``reason`` alone without a key).
    """

    def __init__(self, key: str, reason: str, *, message: str | None = None) -> None:
        self.key, self.reason = key, reason
        if message is None:
            message = f"parameter {key!r}: {reason}" if key else reason
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields: rebuild from all three so that a worker's error pickles back.
        return (_parameter_error, (self.key, self.reason, str(self)))


def _parameter_error(key: str, reason: str, message: str) -> ParameterError:
    return ParameterError(key, reason, message=message)


# --- constraints ---------------------------------------------------------------------------------
# Each kind of row declares one constraint; a constraint checks a value and returns it
# normalised (int, float, tuples) or raises ParameterError naming the parameter. After
# scikit-learn's parameter validation: constraints are small objects, dispatched on, not an
# if-chain over kinds.

def _fmt(x: float) -> str:
    return f"{x:g}"


def show(value: Any, limit: int = 60) -> str:
    """A value's repr, shortened so that an error message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(x: Any) -> bool:
    # numbers.Real covers numpy scalars too; bool is an int but never a valid number here.
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _to_float(name: str, value: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ParameterError(name, f"{show(value)} is too large for a number") from None


def _as_numbers(name: str, value: Any) -> tuple[float, ...]:
    # Ordered containers only: a set or a dict has no meaningful order of skills or shares.
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ParameterError(name, f"expected a list of numbers, got {show(value)}")
    out = []
    for v in value:
        if not _is_number(v):
            raise ParameterError(name, f"expected numbers, got {show(v)}")
        v = _to_float(name, v)
        if not math.isfinite(v):
            raise ParameterError(name, f"expected finite numbers, got {v}")
        out.append(v)
    return tuple(out)


@dataclass(frozen=True)
class Interval:
    """Numbers of one type (``int`` or ``float``) in [low, high]; None is unbounded."""

    type: type
    low: float | None
    high: float | None
    unit: str = ""
    each: bool = False  # the bounds of every element of a vector

    def __str__(self) -> str:
        lo = "-inf" if self.low is None else _fmt(self.low)
        hi = "inf" if self.high is None else _fmt(self.high)
        return f"{'each ' if self.each else ''}[{lo}, {hi}]"

    def check(self, name: str, value: Any) -> Any:
        if self.type is int:
            if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
                value = int(value) if float(value).is_integer() else value
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise ParameterError(name, f"expected an integer, got {show(value)}")
            value = int(value)
        else:
            if not _is_number(value):
                raise ParameterError(name, f"expected a number, got {show(value)}")
            value = _to_float(name, value)
        return self.check_range(name, value)

    def check_range(self, name: str, value: float) -> float:
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(name, f"expected a finite number, got {value}")
        if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high):
            raise ParameterError(name, f"{show(value)} is outside its valid range {self} "
                                       f"({self.unit})")
        return value


@dataclass(frozen=True)
class Boolean:
    """True or false."""

    def __str__(self) -> str:
        return "true / false"

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ParameterError(name, f"expected true/false, got {show(value)}")
        return bool(value)


@dataclass(frozen=True)
class Options:
    """One of a fixed set of words."""

    choices: tuple[str, ...]

    def __str__(self) -> str:
        return " / ".join(self.choices)

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ParameterError(name, f"expected one of {', '.join(self.choices)}, "
                                       f"got {show(value)}")
        return value


@dataclass(frozen=True)
class Vector:
    """A fixed number of finite numbers (one per skill), each in ``element``."""

    length: int | None
    element: Interval

    def __str__(self) -> str:
        return str(self.element)

    def check(self, name: str, value: Any) -> tuple[float, ...]:
        vec = _as_numbers(name, value)
        if len(vec) != self.length:
            raise ParameterError(name, f"expected {self.length} numbers ({', '.join(SKILLS)}), "
                                       f"got {len(vec)}")
        for v in vec:
            self.element.check_range(name, v)
        return vec


@dataclass(frozen=True)
class ShareTriples:
    """A list of (1.0, 2.0, 3.0) share triples, each in [0, 1] and summing to 1."""

    def __str__(self) -> str:
        return "see doc"

    def check(self, name: str, value: Any) -> tuple[tuple[float, ...], ...]:
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise ParameterError(name, f"expected a list of (1.0, 2.0, 3.0) share triples, "
                                       f"got {show(value)}")
        out = []
        for i, triple in enumerate(value):
            key = f"{name}[{i}]"
            vec = _as_numbers(key, triple)
            if len(vec) != 3:
                raise ParameterError(key, f"expected 3 shares (1.0, 2.0, 3.0), got {len(vec)}")
            if any(v < 0 or v > 1 for v in vec):
                raise ParameterError(key, f"shares must lie in [0, 1], got {list(vec)}")
            if abs(sum(vec) - 1.0) > 1e-6:
                raise ParameterError(key, f"shares must sum to 1, got {sum(vec):g}")
            out.append(vec)
        return tuple(out)


@dataclass(frozen=True)
class Timeline:
    """Scheduled lever changes: (month, lever, value) events, returned sorted by month."""

    def __str__(self) -> str:
        return "see doc"

    def check(self, name: str, value: Any) -> tuple[tuple[int, str, Any], ...]:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ParameterError(name, f"expected a list of (month, lever, value), "
                                       f"got {show(value)}")
        out = []
        for i, ev in enumerate(value):
            key = f"{name}[{i}]"
            if isinstance(ev, Mapping):
                ev = (ev.get("month"), ev.get("lever"), ev.get("value"))
            if isinstance(ev, str) or not isinstance(ev, Sequence) or len(ev) != 3:
                raise ParameterError(key, f"expected (month, lever, value), got {show(ev)}")
            month, lever, val = ev
            if not isinstance(month, numbers.Integral) or isinstance(month, (bool, np.bool_)) \
                    or month < 0:
                raise ParameterError(key, f"month must be a whole number >= 0, "
                                          f"got {show(month)}")
            if lever not in LEVERS:
                hint = difflib.get_close_matches(str(lever), LEVERS, n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                raise ParameterError(key, f"{lever!r} is not a policy lever{extra}")
            try:
                val = check_value(lever, val)
            except ParameterError as err:
                raise ParameterError(key, str(err)) from None
            out.append((int(month), lever, val))
        return tuple(sorted(out, key=lambda e: e[0]))


Constraint = Interval | Boolean | Options | Vector | ShareTriples | Timeline


@dataclass(frozen=True)
class Param:
    """One model parameter: what it is, in which unit, what values it may take."""

    name: str
    default: Any
    unit: str
    low: float | None
    high: float | None
    kind: str  # "int", "float", "bool", "choice", "vector", "mix-list", "timeline"
    group: str
    doc: str
    source: str
    choices: tuple[str, ...] = ()
    length: int | None = None  # for vectors
    lever: bool = False  # may be changed mid-run by the policy timeline

    @cached_property
    def constraint(self) -> Constraint:
        """What values this parameter may take, declared by its kind and bounds."""
        return _CONSTRAINT_OF_KIND[self.kind](self)

    def range_text(self) -> str:
        return str(self.constraint)


_CONSTRAINT_OF_KIND = {
    "int": lambda p: Interval(int, p.low, p.high, p.unit),
    "float": lambda p: Interval(float, p.low, p.high, p.unit),
    "bool": lambda p: Boolean(),
    "choice": lambda p: Options(p.choices),
    "vector": lambda p: Vector(p.length, Interval(float, p.low, p.high, p.unit, each=True)),
    "mix-list": lambda p: ShareTriples(),
    "timeline": lambda p: Timeline(),
}


SKILLS = ("specialist", "entrepreneurial", "leadership", "digital")
PROGRAMMES = ("1.0", "2.0", "3.0")
INSTRUMENTS = (
    "block_grants",
    "research_grants",
    "rd_subsidies",
    "matching_grants",
    "incubator_support",
    "platform_investment",
    "retention_subsidy",
)
CHANNELS = ("joint_research", "student_immersion", "incubation", "platform", "brokerage")

_P: list[Param] = []


def _add(name, default, unit, low, high, kind, group, doc, source, **kw) -> None:
    _P.append(Param(name, default, unit, low, high, kind, group, doc, source, **kw))


# --- scale and time -----------------------------------------------------------------------
_add("n_universities", 3, "universities", 1, 100, "int", "scale",
     "Universities in the region.", "the ODD default region (3); metro 20.")
_add("n_firms", 2000, "firms", 1, 1_000_000, "int", "scale",
     "Firms at the start of the run.", "the ODD default region (2,000); metro 100,000.")
_add("intake_per_university", 3334, "students/year", 1, 1_000_000, "int", "scale",
     "Students admitted by each university every September.",
     "the ODD: about 40,000 enrolled in 4-year programmes at 3 universities.")
_add("programme_years", 4, "years", 1, 8, "int", "scale",
     "Length of a degree programme.", "the ODD (4-year programmes).")
_add("faculty_per_university", 800, "faculty", 1, 100_000, "int", "scale",
     "Research and teaching staff per university.",
     "Assumed: student-staff ratio about 17:1, typical of UK/Chinese universities.")
_add("n_domains", 12, "domains", 2, 64, "int", "scale",
     "Capability domains K of the knowledge vectors.", "the ODD (default 12).")
_add("horizon_months", 120, "months", 1, 1200, "int", "scale",
     "Planned run length; sizes the student arrays and bounds the timeline.",
     "the ODD (10 years).")

# --- education models -----------------------------------------------------------------------
_add("share_edu_2_0", 0.15, "share of intake", 0.0, 1.0, "float", "education",
     "Share of each university's intake entering Education Model 2.0 programmes.",
     "Assumed: a 1.0-dominant baseline (the ODD calibration baseline).", lever=True)
_add("share_edu_3_0", 0.05, "share of intake", 0.0, 1.0, "float", "education",
     "Share of each university's intake entering Education Model 3.0 programmes "
     "(1.0 takes the rest).", "Assumed: a 1.0-dominant baseline.", lever=True)
_add("edu_mix_by_university", (), "shares (1.0, 2.0, 3.0)", 0.0, 1.0, "mix-list", "education",
     "Optional per-university intake mix: one (1.0, 2.0, 3.0) triple per university, each "
     "summing to 1. Empty means every university uses share_edu_2_0 / share_edu_3_0.",
     "Scenario input.", lever=True)
_add("teach_rate_1_0", (0.030, 0.004, 0.004, 0.022), "per month", 0.0, 0.5, "vector",
     "education",
     "Classroom skill gain rates of 1.0 (specialist, entrepreneurial, leadership, digital); "
     "s += rate*(1-s).",
     "Assumed: 1.0 is research-led with strong specialist and digital gains (seed text).",
     length=4)
_add("teach_rate_2_0", (0.022, 0.006, 0.006, 0.017), "per month", 0.0, 0.5, "vector",
     "education", "Classroom rates of 2.0 (the part that needs no industry partner).",
     "Assumed: syntegrative programmes trade some specialist depth for breadth, and without "
     "industry partners their extra gains vanish (the ODD), so over 40 teaching months "
     "these gains, 1 - (1 - r)^40, sum to 1.51 against 1.59 for 1.0.", length=4)
_add("industry_rate_2_0", (0.006, 0.024, 0.024, 0.008), "per month", 0.0, 0.5, "vector",
     "education",
     "Extra 2.0 rates at full industry engagement (one project slot per 2.0 student).",
     "Assumed: 2.0 adds entrepreneurship and leadership through industry collaboration.",
     length=4)
_add("teach_rate_3_0", (0.020, 0.006, 0.008, 0.015), "per month", 0.0, 0.5, "vector",
     "education", "Classroom rates of 3.0 (the part that needs no brokered live project).",
     "Assumed: 3.0's gains come from immersion in the engaged ecosystem (the ODD); its "
     "classroom gains over 40 teaching months sum to 1.50 against 1.59 for 1.0.", length=4)
_add("immersion_rate_3_0", (0.016, 0.030, 0.030, 0.020), "per month", 0.0, 0.5, "vector",
     "education",
     "Extra 3.0 rates at full immersion (one live-project slot per 3.0 student).",
     "Assumed: 3.0 gives the largest all-round gains when the ecosystem is engaged.",
     length=4)
_add("live_slots_per_brokered_project", 12.0, "students/project", 0.0, 1000.0, "float",
     "education", "3.0 students one brokered project can host as live-project workers.",
     "Assumed.")
_add("internships_per_project", 2.0, "places/project", 0.0, 100.0, "float", "education",
     "Internship places each active project opens for final-year students.", "Assumed.")
_add("research_led_rate_1_0", (0.004, 0.0, 0.0, 0.002), "per month", 0.0, 0.5, "vector",
     "education",
     "Extra 1.0 rates from research-led learning, scaled by the share of the university's "
     "research time left after industry engagement (students learn from active researchers).",
     "Assumed: research-led teaching (Healey 2005) helps specialist depth; range 0 to the "
     "classroom rates.", length=4)
_add("capstone_students_per_firm", 6.0, "students/partner firm", 0.0, 1000.0, "float",
     "education",
     "2.0 students one capstone partner firm co-teaches (industry-taught modules and capstone "
     "projects); 2.0's industry rates scale with the capstone places per 2.0 student.",
     "Assumed: capstone teams of 4-6 students per sponsor (engineering capstone surveys, "
     "Howe & Wilbarger 2006); 0 switches the 2.0 mechanism off.")
_add("capstone_min_employees", 20, "employees", 1, 1_000_000, "int", "education",
     "Smallest firm a university recruits as a 2.0 capstone partner.",
     "Assumed: sponsors need staff to mentor teams.")
_add("capstone_acceptance", 0.3, "probability", 0.0, 1.0, "float", "education",
     "Probability that an eligible firm asked in September agrees to be a capstone partner "
     "for the year (doubled at full trust in the university).", "Assumed; range 0-1.")
_add("capstone_firm_fte", 0.3, "employees/partnership", 0.0, 100.0, "float", "education",
     "Staff a capstone partner firm diverts to mentoring and co-teaching, counted against its "
     "value added.", "Assumed: a few hours a week of a mentor per team; range 0-1.")
_add("capstone_staff_fte", 0.1, "faculty FTE/partnership", 0.0, 100.0, "float", "education",
     "Faculty time a capstone partnership takes (coordination, co-design of modules).",
     "Assumed; range 0-0.5.")
_add("social_partner_share", 0.3, "share", 0.0, 1.0, "float", "education",
     "Share of brokered (3.0) projects that add a public or social partner (three-party "
     "projects co-funded by government).",
     "Assumed: service-learning and civic projects; range 0-1.")
_add("social_cofunding_rate", 0.75, "share of project cost", 0.0, 1.0, "float", "education",
     "Share of a three-party project's cost the government pays (matching-grant pot), "
     "instead of matching_rate.", "Assumed; range 0-1.")
_add("aptitude_sigma", 0.25, "log-sd", 0.0, 2.0, "float", "education",
     "Spread of students' learning aptitude (log-normal multiplier on all rates).",
     "Assumed.")
_add("dropout_rate", 0.03, "per year", 0.0, 1.0, "float", "education",
     "Annual hazard that an enrolled student drops out.",
     "Assumed: 3%/yr, between UK (about 6% non-continuation) and Chinese rates.")

# --- knowledge --------------------------------------------------------------------------------
_add("knowledge_depreciation", 0.008, "per month", 0.0, 0.5, "float", "knowledge",
     "Share of every knowledge stock lost to obsolescence each month (about 9%/yr).",
     "Argote et al. 1990; BEA R&D capital depreciation 10-20%/yr.")
_add("optimal_distance", 0.4, "1 - cosine", 0.01, 1.0, "float", "knowledge",
     "Cognitive distance d* at which collaboration payoff peaks (inverted U).",
     "Nooteboom et al. 2007; the ODD (0.4).")
_add("payoff_shape", 2.0, "exponent", 0.1, 20.0, "float", "knowledge",
     "Sharpness of the inverted-U payoff (d/d*)^s exp(s(1 - d/d*)).",
     "Assumed: with s = 2 a partner at distance 1 keeps about 30% of the peak payoff.")
_add("university_research_rate", 0.004, "knowledge/faculty/month", 0.0, 1.0, "float",
     "knowledge", "Knowledge one faculty member adds per month at reference funding.",
     "Assumed; scale-free (only relative knowledge matters).")
_add("funding_elasticity", 0.5, "elasticity", 0.0, 2.0, "float", "knowledge",
     "Elasticity of university research output to research funding per faculty.",
     "Assumed: diminishing returns to research money (Adams & Griliches 1998).")
_add("publications_per_faculty", 0.08, "papers/faculty/month", 0.0, 10.0, "float",
     "knowledge", "Publications per faculty member per month at reference funding.",
     "Assumed: about 1 paper per staff member per year.")
_add("publication_collaboration_gain", 0.15, "share", 0.0, 2.0, "float", "knowledge",
     "Rise of publications at the optimal industry-project share (inverted U: zero gain "
     "without projects and at twice the optimum, a loss beyond).",
     "Banal-Estanol, Jofre-Bonet & Lawson 2015 (Research Policy): publication output is an "
     "inverted U in the share of a researcher's projects with industry; size assumed, range "
     "0-0.5.")
_add("publication_collaboration_optimum", 0.5, "share of project capacity", 0.01, 1.0,
     "float", "knowledge",
     "Project share of capacity at which the publication gain peaks.",
     "Banal-Estanol et al. 2015 find the turning point at moderate collaboration; assumed, "
     "range 0.2-1.")
_add("faculty_teaching_share", 0.4, "share of faculty time", 0.01, 1.0, "float", "knowledge",
     "Share of faculty time spent teaching when nobody engages with industry.",
     "Faculty time-use surveys: about 40/40/20 teaching/research/service (e.g. Link, Swann & "
     "Bozeman 2008; Bentley & Kyvik 2012).")
_add("faculty_research_share", 0.4, "share of faculty time", 0.01, 1.0, "float", "knowledge",
     "Share of faculty time spent on research when nobody engages with industry.",
     "Link, Swann & Bozeman 2008; Bentley & Kyvik 2012 (about 40%).")
_add("engagement_from_teaching", 0.4, "share", 0.0, 1.0, "float", "knowledge",
     "Share of the faculty time that industry engagement takes out of teaching (the rest "
     "comes out of research).",
     "Assumed: Link et al. 2008 find engagement time displaces research more than teaching; "
     "range 0-1.")
_add("teaching_staff_elasticity", 0.5, "elasticity", 0.0, 2.0, "float", "knowledge",
     "Elasticity of every teaching rate to the teaching time left (a student-staff effect).",
     "Assumed: class-size effects on university learning are modest (Bandiera, Larcinese & "
     "Rasul 2010); range 0-1.")
_add("firm_rd_rate", 40.0, "knowledge/MCU", 0.0, 1e4, "float", "knowledge",
     "Knowledge a firm adds per MCU of R&D.",
     "Assumed: keeps a typical firm's knowledge near its initial level against depreciation.")
_add("transfer_rate", 0.05, "per month", 0.0, 1.0, "float", "knowledge",
     "Monthly growth of a firm's stock, relative to its size, in the capabilities its "
     "university partner has and it lacks (at peak payoff and full absorptive capacity).",
     "Assumed (SKIN-style learning in partnerships).")
_add("feedback_rate", 0.01, "per month", 0.0, 1.0, "float", "knowledge",
     "Monthly growth of a university's stock, relative to its size, in the capabilities its "
     "partner firms have and it lacks (at peak payoff, with projects at full capacity).",
     "Assumed: firm problems inform university research (the ODD).")
_add("graduate_knowledge", 0.5, "knowledge/hire", 0.0, 100.0, "float", "knowledge",
     "Knowledge a hired graduate brings to the employer (times specialist skill).",
     "Labour-mobility spillovers (Almeida & Kogut 1999); size assumed.")
_add("spillover_share", 0.1, "share", 0.0, 1.0, "float", "knowledge",
     "Share of an innovation's relative knowledge gain that a partner university also makes, "
     "in the firm's direction, divided by the university's project capacity.",
     "Assumed.")

_add("knowledge_output_elasticity", 0.08, "elasticity", 0.0, 0.5, "float", "knowledge",
     "Elasticity of a firm's productivity to its own knowledge stock: each month "
     "productivity moves by (L / L_last)^e, L the firm's knowledge level (knowledge pays).",
     "Griliches 1979; Hall, Mairesse & Mohnen 2010 survey: output elasticity of R&D capital "
     "about 0.05-0.15 (within-firm estimates at the low end); plausible range 0-0.2.")
_add("knowledge_reference", 1.0, "knowledge/employee", 1e-6, 1e6, "float", "knowledge",
     "Knowledge per employee at which the knowledge term of the innovation hazard is 1.",
     "Assumed: the own-R&D steady state of a firm of mean R&D intensity and productivity "
     "(firm_rd_rate x rd_intensity x productivity / knowledge_depreciation = 1.0).")
_add("absorptive_rd_rate", 0.42, "per month per R&D share", 0.0, 100.0, "float", "knowledge",
     "Absorptive capacity built each month per unit of R&D effort / value added, toward 1.",
     "Cohen & Levinthal 1990 (absorptive capacity is a by-product of own R&D); size "
     "assumed so that a firm at 2% R&D intensity without graduates settles at about 0.4.")
_add("absorptive_graduate_rate", 0.1, "per month per unit", 0.0, 100.0, "float", "knowledge",
     "Absorptive capacity built each month per unit of graduate share x mean graduate skill.",
     "Cohen & Levinthal 1990 (skilled staff); size assumed: a tenth of staff graduates adds "
     "about 0.2 to the steady state; plausible range 0-0.3.")
_add("absorptive_depreciation", 0.0125, "per month", 0.0, 1.0, "float", "knowledge",
     "Share of absorptive capacity lost each month (skills and routines erode without R&D).",
     "Assumed equal to the conventional 15%/yr depreciation of R&D capital (Griliches; "
     "Hall 2005: 10-20%/yr); plausible range 0.005-0.03.")
# --- government -----------------------------------------------------------------------------
_add("gov_budget", 170.0, "MCU/year", 0.0, 1e7, "float", "government",
     "Annual budget of the innovation-policy instruments.",
     "Assumed: about 1% of regional value added.", lever=True)
_defaults_split = dict(block_grants=0.30, research_grants=0.20, rd_subsidies=0.15,
                       matching_grants=0.15, incubator_support=0.05, platform_investment=0.05,
                       retention_subsidy=0.10)
for _inst, _share in _defaults_split.items():
    _add(f"budget_share_{_inst}", _share, "share of budget", 0.0, 1.0, "float", "government",
         f"Share of the annual budget allocated to {_inst.replace('_', ' ')}; the seven shares "
         "sum to 1.", "Assumed policy mix.", lever=True)
_add("matching_rate", 0.5, "share of project cost", 0.0, 1.0, "float", "government",
     "Share of a university-industry project's cost a matching grant pays.",
     "Assumed: 50% matching is common (e.g. UK Knowledge Transfer Partnerships 50-67%).",
     lever=True)
_add("rd_subsidy_threshold", 0.02, "share of value added", 0.0, 1.0, "float", "government",
     "Smallest own R&D intensity that qualifies a firm for R&D subsidies.",
     "Assumed: subsidy schemes target R&D-intensive firms (e.g. China's high-tech firm status).")
_add("incubator_support", 0.01, "MCU/month/start-up", 0.0, 100.0, "float", "government",
     "Support paid to each incubated start-up in its incubation period.", "Assumed.",
     lever=True)
_add("incubator_places", 80, "start-ups/university", 0, 100_000, "int", "government",
     "Start-ups one university incubator can host at once; founders beyond it are not "
     "incubated.", "Assumed: university incubators host tens to a few hundred firms.")
_add("incubation_months", 24, "months", 0, 240, "int", "government",
     "Length of incubation for graduate start-ups and spin-offs.", "Assumed: 2-year programmes.")
_add("incubator_running_cost", 0.004, "MCU/month/start-up", 0.0, 100.0, "float",
     "government",
     "Public running cost of the incubator (space, managers, events) per incubated start-up, "
     "paid from the incubator-support pot before the support itself.",
     "Assumed: incubator operating budgets of the order of 50k a year per tenant (NBIA "
     "surveys); range 0-0.01.")
_add("incubator_staff_fte", 0.02, "faculty FTE/start-up", 0.0, 10.0, "float", "government",
     "Faculty time (mentoring, technology-transfer office) one incubated start-up takes.",
     "Assumed; range 0-0.1.")
_add("retention_subsidy", 0.003, "MCU/graduate", 0.0, 100.0, "float", "government",
     "One-off talent-retention payment to each covered job-seeking graduate who stays in the "
     "region (founders are not paid; coverage is what the pot allows).",
     "Assumed: e.g. Suzhou/Shenzhen graduate settlement subsidies of the order of 10^4 CNY.",
     lever=True)
_add("retention_admin_share", 0.1, "share of payments", 0.0, 1.0, "float", "government",
     "Running cost of the retention subsidy: administration paid from its pot, as a share of "
     "the payments made (screening, verification, payment).",
     "Caldes, Coady & Maluccio 2006: cost-transfer ratios of targeted transfer programmes "
     "mostly 0.05-0.3 once running; plausible range 0.03-0.3.")
_add("tax_rate", 0.10, "share of value added", 0.0, 1.0, "float", "government",
     "Tax the government collects on firms' value added.", "Assumed (VAT-like).")
_add("unspent_policy", "reallocate", "-", None, None, "choice", "government",
     "What happens to money a demand-driven instrument did not spend by the end of the budget "
     "year (August) or the horizon: reallocate to untied instruments (so every channel "
     "configuration spends the same money), carry over, or return.",
     "the ODD (carry over or return); reallocate keeps the siloed comparison at equal money.",
     choices=("reallocate", "carry_over", "return"))
_add("discount_rate", 0.03, "per year", 0.0, 1.0, "float", "government",
     "Discount rate of the welfare measure W.", "Assumed: a social discount rate of 3%.")

_add("burn_in_months", 0, "months", 0, 1200, "int", "government",
     "Months before W starts to accumulate; W is discounted to the end of the burn-in.",
     "Assumed: 0, since the initial state starts near its steady state (docs/ODD.md, "
     "section 5); set e.g. 24 to leave out the remaining transient.")
# --- collaboration --------------------------------------------------------------------------
_add("search_rate", 0.02, "per month", 0.0, 1.0, "float", "collaboration",
     "Base monthly probability that a firm looks for a university partner.",
     "Assumed: about 10% of firms have a university project at any time; the CIS 3-year "
     "co-operation share of innovators is still too high (docs/validation.md).")
_add("search_size_elasticity", 0.5, "elasticity", 0.0, 3.0, "float", "collaboration",
     "Elasticity of the search probability to firm size (employees over "
     "search_reference_employees).",
     "Co-operation with universities rises steeply with firm size (Laursen & Salter 2004; "
     "CIS tables by size class).")
_add("search_reference_employees", 10, "employees", 1, 1_000_000, "int", "collaboration",
     "Firm size at which the size factor of the search probability is 1.",
     "The CIS population threshold (enterprises with 10 or more employees).")
_add("experience_search_boost", 1.0, "multiplier", 0.0, 100.0, "float", "collaboration",
     "Rise in search probability per unit of the firm's highest trust in a university "
     "(cumulative advantage of experienced collaborators).",
     "SKIN family: partners with successful past projects collaborate again (Ahrweiler, Pyka & "
     "Gilbert 2004).")
_add("project_slot_employees", 50, "employees/project", 1, 1_000_000, "int", "collaboration",
     "Employees per concurrent project a firm can run; every firm can run at least one.",
     "Assumed: a project needs a team with its own manager; large firms run several "
     "university collaborations at once.")
_add("grant_search_boost", 1.0, "multiplier", 0.0, 100.0, "float", "collaboration",
     "Rise in search probability when matching grants are available (times matching rate).",
     "Assumed.")
_add("match_probability", 0.5, "probability", 0.0, 1.0, "float", "collaboration",
     "Probability that a search at peak payoff ends in a project.", "Assumed.")
_add("project_duration", 12, "months", 1, 120, "int", "collaboration",
     "Length of a university-industry project.", "the ODD (12).")
_add("project_cost", 0.03, "MCU/month", 0.0, 100.0, "float", "collaboration",
     "Monthly cost of one project.", "Assumed: about 0.36 MCU a year.")
_add("project_cash_cover", 2.0, "multiple", 0.0, 100.0, "float", "collaboration",
     "Cash a firm must hold to start a project, as a multiple of its share of the whole "
     "project's cost.", "Assumed: a buffer of twice the commitment; with none, projects "
     "bankrupted small firms (about 13x the siloed run's cash exits).")
_add("projects_per_faculty", 0.25, "projects/faculty", 0.0, 10.0, "float", "collaboration",
     "University capacity: active projects per faculty member at most.", "Assumed.")
_add("trust_gain", 0.3, "trust/success", 0.0, 1.0, "float", "collaboration",
     "Trust added (toward 1) by a successful project.", "Assumed (SKIN partnerships).")
_add("trust_decay", 0.01, "per month", 0.0, 1.0, "float", "collaboration",
     "Monthly decay of trust.", "Assumed.")
_add("choice_noise", 0.3, "Gumbel scale", 0.0, 10.0, "float", "collaboration",
     "Noise of partner choice (logit choice over candidate scores).", "Assumed.")
_add("broker_rate", 0.02, "projects/3.0 student/year", 0.0, 10.0, "float", "collaboration",
     "Brokered projects a 3.0 university starts per 3.0 student per year.", "Assumed.")
_add("broker_match_boost", 1.0, "multiplier", 0.0, 100.0, "float", "collaboration",
     "Rise in match probability for firms of a university at full 3.0 share.",
     "Assumed: a neutral broker lowers transaction costs.")
_add("broker_candidates", 20, "firms", 1, 10_000, "int", "collaboration",
     "Firms a broker screens for each brokered project.", "Assumed.")
_add("project_staff_fte", 0.1, "faculty FTE/project", 0.0, 10.0, "float", "collaboration",
     "Faculty time one active university-industry project takes (1.2 FTE-months a year).",
     "Assumed: engaged academics spend a few hours a week per partnership (Perkmann et al. "
     "2013, Research Policy, review of academic engagement); range 0-0.5.")
_add("project_firm_fte", 0.5, "employees/project", 0.0, 100.0, "float", "collaboration",
     "Firm staff one active project diverts from production (management and liaison time), "
     "counted against value added.", "Assumed; range 0-2.")
_add("abandon_hazard", 0.01, "per month", 0.0, 1.0, "float", "collaboration",
     "Monthly hazard that a project at the optimal distance with no trust is abandoned.",
     "Assumed: a minority of collaborative R&D projects end early; range 0-0.05.")
_add("abandon_distance", 4.0, "multiplier", 0.0, 100.0, "float", "collaboration",
     "Rise of the abandonment hazard per unit of ((d - d*) / d*)^2 (partners too close or too "
     "far lose interest or cannot work together).",
     "Assumed, after Nooteboom et al. 2007; range 0-10.")
_add("abandon_trust_protect", 0.8, "share", 0.0, 1.0, "float", "collaboration",
     "Relative fall of the abandonment hazard at full trust.",
     "Assumed: repeated partners finish projects (Bruneel, D'Este & Salter 2010: experience "
     "and trust lower barriers to collaboration); range 0-1.")
_add("trust_loss", 0.3, "share", 0.0, 1.0, "float", "collaboration",
     "Relative loss of trust after a failed or abandoned project.", "Assumed; range 0-1.")
_add("acceptance_horizon", 36, "months", 0, 1200, "int", "collaboration",
     "Months over which a firm counts the value-added gain of the knowledge a project brings.",
     "Assumed: knowledge depreciates by about 10%/yr; range 0-60.")
_add("acceptance_cash_buffer", 1.0, "months of value added", 0.0, 100.0, "float",
     "collaboration",
     "Cash below which a firm in financial trouble declines every brokered or platform match.",
     "Assumed; range 0-6.")
_add("broker_staff_fte", 0.1, "faculty FTE/project", 0.0, 10.0, "float", "collaboration",
     "Extra faculty time a brokered project takes (the broker's work), on top of the "
     "project's own.", "Assumed; range 0-0.5.")
_add("broker_running_cost", 0.005, "MCU/brokered project/month", 0.0, 100.0, "float",
     "collaboration",
     "Public running cost of the brokerage office per active brokered project, paid from the "
     "matching-grant pot.", "Assumed: about 15% of a project's cost; range 0-0.03.")

# --- platform ---------------------------------------------------------------------------------
_add("platform_on", False, "-", None, None, "bool", "platform",
     "Whether the region runs the digital platform (X-Eco Mall).", "Scenario input.",
     lever=True)
_add("platform_launch_month", 0, "month", 0, 1200, "int", "platform",
     "Month the platform opens (if platform_on).", "Scenario input.", lever=True)
_add("platform_join_rate", 0.02, "per month", 0.0, 1.0, "float", "platform",
     "Monthly probability that a firm joins the open platform (before investment effects).",
     "Assumed (Bass-like adoption).")
_add("platform_match_boost", 0.5, "multiplier", 0.0, 100.0, "float", "platform",
     "Rise in search and match probability for platform members.", "Assumed.")
_add("platform_investment_effect", 2.0, "multiplier", 0.0, 1000.0, "float",
     "platform",
     "How service investment per member speeds members' digital maturity (not joining).",
     "Assumed.")
_add("platform_running_cost", 0.2, "MCU/month", 0.0, 1e5, "float", "platform",
     "Public running cost of the live platform (hosting, staff, curation), paid first from the "
     "platform-investment pot.",
     "Assumed: 2.4 MCU a year, a quarter of the default platform allocation; range 0-0.7.")
_add("platform_join_cost", 0.01, "MCU/firm", 0.0, 100.0, "float", "platform",
     "One-off cost to a firm of joining the platform (fees, integration, training).",
     "Assumed: about a month of a small firm's value added; range 0-0.05.")
_add("platform_join_subsidy", 0.5, "share", 0.0, 1.0, "float", "platform",
     "Share of a joiner's cost the platform-investment pot pays, while money lasts.",
     "Assumed; range 0-1.")
_add("platform_network_effect", 1.0, "multiplier", 0.0, 100.0, "float", "platform",
     "Rise of the joining probability and of the members' match boost with the platform's "
     "network value (member share of living firms x share of domains covered).",
     "Assumed: indirect network effects of two-sided platforms (Rochet & Tirole 2003); "
     "range 0-3.")
_add("platform_investment_half", 0.05, "MCU/member/year", 1e-6, 1e4, "float", "platform",
     "Service investment per member at which the digital-maturity boost reaches half of "
     "platform_investment_effect (diminishing returns per unit money).", "Assumed.")

# --- innovation -------------------------------------------------------------------------------
_add("innovation_hazard", 0.004, "per month", 0.0, 1.0, "float", "innovation",
     "Base monthly innovation hazard of a firm.", "Assumed; about 5%/yr base.")
_add("hazard_absorptive", 2.0, "multiplier", 0.0, 100.0, "float", "innovation",
     "Hazard rise per unit of absorptive capacity.", "Cohen & Levinthal 1990.")
_add("hazard_project", 1.5, "multiplier/project", 0.0, 100.0, "float", "innovation",
     "Hazard rise per active university project (the first; further projects add with "
     "diminishing returns, log2(1 + projects)).", "Assumed.")
_add("hazard_live_project", 0.5, "multiplier/project", 0.0, 100.0, "float", "innovation",
     "Extra hazard rise per brokered project with 3.0 students working on it.",
     "the ODD: students' project work raises the partner's innovation chance.")
_add("hazard_graduates", 2.0, "multiplier", 0.0, 100.0, "float", "innovation",
     "Hazard rise per unit of graduate share times mean graduate skill.", "Assumed.")
_add("hazard_digital", 1.0, "multiplier", 0.0, 100.0, "float", "innovation",
     "Hazard rise per unit of digital maturity.", "Assumed.")
_add("radical_share", 0.05, "share", 0.0, 1.0, "float", "innovation",
     "Share of innovations that are radical.", "Assumed.")
_add("incremental_gain", 0.01, "productivity share", 0.0, 1.0, "float", "innovation",
     "Mean productivity gain of an incremental innovation (exponential).", "Assumed.")
_add("radical_gain_scale", 0.05, "productivity share", 0.0, 10.0, "float", "innovation",
     "Scale (minimum) of a radical innovation's productivity gain (Pareto).", "Assumed.")
_add("radical_tail", 1.2, "Pareto alpha", 0.5, 10.0, "float", "innovation",
     "Tail exponent of radical innovation value.",
     "Scherer & Harhoff 2000: top 10% hold over half the value.")
_add("radical_gain_cap", 1.0, "productivity share", 0.0, 100.0, "float", "innovation",
     "Cap of one innovation's productivity gain.", "Assumed: keeps a single draw finite.")
_add("patent_share_incremental", 0.1, "probability", 0.0, 1.0, "float", "innovation",
     "Probability an incremental innovation is patented.", "Assumed (Arundel & Kabla 1998).")
_add("patent_share_radical", 0.6, "probability", 0.0, 1.0, "float", "innovation",
     "Probability a radical innovation is patented.", "Assumed (Arundel & Kabla 1998).")

_add("innovation_size_elasticity", 0.25, "elasticity", 0.0, 1.5, "float", "innovation",
     "Elasticity of the innovation hazard to firm size (employees / "
     "innovation_reference_employees): larger firms innovate more often, less than "
     "proportionally.",
     "Cohen & Klepper 1996 (innovation rises less than proportionally with size); the CIS "
     "share of innovating firms by size class (10-49, 50-249, 250+) implies a hazard "
     "elasticity of about 0.15-0.35.")
_add("innovation_reference_employees", 10, "employees", 1, 1_000_000, "int", "innovation",
     "Firm size at which the size factor of the innovation hazard is 1.",
     "The CIS population threshold (enterprises with 10 or more employees).")
_add("hazard_knowledge_elasticity", 0.3, "elasticity", 0.0, 2.0, "float", "innovation",
     "Elasticity of the innovation hazard to knowledge per employee relative to "
     "knowledge_reference (knowledge pays in innovation).",
     "Hausman, Hall & Griliches 1984; Blundell, Griffith & Windmeijer 2002: elasticity of "
     "patents/innovations to the R&D stock about 0.3-0.6 within firms; plausible range 0-0.6.")
_add("product_line_employees", 50.0, "employees", 1.0, 1e7, "float", "innovation",
     "Employees of one product line: an innovation improves one line, so its productivity "
     "gain applies to a share (product_line_employees / employees)^e of a larger firm.",
     "Assumed (multi-product firms: Bernard, Redding & Schott 2010 find larger firms produce "
     "more products); plausible range 10-1000.")
_add("innovation_scope_elasticity", 0.5, "elasticity", 0.0, 1.0, "float", "innovation",
     "Exponent e of the share of a firm an innovation improves, (line / employees)^e; 0 "
     "gives the whole firm (one innovation can double a large firm), 1 one line of equal "
     "size.", "Assumed: product lines rise less than proportionally with firm size; "
     "plausible range 0.3-1.")
# --- digital transformation -----------------------------------------------------------------
_add("digital_platform_rate", 0.02, "per month", 0.0, 1.0, "float", "digital",
     "Monthly rise of digital maturity (toward 1) for platform members.", "Assumed.")
_add("digital_hire_rate", 0.2, "per hire share", 0.0, 100.0, "float", "digital",
     "Rise of digital maturity per unit of digitally skilled hires per employee.", "Assumed.")
_add("digital_decay", 0.002, "per month", 0.0, 1.0, "float", "digital",
     "Monthly erosion of digital maturity (technology moves on).", "Assumed.")

# --- labour market ----------------------------------------------------------------------------
_add("founder_rate", 0.01, "probability", 0.0, 1.0, "float", "labour",
     "Probability a graduate of average entrepreneurial skill (0.5) founds a start-up.",
     "Assumed: 1-3% of graduates found firms within a few years (GUESSS surveys).")
_add("incubator_founder_boost", 1.0, "multiplier", 0.0, 100.0, "float", "labour",
     "Rise of the founding probability with the university incubator link, where the "
     "incubator has free places.", "Assumed.")
_add("graduate_vacancy_rate", 0.045, "vacancies/employee/year", 0.0, 1.0, "float", "labour",
     "Graduate vacancies firms open each June per employee.",
     "Assumed; calibrated against regional retention (60-75%).")
_add("tie_hire_probability", 0.6, "probability", 0.0, 1.0, "float", "labour",
     "Probability an intern is hired by the internship firm when it has a vacancy.",
     "Assumed: internships are a strong hiring channel (NACE surveys about 50-60%).")
_add("leave_without_offer", 0.7, "probability", 0.0, 1.0, "float", "labour",
     "Probability a graduate with no local offer leaves the region.", "Assumed.")
_add("leave_with_offer", 0.12, "probability", 0.0, 1.0, "float", "labour",
     "Probability a graduate with a local offer still leaves.", "Assumed.")
_add("retention_effect", 0.4, "share", 0.0, 1.0, "float", "labour",
     "Relative fall of leaving probabilities for graduates covered by the retention subsidy.",
     "Assumed.")
_add("reemployment_rate", 0.08, "per month", 0.0, 1.0, "float", "labour",
     "Monthly probability that an unemployed graduate finds a local job.", "Assumed.")
_add("initial_graduate_share", 0.1, "share of employees", 0.0, 1.0, "float", "labour",
     "Share of each incumbent's employees who are graduates of the region's universities at "
     "month 0 (mean skill initial_graduate_skill), so hiring starts from a stock, not zero.",
     "Assumed: about the stock a decade of the region's graduates builds in its firms; "
     "plausible range 0.05-0.25.")
_add("initial_graduate_skill", 0.5, "skill [0, 1]", 0.0, 1.0, "float", "labour",
     "Mean skill of the graduates in incumbents' workforce at month 0.",
     "Assumed: about the mean skill of a 1.0 graduate cohort (docs/validation.md).")
_add("unemployed_leave_rate", 0.03, "per month", 0.0, 1.0, "float", "labour",
     "Monthly probability that an unemployed graduate leaves the region.", "Assumed.")

# --- firm dynamics ----------------------------------------------------------------------------
_add("size_tail", 1.06, "Pareto alpha", 0.3, 5.0, "float", "firms",
     "Tail exponent of the initial firm-size distribution.", "Axtell 2001 (1.06 for US firms).")
_add("size_min", 10.0, "employees", 1.0, 1e5, "float", "firms",
     "Smallest initial firm size.", "Assumed.")
_add("size_max", 20000.0, "employees", 1.0, 1e7, "float", "firms",
     "Largest initial firm size (truncation of the Pareto draw).", "Assumed.")
_add("growth_sigma", 0.08, "log-sd/month", 0.0, 2.0, "float", "firms",
     "Monthly growth-shock volatility of a firm of size 1 (before size scaling).",
     "Assumed; with growth_beta gives Stanley et al. volatility scaling.")
_add("growth_drift", 0.001, "per month", -0.1, 0.1, "float", "firms",
     "Mean monthly log growth of firm size (regional employment trend).",
     "Assumed: about 1%/yr employment growth.")
_add("growth_beta", 0.2, "exponent", 0.0, 1.0, "float", "firms",
     "Volatility falls with size as S^-beta.", "Stanley et al. 1996 (about 0.2).")
_add("productivity", 0.01, "MCU/employee/month", 0.0, 100.0, "float", "firms",
     "Mean initial labour productivity (value added per employee).",
     "Assumed: about 120k a year per employee.")
_add("graduate_premium", 0.8, "workers per unit skill", 0.0, 10.0, "float", "firms",
     "Extra output of an employed graduate per unit of mean skill, in ordinary workers "
     "(a graduate of skill 0.55 produces about 44% more).",
     "OECD Education at a Glance 2023: tertiary-educated adults earn about 50% more.")
_add("productivity_sigma", 0.3, "log-sd", 0.0, 3.0, "float", "firms",
     "Dispersion of initial productivity.", "Syverson 2011 (large within-industry dispersion).")
_add("margin", 0.05, "share of value added", -1.0, 1.0, "float", "firms",
     "Mean operating margin: value added less wages, other costs and taxes (the tax on value "
     "added is passed on in prices), before R&D.",
     "Assumed.")
_add("margin_sigma", 0.05, "share of value added", 0.0, 2.0, "float", "firms",
     "Monthly firm-specific margin shock.", "Assumed.")
_add("rd_intensity", 0.02, "share of value added", 0.0, 1.0, "float", "firms",
     "Mean R&D intensity of firms (log-normal across firms).",
     "Assumed: about 2%, the OECD business R&D average.")
_add("initial_cash_months", 6.0, "months of value added", 0.0, 1000.0, "float", "firms",
     "Initial cash of incumbents in months of value added.", "Assumed.")
_add("startup_cash", 0.15, "MCU", 0.0, 1e5, "float", "firms",
     "Initial cash of a new start-up.", "Assumed.")
_add("startup_size", 3.0, "employees", 1.0, 1e5, "float", "firms",
     "Initial size of a start-up or entrant.", "Assumed.")
_add("exit_hazard_young", 0.0185, "per month", 0.0, 1.0, "float", "firms",
     "Exit hazard in the first year (about 20% a year).", "BLS: about 80% survive year 1.")
_add("exit_hazard_mid", 0.011, "per month", 0.0, 1.0, "float", "firms",
     "Exit hazard in years 2-5.", "BLS/Eurostat: 40-55% survive 5 years.")
_add("exit_hazard_mature", 0.004, "per month", 0.0, 1.0, "float", "firms",
     "Exit hazard after year 5 (about 5% a year).", "Assumed.")
_add("exit_size_elasticity", 0.3, "elasticity", 0.0, 3.0, "float", "firms",
     "Exit hazards scale with (size / startup_size)^-e: large firms rarely exit.",
     "Dunne, Roberts & Samuelson 1989 (exit rates fall with size); size assumed.")
_add("incubator_hazard_cut", 0.4, "share", 0.0, 1.0, "float", "firms",
     "Relative fall of the exit hazard for incubated start-ups.", "Assumed.")
_add("entry_rate", 0.005, "per month", 0.0, 0.1, "float", "firms",
     "Exogenous entrants per month as a share of the region's initial firm count n_firms "
     "(about 6%/yr), constant over the run: entry follows the regional market, not the "
     "number of living firms.",
     "OECD business entry rates 5-10%/yr; regional entry rates are persistent over time "
     "(Fritsch & Mueller 2007), so a constant regional rate, not one that compounds.")
_add("spinoff_rate", 0.02, "spin-offs/university/month", 0.0, 100.0, "float", "firms",
     "University spin-offs per month per university at full 3.0 brokerage and incubation.",
     "Assumed.")

_add("displacement_share", 0.5, "share", 0.0, 1.0, "float", "firms",
     "Share of a new firm's value added (entrant, graduate start-up, spin-off) taken from "
     "living firms of its main domain at entry (business stealing); 1 creates none.",
     "Mankiw & Whinston 1986 (business stealing); Fritsch & Mueller 2004 (indirect "
     "displacement effects of regional entry); additionality guides put displacement of "
     "supported start-ups at 25-75% (HCA Additionality Guide 2014). Range 0-1.")
# --- channels ---------------------------------------------------------------------------------
for _ch in CHANNELS:
    _add(f"channel_{_ch}", True, "-", None, None, "bool", "channels",
         f"Whether the {_ch.replace('_', ' ')} channel is open.",
         "the ODD (channel attribution by Shapley values).")
_add("siloed", False, "-", None, None, "bool", "channels",
     "Siloed counterfactual: close every cross-helix channel and spend tied money through "
     "untied instruments (firm R&D subsidies, university block grants).", "the ODD.")
_add("timeline", (), "events", None, None, "timeline", "policy",
     "Scheduled policy changes: a sequence of (month, lever, value); a lever is any "
     "parameter marked lever.", "the ODD mechanism 1 (Policy).")

# The table as declared by the rows above. Calibration changes only defaults and sources, so
# values are checked against these rows without reading the calibration file.
TABLE: dict[str, Param] = {p.name: p for p in _P}
LEVERS: tuple[str, ...] = tuple(p.name for p in _P if p.lever)


def check_value(name: str, value: Any) -> Any:
    """Check one value against its row's constraint and return it normalised (tuples, floats).

    Raises ParameterError with a one-line message naming the parameter.
    """
    p = TABLE.get(name)
    if p is None:
        hint = difflib.get_close_matches(name, TABLE, n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        raise ParameterError(name, "unknown parameter" + extra,
                             message=f"unknown parameter {name!r}{extra}")
    return p.constraint.check(name, value)


def check_joint(params: Mapping[str, Any]) -> None:
    """Constraints that involve several parameters at once."""
    s2, s3 = params["share_edu_2_0"], params["share_edu_3_0"]
    if s2 + s3 > 1.0 + 1e-9:
        raise ParameterError("", f"parameters 'share_edu_2_0' + 'share_edu_3_0' must not "
                                 f"exceed 1 (1.0 takes the rest), got {s2 + s3:g}")
    total = sum(params[f"budget_share_{i}"] for i in INSTRUMENTS)
    if abs(total - 1.0) > 1e-6:
        raise ParameterError("", f"parameters 'budget_share_*' must sum to 1, got {total:g}")
    mix = params["edu_mix_by_university"]
    if mix and len(mix) != params["n_universities"]:
        raise ParameterError("edu_mix_by_university", f"expected one triple per university "
                             f"({params['n_universities']}), got {len(mix)}")
    if params["size_max"] < params["size_min"]:
        raise ParameterError("size_max", "must be at least 'size_min'")
    for month, _lever, _ in params["timeline"]:
        if month > params["horizon_months"]:
            raise ParameterError("timeline", f"event at month {month} is after the horizon "
                                             f"({params['horizon_months']} months)")


def check_timeline_states(params: Mapping[str, Any]) -> None:
    """Every state the timeline passes through must satisfy the joint constraints.

    Events of the same month take effect together, so a budget can be re-split in one month.
    """
    state = dict(params)
    events = params["timeline"]  # sorted by month
    for i, (month, lever, value) in enumerate(events):
        state[lever] = value
        if i + 1 < len(events) and events[i + 1][0] == month:
            continue
        try:
            check_joint(state)
        except ParameterError as err:
            raise ParameterError("timeline", f"after the changes at month {month}: {err}"
                                 ) from None


class Parameters(Mapping[str, Any]):
    """Every model parameter, resolved and checked: what a run starts from. Read-only.

    Made by ``resolve`` (or ``Parameters(overrides)``, the same); ``replace(**changes)`` is a
    new object with only the changes checked. Values are plain immutable Python values
    (int, float, bool, str, tuples), so a ``Parameters`` pickles to workers and hashes to the
    same run id everywhere.
    """

    __slots__ = ("_values",)

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = dict(resolve(overrides)._values)

    @classmethod
    def _checked(cls, values: dict[str, Any]) -> Parameters:
        """Wrap values already checked (the one place that skips the checks)."""
        obj = cls.__new__(cls)
        obj._values = values
        return obj

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Parameters({self._values!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Parameters._checked, (self._values,))

    def replace(self, **changes: Any) -> Parameters:
        """These parameters with ``changes`` (checked, with the joint constraints and the
        timeline's states). Raises ParameterError."""
        # A change to the value a parameter already has changes nothing (a run spec's horizon
        # that is the scenario's, say): nothing to check again.
        changes = {k: v for k, v in changes.items() if not _same(self._values.get(k, _NONE), v)}
        if not changes:
            return self
        values = dict(self._values)
        for name, value in changes.items():
            values[name] = check_value(name, value)
        check_joint(values)
        check_timeline_states(values)
        return Parameters._checked(values)

    def to_dict(self) -> dict[str, Any]:
        """A plain (mutable) copy."""
        return dict(self._values)


_NONE = object()


def _same(current: Any, value: Any) -> bool:
    # Only plain scalars of the same type: 3 == 3.0 would skip normalising an int to a float,
    # and numpy arrays have no single truth value.
    return type(value) is type(current) and isinstance(value, (bool, int, float, str)) \
        and value == current


def resolve(overrides: Mapping[str, Any] | None = None, /, **changes: Any) -> Parameters:
    """The defaults updated by ``overrides`` and ``changes``, every value checked, as one
    immutable ``Parameters``; a ``Parameters`` is returned as it is (not checked again), with
    only ``changes`` checked. Raises ParameterError."""
    if isinstance(overrides, Parameters):
        return overrides.replace(**changes)
    everything = {**(overrides or {}), **changes}
    defaults = _loaded().defaults
    return defaults.replace(**everything) if everything else defaults


def resolve_checked(overrides: Mapping[str, Any]) -> Parameters:
    """``resolve`` for overrides whose every value ``check_value`` has already returned (a
    scenario loader checks them one by one, to report each at its key in the file): only the
    joint constraints and the timeline's states are checked. Raises ParameterError."""
    values = {**_loaded().defaults._values, **overrides}
    check_joint(values)
    check_timeline_states(values)
    return Parameters._checked(values)


class RunParameters(dict):
    """What the mechanisms read as ``w.p``: the levers the timeline has changed in this run,
    else the run's ``Parameters``. Read-only: ``set_lever`` (called by ``policy.set_lever``)
    changes ``levers``, the run's lever state, and the parameters the run started from stay
    as they were; setting ``parameters`` (``EcosystemModel.change_lever``) replaces them.

    It is a dict of the values in force, kept current by those two writes: mechanisms read
    ``w.p[...]`` about 26,000 times a run, and a dict's own lookup is several times faster
    than a Python ``__getitem__`` that consults the levers first. Every other write raises.
    """

    __slots__ = ("_levers", "_parameters")

    def __init__(self, parameters: Parameters, levers: dict[str, Any]) -> None:
        super().__init__()
        self._levers = dict(levers)
        self.parameters = parameters

    @property
    def parameters(self) -> Parameters:
        return self._parameters

    @parameters.setter
    def parameters(self, parameters: Parameters) -> None:
        self._parameters = parameters
        dict.clear(self)
        dict.update(self, parameters._values)
        dict.update(self, self._levers)  # a lever the timeline changed has the last word

    @property
    def levers(self) -> Mapping[str, Any]:
        """The levers changed so far, at their current values (read-only)."""
        return MappingProxyType(self._levers)

    def set_lever(self, name: str, value: Any) -> None:
        """Change a lever from now on (the policy mechanism's timeline events)."""
        self._levers[name] = value
        dict.__setitem__(self, name, value)

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("run parameters are read-only: levers change through set_lever")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _read_only
    __ior__ = _read_only

    def copy(self) -> dict[str, Any]:
        """A plain (mutable) dict of the values in force."""
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RunParameters, (self._parameters, self._levers))

    def __repr__(self) -> str:
        return f"RunParameters(levers={self._levers!r})"


# --- calibrated defaults -----------------------------------------------------------------------
@dataclass(frozen=True)
class CalibratedTable:
    """The table with the calibration's values as defaults and its provenance as sources."""

    calibration: Calibration
    rows: tuple[Param, ...]
    parameters: dict[str, Param]
    defaults: Parameters


def calibrated_table(calibration: Calibration, path: Path | str) -> CalibratedTable:
    """The rows with the values of ``calibration`` as defaults and the fit's provenance as
    their source. Raises CalibrationFileError naming ``path`` and the key."""
    rows = list(_P)
    for name, value in calibration.values.items():
        key = f"parameters.{name}"
        try:
            value = check_value(name, value)
        except ParameterError as err:
            raise CalibrationFileError(path, key, err.reason) from None
        i = rows.index(TABLE[name])
        rows[i] = replace(rows[i], default=value, source=calibration.source(name))
    values = {p.name: p.default for p in rows}
    check_joint(values)
    check_timeline_states(values)
    return CalibratedTable(calibration, tuple(rows), {p.name: p for p in rows},
                           Parameters._checked(values))


_LOADED: CalibratedTable | None = None


def _loaded() -> CalibratedTable:
    """The calibrated table, read from ``simulation/calibration.toml`` on first use."""
    global _LOADED
    if _LOADED is None:
        _LOADED = calibrated_table(read_calibration(CALIBRATION_FILE), CALIBRATION_FILE)
    return _LOADED


def __getattr__(name: str) -> Any:
    # PEP 562: the calibrated names are computed on first access, not at import.
    if name == "PARAMETERS":  # every row, calibrated defaults and sources
        return _loaded().parameters
    if name == "DEFAULTS":  # the calibrated defaults, resolved
        return _loaded().defaults
    if name == "CALIBRATION":
        return _loaded().calibration
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def markdown_table(table: CalibratedTable | None = None) -> str:
    """The parameter table as Markdown, grouped; docs/parameters.md is this text."""
    lines = ["# Parameters", "",
             "Generated from `simulation/parameters.py` by `python -m simulation.parameters`; "
             "do not edit by hand. Money in MCU (million currency units), time in months.", ""]
    group = None
    for p in (table or _loaded()).rows:
        if p.group != group:
            group = p.group
            lines += ["", f"## {group}", "",
                      "| name | default | unit | range | meaning | source |",
                      "|---|---|---|---|---|---|"]
        default = p.default
        if isinstance(default, tuple):
            default = "(" + ", ".join(f"{x:g}" if _is_number(x) else str(x)
                                      for x in default) + ")"
        lever = " *(lever)*" if p.lever else ""
        lines.append(f"| `{p.name}` | {default} | {p.unit} | {p.range_text()} | "
                     f"{p.doc}{lever} | {p.source} |")
    from .priors import markdown as priors_markdown  # priors.py reads this table

    return "\n".join(lines) + "\n" + priors_markdown()


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table(), end="")
