"""Mechanism 8, firm dynamics: growth, R&D, knowledge that pays, cash flow, exit and entry.

Size follows multiplicative (Gibrat) shocks whose volatility falls with size as S^-beta (Stanley
et al. 1996), mean-preserving in level. Value added is productivity x effective labour
(employees plus the graduate premium, state.Firms.value_added; innovation raises productivity).
Each month a firm spends its R&D intensity on R&D (plus last month's public R&D subsidy, assumed
fully additional), which builds knowledge along its own profile. Knowledge pays: productivity
follows the firm's knowledge level with elasticity ``knowledge_output_elasticity`` (Griliches'
knowledge-capital production function; Hall, Mairesse & Mohnen 2010), whatever raised it (R&D,
project transfers, graduate hires, spillovers), so a firm whose knowledge does not grow gets no
knowledge-driven productivity growth. Absorptive capacity is a stock (Cohen & Levinthal 1990):
it accumulates with R&D effort and with the share and skill of graduate staff, saturating
toward 1, and depreciates. Cash flow is value added x (margin + shock) - own R&D; project costs
and public support are booked by their own mechanisms. A firm exits when its cash runs out or
by an age-dependent hazard (first year, years 2-5, mature) calibrated to new-firm survival (BLS
/ Eurostat); incubated start-ups have a lower hazard. Entry: exogenous entrants at a constant
regional rate (a share of the initial firm count, not of living firms), and university
spin-offs when the incubation channel is open, more where universities broker under 3.0; every
new firm takes ``displacement_share`` of its value added from the living firms of its main
domain (world.displace_incumbents).
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..state import ENTRANT, SPINOFF
from ..world import World, displace_incumbents, home_universities, init_firms
from .collaboration import within_capacity
from .labour_market import incubator_room, lose_jobs


def growth_shock(size: np.ndarray, sigma: float, beta: float, drift: float, z: np.ndarray
                 ) -> np.ndarray:
    """Multiplicative size factor exp(drift + s z - s^2 / 2), s = sigma * size^-beta."""
    s = sigma * np.maximum(size, 1.0) ** (-beta)
    return np.exp(drift + s * z - 0.5 * s * s)


def absorptive_inflow(rd_share: np.ndarray, graduate_term: np.ndarray, p: dict) -> np.ndarray:
    """Monthly build-up rate g of absorptive capacity from R&D effort / VA and graduate staff."""
    return (p["absorptive_rd_rate"] * np.maximum(rd_share, 0.0)
            + p["absorptive_graduate_rate"] * np.maximum(graduate_term, 0.0))


def absorb(a: np.ndarray, inflow: np.ndarray, depreciation: float) -> np.ndarray:
    """One month of the absorptive stock: A <- (1 - d)(A + (1 - A)(1 - exp(-g))), in [0, 1].

    The build-up saturates toward 1 (a firm cannot absorb more than everything); the stock
    loses a share ``depreciation`` a month without R&D or skilled staff to renew it.
    """
    return (1.0 - depreciation) * (a + (1.0 - a) * (1.0 - np.exp(-inflow)))


def absorptive_steady_state(inflow: np.ndarray, depreciation: float) -> np.ndarray:
    """The fixed point of ``absorb``: (1 - d)(1 - e^-g) / (1 - (1 - d) e^-g)."""
    keep = np.exp(-np.asarray(inflow, dtype=float))
    denom = 1.0 - (1.0 - depreciation) * keep
    return np.where(denom > 0, (1.0 - depreciation) * (1.0 - keep) / np.maximum(denom, 1e-300),
                    1.0)


def knowledge_pays(productivity: np.ndarray, level: np.ndarray, paid: np.ndarray,
                   elasticity: float) -> np.ndarray:
    """Productivity moved by (level / paid)^elasticity: log P = log A + e log L (Griliches).

    ``paid`` is the knowledge level the productivity already reflects; rows without a positive
    level on either side are left as they are.
    """
    ok = (paid > 0) & (level > 0)
    ratio = np.where(ok, level / np.where(ok, paid, 1.0), 1.0)
    return productivity * ratio ** elasticity


def exit_hazard(age: np.ndarray, size: np.ndarray, p: dict) -> np.ndarray:
    """Monthly exit hazard by age band, falling with size relative to a start-up's."""
    base = np.where(age < 12, p["exit_hazard_young"],
                    np.where(age < 60, p["exit_hazard_mid"], p["exit_hazard_mature"]))
    rel = np.maximum(size, 1.0) / p["startup_size"]
    return base * np.minimum(rel, 1e12) ** (-p["exit_size_elasticity"])


def apply(w: World) -> None:
    main_domain = grow(w)
    exits(w)
    entry(w, main_domain)


def grow(w: World) -> np.ndarray:
    """The month's growth; returns each living firm row's main domain after it (the rows'
    knowledge does not change again before entry, whose displacement reads it)."""
    p, f = w.p, w.firms
    n = f.n
    alive = f.alive[:n]
    # Draws for every firm row: a firm's shocks do not depend on which other firms are
    # alive, so paired scenario runs share them. Powers and exponentials run vectorised over
    # every row (numpy's are several times faster than scalar ones in a compiled loop), in
    # place; the per-firm rest is one pass (simulation/kernels/firms.py). growth_shock, in
    # three calls: numpy's power, the exponent's arithmetic (kernels.gibrat_exponent), numpy's
    # exp (``x **= e`` is ``x ** e``: the same special cases of the exponent, in place).
    shock = np.maximum(f.size[:n], 1.0)
    shock **= -p["growth_beta"]
    kernels.gibrat_exponent(shock, w.standard_normal("firms.growth", n), p["growth_sigma"],
                            p["growth_drift"])
    np.exp(shock, out=shock)
    margin_z = w.standard_normal("firms.margin", n)
    level, ratio, keep = np.empty(n), np.empty(n), np.empty(n)
    main_domain = np.empty(n, dtype=np.int32)  # dead rows' is never read
    # Size, value added, R&D into knowledge along the firm's profile (a dead firm's knowledge
    # simply becomes obsolete), cash flow value added x (margin + shock) - own R&D.
    effort = kernels.grow_firms(
        alive, shock, f.size, f.employees, f.productivity, f.knowledge, f.knowledge_paid,
        f.cash, f.rd_intensity, f.subsidy, f.grad_employees, f.prior_grads, f.grad_skill,
        f.prior_grad_skill, f.diverted, margin_z, level, ratio, keep, main_domain,
        p["graduate_premium"],
        p["knowledge_depreciation"], p["firm_rd_rate"], p["margin"], p["margin_sigma"],
        p["absorptive_rd_rate"], p["absorptive_graduate_rate"])
    # Knowledge pays: every change of the level this month (R&D and obsolescence here,
    # projects, spillovers and hires earlier in the month) moves productivity once
    # (knowledge_pays); absorptive capacity takes its month (absorb). numpy takes the power
    # and the exponential in place (``keep`` holds -inflow until then), one pass the rest.
    ratio **= p["knowledge_output_elasticity"]
    np.exp(keep, out=keep)
    kernels.pay_and_absorb(alive, ratio, keep, level, f.productivity, f.knowledge_paid,
                           f.absorptive, p["absorptive_depreciation"])
    w.count("rd_spending", effort)
    return main_domain


def exits(w: World) -> None:
    p, f, pr = w.p, w.firms, w.projects
    draw = w.rng("firms.exit").random(f.n)
    # One pass (simulation/kernels/firms.py): exit_hazard by age band, cut in incubation; out
    # of cash means out; an exiting firm's graduate staff leave it and its projects end.
    out, had_graduates = kernels.exit_firms(
        f.alive[: f.n], f.birth_step, f.size, f.incubated, f.cash, f.exit_step,
        f.grad_employees, f.grad_skill, f.prior_grads, f.prior_grad_skill, pr.firm[: pr.n],
        pr.active[: pr.n], draw, w.month, p["exit_hazard_young"], p["exit_hazard_mid"],
        p["exit_hazard_mature"], p["startup_size"], p["exit_size_elasticity"],
        p["incubation_months"], p["incubator_hazard_cut"])
    if had_graduates:
        lose_jobs(w)  # their graduates become unemployed this month
    w.count("firm_exits", out)


def entry(w: World, main_domain: np.ndarray | None = None) -> None:
    """Entrants and spin-offs. ``main_domain``: the main domain of each firm row growth left
    alive this month (grow's), for their displacement; found afresh if not given."""
    p, f, u = w.p, w.firms, w.unis
    rng = w.rng("firms.entry")
    # A constant regional rate: entry answers the region's market (proxied by its initial firm
    # count), so it does not compound with the number of living firms.
    n_new = rng.poisson(p["entry_rate"] * p["n_firms"])
    if n_new:
        rows = f.reserve(n_new)
        init_firms(f, rows, p, rng, size=np.full(n_new, p["startup_size"]), origin=ENTRANT,
                   step=w.month, home=home_universities(rng, u.intake, n_new))
        displace_incumbents(w, np.arange(rows.start, rows.stop), main_domain)
    w.count("firm_entries", n_new)
    if not w.channel("incubation"):
        return
    brokerage = 1.0 if w.channel("brokerage") else 0.0
    rng = w.rng("firms.spinoff")
    # Each university's spin-offs: Poisson(spinoff_rate x (0.3 + 0.7 x its 3.0 share x
    # brokerage)). A month's few scalars are plain floats (w.share_3_0's formula, and in
    # numpy's order of operations); one scalar Poisson draw per university, in university
    # order, is what numpy's draw over the array of rates takes from the stream.
    rate, spin, n_spin = p["spinoff_rate"], [], 0
    for total_1, total_2, in_3_0 in w.enrolled.tolist():
        total = total_1 + total_2 + in_3_0  # left to right, as numpy sums a row of 3
        share = in_3_0 / max(total, 1.0) if total > 0 else 0.0
        spin.append(rng.poisson(rate * (0.3 + 0.7 * share * brokerage)))
        n_spin += spin[-1]
    if n_spin:
        uni = np.repeat(np.arange(u.count), spin)
        rows = f.reserve(n_spin)
        # A spin-off carries a slice of its university's knowledge plus a specialisation of
        # its own: close to its parent, but not so close that they have nothing to learn.
        k = p["n_domains"]
        own = rng.dirichlet(np.full(k, 0.3), size=n_spin) * u.knowledge[uni].sum(axis=1,
                                                                              keepdims=True)
        know = 0.05 * (u.knowledge[uni] + own) * rng.lognormal(0.0, 0.3, (n_spin, 1))
        init_firms(f, rows, p, rng, size=np.full(n_spin, p["startup_size"]), origin=SPINOFF,
                   step=w.month, home=uni, knowledge=know)
        f.founder_university[rows] = uni  # a spin-off belongs to its university in any case
        room = incubator_room(w) * (p["incubation_months"] > 0)
        keep = within_capacity(uni.astype(np.int64), room, rng)
        f.incubated[np.arange(rows.start, rows.stop)[keep]] = True
        displace_incumbents(w, np.arange(rows.start, rows.stop), main_domain)
        w.count("startups_founded", n_spin)
        w.count("spinoffs", n_spin)
    w.count("firm_entries", n_spin)
