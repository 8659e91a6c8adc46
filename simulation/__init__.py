"""helixsim's model: an agent-based industry-university-government innovation ecosystem."""

from .indicators import INDICATORS
from .model import EcosystemModel
from .parameters import DEFAULTS, LEVERS, PARAMETERS, ParameterError

__all__ = ["DEFAULTS", "INDICATORS", "LEVERS", "PARAMETERS", "EcosystemModel", "ParameterError"]
__version__ = "0.1.0"
