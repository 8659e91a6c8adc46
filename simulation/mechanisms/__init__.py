"""The nine mechanisms of the ODD, one module each, called by the model in this order."""

from . import (
    accounting,
    collaboration,
    digital,
    firm_dynamics,
    innovation,
    labour_market,
    policy,
    research,
    teaching,
)

ORDER = (policy, teaching, research, collaboration, innovation, digital, labour_market,
         firm_dynamics, accounting)

__all__ = ["ORDER", "accounting", "collaboration", "digital", "firm_dynamics", "innovation",
           "labour_market", "policy", "research", "teaching"]
