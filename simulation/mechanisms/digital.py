"""Mechanism 6, digital transformation: firms' digital maturity in [0, 1].

Maturity rises toward 1 (saturation) for members of the open platform, faster with the
government's platform investment per firm, and with digitally skilled graduate hires (applied
at hiring time through ``hire_effect``); it erodes slowly as technology moves on. Firms join
the platform by a Bass-like adoption rate that rises with investment and their own maturity.
Platform investment is spent only while the platform is live; otherwise it stays in the pot
for the year-end rule (accounting.py).
"""

from __future__ import annotations

import numpy as np

from ..world import INSTRUMENT_INDEX, World

PLATFORM = INSTRUMENT_INDEX["platform_investment"]


def saturating(x: np.ndarray, rate: np.ndarray | float) -> None:
    """x += rate (1 - x) in place, rate clipped to [0, 1]."""
    x += np.clip(rate, 0.0, 1.0) * (1.0 - x)


def hire_effect(digital: np.ndarray, firms: np.ndarray, digital_skill: np.ndarray,
                employees: np.ndarray, rate: float) -> None:
    """Digitally skilled hires raise the employer's maturity (firms may repeat)."""
    per_firm = np.bincount(firms, weights=digital_skill, minlength=len(digital))
    touched = np.flatnonzero(per_firm)
    saturating_rows = rate * per_firm[touched] / np.maximum(employees[touched], 1)
    digital[touched] += np.clip(saturating_rows, 0.0, 1.0) * (1.0 - digital[touched])


def apply(w: World) -> None:
    p, f = w.p, w.firms
    n = f.n
    alive = f.alive[:n]
    n_alive = max(int(alive.sum()), 1)
    invest_per_firm = 0.0
    if w.platform_live():
        # The platform absorbs this month's allocation; money left from before launch waits
        # for the year-end rule like any unspent money.
        monthly = p["gov_budget"] * p["budget_share_platform_investment"] / 12.0
        spent = w.gov.spend(PLATFORM, monthly)
        invest_per_firm = spent * 12.0 / n_alive
        boost = 1.0 + p["platform_investment_effect"] * invest_per_firm
        join_prob = p["platform_join_rate"] * boost * (0.5 + f.digital[:n])
        joiners = alive & ~f.platform_member[:n] & (w.rng("digital.join").random(n) < join_prob)
        f.platform_member[:n] |= joiners
        w.count("platform_joins", int(joiners.sum()))
        members = alive & f.platform_member[:n]
        saturating(f.digital[:n], np.where(members, p["digital_platform_rate"] * boost, 0.0))
    w.flows["platform_investment_per_firm"] = invest_per_firm
    f.digital[:n] *= 1.0 - p["digital_decay"]
