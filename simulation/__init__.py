"""helixsim's model: an agent-based industry-university-government innovation ecosystem.

The names below are loaded on first use (PEP 562), so ``import simulation`` reads no file and
imports no Mesa: a command that only needs the parameter table or the scenario files does not
pay for the model.
"""

from importlib import import_module
from typing import Any

__all__ = ["DEFAULTS", "INDICATORS", "LEVERS", "PARAMETERS", "EcosystemModel", "ParameterError",
           "Parameters", "resolve"]
__version__ = "0.1.0"

_HOME = {"DEFAULTS": "parameters", "LEVERS": "parameters", "PARAMETERS": "parameters",
         "ParameterError": "parameters", "Parameters": "parameters", "resolve": "parameters",
         "INDICATORS": "indicators", "EcosystemModel": "model"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
