"""The accounting kernels: value added is ``Firms.value_added``'s, R&D subsidies follow the
documented sharing rule and its fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import EcosystemModel, kernels

SMALL = dict(n_universities=2, n_firms=150, intake_per_university=150, horizon_months=14,
             entry_rate=0.02)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_living_value_added_is_the_value_added_formula(seed: int) -> None:
    model = EcosystemModel(rng=seed, **SMALL)
    for _ in range(14):
        model.step()
        f, premium = model.world.firms, model.world.p["graduate_premium"]
        rows, va, total = kernels.living_value_added(
            f.alive[: f.n], f.productivity, f.employees, f.diverted, f.grad_skill,
            f.prior_grad_skill, premium)
        np.testing.assert_array_equal(rows, np.flatnonzero(f.alive[: f.n]))
        np.testing.assert_array_equal(va, f.value_added(rows, premium))
        assert total == float(va.sum())  # numpy's pairwise sum, to the last bit
    assert (~f.alive[: f.n]).any() and (f.diverted[: f.n] > 0).any()  # both branches seen


def _share(rows, va, rd, threshold, paid=12.0, n=None):
    n = len(rd) if n is None else n
    subsidy, public = np.full(len(rd) + 2, 7.0), np.full(len(rd) + 2, 9.0)
    kernels.share_rd_subsidies(np.asarray(rows, dtype=np.int64), np.asarray(va, dtype=float),
                               np.asarray(rd, dtype=float), threshold, paid, subsidy, public, n)
    return subsidy, public


def test_subsidies_follow_own_rd_among_firms_above_the_threshold() -> None:
    rd = np.array([0.05, 0.01, 0.2, 0.0, 0.1])
    # Row 1 is below the threshold, row 3 is not alive (not in rows).
    subsidy, public = _share([0, 1, 2, 4], [10.0, 50.0, 1.0, 4.0], rd, 0.02)
    weight = np.array([0.05 * 10.0, 0.0, 0.2 * 1.0, 0.0, 0.1 * 4.0])
    np.testing.assert_allclose(subsidy[:5], 12.0 * weight / weight.sum(), rtol=1e-15)
    np.testing.assert_array_equal(public[:5], subsidy[:5])
    assert subsidy[5:].tolist() == [7.0, 7.0] and public[5:].tolist() == [9.0, 9.0]


def test_with_no_firm_above_the_threshold_every_living_firm_qualifies() -> None:
    subsidy, _ = _share([0, 1, 2], [10.0, 20.0, 30.0], [0.01, 0.02, 0.0], 0.5)
    weight = np.array([0.1, 0.4, 0.0])
    np.testing.assert_allclose(subsidy[:3], 12.0 * weight / weight.sum(), rtol=1e-15)


def test_without_rd_by_value_added_and_without_value_added_evenly() -> None:
    subsidy, _ = _share([0, 2], [1.0, 3.0], [0.0, 0.0, 0.0], 0.0)
    np.testing.assert_allclose(subsidy[:3], [3.0, 0.0, 9.0], rtol=1e-15)
    subsidy, _ = _share([0, 1, 2], [0.0, 0.0, 0.0], [0.3, 0.0, 0.2], 0.0)
    np.testing.assert_allclose(subsidy[:3], [4.0, 4.0, 4.0], rtol=1e-15)


def test_no_living_firm_pays_nothing_and_clears_last_month() -> None:
    subsidy, public = _share([], [], [0.1, 0.2], 0.0, paid=0.0)
    assert subsidy[:2].tolist() == [0.0, 0.0] and public[:2].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_university_grants_split_block_by_intake_and_research_by_reputation(seed: int) -> None:
    # The documented rule in numpy, to the last bit: the kernel's arithmetic is in its order.
    rng = np.random.default_rng(seed)
    for n_unis in (1, 3, 8, 11):
        intake = rng.integers(1, 5000, n_unis).astype(float)
        reputation = rng.uniform(-0.5, 2.0, n_unis)  # a negative one counts as 0
        block, research = rng.uniform(0.0, 50.0, 2)
        funding, grant_share = kernels.university_grants(intake, reputation, block, research)
        rep = np.maximum(reputation, 0.0)
        research_u = research * (rep / rep.sum() if rep.sum() > 0 else 1.0 / n_unis)
        expected = block * intake / intake.sum() + research_u
        np.testing.assert_array_equal(funding, expected)
        np.testing.assert_array_equal(grant_share, research_u / expected)


def test_university_grants_go_evenly_without_reputation_and_share_nothing_of_nothing() -> None:
    intake = np.array([100.0, 300.0, 600.0])
    funding, grant_share = kernels.university_grants(intake, np.array([0.0, -1.0, 0.0]),
                                                     10.0, 6.0)
    np.testing.assert_allclose(funding, [1.0 + 2.0, 3.0 + 2.0, 6.0 + 2.0], rtol=1e-15)
    np.testing.assert_allclose(grant_share, [2 / 3, 2 / 5, 2 / 8], rtol=1e-15)
    funding, grant_share = kernels.university_grants(intake, np.ones(3), 0.0, 0.0)
    assert funding.tolist() == [0.0, 0.0, 0.0] and grant_share.tolist() == [0.0, 0.0, 0.0]
