"""Optimisation specs: TOML files naming levers, objectives, constraints and uncertainty.

An optimisation spec looks like this (``experiments/examples/optimise_budget.toml`` is one)::

    description = "Robust budget split for the small region"
    scenario = "baseline"           # the starting scenario: a library name or a path
    horizon_months = 36             # optional: the scenario's horizon otherwise
    replications = 2                # seeds per uncertainty draw, common to every candidate
    seed = 20261201                 # root seed of seeds, draws and the search

    [parameters]                    # fixed for every run (e.g. a small region)
    n_firms = 200

    [[levers]]                      # a numeric policy lever between low and high
    parameter = "matching_rate"
    low = 0.2
    high = 0.9
    [[levers]]
    parameter = "platform_launch_year"   # the platform opens in September of year y
    low = 1
    high = 3
    [[levers]]                      # the listed instruments share what they hold in the
    budget_shares = ["block_grants", "matching_grants", "retention_subsidy"]  # scenario
    [[levers]]
    parameter = "edu_mix_by_university"  # one (1.0, 2.0, 3.0) triple per university

    [[objectives]]
    indicator = "welfare"           # any indicator, or "graduates_retained"
    dividend = true                 # the indicator minus the paired siloed run's
    sense = "max"                   # max | min
    robustness = "mean"             # mean | percentile | satisficing | regret
    # percentile = 10               # percentile: which (default 10 for max, 90 for min)
    # threshold = 0.0               # satisficing: P(value > threshold) (< for min)

    [constraints]
    same_total_budget = true        # default: gov_budget is not a lever
    [[constraints.outcomes]]        # a robust outcome that must stay within a bound
    indicator = "gov_net_fiscal"
    robustness = "mean"
    at_least = -800.0               # or at_most

    [uncertainty]
    draws = 4                       # Latin hypercube draws, common to every candidate
    # prior = "table"               # the parameter table's priors (once they exist)
    [[uncertainty.ranges]]
    parameter = "graduate_premium"
    low = 0.4
    high = 1.2

    [search]
    algorithm = "nsga2"             # nsga2 | nsga3 | random
    population = 8
    generations = 4

    [recommend]
    count = 3                       # policies re-evaluated on fresh seeds and draws
    draws = 4
    replications = 2
    objective = "dividend_welfare"  # the objective "most robust" is judged by (default first)

Loading validates everything and raises ``OptimiseSpecError`` with one line naming the file,
the key path and what was expected; nothing is run or written before. Files are data
(``tomllib``), never executed.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.errors import InputFileError, read_toml
from simulation.indicators import INDICATORS
from simulation.parameters import (
    INSTRUMENTS,
    LEVERS,
    PARAMETERS,
    ParameterError,
    check_value,
    resolve,
)
from simulation.parameters import show as _show
from simulation.scenarios import Scenario, ScenarioError
from simulation.scenarios import load as load_scenario

TOP = ("name", "description", "scenario", "horizon_months", "replications", "seed",
       "parameters", "levers", "objectives", "constraints", "uncertainty", "search",
       "recommend")
LEVER_KEYS = ("parameter", "low", "high", "integer", "budget_shares")
OBJECTIVE_KEYS = ("name", "indicator", "dividend", "sense", "robustness", "percentile",
                  "threshold")
OUTCOME_KEYS = (*OBJECTIVE_KEYS, "at_least", "at_most")
CONSTRAINT_KEYS = ("same_total_budget", "outcomes")
UNCERTAINTY_KEYS = ("draws", "prior", "ranges")
RANGE_KEYS = ("parameter", "low", "high")
SEARCH_KEYS = ("algorithm", "population", "generations")
RECOMMEND_KEYS = ("count", "draws", "replications", "objective")
ROBUSTNESS = ("mean", "percentile", "satisficing", "regret")
ALGORITHMS = ("nsga2", "nsga3", "random")
SENSES = ("max", "min")
# Outcomes that are not indicators of their own: name -> (indicator, minus indicator).
DERIVED = {"graduates_retained": ("graduates_total", "alumni_left")}
# A pseudo-lever: the platform opens in September of year y (month 12 (y - 1) + 1), as in
# scenario timelines; choosing it turns the platform on.
LAUNCH_YEAR = "platform_launch_year"
EDU_MIX = "edu_mix_by_university"
DEFAULT_SEED = 20261201


class OptimiseSpecError(InputFileError):
    """An invalid optimisation spec; ``str(err)`` is one line ``file: key: what is wrong``."""


@dataclass(frozen=True)
class Lever:
    """A decision variable: a numeric lever, the budget simplex, or the education mixes."""

    kind: str  # "number" | "budget" | "edu_mix"
    parameter: str = ""
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    instruments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """An objective or an outcome constraint: a robust statistic of one quantity."""

    name: str
    indicator: str
    dividend: bool
    sense: str
    robustness: str
    percentile: float
    threshold: float
    at_least: float | None = None
    at_most: float | None = None


@dataclass(frozen=True)
class Range:
    parameter: str
    low: float
    high: float
    integer: bool


@dataclass(frozen=True)
class OptimiseSpec:
    """A validated optimisation."""

    name: str
    description: str
    path: Path
    scenario: Scenario
    horizon: int
    replications: int
    seed: int
    fixed: dict[str, Any]
    levers: tuple[Lever, ...]
    objectives: tuple[Outcome, ...]
    constraints: tuple[Outcome, ...]
    same_total_budget: bool
    draws: int
    ranges: tuple[Range, ...]
    algorithm: str
    population: int
    generations: int
    recommend_count: int
    recommend_draws: int
    recommend_replications: int
    recommend_objective: str
    text: str

    @property
    def base(self) -> dict[str, Any]:
        """Parameters of the starting scenario's runs: its overrides plus the fixed ones."""
        return {**self.scenario.overrides, **self.fixed}

    @property
    def digest(self) -> str:
        """A hash of the file as written: a checkpoint belongs to one spec."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    @property
    def needs_siloed(self) -> bool:
        return any(o.dividend for o in (*self.objectives, *self.constraints))

    def with_search(self, **changes: Any) -> OptimiseSpec:
        """The same spec with other search settings (the benchmark's random search)."""
        from dataclasses import replace

        return replace(self, **changes)


def load(path: str | Path) -> OptimiseSpec:
    """Read and validate an optimisation spec."""
    path = Path(path)
    doc, text = read_toml(path, OptimiseSpecError, "an optimisation spec")
    _known(path, "", doc, TOP)
    scenario = _scenario(path, doc)
    horizon = _int(path, "horizon_months", doc.get("horizon_months", scenario.horizon), 1, 1200)
    replications = _int(path, "replications", doc.get("replications", 2), 1, 10_000)
    seed = _int(path, "seed", doc.get("seed", DEFAULT_SEED), 0, 2**63 - 1)
    fixed = _fixed(path, doc)
    constraints_t = _table(path, doc, "constraints")
    _known(path, "constraints", constraints_t, CONSTRAINT_KEYS)
    same_total = _bool(path, "constraints.same_total_budget",
                       constraints_t.get("same_total_budget", True))
    levers = _levers(path, doc, {**scenario.overrides, **fixed}, same_total)
    objectives = _outcomes(path, doc.get("objectives"), "objectives", OBJECTIVE_KEYS,
                           required=True)
    constraints = _outcomes(path, constraints_t.get("outcomes", []), "constraints.outcomes",
                            OUTCOME_KEYS, required=False)
    uncertainty = _table(path, doc, "uncertainty")
    _known(path, "uncertainty", uncertainty, UNCERTAINTY_KEYS)
    draws = _int(path, "uncertainty.draws", uncertainty.get("draws", 1), 1, 10_000)
    ranges = _ranges(path, uncertainty, levers)
    search = _table(path, doc, "search")
    _known(path, "search", search, SEARCH_KEYS)
    algorithm = search.get("algorithm", "nsga2")
    if algorithm not in ALGORITHMS:
        raise OptimiseSpecError(path, "search.algorithm", f"expected one of "
                                f"{', '.join(ALGORITHMS)}, got {_show(algorithm)}")
    population = _int(path, "search.population", search.get("population", 8), 2, 10_000)
    generations = _int(path, "search.generations", search.get("generations", 4), 1, 10_000)
    recommend = _table(path, doc, "recommend")
    _known(path, "recommend", recommend, RECOMMEND_KEYS)
    names = [o.name for o in objectives]
    chosen = recommend.get("objective", names[0])
    if chosen not in names:
        raise OptimiseSpecError(path, "recommend.objective", f"expected the name of an "
                                f"objective ({', '.join(names)}), got {_show(chosen)}")
    spec = OptimiseSpec(
        name=_text(path, doc, "name", path.stem), description=_text(path, doc, "description", ""),
        path=path, scenario=scenario, horizon=horizon, replications=replications, seed=seed,
        fixed=fixed, levers=levers, objectives=objectives, constraints=constraints,
        same_total_budget=same_total, draws=draws, ranges=ranges, algorithm=algorithm,
        population=population, generations=generations,
        recommend_count=_int(path, "recommend.count", recommend.get("count", 3), 1, 100),
        recommend_draws=_int(path, "recommend.draws", recommend.get("draws", draws), 1, 10_000),
        recommend_replications=_int(path, "recommend.replications",
                                    recommend.get("replications", replications), 1, 10_000),
        recommend_objective=chosen, text=text)
    _check_corners(spec)
    return spec


# --- pieces ------------------------------------------------------------------------------------

def _known(path: Path, where: str, table: dict, keys: tuple[str, ...]) -> None:
    for key in table:
        if key not in keys:
            hint = difflib.get_close_matches(key, keys, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else \
                f"; expected one of {', '.join(keys)}"
            raise OptimiseSpecError(path, f"{where}.{key}" if where else key,
                                    f"unknown key{extra}")


def _table(path: Path, doc: dict, key: str) -> dict:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise OptimiseSpecError(path, key, f"expected a table, got {_show(value)}")
    return value


def _tables(path: Path, section: str, raw: Any, keys: tuple[str, ...]
            ) -> Iterator[tuple[str, dict]]:
    if not isinstance(raw, list):
        raise OptimiseSpecError(path, section, f"expected [[{section}]] tables, got "
                                               f"{_show(raw)}")
    for i, table in enumerate(raw):
        key = f"{section}[{i}]"
        if not isinstance(table, dict):
            raise OptimiseSpecError(path, key, f"expected a table, got {_show(table)}")
        _known(path, key, table, keys)
        yield key, table


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _int(path: Path, key: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise OptimiseSpecError(path, key, f"expected a whole number, got {_show(value)}")
    if not low <= value <= high:
        raise OptimiseSpecError(path, key, f"{value} is outside [{low}, {high}]")
    return value


def _number(path: Path, key: str, value: Any) -> float:
    if not _is_number(value) or not math.isfinite(value):
        raise OptimiseSpecError(path, key, f"expected a finite number, got {_show(value)}")
    return float(value)


def _bool(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise OptimiseSpecError(path, key, f"expected true or false, got {_show(value)}")
    return value


def _text(path: Path, doc: dict, key: str, default: str) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise OptimiseSpecError(path, key, f"expected text, got {_show(value)}")
    return value


def _scenario(path: Path, doc: dict) -> Scenario:
    ref = doc.get("scenario", "baseline")
    if not isinstance(ref, str) or not ref:
        raise OptimiseSpecError(path, "scenario", f"expected a scenario name or path, got "
                                                  f"{_show(ref)}")
    local = path.parent / ref
    try:
        return load_scenario(local if local.suffix == ".toml" and local.is_file() else ref)
    except ScenarioError as err:
        raise OptimiseSpecError(path, "scenario", str(err)) from None
    except (OSError, ValueError):
        raise OptimiseSpecError(path, "scenario", f"no scenario {_show(ref)}") from None


def _fixed(path: Path, doc: dict) -> dict[str, Any]:
    out = {}
    for key, value in _table(path, doc, "parameters").items():
        if key in ("timeline", "horizon_months"):
            raise OptimiseSpecError(path, f"parameters.{key}", "set the horizon with "
                                    "horizon_months and policy changes in the scenario")
        try:
            out[key] = check_value(key, value)
        except ParameterError as err:
            raise OptimiseSpecError(path, f"parameters.{key}", err.reason or str(err)) from None
    return out


def _levers(path: Path, doc: dict, base: dict[str, Any], same_total: bool
            ) -> tuple[Lever, ...]:
    raw = doc.get("levers")
    if raw is None or raw == []:
        raise OptimiseSpecError(path, "levers", "expected one or more [[levers]] tables")
    out: list[Lever] = []
    taken: set[str] = set()
    for key, lv in _tables(path, "levers", raw, LEVER_KEYS):
        if "budget_shares" in lv:
            extra = [k for k in lv if k != "budget_shares"]
            if extra:
                raise OptimiseSpecError(path, f"{key}.{extra[0]}", "a budget_shares lever "
                                        "takes no other key: its shares lie on the simplex")
            out.append(_budget(path, f"{key}.budget_shares", lv["budget_shares"], taken))
            continue
        name = lv.get("parameter")
        if not isinstance(name, str):
            raise OptimiseSpecError(path, f"{key}.parameter", f"expected a lever name or "
                                    f"budget_shares = [...], got {_show(name)}")
        if name in taken:
            raise OptimiseSpecError(path, f"{key}.parameter", f"'{name}' is already a lever")
        if name == EDU_MIX:
            extra = [k for k in lv if k != "parameter"]
            if extra:
                raise OptimiseSpecError(path, f"{key}.{extra[0]}", "the education mixes lie "
                                        "on their simplex: no other key")
            if {"share_edu_2_0", "share_edu_3_0"} & taken:
                raise OptimiseSpecError(path, f"{key}.parameter", "choose the mix per "
                                        "university or share_edu_2_0/share_edu_3_0, not both")
            taken.add(name)
            out.append(Lever("edu_mix", EDU_MIX))
            continue
        if name.startswith("budget_share_"):
            raise OptimiseSpecError(path, f"{key}.parameter", "budget shares must stay on "
                                    "their simplex: use budget_shares = [\"...\", ...]")
        if name == "gov_budget" and same_total:
            raise OptimiseSpecError(path, f"{key}.parameter", "the total budget is held "
                                    "fixed (constraints.same_total_budget = true)")
        if name in ("share_edu_2_0", "share_edu_3_0") and EDU_MIX in taken:
            raise OptimiseSpecError(path, f"{key}.parameter", "choose the mix per university "
                                    "or share_edu_2_0/share_edu_3_0, not both")
        param = "platform_launch_month" if name == LAUNCH_YEAR else name
        p = PARAMETERS.get(param)
        if name != LAUNCH_YEAR and (p is None or param not in LEVERS):
            hint = difflib.get_close_matches(name, [*LEVERS, LAUNCH_YEAR, "budget_shares"],
                                             n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise OptimiseSpecError(path, f"{key}.parameter", f"{_show(name)} is not a policy "
                                                              f"lever{extra}")
        if name != LAUNCH_YEAR and p.kind not in ("int", "float"):
            raise OptimiseSpecError(path, f"{key}.parameter", f"'{name}' is not numeric: "
                                    "only numeric levers can be searched")
        if name == "platform_launch_month":
            raise OptimiseSpecError(path, f"{key}.parameter", f"search the launch with "
                                    f"'{LAUNCH_YEAR}' (a September, as in scenario timelines)")
        integer = name == LAUNCH_YEAR or p.kind == "int"
        integer = _bool(path, f"{key}.integer", lv.get("integer", integer))
        bounds = []
        for b in ("low", "high"):
            if b not in lv:
                raise OptimiseSpecError(path, f"{key}.{b}", "missing")
            value = _number(path, f"{key}.{b}", lv[b])
            if name == LAUNCH_YEAR:
                if value < 1 or not value.is_integer():
                    raise OptimiseSpecError(path, f"{key}.{b}", f"expected a year >= 1, got "
                                                                f"{_show(lv[b])}")
            else:
                try:
                    check_value(name, round(value) if integer else value)
                except ParameterError as err:
                    raise OptimiseSpecError(path, f"{key}.{b}", err.reason or str(err)
                                            ) from None
            bounds.append(value)
        if not bounds[0] < bounds[1]:
            raise OptimiseSpecError(path, f"{key}.high", f"must be above low ({bounds[0]:g}), "
                                                         f"got {bounds[1]:g}")
        taken.add(name)
        out.append(Lever("number", name, bounds[0], bounds[1], integer))
    return tuple(out)


def _budget(path: Path, key: str, raw: Any, taken: set[str]) -> Lever:
    if "budget_shares" in taken:
        raise OptimiseSpecError(path, key, "only one budget_shares lever")
    if not isinstance(raw, list) or len(raw) < 2:
        raise OptimiseSpecError(path, key, f"expected a list of two or more instruments "
                                           f"({', '.join(INSTRUMENTS)}), got {_show(raw)}")
    for i, name in enumerate(raw):
        if name not in INSTRUMENTS:
            hint = difflib.get_close_matches(str(name), INSTRUMENTS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else \
                f"; expected one of {', '.join(INSTRUMENTS)}"
            raise OptimiseSpecError(path, f"{key}[{i}]", f"{_show(name)} is not an "
                                                         f"instrument{extra}")
    if len(set(raw)) != len(raw):
        raise OptimiseSpecError(path, key, "an instrument is named twice")
    taken.add("budget_shares")
    return Lever("budget", "budget_shares", instruments=tuple(raw))


def _outcomes(path: Path, raw: Any, section: str, keys: tuple[str, ...], *, required: bool
              ) -> tuple[Outcome, ...]:
    if raw is None or raw == []:
        if required:
            raise OptimiseSpecError(path, section, f"expected one or more [[{section}]] tables")
        return ()
    out: list[Outcome] = []
    for key, o in _tables(path, section, raw, keys):
        indicator = o.get("indicator")
        if indicator not in INDICATORS and indicator not in DERIVED:
            choices = [*INDICATORS, *DERIVED]
            hint = difflib.get_close_matches(str(indicator), choices, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise OptimiseSpecError(path, f"{key}.indicator", f"{_show(indicator)} is not an "
                                                              f"indicator{extra}")
        dividend = _bool(path, f"{key}.dividend", o.get("dividend", False))
        sense = o.get("sense", "max")
        if sense not in SENSES:
            raise OptimiseSpecError(path, f"{key}.sense", f"expected max or min, got "
                                                          f"{_show(sense)}")
        robustness = o.get("robustness", "mean")
        if robustness not in ROBUSTNESS:
            raise OptimiseSpecError(path, f"{key}.robustness", f"expected one of "
                                    f"{', '.join(ROBUSTNESS)}, got {_show(robustness)}")
        for k, needed in (("percentile", "percentile"), ("threshold", "satisficing")):
            if k in o and robustness != needed:
                raise OptimiseSpecError(path, f"{key}.{k}", f"only for robustness = "
                                                            f"\"{needed}\"")
        percentile = _number(path, f"{key}.percentile", o.get(
            "percentile", 10.0 if sense == "max" else 90.0))
        if not 0.0 <= percentile <= 100.0:
            raise OptimiseSpecError(path, f"{key}.percentile", f"{percentile:g} is outside "
                                                               "[0, 100]")
        threshold = _number(path, f"{key}.threshold", o.get("threshold", 0.0))
        name = o.get("name", f"dividend_{indicator}" if dividend else indicator)
        if not isinstance(name, str) or not name.strip() or not name.replace("_", "").isalnum():
            raise OptimiseSpecError(path, f"{key}.name", f"expected a name of letters, digits "
                                                         f"and _, got {_show(name)}")
        if name in {x.name for x in out}:
            raise OptimiseSpecError(path, f"{key}.name", f"'{name}' is used twice; give "
                                                         "each a name")
        bounds = {b: _number(path, f"{key}.{b}", o[b]) for b in ("at_least", "at_most")
                  if b in o}
        if section != "objectives" and not bounds:
            raise OptimiseSpecError(path, key, "an outcome constraint needs at_least or at_most")
        out.append(Outcome(name, indicator, dividend, sense, robustness, percentile, threshold,
                           bounds.get("at_least"), bounds.get("at_most")))
    return tuple(out)


def _ranges(path: Path, uncertainty: dict, levers: tuple[Lever, ...]) -> tuple[Range, ...]:
    prior = uncertainty.get("prior")
    if prior is not None:
        if prior != "table":
            raise OptimiseSpecError(path, "uncertainty.prior", f"expected \"table\", got "
                                                               f"{_show(prior)}")
        searched = {lv.parameter for lv in levers} | {
            f"budget_share_{i}" for lv in levers for i in lv.instruments}
        return tuple(r for r in table_priors() if r.parameter not in searched)
    raw = uncertainty.get("ranges", [])
    out: list[Range] = []
    searched = {lv.parameter for lv in levers} | {
        f"budget_share_{i}" for lv in levers for i in lv.instruments}
    for key, r in _tables(path, "uncertainty.ranges", raw, RANGE_KEYS):
        name = r.get("parameter")
        p = PARAMETERS.get(name) if isinstance(name, str) else None
        if p is None:
            hint = difflib.get_close_matches(str(name), PARAMETERS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise OptimiseSpecError(path, f"{key}.parameter", f"{_show(name)} is not a "
                                                              f"parameter{extra}")
        if p.kind not in ("int", "float"):
            raise OptimiseSpecError(path, f"{key}.parameter", f"'{name}' is not numeric")
        if name in searched:
            raise OptimiseSpecError(path, f"{key}.parameter", f"'{name}' is a lever: a "
                                    "parameter is either decided or uncertain")
        if name in {x.parameter for x in out}:
            raise OptimiseSpecError(path, f"{key}.parameter", f"'{name}' is named twice")
        bounds = []
        for b in ("low", "high"):
            if b not in r:
                raise OptimiseSpecError(path, f"{key}.{b}", "missing")
            value = _number(path, f"{key}.{b}", r[b])
            try:
                check_value(name, round(value) if p.kind == "int" else value)
            except ParameterError as err:
                raise OptimiseSpecError(path, f"{key}.{b}", err.reason or str(err)) from None
            bounds.append(value)
        if not bounds[0] < bounds[1]:
            raise OptimiseSpecError(path, f"{key}.high", f"must be above low ({bounds[0]:g}), "
                                                         f"got {bounds[1]:g}")
        out.append(Range(name, bounds[0], bounds[1], p.kind == "int"))
    return tuple(out)


def table_priors() -> tuple[Range, ...]:
    """The supports of the parameter table's priors (simulation.priors) for scalar
    parameters, as ranges: the search draws them uniformly (a Latin hypercube over the box), so
    a prior contributes its range, not its shape. Vector priors (a scale of a default vector)
    are left out: a range is one number."""
    from simulation.priors import table

    out = []
    for name, prior in sorted(table().items()):
        p = PARAMETERS[name]
        if prior.scale or p.kind not in ("int", "float"):
            continue
        low, high = prior.support()
        out.append(Range(name, float(low), float(high), p.kind == "int"))
    return tuple(out)


def _check_corners(spec: OptimiseSpec) -> None:
    """Every corner of the numeric levers and the uncertainty ranges gives a valid model."""
    from .optimise import launch_month

    for i, lv in enumerate(spec.levers):
        if lv.parameter == LAUNCH_YEAR and launch_month(lv.high) > spec.horizon:
            raise OptimiseSpecError(spec.path, f"levers[{i}].high", f"year {lv.high:g} opens "
                                    f"the platform in month {launch_month(lv.high)}, after the "
                                    f"horizon ({spec.horizon} months)")
    boxes = [(lv.parameter, (lv.low, lv.high), lv.integer) for lv in spec.levers
             if lv.kind == "number"] + [(r.parameter, (r.low, r.high), r.integer)
                                        for r in spec.ranges]
    boxes = boxes[:12]  # 4096 corners at most
    for corner in itertools.product(*(b for _, b, _ in boxes)):
        params = {**spec.base, "horizon_months": spec.horizon}
        for (name, _, integer), value in zip(boxes, corner, strict=True):
            value = round(value) if integer else value
            if name == LAUNCH_YEAR:
                params.update(platform_on=True, platform_launch_month=launch_month(value))
            else:
                params[name] = value
        try:
            resolve(params)
        except ParameterError as err:
            values = ", ".join(f"{n}={v:g}" for (n, _, _), v in zip(boxes, corner, strict=True))
            where = "levers" if not spec.ranges else "levers / uncertainty.ranges"
            if err.key == "horizon_months" or "horizon" in str(err):
                where = "horizon_months"
            raise OptimiseSpecError(spec.path, where, f"{err} (at {values})") from None
