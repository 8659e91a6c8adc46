"""The research kernels against research.py's formula functions and definitions: the project
share of capacity, the inverted U of publication_multiplier, the Poisson means and the booking
of publications and reputation, to the last bit (the Poisson draws take these means)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import kernels
from simulation.knowledge import depreciate, profile
from simulation.mechanisms.research import (
    output_multiplier,
    publication_draws,
    publication_multiplier,
)


def random_case(rng, n_unis):
    n_rows = int(rng.integers(0, 400))
    active = rng.random(n_rows) < 0.6
    university = rng.integers(0, n_unis, n_rows).astype(np.int16)
    faculty = rng.uniform(0.0, 900.0, n_unis)
    faculty[rng.random(n_unis) < 0.2] = 0.0  # no faculty: the capacity's floor
    mult = rng.uniform(0.0, 2.0, n_unis)
    return active, university, faculty, mult


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_publication_rates_are_the_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n_unis in (1, 3, 7):
        active, university, faculty, mult = random_case(rng, n_unis)
        per_faculty, gain, optimum, pubs_rate = rng.uniform(0.001, 0.05), rng.uniform(
            -3.0, 3.0), rng.uniform(0.05, 1.0), rng.uniform(0.01, 0.2)
        rates, share = kernels.publication_rates(active, university, faculty, mult,
                                                 per_faculty, gain, optimum, pubs_rate)
        projects = np.bincount(university[active], minlength=n_unis)
        expected_share = np.minimum(1.0, projects / np.maximum(faculty * per_faculty, 1e-9))
        np.testing.assert_array_equal(share, expected_share)
        np.testing.assert_array_equal(
            rates, pubs_rate * faculty * mult * publication_multiplier(share, gain, optimum))


def test_a_strong_negative_gain_stops_publications_at_zero() -> None:
    # At the optimum share a gain below -1 would make the multiplier negative: it stops at 0
    # (a Poisson mean).
    active = np.ones(4, dtype=bool)
    university = np.array([0, 0, 0, 1], dtype=np.int16)
    rates, share = kernels.publication_rates(active, university, np.array([100.0, 100.0]),
                                             np.ones(2), 0.01, -5.0, 1.0, 0.1)
    assert share.tolist() == [1.0, 1.0]  # 3 and 1 projects against a capacity of 1
    assert rates.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_book_publications_adds_them_rolls_reputation_and_tallies_them(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_unis = 5
    publications = rng.integers(0, 500, n_unis).astype(float)
    reputation = rng.uniform(0.0, 2.0, n_unis)
    pubs = rng.poisson(40.0, n_unis)
    joint = rng.binomial(pubs, 0.4)
    joint_funded = rng.binomial(joint, 0.3)
    solo_funded = rng.binomial(pubs - joint, 0.3)
    faculty = rng.uniform(0.0, 900.0, n_unis)
    faculty[0] = 0.0
    rate = rng.uniform(0.01, 0.2)
    cells = rng.integers(0, 50, 8)
    before, cells_before = publications.copy(), cells.copy()
    new_reputation, total = kernels.book_publications(
        publications, reputation, pubs, joint, joint_funded, solo_funded, faculty, rate, cells)
    np.testing.assert_array_equal(publications, before + pubs)
    np.testing.assert_array_equal(
        new_reputation, 0.9 * reputation + 0.1 * pubs / np.maximum(faculty * rate, 1e-9))
    assert total == pubs.sum()
    # Cells 4u + 2i + g: every paper has a university; the joint ones industry, the funded
    # ones government.
    added = cells - cells_before
    assert added[:4].tolist() == [0, 0, 0, 0]
    assert added[7] == joint_funded.sum()
    assert added[6] == joint.sum() - joint_funded.sum()
    assert added[5] == solo_funded.sum()
    assert added[4] == (pubs - joint - solo_funded).sum()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_funding_base_is_output_multipliers_base(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n_unis in (1, 3, 7):
        funding = rng.uniform(0.0, 20.0, n_unis)
        faculty = rng.uniform(0.0, 900.0, n_unis)
        faculty[rng.random(n_unis) < 0.2] = 0.0  # no faculty: the floor of the division
        reference, elasticity = rng.uniform(1e-3, 0.1), rng.uniform(0.0, 2.0)
        np.testing.assert_array_equal(
            kernels.funding_base(funding, faculty, reference) ** elasticity,
            output_multiplier(funding, faculty, reference, elasticity))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_research_output_is_obsolescence_then_growth_along_the_profile(seed: int) -> None:
    # knowledge.depreciate, then growth by rate x faculty x multiplier along knowledge.profile,
    # to the last bit; and the rates are publication_rates' at that multiplier.
    rng = np.random.default_rng(seed)
    for n_unis, n_domains in ((1, 5), (3, 12), (4, 20)):
        active, university, faculty, funding_mult = random_case(rng, n_unis)
        knowledge = rng.uniform(0.0, 30.0, (n_unis, n_domains))
        knowledge[0, : n_domains // 2] = 0.0
        time_left = rng.uniform(0.0, 1.0, n_unis)
        depreciation, rate = rng.uniform(0.0, 0.05), rng.uniform(0.0, 0.01)
        args = (rng.uniform(0.001, 0.05), rng.uniform(-3.0, 3.0), rng.uniform(0.05, 1.0),
                rng.uniform(0.01, 0.2))
        for research_time in (time_left, np.zeros(0)):
            mult = funding_mult * (research_time if len(research_time) else 1.0)
            expected = knowledge.copy()
            depreciate(expected, depreciation)
            expected += (rate * faculty * mult)[:, None] * profile(expected)
            got = knowledge.copy()
            rates, share = kernels.research_output(got, faculty, funding_mult, research_time,
                                                   depreciation, rate, active, university,
                                                   *args)
            np.testing.assert_array_equal(got, expected)
            want_rates, want_share = kernels.publication_rates(active, university, faculty,
                                                               mult, *args)
            np.testing.assert_array_equal(rates, want_rates)
            np.testing.assert_array_equal(share, want_share)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n_unis", [1, 3, 20])
def test_publication_draws_are_numpys_array_draws(seed: int, n_unis: int) -> None:
    # The replaced draws were numpy's four array calls in this order: the same numbers, value
    # for value, and the generator left where they leave it. Means from none to the
    # transformed-rejection range (above 10), shares from 0 to 1 (binomial by inversion and
    # by BTPE, and p above one half, which numpy flips).
    cases = np.random.default_rng(seed)
    for _ in range(20):
        rates = cases.choice([0.0, 0.4, 3.0, 9.99, 10.0, 60.0, 900.0], n_unis) * cases.uniform(
            0.5, 1.5, n_unis)
        joint_share = cases.choice([0.0, 0.05, 0.3, 0.5, 0.8, 1.0], n_unis)
        grant_share = cases.uniform(0.0, 1.0, n_unis)
        grant_share[cases.random(n_unis) < 0.2] = 0.0
        stream = int(cases.integers(2**32))
        got_rng, want_rng = np.random.default_rng(stream), np.random.default_rng(stream)
        got = publication_draws(got_rng, rates, joint_share, grant_share)
        pubs = want_rng.poisson(rates)
        joint = want_rng.binomial(pubs, joint_share)
        np.testing.assert_array_equal(got, [pubs, joint, want_rng.binomial(joint, grant_share),
                                            want_rng.binomial(pubs - joint, grant_share)])
        assert got.dtype == np.int64 and got.shape == (4, n_unis)
        assert got_rng.bit_generator.state == want_rng.bit_generator.state
        assert got_rng.random() == want_rng.random()
