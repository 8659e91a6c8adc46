"""Mechanism 6, digital transformation: the X-Eco Mall platform and firms' digital maturity.

The platform is a real platform only while it is live (platform channel open, ``platform_on``,
month >= ``platform_launch_month``); before that its money is rerouted at release (policy.py)
and nothing here happens but the erosion of maturity. While live, each month's allocation pays,
in this order: the platform's running cost (``platform_running_cost``); a share
``platform_join_subsidy`` of the joining costs of this month's new members; and service
investment in the members, whose effect on digital maturity has diminishing returns per unit
money (``platform_investment_half``). Joining is Bass-like: the monthly probability rises with a
firm's own maturity and with the network value of the platform (members' share of living firms
x the share of domains they cover: number and variety), and a firm joins only if its cash
covers the joining cost ``platform_join_cost``. Members' maturity rises toward 1 (saturation);
digitally skilled graduate hires raise maturity at hiring (labour_market.hire); maturity erodes
slowly as technology moves on. What the platform's members gain in matching is in
collaboration.py (reach across universities, a match boost growing with network value).
"""

from __future__ import annotations

import numpy as np

from ..world import INSTRUMENT_INDEX, World
from .collaboration import network_value

PLATFORM = INSTRUMENT_INDEX["platform_investment"]


def saturating(x: np.ndarray, rate: np.ndarray | float) -> None:
    """x += rate (1 - x) in place, rate clipped to [0, 1]."""
    x += np.clip(rate, 0.0, 1.0) * (1.0 - x)


def investment_boost(per_member: float, effect: float, half: float) -> float:
    """Multiplier of members' digital progress from service investment per member per year:
    1 + effect x I / (I + half), so each further unit of money does less."""
    per_member = max(per_member, 0.0)
    return 1.0 + effect * per_member / (per_member + half)


def apply(w: World) -> None:
    p, f = w.p, w.firms
    n = f.n
    invest_per_firm = 0.0
    if w.platform_live():
        alive = f.alive[:n]
        n_alive = max(int(alive.sum()), 1)
        # This month's allocation only; money left from earlier months of the live platform
        # waits for the year-end rule like any unspent money.
        monthly = p["gov_budget"] * p["budget_share_platform_investment"] / 12.0
        left = monthly - w.gov.spend(PLATFORM, min(p["platform_running_cost"], monthly))
        w.count("platform_running_cost", monthly - left)
        value = network_value(w)
        join_prob = (p["platform_join_rate"] * (0.5 + f.digital[:n])
                     * (1.0 + p["platform_network_effect"] * value))
        joiners = np.flatnonzero(alive & ~f.platform_member[:n]
                                 & (w.rng("digital.join").random(n) < join_prob)
                                 & (f.cash[:n] >= p["platform_join_cost"]))
        if len(joiners):
            due = p["platform_join_cost"] * p["platform_join_subsidy"] * len(joiners)
            subsidy = w.gov.spend(PLATFORM, min(due, left))
            left -= subsidy
            each = subsidy / len(joiners)
            f.cash[joiners] -= p["platform_join_cost"] - each
            # What members pay themselves counts against W (accounting).
            w.count("firm_link_outlays", (p["platform_join_cost"] - each) * len(joiners))
            f.public_money[joiners] += each
            f.platform_member[joiners] = True
            w.count("platform_join_subsidy", subsidy)
        w.count("platform_joins", len(joiners))
        members = alive & f.platform_member[:n]
        invest = w.gov.spend(PLATFORM, left)
        invest_per_firm = invest * 12.0 / n_alive
        boost = investment_boost(invest * 12.0 / max(int(members.sum()), 1),
                                 p["platform_investment_effect"], p["platform_investment_half"])
        saturating(f.digital[:n], np.where(members, p["digital_platform_rate"] * boost, 0.0))
    w.scratch.flows["platform_investment_per_firm"] = invest_per_firm
    f.digital[:n] *= 1.0 - p["digital_decay"]
