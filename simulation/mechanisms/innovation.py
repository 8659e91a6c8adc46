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

from operator import itemgetter

import numpy as np

from .. import kernels
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


# The parameters of the innovation kernel (simulation/kernels/innovation.py), in its order.
KERNEL_PARAMETERS = (
    "radical_share", "incremental_gain", "radical_gain_scale", "radical_tail",
    "radical_gain_cap", "product_line_employees", "innovation_scope_elasticity",
    "patent_share_radical", "patent_share_incremental", "spillover_share",
    "projects_per_faculty", "graduate_premium",
)
# The parameters of ``hazard`` in the order of its kernel twin
# (kernels.innovation.innovation_probability).
HAZARD_PARAMETERS = (
    "innovation_hazard", "innovation_reference_employees", "innovation_size_elasticity",
    "hazard_knowledge_elasticity", "knowledge_reference", "hazard_absorptive",
    "hazard_project", "hazard_live_project", "hazard_graduates", "hazard_digital",
)

# Both read in one C call each (float64 conversion as float() does it: numbers and flags).
_kernel_parameters = itemgetter(*KERNEL_PARAMETERS)
_hazard_parameters = itemgetter(*HAZARD_PARAMETERS)


def apply(w: World) -> None:
    p, f, pr = w.p, w.firms, w.projects
    n = f.n
    fill = w.scratch.live_fill
    fill = fill if fill is not None else np.zeros(w.unis.count)
    # Draws for every firm row keep a firm's luck the same across scenarios. Only the
    # innovators (a few in a thousand firms a month) read their gain and patent uniforms:
    # the kernel computes those rows' numbers from the streams' start states
    # (rng.Streams.start_state), the same numbers as random((n, 3)) and random(n) give them.
    u_hit = w.rng("innovation.hit").random(n)
    gain_start = w.rng_start("innovation.gain")
    patent_start = w.rng_start("innovation.patent")
    # One pass over the firms (simulation/kernels/innovation.py): each living firm's hazard
    # (its active projects, live-project work, knowledge per employee), who innovates,
    # gains_from_uniforms x line_share (one product line, not the whole firm), productivity and
    # knowledge deepened by the same relative gain, patents, the spill to partner universities.
    m = pr.n
    values, counts, tally = kernels.innovate(
        f.alive[:n], f.employees, f.knowledge, f.grad_skill, f.prior_grad_skill,
        f.productivity, f.diverted, f.knowledge_paid, f.innovations, f.last_innovation,
        f.patents, f.public_money, f.absorptive, f.digital, pr.firm[:m], pr.university[:m],
        pr.active[:m], pr.brokered[:m], fill, w.unis.knowledge, w.unis.faculty, u_hit,
        gain_start, patent_start, w.month, np.array(_kernel_parameters(p), dtype=float),
        np.array(_hazard_parameters(p), dtype=float))
    w.count("innovations_incremental", int(counts[0]))
    w.count("innovations_radical", int(counts[1]))
    w.count("patents", int(counts[2]))
    w.count("innovation_value", float(values.sum()))
    if len(values):
        w.innovation_values.append(values)
    # Tally: industry always; university when the firm had an active project; government when
    # it received public money this month.
    for u_ in (0, 1):
        for g_ in (0, 1):
            w.tally.add_counts(u_, 1, g_, int(tally[2 * u_ + g_]))
