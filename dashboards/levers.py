"""The levers the dashboard offers, read from the parameter table (no second schema).

Each lever's label, unit and valid range come from ``simulation.parameters.PARAMETERS``, and a
typed value is checked by ``check_value``, so the dashboard accepts exactly what the model and
the scenario files accept and says why in the model's own words when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulation.parameters import INSTRUMENTS, PARAMETERS, ParameterError, check_value

EDU_MIX = "edu_mix_by_university"
PROGRAMME_LABELS = ("1.0", "2.0", "3.0")

# (group title, parameters) in the order the Explore page shows them. The per-university
# Education Model mix (EDU_MIX) has its own control and is not listed here.
LEVER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Region size", ("n_universities", "n_firms", "intake_per_university")),
    ("Government budget and instrument split",
     ("gov_budget", *(f"budget_share_{name}" for name in INSTRUMENTS))),
    ("Instruments", ("matching_rate", "retention_subsidy")),
    ("Platform (X-Eco Mall)", ("platform_on", "platform_launch_month")),
)
LEVER_NAMES: tuple[str, ...] = tuple(n for _, names in LEVER_GROUPS for n in names)
# Said under a field besides unit and range. The model counts months; planners think in years,
# and scenario timelines map year y to month 12 (y - 1) + 1.
EXTRA_HINTS = {"platform_launch_month": "year y opens at month 12(y - 1) + 1: year 2 = 13"}


@dataclass(frozen=True)
class LeverSpec:
    name: str
    label: str
    unit: str
    range_text: str
    kind: str
    doc: str

    @property
    def hint(self) -> str:
        """What the input shows under the field: unit and valid range."""
        extra = EXTRA_HINTS.get(self.name)
        return f"{self.unit}; valid {self.range_text}" + (f"; {extra}" if extra else "")


def spec(name: str) -> LeverSpec:
    p = PARAMETERS[name]
    label = name.removeprefix("budget_share_").replace("_", " ") if name.startswith(
        "budget_share_") else name.replace("_", " ")
    return LeverSpec(name=name, label=label, unit=p.unit, range_text=p.range_text(),
                     kind=p.kind, doc=p.doc)


def parse(name: str, text: Any) -> Any:
    """A lever value from what the user typed (or a ready value), checked against the table.

    Raises ParameterError with the table's message (unit and valid range included).
    """
    kind = PARAMETERS[name].kind
    if isinstance(text, str):
        raw = text.strip().replace(",", "")
        if kind in ("int", "float"):
            try:
                value: Any = float(raw) if kind == "float" or "." in raw or "e" in raw.lower() \
                    else int(raw)
            except ValueError:
                raise ParameterError(name, f"expected a number, got {text.strip()[:40]!r}"
                                     ) from None
        elif kind == "bool":
            value = {"true": True, "false": False, "on": True, "off": False}.get(raw.lower(), raw)
        else:
            value = raw
    else:
        value = text
    return check_value(name, value)


def parse_share(university: int, programme: int, text: Any) -> float:
    """One share of a university's intake mix, in [0, 1]."""
    key = f"{EDU_MIX}[{university}]"
    try:
        value = float(str(text).strip()) if isinstance(text, str) else float(text)
    except ValueError:
        raise ParameterError(key, f"expected a number for the {PROGRAMME_LABELS[programme]} "
                                  f"share, got {str(text)[:40]!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ParameterError(key, f"the {PROGRAMME_LABELS[programme]} share {value:g} is "
                                  "outside its valid range [0, 1] (share of intake)")
    return value


def set_share(mix: tuple[tuple[float, float, float], ...], university: int, programme: int,
              value: float) -> tuple[tuple[float, float, float], ...]:
    """The mix with one university's 2.0 or 3.0 share changed; 1.0 takes the rest.

    Raises ParameterError if 2.0 and 3.0 together would exceed the intake.
    """
    if programme not in (1, 2):
        raise ValueError("only the 2.0 and 3.0 shares are set; 1.0 takes the rest")
    triple = list(mix[university])
    triple[programme] = value
    other = triple[3 - programme]
    if value + other > 1.0 + 1e-9:
        raise ParameterError(f"{EDU_MIX}[{university}]", f"shares 2.0 + 3.0 = "
                             f"{value + other:g} exceed 1 (1.0 takes the rest)")
    triple[0] = max(0.0, 1.0 - triple[1] - triple[2])
    out = list(mix)
    out[university] = (triple[0], triple[1], triple[2])
    return tuple(out)


def resize_mix(mix: tuple[tuple[float, float, float], ...], n: int,
               default: tuple[float, float, float]) -> tuple[tuple[float, float, float], ...]:
    """One triple per university: extra universities get ``default``, removed ones go."""
    return tuple(mix[:n]) + (default,) * max(0, n - len(mix))
