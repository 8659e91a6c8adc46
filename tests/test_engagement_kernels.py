"""Industry engagement's kernels against the definitions, counted row by row: the start-ups
in incubation, the faculty FTE that projects, brokerage, incubation and capstones take, and
the research and teaching time that leaves (against research.time_left)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from simulation import EcosystemModel, kernels
from simulation.mechanisms.research import engaged_fte, time_left

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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_staff_time_left_is_research_time_left(seed: int) -> None:
    # The kernel is time_left's formula to the last bit: the shares left, clipped to [0, 1],
    # from no engagement through engagement beyond the faculty's whole research time.
    rng = np.random.default_rng(seed)
    for n_unis in (1, 3, 6):
        faculty = rng.uniform(0.0, 900.0, n_unis)
        faculty[rng.random(n_unis) < 0.2] = 0.0
        engaged = rng.uniform(0.0, 400.0, n_unis) * (rng.random(n_unis) < 0.8)
        p = {"engagement_from_teaching": rng.uniform(0.0, 1.0),
             "faculty_research_share": rng.uniform(0.05, 0.6),
             "faculty_teaching_share": rng.uniform(0.05, 0.6)}
        got = kernels.staff_time_left(engaged, faculty, p["engagement_from_teaching"],
                                      p["faculty_research_share"], p["faculty_teaching_share"])
        for kernel_side, formula_side in zip(got, time_left(engaged, faculty, p), strict=True):
            np.testing.assert_array_equal(kernel_side, formula_side)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_months_incubating_firms_found_by_policy_are_those_at_teaching(seed: int,
                                                                          monkeypatch) -> None:
    # Faculty time reuses the incubating rows the incubator payments found at the start of the
    # month: nothing in between (the timeline's levers, the release, teaching's September)
    # founds, closes or incubates a firm, so they are the rows the state gives at teaching.
    from simulation.mechanisms import teaching

    real, checked = teaching.faculty_time, []

    def faculty_time(w) -> None:
        f = w.firms
        now = kernels.in_incubation(f.alive[: f.n], f.incubated, f.birth_step, w.month,
                                    w.p["incubation_months"])
        assert w.scratch.incubating is not None  # found by the policy step
        np.testing.assert_array_equal(w.scratch.incubating, now)
        checked.append(len(now))
        real(w)

    monkeypatch.setattr(teaching, "faculty_time", faculty_time)
    EcosystemModel(rng=seed, **SMALL).run()
    assert len(checked) == SMALL["horizon_months"] and max(checked) > 0
