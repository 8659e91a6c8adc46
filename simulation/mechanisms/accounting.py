"""Mechanism 9, accounting: the government's year end, untied payments, tax and welfare.

At the end of each budget year (every 12th month; the year runs September to August) money a
demand-driven instrument did not spend is reallocated to the untied instruments, carried over,
or returned, as ``unspent_policy`` says (reallocation is the default so that every channel
configuration, the siloed one included, spends the same money). Untied instruments then pay
out their whole balance: block grants to universities by intake, competitive research grants by
reputation (both fund next month's research), and R&D subsidies to firms in proportion to their
own R&D if it is at least ``rd_subsidy_threshold`` (spent on R&D next month). The government
taxes value added. Welfare W accumulates value added from the end of the burn-in
(``burn_in_months``, 0 by default), discounted at ``discount_rate`` to that month.
Indicators are computed by indicators.py.
"""

from __future__ import annotations

import numpy as np

from ..parameters import INSTRUMENTS
from ..world import INSTRUMENT_INDEX, UNTIED, World

BLOCK = INSTRUMENT_INDEX["block_grants"]
RESEARCH = INSTRUMENT_INDEX["research_grants"]
RD = INSTRUMENT_INDEX["rd_subsidies"]
DEMAND_DRIVEN = tuple(INSTRUMENT_INDEX[n] for n in ("matching_grants", "incubator_support",
                                                     "platform_investment", "retention_subsidy"))


def apply(w: World) -> None:
    # The books also close at the horizon, so a run of any length spends the same money in
    # every channel configuration.
    if w.month % 12 == 0 or w.month == w.p["horizon_months"]:
        close_year(w)
    f = w.firms
    alive = np.flatnonzero(f.alive[: f.n])
    va_firm = f.value_added(alive, w.p["graduate_premium"])
    w.scratch.value_added = (alive, va_firm)  # the indicators reuse it
    pay_universities(w)
    pay_rd_subsidies(w, alive, va_firm)
    va = float(va_firm.sum())
    tax = w.p["tax_rate"] * va
    w.gov.tax_month = tax
    w.gov.tax_total += tax
    w.scratch.flows["value_added"] = va
    since = w.month - w.p["burn_in_months"]
    if since > 0:
        w.welfare += va / (1.0 + w.p["discount_rate"]) ** (since / 12.0)


def close_year(w: World) -> None:
    gov, policy = w.gov, w.p["unspent_policy"]
    if policy == "carry_over":
        return
    shares = np.array([w.p[f"budget_share_{INSTRUMENTS[i]}"] for i in UNTIED])
    shares = shares / shares.sum() if shares.sum() > 0 else np.full(len(UNTIED), 0.5)
    for i in DEMAND_DRIVEN:
        left = float(gov.balance[i])
        if left <= 0:
            continue
        gov.balance[i] = 0.0
        if policy == "return":
            gov.returned += left
        else:  # reallocate
            for j, s in zip(UNTIED, shares, strict=True):
                gov.balance[j] += left * s
        w.count("unspent_" + policy, left)


def pay_universities(w: World) -> None:
    u, gov = w.unis, w.gov
    block = gov.spend(BLOCK, float(gov.balance[BLOCK]))
    research = gov.spend(RESEARCH, float(gov.balance[RESEARCH]))
    block_u = block * u.intake / u.intake.sum()
    rep = np.maximum(u.reputation, 0.0)
    research_u = research * (rep / rep.sum() if rep.sum() > 0 else np.full(u.count, 1 / u.count))
    u.funding = block_u + research_u
    u.grant_share = np.where(u.funding > 0, research_u / np.maximum(u.funding, 1e-12),
                                      0.0)


def pay_rd_subsidies(w: World, alive: np.ndarray, va: np.ndarray) -> None:
    """R&D subsidies to living firms (rows ``alive``, value added ``va``) by their own R&D."""
    f, gov = w.firms, w.gov
    n = f.n
    f.subsidy[:n] = 0.0
    qualify = f.rd_intensity[alive] >= w.p["rd_subsidy_threshold"]
    if not qualify.any():  # nobody qualifies: the money still goes to firms, untied
        qualify[:] = True
    rows = alive[qualify]
    weight = f.rd_intensity[rows] * va[qualify]
    if weight.sum() <= 0:  # no firm does R&D: the subsidy is shared by value added, or evenly
        weight = va[qualify] if va[qualify].sum() > 0 else np.ones(len(rows))
    if len(rows):
        paid = gov.spend(RD, float(gov.balance[RD]))
        f.subsidy[rows] = paid * weight / weight.sum()
    # Next month's public money starts with the subsidy just paid.
    f.public_money[:n] = f.subsidy[:n]
