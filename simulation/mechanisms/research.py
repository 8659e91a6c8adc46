"""Mechanism 3, research: university knowledge and publications grow with faculty and funding.

Output per faculty member scales with research funding per faculty member as
((1 + f / f_ref) / 2) ** elasticity, so it equals the base rate at the reference funding and
stays positive with none (faculty are paid to research from teaching income too); diminishing
returns to money follow Adams & Griliches (1998). Knowledge grows along the university's own
profile; publications are Poisson draws, raised by the share of faculty working on industry
projects. Firm problems flow back into university knowledge through the projects themselves
(collaboration.py). University knowledge depreciates here, firm knowledge in firm_dynamics.py.

Joint outputs for the triple-helix tally: a publication involves industry when it comes out of
project work and government when competitive research grants paid for it.
"""

from __future__ import annotations

import numpy as np

from ..knowledge import depreciate, profile
from ..world import World


def output_multiplier(funding: np.ndarray, faculty: np.ndarray, reference: float,
                      elasticity: float) -> np.ndarray:
    """Research output per faculty relative to its value at the reference funding."""
    per_faculty = funding / np.maximum(faculty, 1e-12)
    return ((1.0 + per_faculty / reference) / 2.0) ** elasticity


def reference_funding(w: World) -> float:
    """Funding per faculty per month that block and research grants give at the default split."""
    p = w.p
    share = p["budget_share_block_grants"] + p["budget_share_research_grants"]
    total_faculty = w.unis.faculty.sum()
    return max(p["gov_budget"] * max(share, 0.05) / 12.0 / max(total_faculty, 1.0), 1e-9)


def apply(w: World) -> None:
    p, u = w.p, w.unis
    rng = w.rng("research")
    mult = output_multiplier(u.funding, u.faculty, w.ref_funding, p["funding_elasticity"])
    depreciate(u.knowledge, p["knowledge_depreciation"])
    gain = p["university_research_rate"] * u.faculty * mult
    u.knowledge += gain[:, None] * profile(u.knowledge)

    act = w.projects.active_rows()
    projects_u = np.bincount(w.projects.university[act], minlength=u.count)
    capacity = np.maximum(u.faculty * p["projects_per_faculty"], 1e-9)
    joint_share = np.minimum(1.0, projects_u / capacity)
    pubs = rng.poisson(p["publications_per_faculty"] * u.faculty * mult * (1.0 + joint_share))
    u.publications += pubs
    w.count("publications", float(pubs.sum()))
    u.reputation = 0.9 * u.reputation + 0.1 * pubs / np.maximum(
        u.faculty * p["publications_per_faculty"], 1e-9)

    # Tally: industry present for project-based papers, government for grant-funded ones.
    grant_share = w.research_grant_share
    joint = rng.binomial(pubs, joint_share)
    for n_pubs, with_i in ((joint, 1), (pubs - joint, 0)):
        funded = rng.binomial(n_pubs, grant_share)
        w.tally.add_counts(1, with_i, 1, int(funded.sum()))
        w.tally.add_counts(1, with_i, 0, int((n_pubs - funded).sum()))
