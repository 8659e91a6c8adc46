"""Mechanism 9, accounting: the government's year end, untied payments, tax and welfare.

At the end of each budget year (every 12th month; the year runs September to August) money a
demand-driven instrument did not spend is reallocated to the untied instruments, carried over,
or returned, as ``unspent_policy`` says (reallocation is the default so that every channel
configuration, the siloed one included, spends the same money). Untied instruments then pay
out their whole balance: block grants to universities by intake, competitive research grants by
reputation (both fund next month's research), and R&D subsidies to firms in proportion to their
own R&D if it is at least ``rd_subsidy_threshold`` (spent on R&D next month). The government
taxes value added. Welfare W accumulates value added net of the firms' link outlays (what firms
pay out of their own cash for cross-helix links this month: their share of project costs and
platform joining costs, the flow ``firm_link_outlays``) from the end of the burn-in
(``burn_in_months``, 0 by default), discounted at ``discount_rate`` to that month. Staff time
firms give to projects and capstones is not subtracted again: it is already missing from value
added (``Firms.diverted``).
Indicators are computed by indicators.py.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
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
    # Firms.value_added of the living rows, in one pass (simulation/kernels/accounting.py).
    alive, va_firm, va = kernels.living_value_added(
        f.alive[: f.n], f.productivity, f.employees, f.diverted, f.grad_skill,
        f.prior_grad_skill, w.p["graduate_premium"])
    w.scratch.value_added = (alive, va_firm, va)  # the indicators reuse it
    pay_universities(w)
    pay_rd_subsidies(w, alive, va_firm)
    tax = w.p["tax_rate"] * va
    w.gov.tax_month = tax
    w.gov.tax_total += tax
    w.scratch.flows["value_added"] = va
    # Every gain carries its cost: the month's outlays of firms on links (collaboration,
    # digital) come off the value added they helped create.
    net = va - w.scratch.flows.get("firm_link_outlays", 0.0)
    since = w.month - w.p["burn_in_months"]
    if since > 0:
        w.welfare += net / (1.0 + w.p["discount_rate"]) ** (since / 12.0)


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
    # Block grants by intake, research grants by reputation (at least 0; evenly when none is
    # positive), and the share of each university's funding that research grants paid, in
    # one kernel on the few universities (simulation/kernels/accounting.py).
    u.funding, u.grant_share = kernels.university_grants(u.intake, u.reputation, block,
                                                         research)


def pay_rd_subsidies(w: World, alive: np.ndarray, va: np.ndarray) -> None:
    """R&D subsidies to living firms (rows ``alive``, value added ``va``) by their own R&D,
    among those at or above ``rd_subsidy_threshold`` (all if none is); by value added when
    none does R&D, evenly when none has value added (simulation/kernels/accounting.py).
    Next month's public money starts with the subsidy just paid."""
    f, gov = w.firms, w.gov
    paid = gov.spend(RD, float(gov.balance[RD])) if len(alive) else 0.0
    kernels.share_rd_subsidies(alive, va, f.rd_intensity, w.p["rd_subsidy_threshold"], paid,
                               f.subsidy, f.public_money, f.n)
