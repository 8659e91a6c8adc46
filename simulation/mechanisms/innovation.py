"""Mechanism 5, innovation: a monthly innovation hazard per firm; incremental and radical gains.

The hazard rises less than proportionally with firm size (elasticity
``innovation_size_elasticity``; Cohen & Klepper 1996, CIS shares of innovating firms by size
class) and with knowledge per employee (elasticity ``hazard_knowledge_elasticity``: knowledge
pays in innovation), and, additively, with absorptive capacity (Cohen & Levinthal 1990), active
university projects (with diminishing returns, log2(1 + projects)), 3.0 students' live-project
work on the firm's brokered projects, the share and skill of graduates employed, and digital
maturity. Most innovations are incremental (an exponential gain with a small mean); a share
are radical, with a Pareto-tailed gain so that innovation value is concentrated (Scherer &
Harhoff 2000). An innovation improves one product line, not the whole firm: its gain applies
to a share (product_line_employees / employees)^innovation_scope_elasticity of a firm larger
than one line, so one innovation cannot double a large firm's productivity. An innovation
deepens the firm's knowledge by the same relative gain (which productivity already reflects,
so knowledge pays for it once); each university it
works with deepens its own stock in the firm's direction by ``spillover_share`` of that relative
gain, divided by the university's project capacity (so that many partners cannot make its stock
explode). Patents are Bernoulli draws per innovation.

Innovation value (annualised rise in value added, MCU) is recorded for the concentration check.
"""

from __future__ import annotations

import numpy as np

from ..knowledge import profile
from ..world import World


def hazard(p: dict, absorptive: np.ndarray, projects: np.ndarray, live: np.ndarray,
           graduates: np.ndarray, digital: np.ndarray, employees: np.ndarray | None = None,
           knowledge: np.ndarray | None = None) -> np.ndarray:
    """Monthly innovation probability per firm, 1 - exp(-lambda).

    ``employees`` (default: the reference size) scale lambda by (employees / reference)^e;
    ``knowledge`` is knowledge per employee over ``knowledge_reference`` (default 1) and
    scales lambda by knowledge^e_k.
    """
    size = 1.0 if employees is None else (np.maximum(employees, 1)
                                          / p["innovation_reference_employees"])
    know = 1.0 if knowledge is None else np.maximum(knowledge, 0.0)
    lam = (p["innovation_hazard"] * size ** p["innovation_size_elasticity"]
           * know ** p["hazard_knowledge_elasticity"])
    lam = lam * (1.0 + p["hazard_absorptive"] * absorptive
                                    + p["hazard_project"] * np.log2(1.0 + projects)
                                    + p["hazard_live_project"] * live
                                    + p["hazard_graduates"] * graduates
                                    + p["hazard_digital"] * digital)
    return 1.0 - np.exp(-lam)


def gains_from_uniforms(u: np.ndarray, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """(relative productivity gains, radical flags) from uniforms ``u`` of shape (3, n).

    u[0] decides radical or incremental; incremental gains are exponential with mean
    ``incremental_gain`` (from u[1]); radical gains are Pareto with minimum
    ``radical_gain_scale`` and tail ``radical_tail`` (from u[2]); all capped.
    """
    radical = u[0] < p["radical_share"]
    incremental = -p["incremental_gain"] * np.log1p(-u[1])
    tail = p["radical_gain_scale"] * (1.0 - u[2]) ** (-1.0 / p["radical_tail"])
    gain = np.where(radical, tail, incremental)
    return np.minimum(gain, p["radical_gain_cap"]), radical


def line_share(employees: np.ndarray, p: dict) -> np.ndarray:
    """Share of a firm one innovation improves: (line / max(employees, line))^e, in (0, 1]."""
    line = p["product_line_employees"]
    return (line / np.maximum(np.asarray(employees, dtype=float), line)
            ) ** p["innovation_scope_elasticity"]


def apply(w: World) -> None:
    p, f, pr = w.p, w.firms, w.projects
    n = f.n
    alive = np.flatnonzero(f.alive[:n])
    act = pr.active_rows()
    projects = np.bincount(pr.firm[act], minlength=n)[alive]
    brok = act[pr.brokered[act]]
    fill = w.scratch.live_fill
    fill = fill if fill is not None else np.zeros(w.unis.count)
    live = np.bincount(pr.firm[brok], weights=fill[pr.university[brok]], minlength=n)[alive]
    emp = np.maximum(f.employees[alive], 1)
    # Summing every row and then picking is cheaper than gathering the (alive, K) block.
    intensity = f.knowledge[:n].sum(axis=1)[alive] / (emp * p["knowledge_reference"])
    prob = hazard(p, f.absorptive[alive], projects, live, f.graduate_term(alive),
                  f.digital[alive], employees=emp, knowledge=intensity)
    # Draws for every firm row (then indexed) keep a firm's luck the same across scenarios.
    hit = w.rng("innovation.hit").random(n)[alive] < prob
    firms = alive[hit]
    gain, radical = gains_from_uniforms(w.rng("innovation.gain").random((n, 3))[firms].T, p)
    gain = gain * line_share(f.employees[firms], p)  # one product line, not the whole firm
    value = gain * f.value_added(firms, p["graduate_premium"]) * 12.0
    f.productivity[firms] *= 1.0 + gain
    delta = f.knowledge[firms] * gain[:, None]
    f.knowledge[firms] += delta
    f.knowledge_paid[firms] *= 1.0 + gain  # the gain is in productivity already
    f.innovations[firms] += 1
    f.last_innovation[firms] = w.month
    patent_prob = np.where(radical, p["patent_share_radical"], p["patent_share_incremental"])
    patents = w.rng("innovation.patent").random(n)[firms] < patent_prob
    f.patents[firms] += patents

    # Spill to project partners: each partner university of an innovating firm.
    in_project = projects[hit] > 0
    if in_project.any():
        innov_row = np.full(n, -1)
        innov_row[firms] = np.arange(len(firms))
        act_rows = act[innov_row[pr.firm[act]] >= 0]
        src = innov_row[pr.firm[act_rows]]
        # A partner university deepens its own stock in the innovator's direction by a share
        # of the innovation's relative gain, each partner counting as one project of the
        # university's capacity (so many partners cannot make its stock explode).
        uni = pr.university[act_rows]
        capacity = np.maximum(w.unis.faculty[uni] * p["projects_per_faculty"], 1.0)
        spill = (p["spillover_share"] * gain[src] * w.unis.knowledge[uni].sum(axis=1)
                 / capacity)[:, None]
        np.add.at(w.unis.knowledge, uni, spill * profile(f.knowledge[firms][src]))

    w.count("innovations_incremental", int((~radical).sum()))
    w.count("innovations_radical", int(radical.sum()))
    w.count("patents", int(patents.sum()))
    w.count("innovation_value", float(value.sum()))
    if len(value):
        w.innovation_values.append(value)
    # Tally: industry always; university when the firm had an active project; government when
    # it received public money this month.
    gov = f.public_money[firms] > 0
    for u_ in (0, 1):
        for g_ in (0, 1):
            sel = (in_project == bool(u_)) & (gov == bool(g_))
            w.tally.add_counts(u_, 1, g_, int(sel.sum()))
