"""Experiment specifications: TOML files naming a base scenario, factors, a design and outputs.

An experiment spec looks like this::

    description = "Which parameters drive the dividend of Education Model 3.0?"
    scenario = "model_3_0"          # base scenario: a library name or a path
    replications = 3                # seeds per design point (common to every point)
    horizon_months = 60             # optional: the scenario's horizon otherwise
    outputs = ["welfare", "jobs"]   # indicators at the end of each run
    dividend = true                 # also run every point siloed; adds output "dividend"

    [design]
    type = "sobol"                  # factorial | lhs | sobol | morris
    samples = 8                     # lhs: points; sobol: base samples (a power of 2);
                                    # morris: trajectories; factorial: not used
    second_order = false            # sobol only
    levels = 4                      # morris only: grid levels

    [[factors]]
    parameter = "matching_rate"
    low = 0.2                       # lhs / sobol / morris
    high = 0.8
    # levels = [0.2, 0.5, 0.8]      # factorial
    # integer = true                # round sampled values (integer parameters always are)
    # prior = true                  # instead of low/high: the range of the parameter's prior
                                    # (simulation/priors.py, or the scenario's [priors])

    [[levers]]                      # optional policy options, each evaluated on the same
    name = "model 1.0"              # sampled uncertainties and seeds
    [levers.parameters]
    share_edu_3_0 = 0.0

    [analysis]
    threshold = 0.0                 # optional: scenario discovery of output > threshold
    output = "dividend"             # the output analysed (default: dividend or the first)
    reference = "model 1.0"         # optional: analyse each lever's output minus this lever's
                                    # on the same point and seed (where does a lever pay off?)

Loading validates everything and raises ``SpecError`` with one line naming the file, the key
path and what was expected. Files are data (``tomllib``), never executed.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.budget import SIZE_PARAMETERS, check_memory, check_runs
from simulation.errors import InputFileError, read_toml
from simulation.indicators import INDICATORS
from simulation.parameters import (
    PARAMETERS,
    ParameterError,
    check_joint,
    check_value,
    resolve,
)
from simulation.parameters import show as _show  # phase 2 renames the uses
from simulation.scenarios import Scenario, ScenarioError
from simulation.scenarios import load as load_scenario

from .seeding import ROOT_SEED

DESIGNS = ("factorial", "lhs", "sobol", "morris")
TOP = ("name", "description", "scenario", "replications", "seed", "horizon_months", "outputs",
       "dividend", "design", "factors", "levers", "analysis")
DESIGN_KEYS = ("type", "samples", "second_order", "levels")
FACTOR_KEYS = ("parameter", "low", "high", "levels", "integer", "prior")
LEVER_KEYS = ("name", "parameters")
ANALYSIS_KEYS = ("threshold", "output", "reference")
DEFAULT_OUTPUTS = ("welfare", "value_added", "jobs", "startups_alive", "alumni_employed",
                   "gov_net_fiscal")
DEFAULT_SEED = ROOT_SEED


class SpecError(InputFileError):
    """An invalid experiment spec; ``str(err)`` is one line ``file: key: what is wrong``."""


@dataclass(frozen=True)
class Factor:
    parameter: str
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] = ()
    integer: bool = False


@dataclass(frozen=True)
class Lever:
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment."""

    name: str
    description: str
    path: Path
    scenario: Scenario
    design: str
    samples: int
    second_order: bool
    morris_levels: int
    replications: int
    seed: int
    horizon: int
    outputs: tuple[str, ...]
    dividend: bool
    factors: tuple[Factor, ...]
    levers: tuple[Lever, ...]
    threshold: float | None
    analysed: str
    reference: str | None
    text: str  # the file as written, for the manifest
    # What the command line changed (--seeds, --seed, --months): part of the job's identity.
    options: dict[str, int] = field(default_factory=dict)

    @property
    def factor_names(self) -> list[str]:
        return [f.parameter for f in self.factors]

    def plan_text(self) -> str:
        """The runs in words: "9 design points x 1 lever setting x 2 replications, 60 months"."""
        points = design_points(self.design, self.samples, self.second_order, self.factors)
        n_levers = max(len(self.levers), 1)
        return (f"{self.design} design: {points:,} points x {n_levers} lever setting"
                f"{'s' if n_levers != 1 else ''} x {self.replications} replication"
                f"{'s' if self.replications != 1 else ''}"
                + (" x 2 (integrated and siloed)" if self.dividend else "")
                + f", {self.horizon} months")


def with_options(spec: ExperimentSpec, *, replications: int | None = None,
                 seed: int | None = None, horizon: int | None = None) -> ExperimentSpec:
    """The spec with the command line's --seeds, --seed and --months in place of its
    ``replications``, ``seed`` and ``horizon_months``, checked as the file's values are
    (a horizon the scenario's timeline does not fit, a design above the run cap)."""
    from dataclasses import replace

    given = {k: v for k, v in (("replications", replications), ("seed", seed),
                               ("horizon_months", horizon)) if v is not None}
    if not given:
        return spec
    option = {"replications": "--seeds", "seed": "--seed", "horizon_months": "--months"}
    if horizon is not None:
        try:
            resolve({**spec.scenario.overrides, "horizon_months": horizon})
        except ParameterError as err:
            raise SpecError(spec.path, "horizon_months", f"--months {horizon}: the scenario's "
                            f"timeline does not fit: {err}") from None
    out = replace(spec, replications=given.get("replications", spec.replications),
                  seed=given.get("seed", spec.seed),
                  horizon=given.get("horizon_months", spec.horizon),
                  options={option[k]: v for k, v in given.items()})
    _check_work(spec.path, out.design, out.samples, out.second_order, out.replications,
                out.dividend, out.factors, out.levers)
    return out


def load(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment spec."""
    path = Path(path)
    doc, text = _read(path)
    _known(path, "", doc, TOP)
    scenario = _scenario(path, doc)
    design = _table(path, doc, "design", required=True)
    _known(path, "design", design, DESIGN_KEYS)
    kind = design.get("type")
    if kind not in DESIGNS:
        raise SpecError(path, "design.type", f"expected one of {', '.join(DESIGNS)}, "
                                             f"got {_show(kind)}")
    samples = _int(path, "design.samples", design.get("samples", 0 if kind == "factorial"
                                                       else None), 0 if kind == "factorial"
                   else 1, 1_000_000)
    if kind == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise SpecError(path, "design.samples", f"Sobol (Saltelli) sampling needs a power of 2 "
                                                f"of at least 2, got {samples}")
    if kind == "morris" and samples < 2:
        raise SpecError(path, "design.samples", f"Morris screening needs at least 2 "
                                                f"trajectories, got {samples}")
    second_order = _bool(path, "design.second_order", design.get("second_order", False))
    if second_order and kind != "sobol":
        raise SpecError(path, "design.second_order", "only a Sobol design has second order")
    if "levels" in design and kind != "morris":
        raise SpecError(path, "design.levels", "grid levels are for a Morris design; a "
                                               "factorial design lists levels per factor")
    morris_levels = _int(path, "design.levels", design.get("levels", 4), 2, 100)
    if morris_levels % 2:
        # An odd grid makes Morris's jump of levels / (2 (levels - 1)) uneven (SALib refuses it
        # when the design is drawn, after the folder is made).
        raise SpecError(path, "design.levels", f"Morris levels must be even (4 is usual), got "
                                               f"{morris_levels}")
    replications = _int(path, "replications", doc.get("replications", 2), 1, 100_000)
    seed = _int(path, "seed", doc.get("seed", DEFAULT_SEED), 0, 2**63 - 1)
    horizon = _int(path, "horizon_months", doc.get("horizon_months", scenario.horizon), 1, 1200)
    try:
        resolve({**scenario.overrides, "horizon_months": horizon})
    except ParameterError as err:
        raise SpecError(path, "horizon_months", f"the scenario's timeline does not fit: "
                                                f"{err}") from None
    outputs = _outputs(path, doc)
    dividend = _bool(path, "dividend", doc.get("dividend", False))
    factors = _factors(path, doc, kind, scenario)
    levers = _levers(path, doc)
    _check_work(path, kind, samples, second_order, replications, dividend, factors, levers)
    _check_memory(path, scenario, horizon, factors, levers)
    analysis = _table(path, doc, "analysis", required=False)
    _known(path, "analysis", analysis, ANALYSIS_KEYS)
    threshold = analysis.get("threshold")
    if threshold is not None and (not _is_number(threshold) or not math.isfinite(threshold)):
        raise SpecError(path, "analysis.threshold", f"expected a finite number, got "
                                                    f"{_show(threshold)}")
    choices = (*outputs, "dividend") if dividend else outputs
    analysed = analysis.get("output", "dividend" if dividend else outputs[0])
    if analysed not in choices:
        raise SpecError(path, "analysis.output", f"expected one of {', '.join(choices)}, got "
                                                 f"{_show(analysed)}")
    if threshold is not None:
        for i, f in enumerate(factors):
            if not all(_is_number(v) or isinstance(v, bool) for v in f.levels):
                raise SpecError(path, f"factors[{i}].levels", f"scenario discovery "
                                f"(analysis.threshold) needs numeric factors; '{f.parameter}' "
                                f"has levels that are not numbers")
    reference = analysis.get("reference")
    if reference is not None and reference not in {lv.name for lv in levers}:
        raise SpecError(path, "analysis.reference", f"expected the name of a lever, got "
                                                    f"{_show(reference)}")
    _check_corners(path, scenario, factors, levers)
    return ExperimentSpec(
        name=str(doc.get("name", path.stem)), description=str(doc.get("description", "")),
        path=path, scenario=scenario, design=kind, samples=samples, second_order=second_order,
        morris_levels=morris_levels, replications=replications, seed=seed, horizon=horizon,
        outputs=outputs, dividend=dividend, factors=factors, levers=levers,
        threshold=None if threshold is None else float(threshold), analysed=analysed,
        reference=reference,
        text=text)


def _read(path: Path) -> tuple[dict, str]:
    return read_toml(path, SpecError, "an experiment spec")


def _known(path: Path, where: str, table: dict, keys: tuple[str, ...]) -> None:
    for key in table:
        if key not in keys:
            hint = difflib.get_close_matches(key, keys, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else f"; expected one of " \
                                                                   f"{', '.join(keys)}"
            raise SpecError(path, f"{where}.{key}" if where else key, f"unknown key{extra}")


def _table(path: Path, doc: dict, key: str, *, required: bool) -> dict:
    if key not in doc:
        if required:
            raise SpecError(path, key, "missing: expected a table")
        return {}
    if not isinstance(doc[key], dict):
        raise SpecError(path, key, f"expected a table, got {_show(doc[key])}")
    return doc[key]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _int(path: Path, key: str, value: Any, low: int, high: int) -> int:
    if value is None:
        raise SpecError(path, key, "missing: expected a whole number")
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpecError(path, key, f"expected a whole number, got {_show(value)}")
    if not low <= value <= high:
        raise SpecError(path, key, f"{value} is outside [{low}, {high}]")
    return value


def _bool(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(path, key, f"expected true or false, got {_show(value)}")
    return value


def _scenario(path: Path, doc: dict) -> Scenario:
    ref = doc.get("scenario", "baseline")
    if not isinstance(ref, str) or not ref:
        raise SpecError(path, "scenario", f"expected a scenario name or path, got {_show(ref)}")
    local = path.parent / ref
    try:
        target = local if local.suffix == ".toml" and local.is_file() else ref
        return load_scenario(target)
    except ScenarioError as err:
        raise SpecError(path, "scenario", str(err)) from None
    except (OSError, ValueError):
        raise SpecError(path, "scenario", f"no scenario {_show(ref)}") from None


def _outputs(path: Path, doc: dict) -> tuple[str, ...]:
    outputs = doc.get("outputs", list(DEFAULT_OUTPUTS))
    if not isinstance(outputs, list) or not outputs:
        raise SpecError(path, "outputs", f"expected a non-empty list of indicator names, got "
                                         f"{_show(outputs)}")
    for i, name in enumerate(outputs):
        if name not in INDICATORS:
            hint = difflib.get_close_matches(str(name), INDICATORS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise SpecError(path, f"outputs[{i}]", f"{_show(name)} is not an indicator{extra}")
    if len(set(outputs)) != len(outputs):
        raise SpecError(path, "outputs", "an indicator is named twice")
    return tuple(outputs)


def _tables(path: Path, section: str, raw: list, keys: tuple[str, ...]
            ) -> Iterator[tuple[str, dict]]:
    """(``section[i]``, table) for each entry of an array of tables, each checked to be a table
    with only the ``keys`` allowed."""
    for i, table in enumerate(raw):
        key = f"{section}[{i}]"
        if not isinstance(table, dict):
            raise SpecError(path, key, f"expected a table, got {_show(table)}")
        _known(path, key, table, keys)
        yield key, table


def _prior_range(path: Path, key: str, name: str, factor: dict, scenario: Scenario
                 ) -> dict[str, float]:
    """low and high of a factor named by its prior: the support of the scenario's prior or the
    parameter table's (``prior = true``); the design samples that range uniformly."""
    from simulation.priors import table

    prior = scenario.priors.get(name) or table().get(name)
    if prior is None or prior.scale:
        raise SpecError(path, f"{key}.prior", f"'{name}' has no prior of its value" + (
            " (a vector's prior is a scale)" if prior else "; give low and high"))
    for b in ("low", "high"):
        if b in factor:
            raise SpecError(path, f"{key}.{b}", "give either prior = true or low and high")
    low, high = prior.support()
    return {"low": low, "high": high}


def _factors(path: Path, doc: dict, kind: str, scenario: Scenario) -> tuple[Factor, ...]:
    raw = doc.get("factors", [])
    if not isinstance(raw, list) or not raw:
        raise SpecError(path, "factors", "expected one or more [[factors]] tables")
    out: list[Factor] = []
    for key, f in _tables(path, "factors", raw, FACTOR_KEYS):
        name = f.get("parameter")
        p = PARAMETERS.get(name) if isinstance(name, str) else None
        if p is None:
            hint = difflib.get_close_matches(str(name), PARAMETERS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise SpecError(path, f"{key}.parameter", f"{_show(name)} is not a parameter{extra}")
        if name in {o.parameter for o in out}:
            raise SpecError(path, f"{key}.parameter", f"'{name}' is already a factor")
        integer = _bool(path, f"{key}.integer", f.get("integer", p.kind == "int"))
        if kind == "factorial":
            levels = f.get("levels")
            if not isinstance(levels, list) or not levels:
                raise SpecError(path, f"{key}.levels", "a factorial design needs a non-empty "
                                                       "list of levels for every factor")
            checked = []
            for j, v in enumerate(levels):
                try:
                    checked.append(check_value(name, v))
                except ParameterError as err:
                    raise SpecError(path, f"{key}.levels[{j}]", str(err)) from None
            out.append(Factor(name, levels=tuple(checked), integer=integer))
            continue
        if p.kind not in ("int", "float"):
            raise SpecError(path, f"{key}.parameter", f"'{name}' is not numeric: only numeric "
                                                      f"parameters can be sampled")
        if "levels" in f:
            raise SpecError(path, f"{key}.levels", f"a {kind} design samples between low and "
                                                   "high; levels are for factorial designs")
        bounds = []
        if _bool(path, f"{key}.prior", f.get("prior", False)):
            f = {**f, **_prior_range(path, key, name, f, scenario)}
        for b in ("low", "high"):
            if b not in f:
                raise SpecError(path, f"{key}.{b}", "missing")
            try:
                bounds.append(float(check_value(name, f[b])))
            except ParameterError as err:
                raise SpecError(path, f"{key}.{b}", str(err)) from None
        if not bounds[0] < bounds[1]:
            raise SpecError(path, f"{key}.high", f"must be above low ({bounds[0]:g}), got "
                                                 f"{bounds[1]:g}")
        out.append(Factor(name, low=bounds[0], high=bounds[1], integer=integer))
    return tuple(out)


def _levers(path: Path, doc: dict) -> tuple[Lever, ...]:
    raw = doc.get("levers", [])
    if not isinstance(raw, list):
        raise SpecError(path, "levers", f"expected [[levers]] tables, got {_show(raw)}")
    out: list[Lever] = []
    for key, lv in _tables(path, "levers", raw, LEVER_KEYS):
        name = lv.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SpecError(path, f"{key}.name", f"expected a name, got {_show(name)}")
        if name in {o.name for o in out}:
            raise SpecError(path, f"{key}.name", f"'{name}' is used twice")
        params = lv.get("parameters", {})
        if not isinstance(params, dict):
            raise SpecError(path, f"{key}.parameters", f"expected a table, got {_show(params)}")
        checked = {}
        for k, v in params.items():
            try:
                checked[k] = check_value(k, v)
            except ParameterError as err:
                raise SpecError(path, f"{key}.parameters.{k}", err.reason or str(err)) from None
        out.append(Lever(name, checked))
    return tuple(out)


def design_points(kind: str, samples: int, second_order: bool, factors: tuple[Factor, ...]
                  ) -> int:
    """Rows of the design, counted without drawing it (the sizes SALib's samplers give)."""
    d = len(factors)
    if kind == "factorial":
        return math.prod(len(f.levels) for f in factors)
    if kind == "sobol":
        return samples * (2 * d + 2 if second_order else d + 2)
    if kind == "morris":
        return samples * (d + 1)
    return samples


def run_count(spec: ExperimentSpec) -> int:
    """Runs the experiment plans: points x lever settings x replications (x 2 with dividend)."""
    points = design_points(spec.design, spec.samples, spec.second_order, spec.factors)
    return points * max(len(spec.levers), 1) * spec.replications * (2 if spec.dividend else 1)


def _check_work(path: Path, kind: str, samples: int, second_order: bool, replications: int,
                dividend: bool, factors: tuple[Factor, ...], levers: tuple[Lever, ...]) -> None:
    """Refuse a design above the run cap before anything is sampled (budget.check_runs)."""
    points = design_points(kind, samples, second_order, factors)
    n_levers = max(len(levers), 1)
    runs = points * n_levers * replications * (2 if dividend else 1)
    what = (f"{points:,} design points x {n_levers} lever setting(s) x {replications} "
            f"replication(s)" + (" x 2 (siloed runs of the dividend)" if dividend else ""))
    try:
        check_runs(runs, what)
    except ParameterError as err:
        raise SpecError(path, "design", str(err)) from None


def _check_memory(path: Path, scenario: Scenario, horizon: int, factors: tuple[Factor, ...],
                  levers: tuple[Lever, ...]) -> None:
    """The largest region the design can reach must fit the memory budget of one run."""
    largest = {**scenario.parameters, "horizon_months": horizon}
    where = "factors"
    for lever in levers:
        for k, v in lever.parameters.items():
            if k in SIZE_PARAMETERS and _is_number(v) and v > largest[k]:
                largest[k], where = v, f"levers[{levers.index(lever)}].parameters.{k}"
    for i, f in enumerate(factors):
        if f.parameter in SIZE_PARAMETERS:
            values = [v for v in (*f.levels, f.low, f.high) if _is_number(v)]
            if values and max(values) > largest[f.parameter]:
                largest[f.parameter], where = int(max(values)), f"factors[{i}]"
    try:
        check_memory(largest)
    except ParameterError as err:
        raise SpecError(path, where, f"at the largest region of the design: {err}") from None


def _check_corners(path: Path, scenario: Scenario, factors: tuple[Factor, ...],
                   levers: tuple[Lever, ...]) -> None:
    """Joint constraints (shares summing to 1 and the like) at the corners of the design."""
    ranges = [f.levels if f.levels else (f.low, f.high) for f in factors]
    if math.prod(len(r) for r in ranges) > 4096:
        ranges = [(r[0], r[-1]) for r in ranges][:12]
    for lever in levers or (Lever("", {}),):
        for corner in itertools.product(*ranges):
            params = {**scenario.parameters, **lever.parameters}
            for f, v in zip(factors, corner, strict=False):
                params[f.parameter] = round(v) if f.integer else v
            try:
                check_joint(params)
            except ParameterError as err:
                where = f"levers[{[lv.name for lv in levers].index(lever.name)}]" \
                    if lever.name else "factors"
                values = ", ".join(f"{f.parameter}={v:g}" if _is_number(v) else f"{f.parameter}"
                                   for f, v in zip(factors, corner, strict=False))
                raise SpecError(path, where, f"{err} (at {values})") from None
