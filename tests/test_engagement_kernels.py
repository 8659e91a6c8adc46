"""Industry engagement's kernels against the definitions, counted row by row: the start-ups
in incubation and the faculty FTE that projects, brokerage, incubation and capstones take."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from simulation import EcosystemModel, kernels
from simulation.mechanisms.research import engaged_fte

# Incubation, brokerage and capstones all happen in a few months of this region.
SMALL = dict(n_universities=3, n_firms=200, intake_per_university=200, horizon_months=30,
             share_edu_2_0=0.3, share_edu_3_0=0.4, entry_rate=0.02, incubation_months=14,
             project_staff_fte=0.3, broker_staff_fte=0.7, incubator_staff_fte=1.1,
             capstone_staff_fte=0.2)


def incubating_rows(w) -> list[int]:
    f = w.firms
    return [i for i in range(f.n) if f.alive[i] and f.incubated[i]
            and w.month - int(f.birth_step[i]) <= w.p["incubation_months"]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engaged_fte_counts_every_kind_of_engagement_at_its_university(seed: int) -> None:
    model = EcosystemModel(rng=seed, **SMALL)
    seen = Counter()
    for _ in range(30):
        model.step()
        w = model.world
        p, pr, f, u = w.p, w.projects, w.firms, w.unis
        rows = incubating_rows(w)
        assert kernels.in_incubation(f.alive[: f.n], f.incubated, f.birth_step, w.month,
                                     p["incubation_months"]).tolist() == rows
        act = [r for r in range(pr.n) if pr.active[r]]
        projects = Counter(int(pr.university[r]) for r in act)
        brokered = Counter(int(pr.university[r]) for r in act if pr.brokered[r])
        incubated = Counter(int(f.founder_university[r]) for r in rows)
        capstones = Counter(int(x) for x in u.capstone_uni)
        expected = [p["project_staff_fte"] * projects[i] + p["broker_staff_fte"] * brokered[i]
                    + p["incubator_staff_fte"] * incubated[i]
                    + p["capstone_staff_fte"] * capstones[i] for i in range(u.count)]
        np.testing.assert_allclose(engaged_fte(w), expected, rtol=1e-15, atol=0)
        seen.update(projects=len(act), brokered=sum(brokered.values()), incubated=len(rows),
                    capstones=len(u.capstone_uni))
    assert min(seen.values()) > 0, seen  # every term was exercised
