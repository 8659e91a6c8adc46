"""Mechanism 1, policy: scheduled policy changes take effect and the month's budget is released.

The government's annual budget is released in twelfths into one pot per instrument. An
instrument tied to a closed channel (matching grants without joint research or brokerage,
incubator support without incubation, platform investment without the platform channel) has
its release rerouted to the untied instruments, university block grants and firm R&D
subsidies, in proportion to their own shares. Platform investment is rerouted in every month
the platform is not live (channel closed, ``platform_on`` false, or before launch), so a
platform that never goes live moves money exactly as a closed channel does. With every channel
closed this is the ODD's siloed counterfactual: the same money, spent untied.

Incubator support is paid here too, at the start of the month: first the incubator's running
cost (``incubator_running_cost`` per incubated start-up, public money spent on the incubator
itself), then the support to every incubated start-up still in its incubation period.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..parameters import INSTRUMENTS
from ..world import INSTRUMENT_INDEX, UNTIED, World, education_mix
from .research import incubating_firms

# Which channels keep each tied instrument alive (any one of them open suffices).
INCUBATOR = INSTRUMENT_INDEX["incubator_support"]
SHARE_KEYS = tuple(f"budget_share_{name}" for name in INSTRUMENTS)

TIED_TO = {
    "matching_grants": ("joint_research", "brokerage"),
    "incubator_support": ("incubation",),
    "platform_investment": ("platform",),
}


def apply(w: World) -> None:
    for month, lever, value in w.p["timeline"]:
        if month == w.month:
            set_lever(w, lever, value)
    release = monthly_release(w)
    w.gov.balance += release
    w.gov.released += release
    pay_incubator_support(w)


def set_lever(w: World, lever: str, value: Any) -> None:
    """Apply a policy change; the education mix acts on the next intake.

    The change is run state (``w.p.levers``), read through ``w.p``; the run's parameters stay
    as they were resolved.
    """
    w.p.set_lever(lever, value)
    if lever in ("share_edu_2_0", "share_edu_3_0", "edu_mix_by_university"):
        w.unis.mix = education_mix(w.p)


# (instrument, its channels) of the tied instruments but the platform's.
_TIED = tuple((INSTRUMENT_INDEX[name], channels)
              for name, channels in TIED_TO.items() if name != "platform_investment")
PLATFORM = INSTRUMENT_INDEX["platform_investment"]


def monthly_release(w: World) -> np.ndarray:
    """This month's release per instrument (MCU), tied instruments of closed channels rerouted."""
    # Plain Python floats over the handful of instruments (the same operations in the same
    # order as on arrays, so the same numbers): numpy's per-call overhead was its whole cost.
    # The platform's pot is open while the platform is live.
    p = w.p
    monthly = p["gov_budget"] / 12.0
    shares = [float(p[key]) for key in SHARE_KEYS]
    release = [monthly * share for share in shares]
    untied = [shares[i] for i in UNTIED]
    total = sum(untied)
    untied = [share / total for share in untied] if total > 0 else [0.5] * len(UNTIED)
    for i, channels in _TIED:
        if not any(w.channel(c) for c in channels):
            _reroute(release, i, untied)
    if not w.platform_live():
        _reroute(release, PLATFORM, untied)
    return np.array(release)


def _reroute(release: list[float], i: int, untied: list[float]) -> None:
    # A closed channel's release goes to the untied instruments by their own shares.
    for j, share in zip(UNTIED, untied, strict=True):
        release[j] += release[i] * share
    release[i] = 0.0


def pay_incubator_support(w: World) -> None:
    """Running cost and support of each start-up in incubation (incubation channel), as far as
    the pot allows: the running cost is paid first."""
    p, f = w.p, w.firms
    if not w.channel("incubation"):
        return
    # Paid from the month after founding for incubation_months months.
    inc = incubating_firms(w)
    running = w.gov.spend(INCUBATOR, p["incubator_running_cost"] * len(inc))
    w.count("incubator_running_cost", running)
    due = p["incubator_support"] * len(inc)
    paid = w.gov.spend(INCUBATOR, due * w.gov.demand_share(INCUBATOR, due))
    if len(inc):
        # An equal share to each, into its cash and its public money (one pass over the rows).
        kernels.support_incubated(inc, paid / len(inc), f.cash, f.public_money)
    w.scratch.flows["incubated_firms"] = float(len(inc))
