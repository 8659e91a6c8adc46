"""The calibration file: calibrated defaults and their provenance, read by the parameter table.

``helixsim calibrate`` writes ``simulation/calibration.toml`` (the text of ``dumps``; package
data, shipped in the wheel); ``simulation.parameters`` reads it when defaults are first needed
(not at import) and uses its values as the defaults of the parameters it lists, so the model,
the scenarios (which start from the defaults), the docs and the dashboard all see the
calibrated values. The file is data (TOML), never code::

    [provenance]
    method = "..."            # how the values were found
    date = "2026-11-28"
    objective = 0.12          # value of the objective at the calibrated point
    ...                       # targets, seeds, root seed, evaluations, model version, command

    [parameters.search_rate]
    value = 0.004             # the calibrated default
    low = 0.0005              # the bounds searched
    high = 0.05
    previous = 0.02           # the default before calibration

A missing or malformed file raises ``CalibrationFileError`` with one line naming the file and
the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import InputFileError, read_toml

# Package data of ``simulation`` (shipped in the wheel).
CALIBRATION_FILE = Path(str(resources.files(__package__) / "calibration.toml"))
ENTRY_KEYS = ("value", "low", "high", "previous")


class CalibrationFileError(InputFileError):
    """An invalid calibration file."""


@dataclass(frozen=True)
class Calibration:
    """Calibrated values by parameter name, their search bounds and previous defaults, and the
    provenance of the fit."""

    values: dict[str, float]
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    previous: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def source(self, name: str) -> str:
        """One line for the parameter table's source column."""
        p = self.provenance
        low, high = self.bounds.get(name, (math.nan, math.nan))
        return (f"Calibrated by `helixsim calibrate` on {p.get('date', '?')} "
                f"(searched [{low:g}, {high:g}]; default before: "
                f"{self.previous.get(name, math.nan):g}; objective "
                f"{float(p.get('objective', math.nan)):.3g} over {p.get('seeds', '?')} seeds; "
                "targets in docs/validation.md).")


def _number(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CalibrationFileError(path, key, f"expected a finite number, found {value!r}")
    return float(value)


def read(path: Path | str = CALIBRATION_FILE) -> Calibration:
    """The calibration in ``path``. A missing file is an error, not "no calibration": the
    model would silently run on uncalibrated defaults."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationFileError(path, "", "calibration file not found (the calibrated "
                                   "defaults ship with helixsim: reinstall it)")
    doc, _ = read_toml(path, CalibrationFileError, "a calibration file")
    unknown = sorted(set(doc) - {"provenance", "parameters"})
    if unknown:
        raise CalibrationFileError(path, unknown[0], "unknown section; expected 'provenance' "
                                   "and 'parameters'")
    provenance = doc.get("provenance", {})
    entries = doc.get("parameters", {})
    if not isinstance(provenance, dict):
        raise CalibrationFileError(path, "provenance", "expected a table")
    if not isinstance(entries, dict):
        raise CalibrationFileError(path, "parameters", "expected a table")
    values, bounds, previous = {}, {}, {}
    for name, entry in entries.items():
        key = f"parameters.{name}"
        if not isinstance(entry, dict):
            raise CalibrationFileError(path, key, "expected a table with value, low, high, "
                                       "previous")
        extra = sorted(set(entry) - set(ENTRY_KEYS))
        if extra:
            raise CalibrationFileError(path, f"{key}.{extra[0]}", "unknown key; expected one "
                                       f"of {', '.join(ENTRY_KEYS)}")
        if "value" not in entry:
            raise CalibrationFileError(path, f"{key}.value", "missing")
        values[name] = _number(path, f"{key}.value", entry["value"])
        if "low" in entry and "high" in entry:
            bounds[name] = (_number(path, f"{key}.low", entry["low"]),
                            _number(path, f"{key}.high", entry["high"]))
        if "previous" in entry:
            previous[name] = _number(path, f"{key}.previous", entry["previous"])
    return Calibration(values, bounds, previous, provenance)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A JSON string with ASCII escapes is a valid TOML basic string.
    return json.dumps(str(value))


def dumps(calibration: Calibration) -> str:
    """The TOML text of ``calibration``."""
    lines = ["# Written by `helixsim calibrate`: the parameter table (simulation/parameters.py)",
             "# takes these values as defaults. Re-run the command to refit; do not edit by hand.",
             "", "[provenance]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in calibration.provenance.items()]
    for name, value in calibration.values.items():
        lines += ["", f"[parameters.{name}]", f"value = {_toml_value(float(value))}"]
        if name in calibration.bounds:
            low, high = calibration.bounds[name]
            lines += [f"low = {_toml_value(float(low))}", f"high = {_toml_value(float(high))}"]
        if name in calibration.previous:
            lines.append(f"previous = {_toml_value(float(calibration.previous[name]))}")
    return "\n".join(lines) + "\n"
