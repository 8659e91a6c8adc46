"""Priors of the parameter table: what we believe about each assumed effect size and cost.

Every parameter that is assumed rather than calibrated (the effect sizes and costs whose source
says "Assumed", and evidence-based effect sizes with a plausible range) has a prior here: a
distribution over its plausible range, with the source of that range. ``docs/parameters.md``
shows them (``simulation.parameters.markdown_table`` appends ``markdown()``), a scenario file
can narrow or widen them (``[priors]``, see ``parse``), and ``helixsim dividend --uncertainty``
draws from them.

Families (each maps a uniform number u in [0, 1] to a value by its quantile function, so a
space-filling design in the unit cube becomes a design over the priors):

- ``uniform(low, high)``;
- ``triangular(low, mode, high)``: the default as the most likely value, the range from the
  source;
- ``loguniform(low, high)``: a positive rate known only to its order of magnitude;
- ``beta(a, b, low=0, high=1)``: a share or probability with a mean a / (a + b), scaled to
  [low, high].

A prior of a vector parameter (the teaching rates, one per skill) is a prior of a common
**scale factor** of its default vector (``scale=True``): the profile over skills is kept and its
level is uncertain. An integer parameter's draws are rounded.

Parameters without a prior are fixed by design, each for a reason listed in ``FIXED``: region
description (scale), policy levers and policy rules (decisions, not uncertainties: set them in a
scenario or optimise them), switches, calibrated parameters (their uncertainty is the
calibration's posterior: ``--posterior``), and normalisations that only set units.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FAMILIES = ("uniform", "triangular", "loguniform", "beta")


class PriorError(ValueError):
    """An invalid prior. ``key`` is the parameter (or ``parameter.field``), ``reason`` the rest,
    so that a scenario file can report ``file: priors.key: reason``."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"prior {key!r}: {reason}" if key else reason)


@dataclass(frozen=True)
class Distribution:
    """A one-dimensional distribution on [low, high] given by its family and arguments."""

    family: str
    low: float
    high: float
    mode: float | None = None  # triangular
    a: float | None = None  # beta
    b: float | None = None  # beta

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Quantile function: values at the probabilities ``u`` (each in [0, 1])."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        lo, hi = self.low, self.high
        if hi == lo:
            return np.full_like(u, lo)
        if self.family == "uniform":
            return lo + u * (hi - lo)
        if self.family == "loguniform":
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        if self.family == "triangular":
            c = (self.mode - lo) / (hi - lo)
            left = lo + np.sqrt(u * (hi - lo) * (self.mode - lo))
            right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - self.mode))
            return np.where(u < c, left, right)
        if self.family == "beta":
            from scipy.special import betaincinv

            return lo + betaincinv(self.a, self.b, u) * (hi - lo)
        raise AssertionError(self.family)  # pragma: no cover

    def median(self) -> float:
        return float(self.ppf(0.5))

    def text(self) -> str:
        """The distribution as written in the table, e.g. ``triangular(0, 0.05, 0.15)``."""
        if self.family == "triangular":
            return f"triangular({self.low:g}, {self.mode:g}, {self.high:g})"
        if self.family == "beta":
            scaled = ("" if (self.low, self.high) == (0.0, 1.0)
                      else f" on [{self.low:g}, {self.high:g}]")
            return f"beta({self.a:g}, {self.b:g}){scaled}"
        return f"{self.family}({self.low:g}, {self.high:g})"


def uniform(low: float, high: float) -> Distribution:
    return _checked(Distribution("uniform", float(low), float(high)))


def triangular(low: float, mode: float, high: float) -> Distribution:
    return _checked(Distribution("triangular", float(low), float(high), mode=float(mode)))


def loguniform(low: float, high: float) -> Distribution:
    return _checked(Distribution("loguniform", float(low), float(high)))


def beta(a: float, b: float, low: float = 0.0, high: float = 1.0) -> Distribution:
    return _checked(Distribution("beta", float(low), float(high), a=float(a), b=float(b)))


def _checked(d: Distribution, key: str = "") -> Distribution:
    values = [d.low, d.high] + [v for v in (d.mode, d.a, d.b) if v is not None]
    if not all(math.isfinite(v) for v in values):
        raise PriorError(key, f"{d.family}: every argument must be a finite number")
    if not d.low <= d.high:
        raise PriorError(key, f"{d.family}: low ({d.low:g}) must not exceed high ({d.high:g})")
    if d.family == "triangular" and not d.low <= d.mode <= d.high:
        raise PriorError(key, f"triangular: mode ({d.mode:g}) must lie in [low, high] "
                              f"([{d.low:g}, {d.high:g}])")
    if d.family == "loguniform" and not d.low > 0:
        raise PriorError(key, f"loguniform: low must be above 0, got {d.low:g}")
    if d.family == "beta" and not (d.a > 0 and d.b > 0):
        raise PriorError(key, f"beta: a and b must be above 0, got a={d.a:g}, b={d.b:g}")
    return d


@dataclass(frozen=True)
class Prior:
    """The prior of one parameter: a distribution of its value (or of the scale factor of its
    default vector, ``scale``), and where the range comes from."""

    parameter: str
    distribution: Distribution
    source: str
    scale: bool = False
    origin: str = "parameter table"  # or the scenario file, or "posterior"

    def values(self, u: np.ndarray, default: Any = None) -> list[Any]:
        """Parameter values at the probabilities ``u``: numbers, rounded for an integer
        parameter, or vectors (the default vector times the drawn scale)."""
        from .parameters import PARAMETERS

        p = PARAMETERS[self.parameter]
        x = self.distribution.ppf(u)
        if self.scale:
            base = p.default if default is None else default
            return [tuple(float(s) * float(v) for v in base) for s in x]
        if p.kind == "int":
            return [round(float(v)) for v in x]
        return [float(v) for v in x]

    def support(self, default: Any = None) -> tuple[float, float]:
        """(lowest, highest) value any draw can take (per element for a vector)."""
        lo, hi = self.distribution.low, self.distribution.high
        if self.scale:
            from .parameters import PARAMETERS

            base = PARAMETERS[self.parameter].default if default is None else default
            return (lo * min(base), hi * max(base))
        return (lo, hi)

    def text(self) -> str:
        return ("scale x default: " if self.scale else "") + self.distribution.text()


_PRIORS: dict[str, Prior] = {}


def _prior(name: str, distribution: Distribution, *, source: str, scale: bool = False) -> None:
    _PRIORS[name] = Prior(name, distribution, source, scale)


# --- the priors ------------------------------------------------------------------------------
# Ranges quoted from a row's own source ("range 0-0.05") are marked "range of the source"; the
# others say where they come from. Effects that the evidence does not establish have ranges
# that reach zero.
SRC = "range of the parameter's source"
HALF_TWICE = "assumed: the effect may be absent or up to twice the default"
PM30 = "assumed: within 30% of the default (the classroom rates are the best-known teaching rates)"

# education
_prior("teach_rate_1_0", triangular(0.7, 1.0, 1.3), scale=True, source=PM30)
_prior("teach_rate_2_0", triangular(0.7, 1.0, 1.3), scale=True, source=PM30)
_prior("teach_rate_3_0", triangular(0.7, 1.0, 1.3), scale=True, source=PM30)
_prior("industry_rate_2_0", uniform(0.0, 2.0), scale=True, source=HALF_TWICE)
_prior("immersion_rate_3_0", uniform(0.0, 2.0), scale=True, source=HALF_TWICE)
_prior("research_led_rate_1_0", uniform(0.0, 2.0), scale=True,
       source="range of the source: 0 to the classroom rates")
_prior("live_slots_per_brokered_project", triangular(4, 12, 20),
       source="assumed: teams of a few to twenty students per live project")
_prior("internships_per_project", triangular(0, 2, 4), source=HALF_TWICE)
_prior("capstone_students_per_firm", triangular(3, 6, 10),
       source="capstone teams of 4-6 students, one or two teams per sponsor (Howe & Wilbarger "
              "2006)")
_prior("capstone_min_employees", triangular(10, 20, 50), source="assumed: 10-50 employees")
_prior("capstone_acceptance", triangular(0.0, 0.3, 1.0), source=SRC + " (0-1)")
_prior("capstone_firm_fte", triangular(0.0, 0.3, 1.0), source=SRC + " (0-1)")
_prior("capstone_staff_fte", triangular(0.0, 0.1, 0.5), source=SRC + " (0-0.5)")
_prior("social_partner_share", triangular(0.0, 0.3, 1.0), source=SRC + " (0-1)")
_prior("aptitude_sigma", triangular(0.1, 0.25, 0.5), source="assumed: 0.1-0.5 log-sd")
_prior("dropout_rate", triangular(0.01, 0.03, 0.08),
       source="Chinese (about 1%) to UK (about 6-8%) non-continuation rates")
# knowledge
_prior("knowledge_depreciation", triangular(0.005, 0.008, 0.018),
       source="Argote et al. 1990; BEA: 6-20%/yr")
_prior("optimal_distance", triangular(0.2, 0.4, 0.6),
       source="Nooteboom et al. 2007: an intermediate optimum; assumed 0.2-0.6")
_prior("payoff_shape", loguniform(1.0, 4.0), source="assumed: a flat to a sharp inverted U")
_prior("funding_elasticity", triangular(0.2, 0.5, 1.0),
       source="Adams & Griliches 1998: diminishing returns, elasticities 0.2-1")
_prior("publications_per_faculty", triangular(0.04, 0.08, 0.15),
       source="assumed: 0.5-2 papers per staff member per year")
_prior("publication_collaboration_gain", triangular(0.0, 0.15, 0.5), source=SRC + " (0-0.5)")
_prior("publication_collaboration_optimum", triangular(0.2, 0.5, 1.0), source=SRC + " (0.2-1)")
_prior("faculty_teaching_share", triangular(0.3, 0.4, 0.5),
       source="time-use surveys (Link et al. 2008; Bentley & Kyvik 2012): 30-50%")
_prior("faculty_research_share", triangular(0.3, 0.4, 0.5),
       source="time-use surveys (Link et al. 2008; Bentley & Kyvik 2012): 30-50%")
_prior("engagement_from_teaching", triangular(0.0, 0.4, 1.0), source=SRC + " (0-1)")
_prior("teaching_staff_elasticity", triangular(0.0, 0.5, 1.0), source=SRC + " (0-1)")
_prior("transfer_rate", triangular(0.0, 0.05, 0.15),
       source="assumed: zero (no learning in partnerships) to three times the default")
_prior("feedback_rate", triangular(0.0, 0.01, 0.03),
       source="assumed: zero to three times the default")
_prior("graduate_knowledge", triangular(0.0, 0.5, 1.5),
       source="Almeida & Kogut 1999 show the channel, not its size: zero to three times")
_prior("spillover_share", triangular(0.0, 0.1, 0.3), source="assumed: zero to 0.3")
_prior("knowledge_output_elasticity", triangular(0.0, 0.08, 0.2), source=SRC + " (0-0.2)")
_prior("absorptive_rd_rate", triangular(0.2, 0.42, 0.8),
       source="assumed: steady-state absorptive capacity 0.2-0.6 at 2% R&D intensity")
_prior("absorptive_graduate_rate", triangular(0.0, 0.1, 0.3), source=SRC + " (0-0.3)")
_prior("absorptive_depreciation", triangular(0.005, 0.0125, 0.03), source=SRC + " (0.005-0.03)")
# government: running costs of the channels (the instruments themselves are levers)
_prior("incubator_running_cost", triangular(0.0, 0.004, 0.01), source=SRC + " (0-0.01)")
_prior("incubator_staff_fte", triangular(0.0, 0.02, 0.1), source=SRC + " (0-0.1)")
_prior("retention_admin_share", triangular(0.03, 0.1, 0.3),
       source="Caldes, Coady & Maluccio 2006: 0.03-0.3")
# collaboration
_prior("project_slot_employees", triangular(20, 50, 150),
       source="assumed: one project per 20-150 employees")
_prior("grant_search_boost", triangular(0.0, 1.0, 2.0), source=HALF_TWICE)
_prior("match_probability", triangular(0.2, 0.5, 0.8), source="assumed: 0.2-0.8")
_prior("project_cost", triangular(0.015, 0.03, 0.06), source="assumed: half to twice the default")
_prior("project_cash_cover", triangular(1.0, 2.0, 4.0), source="assumed: 1-4 times the commitment")
_prior("projects_per_faculty", triangular(0.1, 0.25, 0.5),
       source="assumed: one project per 2-10 faculty")
_prior("trust_gain", triangular(0.1, 0.3, 0.5), source="assumed (SKIN partnerships): 0.1-0.5")
_prior("trust_decay", triangular(0.0, 0.01, 0.03), source="assumed: none to about 30%/yr")
_prior("choice_noise", triangular(0.1, 0.3, 1.0), source="assumed: 0.1-1")
_prior("broker_rate", triangular(0.005, 0.02, 0.05), source="assumed: a quarter to 2.5 times")
_prior("broker_match_boost", triangular(0.0, 1.0, 2.0), source=HALF_TWICE)
_prior("broker_candidates", triangular(5, 20, 50), source="assumed: 5-50 firms screened")
_prior("project_staff_fte", triangular(0.0, 0.1, 0.5), source=SRC + " (0-0.5; Perkmann et al. "
                                                                     "2013)")
_prior("project_firm_fte", triangular(0.0, 0.5, 2.0), source=SRC + " (0-2)")
_prior("abandon_hazard", triangular(0.0, 0.01, 0.05), source=SRC + " (0-0.05)")
_prior("abandon_distance", triangular(0.0, 4.0, 10.0), source=SRC + " (0-10)")
_prior("abandon_trust_protect", triangular(0.0, 0.8, 1.0), source=SRC + " (0-1)")
_prior("trust_loss", triangular(0.0, 0.3, 1.0), source=SRC + " (0-1)")
_prior("acceptance_horizon", triangular(0, 36, 60), source=SRC + " (0-60)")
_prior("acceptance_cash_buffer", triangular(0.0, 1.0, 6.0), source=SRC + " (0-6)")
_prior("broker_staff_fte", triangular(0.0, 0.1, 0.5), source=SRC + " (0-0.5)")
_prior("broker_running_cost", triangular(0.0, 0.005, 0.03), source=SRC + " (0-0.03)")
# platform
_prior("platform_join_rate", loguniform(0.005, 0.05),
       source="assumed: Bass-type adoption over 2-20 years")
_prior("platform_match_boost", triangular(0.0, 0.5, 1.5), source="assumed: none to three times")
_prior("platform_investment_effect", triangular(0.0, 2.0, 4.0), source=HALF_TWICE)
_prior("platform_running_cost", triangular(0.0, 0.2, 0.7), source=SRC + " (0-0.7)")
_prior("platform_join_cost", triangular(0.0, 0.01, 0.05), source=SRC + " (0-0.05)")
_prior("platform_network_effect", triangular(0.0, 1.0, 3.0), source=SRC + " (0-3)")
_prior("platform_investment_half", loguniform(0.01, 0.25),
       source="assumed: a fifth to five times the default")
# innovation
_prior("innovation_hazard", triangular(0.002, 0.004, 0.008), source="assumed: 2.5-10%/yr base")
_prior("hazard_absorptive", triangular(0.5, 2.0, 4.0),
       source="Cohen & Levinthal 1990 give the sign, not the size: 0.5-4")
_prior("hazard_project", triangular(0.0, 1.5, 3.0),
       source="assumed: co-operation effects on innovation range from none to large "
              "(CIS micro-studies)")
_prior("hazard_live_project", triangular(0.0, 0.5, 1.5), source="assumed: none to three times")
_prior("hazard_graduates", triangular(0.0, 2.0, 4.0), source=HALF_TWICE)
_prior("hazard_digital", triangular(0.0, 1.0, 2.0), source=HALF_TWICE)
_prior("radical_share", triangular(0.02, 0.05, 0.1), source="assumed: 2-10% of innovations")
_prior("incremental_gain", triangular(0.005, 0.01, 0.02), source="assumed: half to twice")
_prior("radical_gain_scale", triangular(0.02, 0.05, 0.1), source="assumed: 0.4 to twice")
_prior("radical_tail", triangular(0.9, 1.2, 1.6),
       source="Scherer & Harhoff 2000: Pareto tails near 1")
_prior("patent_share_incremental", triangular(0.05, 0.1, 0.2),
       source="Arundel & Kabla 1998: propensities of 5-20% for minor innovations")
_prior("patent_share_radical", triangular(0.4, 0.6, 0.8),
       source="Arundel & Kabla 1998: propensities of 40-80% for major innovations")
_prior("innovation_size_elasticity", triangular(0.15, 0.25, 0.35), source=SRC + " (0.15-0.35)")
_prior("hazard_knowledge_elasticity", triangular(0.0, 0.3, 0.6), source=SRC + " (0-0.6)")
_prior("product_line_employees", loguniform(10.0, 1000.0), source=SRC + " (10-1000)")
_prior("innovation_scope_elasticity", triangular(0.3, 0.5, 1.0), source=SRC + " (0.3-1)")
# digital
_prior("digital_platform_rate", triangular(0.005, 0.02, 0.04), source="assumed: a quarter to twice")
_prior("digital_hire_rate", triangular(0.05, 0.2, 0.5), source="assumed: a quarter to 2.5 times")
_prior("digital_decay", triangular(0.0, 0.002, 0.006), source="assumed: none to 7%/yr")
# labour
_prior("founder_rate", triangular(0.005, 0.01, 0.03), source="GUESSS surveys: 1-3% of graduates")
_prior("incubator_founder_boost", triangular(0.0, 1.0, 2.0), source=HALF_TWICE)
_prior("graduate_vacancy_rate", triangular(0.035, 0.045, 0.055),
       source="assumed: narrow, since retention (a validation target) pins it")
_prior("tie_hire_probability", beta(6, 4),
       source="NACE surveys: 50-60% of interns get offers; beta with mean 0.6, 90% in 0.34-0.84")
_prior("leave_without_offer", beta(7, 3), source="assumed: beta with mean 0.7, 90% in 0.45-0.9")
_prior("retention_effect", triangular(0.0, 0.4, 0.8),
       source="assumed: settlement subsidies may not change moves at all")
_prior("reemployment_rate", triangular(0.04, 0.08, 0.15), source="assumed: 4-15% a month")
_prior("initial_graduate_share", triangular(0.05, 0.1, 0.25), source=SRC + " (0.05-0.25)")
_prior("initial_graduate_skill", triangular(0.4, 0.5, 0.6), source="assumed: 0.4-0.6")
_prior("unemployed_leave_rate", triangular(0.01, 0.03, 0.06), source="assumed: 1-6% a month")
# firms
_prior("graduate_premium", triangular(0.3, 0.8, 1.2),
       source="OECD Education at a Glance 2023: tertiary earnings premia of 20-100% across "
              "countries")
_prior("margin", triangular(0.02, 0.05, 0.08), source="assumed: 2-8% operating margins")
_prior("margin_sigma", triangular(0.02, 0.05, 0.1), source="assumed: 0.02-0.1")
_prior("initial_cash_months", triangular(3.0, 6.0, 12.0), source="assumed: 3-12 months")
_prior("startup_cash", triangular(0.05, 0.15, 0.3), source="assumed: a third to twice")
_prior("startup_size", triangular(1.0, 3.0, 5.0), source="assumed: 1-5 employees")
_prior("exit_hazard_mature", triangular(0.002, 0.004, 0.006), source="assumed: 2.5-7%/yr")
_prior("exit_size_elasticity", triangular(0.1, 0.3, 0.6),
       source="Dunne, Roberts & Samuelson 1989 give the sign; 0.1-0.6 assumed")
_prior("incubator_hazard_cut", triangular(0.0, 0.4, 0.8),
       source="assumed: incubator survival effects range from none to large in the literature")
_prior("entry_rate", triangular(0.004, 0.005, 0.008), source="OECD entry rates 5-10%/yr")
_prior("spinoff_rate", triangular(0.005, 0.02, 0.05), source="assumed: a quarter to 2.5 times")
_prior("displacement_share", triangular(0.25, 0.5, 0.75),
       source="HCA Additionality Guide 2014: displacement 25-75%")

# Parameters deliberately without a prior, and why. ``check_coverage`` (and a test) ask that
# every parameter whose source says "assumed" is either here or has a prior.
SCALE = "region description (its size and structure): set it in a scenario"
POLICY = "a policy decision, not an uncertainty: set it in a scenario or optimise it"
CALIBRATED = "calibrated by `helixsim calibrate`: its uncertainty is the posterior (--posterior)"
NORMALISATION = "a normalisation: it sets units, not outcomes"
FIXED: dict[str, str] = {
    "faculty_per_university": SCALE, "size_min": SCALE, "size_max": SCALE,
    "productivity": SCALE, "rd_intensity": SCALE, "growth_drift": SCALE,
    "tax_rate": SCALE,
    "social_cofunding_rate": POLICY, "rd_subsidy_threshold": POLICY, "incubator_places": POLICY,
    "incubation_months": POLICY, "platform_join_subsidy": POLICY,
    "discount_rate": "a value judgement of the welfare measure (run a sensitivity instead)",
    "burn_in_months": "a measurement choice of the welfare measure",
    "university_research_rate": NORMALISATION, "knowledge_reference": NORMALISATION,
    "firm_rd_rate": NORMALISATION + " (with knowledge_reference)",
    "radical_gain_cap": "a numerical guard that keeps one Pareto draw finite",
    "growth_sigma": "pinned by the growth-volatility validation target (with growth_beta)",
    "search_rate": CALIBRATED, "search_size_elasticity": CALIBRATED,
    "experience_search_boost": CALIBRATED, "exit_hazard_young": CALIBRATED,
    "exit_hazard_mid": CALIBRATED, "leave_with_offer": CALIBRATED,
}


def _valid_range_error(prior: Prior, default: Any = None) -> str | None:
    """Why a prior's draws could leave its parameter's valid range (None when they cannot)."""
    from .parameters import PARAMETERS

    p = PARAMETERS[prior.parameter]
    if p.kind not in ("int", "float", "vector"):
        return f"'{prior.parameter}' is not numeric ({p.kind}): only numbers have priors"
    if prior.scale != (p.kind == "vector"):
        return ("a vector parameter's prior is a prior of the scale of its default (scale)"
                if p.kind == "vector" else "only a vector parameter's prior is a scale")
    lo, hi = prior.support(default)
    if (p.low is not None and lo < p.low) or (p.high is not None and hi > p.high):
        return (f"{prior.text()} reaches [{lo:g}, {hi:g}], outside the valid range "
                f"{p.range_text()} ({p.unit})")
    return None


def _check_table() -> None:
    for prior in _PRIORS.values():
        problem = _valid_range_error(prior)
        if problem:  # a mistake in this file: fail loudly on first use
            raise AssertionError(f"prior of {prior.parameter}: {problem}")


_CHECKED: list[bool] = []


def table() -> dict[str, Prior]:
    """The priors of the parameter table, by parameter (checked against the valid ranges on
    first use: the parameter table itself is read lazily)."""
    if not _CHECKED:
        _check_table()
        _CHECKED.append(True)
    return dict(_PRIORS)


def uncovered() -> list[str]:
    """Parameters whose source says "assumed" that have neither a prior nor a reason in
    ``FIXED`` (levers and scenario inputs are decisions and need neither)."""
    from .parameters import PARAMETERS

    out = []
    for p in PARAMETERS.values():
        if p.lever or p.kind in ("bool", "choice", "mix-list", "timeline"):
            continue
        if "assumed" in p.source.lower() and p.name not in _PRIORS and p.name not in FIXED:
            out.append(p.name)
    return out


# --- priors written in a file ([priors] of a scenario) -------------------------------------
FIELDS = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
          "loguniform": ("low", "high"), "beta": ("a", "b", "low", "high")}
OPTIONAL = {"beta": ("low", "high")}
KEYS = ("dist", "low", "mode", "high", "a", "b", "scale", "source")


def parse(name: str, spec: Any, *, origin: str) -> Prior:
    """A prior written in a file: ``{dist = "triangular", low = 0, mode = 0.05, high = 0.1}``
    (``scale = true`` for a vector parameter, an optional ``source``). Checked against the
    parameter's valid range. Raises PriorError with the key (``name`` or ``name.field``)."""
    from .parameters import PARAMETERS

    if name not in PARAMETERS:
        hint = difflib.get_close_matches(name, list(_PRIORS) or list(PARAMETERS), n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        raise PriorError(name, f"unknown parameter{extra}")
    if not isinstance(spec, Mapping):
        raise PriorError(name, "expected a table such as {dist = \"uniform\", low = 0, "
                               "high = 1}")
    for key in spec:
        if key not in KEYS:
            hint = difflib.get_close_matches(str(key), KEYS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else f"; expected {', '.join(KEYS)}"
            raise PriorError(f"{name}.{key}", f"unknown key{extra}")
    family = spec.get("dist")
    if family not in FAMILIES:
        hint = difflib.get_close_matches(str(family), FAMILIES, n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        raise PriorError(f"{name}.dist", f"unknown distribution {family!r}: expected one of "
                                         f"{', '.join(FAMILIES)}{extra}")
    args: dict[str, float] = {}
    for key in FIELDS[family]:
        if key not in spec:
            if key in OPTIONAL.get(family, ()):
                continue
            raise PriorError(f"{name}.{key}", f"missing (a {family} prior needs "
                                              f"{', '.join(FIELDS[family])})")
        value = spec[key]
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise PriorError(f"{name}.{key}", f"expected a number, got {value!r}")
        args[key] = float(value)
    for key in spec:
        if key in ("low", "mode", "high", "a", "b") and key not in FIELDS[family]:
            raise PriorError(f"{name}.{key}", f"a {family} prior has no {key}")
    scale = spec.get("scale", PARAMETERS[name].kind == "vector")
    if not isinstance(scale, bool):
        raise PriorError(f"{name}.scale", f"expected true/false, got {scale!r}")
    source = spec.get("source", "")
    if not isinstance(source, str):
        raise PriorError(f"{name}.source", f"expected text, got {source!r}")
    try:
        dist = _checked(Distribution(family, args.get("low", 0.0), args.get("high", 1.0),
                                     mode=args.get("mode"), a=args.get("a"), b=args.get("b")),
                        key=name)
    except PriorError as err:
        raise PriorError(name, err.reason) from None
    prior = Prior(name, dist, source or f"set in {origin}", scale, origin=origin)
    problem = _valid_range_error(prior)
    if problem:
        raise PriorError(name, problem)
    return prior


def markdown() -> str:
    """The priors as a Markdown section of docs/parameters.md."""
    from .parameters import PARAMETERS

    priors = table()
    lines = ["", "## Priors", "",
             f"{len(priors)} parameters are assumed rather than calibrated; each has a prior "
             "over its plausible range, from which `helixsim dividend --uncertainty N` draws. "
             "A vector's prior is a prior of a common scale factor of its default vector. A "
             "scenario's `[priors]` table can narrow or widen any of them.", "",
             "| name | default | prior | median | source of the range |", "|---|---|---|---|---|"]
    for name, prior in priors.items():
        p = PARAMETERS[name]
        default = p.default
        if isinstance(default, tuple):
            default = "(" + ", ".join(f"{x:g}" for x in default) + ")"
        lines.append(f"| `{name}` | {default} | {prior.text()} | "
                     f"{prior.distribution.median():.4g} | {prior.source} |")
    lines += ["", "Parameters deliberately without a prior (besides levers, switches and "
              "scenario inputs):", "", "| name | why |", "|---|---|"]
    lines += [f"| `{name}` | {why} |" for name, why in FIXED.items()]
    return "\n".join(lines) + "\n"
