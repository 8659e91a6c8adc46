"""Scenario files: TOML documents that set model parameters and schedule policy changes.

A scenario file looks like this::

    description = "Half of every intake in Education Model 3.0 from year 3"
    extends = "baseline"            # a library name or a path relative to this file

    [parameters]                    # any model parameter by its documented name
    share_edu_3_0 = 0.2

    [[timeline]]                    # policy changes: 'month' (0 = initial state) or 'year'
    year = 3                        # year y starts at month 12 (y - 1) + 1, a September
    lever = "share_edu_3_0"
    value = 0.5

    [priors]                        # optional: narrow or widen a prior of the parameter table
    graduate_premium = { dist = "triangular", low = 0.2, mode = 0.5, high = 0.8 }

``extends`` inherits every parameter of the parent and overrides only those the child names;
the child's timeline events are added to the parent's, and its priors replace the parent's of
the same parameters (``simulation.priors.parse`` checks each). Loading validates everything against
the parameter table and raises ``ScenarioError`` with one line naming the file, the key path,
what was expected and what was found. Files are parsed as data (``tomllib``), never executed.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .budget import check_memory
from .errors import InputFileError, read_toml
from .parameters import (
    LEVERS,
    TABLE,
    ParameterError,
    Parameters,
    check_value,
    resolve,
    resolve_checked,
)
from .parameters import show as _show  # phase 2 renames the uses

# The library ships as the package data of the top-level ``scenarios`` package.
LIBRARY = Path(str(resources.files("scenarios")))
TOP_LEVEL = ("name", "description", "extends", "parameters", "timeline", "priors")
EVENT_KEYS = ("month", "year", "lever", "value")
MAX_EXTENDS = 32  # files in one chain of extends, the file itself included


class ScenarioError(InputFileError):
    """A scenario file is invalid. ``str(err)`` is one line: ``file: key: what is wrong``."""


class ChainTooLongError(ScenarioError):
    """A chain of ``extends`` longer than ``MAX_EXTENDS`` files."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its name, description, origin and model parameters."""

    name: str
    description: str
    path: Path | None
    overrides: dict[str, Any] = field(default_factory=dict)  # what the files set
    parameters: Parameters = field(default_factory=resolve)  # every parameter, resolved
    priors: dict[str, Any] = field(default_factory=dict)  # [priors] tables: simulation.priors.Prior

    @property
    def horizon(self) -> int:
        return int(self.parameters["horizon_months"])

    def model_kwargs(self, **changes: Any) -> dict[str, Any]:
        """Keyword arguments for ``EcosystemModel``: the scenario's overrides plus ``changes``."""
        return {**self.overrides, **changes}


def library() -> list[Scenario]:
    """Every scenario shipped in ``scenarios/``, by name."""
    return [load(path) for path in sorted(LIBRARY.glob("*.toml"))]


def find(name_or_path: str | Path) -> Path:
    """A scenario's file: an existing path, or a library name (with or without .toml)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return path
    candidate = LIBRARY / f"{Path(name_or_path).stem}.toml"
    if candidate.exists() and path.parent == Path("."):
        return candidate
    if path.exists():
        return path
    names = [p.stem for p in LIBRARY.glob("*.toml")]
    hint = difflib.get_close_matches(str(name_or_path), names, n=1)
    extra = f"; did you mean '{hint[0]}'?" if hint else f"; the library has: {', '.join(names)}"
    raise ScenarioError(name_or_path, "", f"no such scenario file or library name{extra}")


def load(name_or_path: str | Path) -> Scenario:
    """Load and validate a scenario (with everything it extends)."""
    path = find(name_or_path)
    doc, overrides = _load_chain(path, ())
    try:
        # Each value was checked as it was read; the joint constraints and the timeline's
        # states are checked here.
        parameters = resolve_checked(overrides)
        check_memory(parameters)  # `helixsim check` refuses what `run` could not build
    except ParameterError as err:
        raise _parameter_error(path, err) from None
    description = doc.get("description", "")
    return Scenario(name=str(doc.get("name", path.stem)), description=str(description),
                    path=path, overrides=overrides, parameters=parameters,
                    priors=_priors(path, doc))


def _priors(path: Path, doc: dict) -> dict[str, Any]:
    """The ``[priors]`` of a file over those of the files it extends (the chain is valid:
    ``_load_chain`` read it first)."""
    from .priors import PriorError, parse

    out: dict[str, Any] = {}
    if "extends" in doc:
        parent = _parent_path(path, doc["extends"])
        out = _priors(parent, _read(parent))
    raw = doc.get("priors", {})
    if not isinstance(raw, dict):
        raise ScenarioError(path, "priors", f"expected a table, got {_show(raw)}")
    for name, spec in raw.items():
        try:
            out[name] = parse(name, spec, origin=path.name)
        except PriorError as err:
            raise ScenarioError(path, f"priors.{err.key}", err.reason) from None
    return out


def _load_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict[str, Any]]:
    """(this file's document, parameter overrides including every ancestor's).

    An error in a parent file is reported against the file that names it, at its
    ``extends`` key, with the chain of parents down to the file at fault.
    """
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(p.name for p in (*seen, real))
        raise ScenarioError(path, "extends", f"cycle of extends: {chain}")
    doc = _read(path)
    overrides: dict[str, Any] = {}
    timeline: list[tuple[int, str, Any]] = []
    if "extends" in doc:
        parent_ref = doc["extends"]
        if not isinstance(parent_ref, str) or not parent_ref:
            raise ScenarioError(path, "extends", f"expected a scenario name or path, "
                                                 f"got {_show(parent_ref)}")
        parent = _parent_path(path, parent_ref)
        if len(seen) + 1 >= MAX_EXTENDS:
            raise ChainTooLongError(path, "extends", f"the chain of extends is longer than "
                                                     f"{MAX_EXTENDS} files (it goes on at "
                                                     f"{path.name}); make it shorter")
        try:
            _, overrides = _load_chain(parent, (*seen, real))
        except ScenarioError as err:
            raise _in_parent(path, err) from None
        overrides = dict(overrides)
        timeline = list(overrides.pop("timeline", ()))
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        raise ScenarioError(path, "parameters", f"expected a table, got {_show(params)}")
    for key, value in params.items():
        if key == "timeline":
            raise ScenarioError(path, "parameters.timeline", "put policy changes in "
                                "[[timeline]] tables at the top level")
        try:
            overrides[key] = check_value(key, value)
        except ParameterError as err:
            raise _parameter_error(path, err, prefix="parameters.") from None
    horizon = overrides.get("horizon_months", resolve()["horizon_months"])
    timeline += _timeline(path, doc.get("timeline", []), horizon)
    if timeline:
        overrides["timeline"] = tuple(sorted(timeline, key=lambda e: e[0]))
    return doc, overrides


def _in_parent(child: Path, err: ScenarioError) -> ScenarioError:
    """``err`` (raised in a parent or further up) as an error of ``child``'s extends key: the
    message reads ``child: extends: parent: key: reason``, down to the file at fault."""
    if isinstance(err, ChainTooLongError):  # one message for the whole chain, not 32 nested
        return ChainTooLongError(child, "extends", err.reason)
    return ScenarioError(child, "extends", str(err))


def _parent_path(path: Path, ref: str) -> Path:
    try:
        local = path.parent / ref
        candidates = [local] + ([local.with_suffix(".toml")] if local.name else [])
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        library_file = LIBRARY / f"{Path(ref).stem}.toml"
        if Path(ref).parent == Path(".") and library_file.is_file():
            return library_file
    except (OSError, ValueError):  # a name too long for the file system, and the like
        pass
    names = [p.stem for p in LIBRARY.glob("*.toml")]
    hint = difflib.get_close_matches(ref, names, n=1)
    extra = f"; did you mean '{hint[0]}'?" if hint else ""
    raise ScenarioError(path, "extends", f"no scenario file or library name {_show(ref)}{extra}")



def _read(path: Path) -> dict:
    doc, _ = read_toml(path, ScenarioError, "a scenario file")
    for key in doc:
        if key not in TOP_LEVEL:
            hint = difflib.get_close_matches(key, TOP_LEVEL + tuple(TABLE), n=1)
            if hint and hint[0] in TABLE:
                extra = f"; did you mean parameters.{hint[0]} (under [parameters])?"
            elif hint:
                extra = f"; did you mean '{hint[0]}'?"
            else:
                extra = f"; expected one of {', '.join(TOP_LEVEL)}"
            raise ScenarioError(path, key, f"unknown key{extra}")
    for key in ("name", "description"):
        if key in doc and not isinstance(doc[key], str):
            raise ScenarioError(path, key, f"expected text, got {_show(doc[key])}")
    return doc


def _timeline(path: Path, events: Any, horizon: int) -> list[tuple[int, str, Any]]:
    if not isinstance(events, list):
        raise ScenarioError(path, "timeline", "expected [[timeline]] tables (a list of "
                                              f"events), got {_show(events)}")
    out = []
    for i, ev in enumerate(events):
        key = f"timeline[{i}]"
        if not isinstance(ev, dict):
            raise ScenarioError(path, key, f"expected a table with month or year, lever and "
                                           f"value, got {_show(ev)}")
        for k in ev:
            if k not in EVENT_KEYS:
                hint = difflib.get_close_matches(k, EVENT_KEYS, n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                raise ScenarioError(path, f"{key}.{k}", f"unknown key{extra}")
        if ("month" in ev) == ("year" in ev):
            raise ScenarioError(path, key, "give exactly one of 'month' or 'year'")
        for k in ("lever", "value"):
            if k not in ev:
                raise ScenarioError(path, f"{key}.{k}", "missing")
        if "month" in ev:
            month = ev["month"]
            if not isinstance(month, int) or isinstance(month, bool) or month < 0:
                raise ScenarioError(path, f"{key}.month", f"expected a whole number >= 0, "
                                                          f"got {_show(month)}")
        else:
            year = ev["year"]
            if not isinstance(year, int) or isinstance(year, bool) or year < 1:
                raise ScenarioError(path, f"{key}.year", f"expected a whole number >= 1, "
                                                         f"got {_show(year)}")
            month = 12 * (year - 1) + 1
        if month > horizon:
            raise ScenarioError(path, key, f"month {month} is after the horizon "
                                           f"({horizon} months)")
        lever, value = ev["lever"], ev["value"]
        if lever not in LEVERS:
            hint = difflib.get_close_matches(str(lever), LEVERS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise ScenarioError(path, f"{key}.lever", f"{_show(lever)} is not a policy lever"
                                                      f"{extra}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(path, f"{key}.value", f"expected a finite number, got {value}")
        try:
            value = check_value(lever, value)
        except ParameterError as err:
            raise ScenarioError(path, f"{key}.value", str(err)) from None
        out.append((month, lever, value))
    return out


def _parameter_error(path: Path, err: ParameterError, prefix: str = "parameters."
                     ) -> ScenarioError:
    if err.key.startswith("timeline"):  # timeline, timeline[i]: a top-level key in the file
        return ScenarioError(path, err.key, err.reason)
    if err.key:
        return ScenarioError(path, prefix + err.key, err.reason)
    return ScenarioError(path, "parameters", str(err))
