"""The indicator kernels against independent definitions: the Gini coefficient as the mean
absolute difference, the network's components by a breadth-first search over the bipartite
graph of organisations, the triple-helix transmission against synergy.transmission to the
last bit."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from simulation import kernels
from simulation.indicators import gini
from simulation.kernels.indicators import _python_sum
from simulation.synergy import transmission


def mean_difference_gini(x: np.ndarray) -> float:
    """G = sum_ij |x_i - x_j| / (2 n sum x): the definition, not the rank formula."""
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2.0 * len(x) * x.sum()))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gini_is_the_mean_absolute_difference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in (1, 2, 3, 10, 57, 400):
        x = rng.pareto(1.5, n) * rng.integers(1, 5, n)
        x[rng.random(n) < 0.2] = 0.0
        assert gini(x) == pytest.approx(mean_difference_gini(x), rel=1e-12, abs=1e-15)
        # The kernel takes the values sorted; the order they come in does not matter.
        assert kernels.gini_of_sorted(np.sort(x)) == gini(x) == gini(rng.permutation(x))


def test_gini_of_nothing_and_of_zeros_is_zero() -> None:
    assert gini(np.zeros(0)) == 0.0
    assert gini(np.zeros(5)) == 0.0
    assert gini(np.array([0.0, 0.0, 4.0])) == pytest.approx(2.0 / 3.0)


def component_sizes(edges: set[tuple[tuple, tuple]]) -> list[int]:
    """Sizes of the connected components of an undirected graph, by breadth-first search."""
    neighbours: dict[tuple, set] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    seen: set = set()
    sizes = []
    for start in neighbours:
        if start in seen:
            continue
        seen.add(start)
        queue, size = [start], 0
        while queue:
            node = queue.pop()
            size += 1
            for other in neighbours[node] - seen:
                seen.add(other)
                queue.append(other)
        sizes.append(size)
    return sizes


def expected_network(active, firm, university, brokered, n_alive, n_unis):
    act = np.flatnonzero(active)
    pairs = {(int(firm[r]), int(university[r])) for r in act}
    sizes = component_sizes({(("firm", f), ("uni", u)) for f, u in pairs})
    return [len(act), int(brokered[act].sum()), len({f for f, _ in pairs}),
            len(pairs) / max(n_alive * n_unis, 1),
            max(sizes) / sum(sizes) if sizes else 0.0]


def random_projects(rng, n_rows, n_firms, n_unis):
    return (rng.random(n_rows) < 0.7, rng.integers(0, n_firms, n_rows),
            rng.integers(0, n_unis, n_rows).astype(np.int16), rng.random(n_rows) < 0.3)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_project_network_counts_and_components_match_a_graph_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n_rows, n_firms, n_unis in itertools.product((0, 1, 5, 30, 200), (1, 4, 50),
                                                     (1, 2, 3, 7, 20)):
        active, firm, uni, brokered = random_projects(rng, n_rows, n_firms, n_unis)
        got = kernels.project_network(active, firm, uni, brokered, n_firms + 3, n_unis)
        assert got.tolist() == pytest.approx(
            expected_network(active, firm, uni, brokered, n_firms + 3, n_unis), rel=1e-15)


def test_project_network_of_two_islands_joined_by_one_firm() -> None:
    # Firm 0 works with universities 0 and 1, firm 1 with 1, firm 2 with 2 (twice), firm 3
    # with 3 (an ended project does not count).
    firm = np.array([0, 0, 1, 2, 2, 3])
    uni = np.array([0, 1, 1, 2, 2, 3], dtype=np.int16)
    active = np.array([True, True, True, True, True, False])
    brokered = np.array([False, True, False, False, True, True])
    got = kernels.project_network(active, firm, uni, brokered, 10, 4).tolist()
    # Components {f0, f1, u0, u1} and {f2, u2}: 4 of 6 organisations; 4 distinct pairs.
    assert got == [5.0, 2.0, 3.0, 4 / 40, 4 / 6]


def test_project_network_of_one_firm_and_one_university_is_complete() -> None:
    # The smallest region: its one possible pair is linked, so density is 1 and the one
    # component holds both organisations, however many projects the pair runs.
    for n_projects in (1, 2, 5):
        active = np.ones(n_projects, dtype=np.bool_)
        firm = np.zeros(n_projects, dtype=np.int64)
        uni = np.zeros(n_projects, dtype=np.int16)
        brokered = np.zeros(n_projects, dtype=np.bool_)
        got = kernels.project_network(active, firm, uni, brokered, 1, 1).tolist()
        assert got == [float(n_projects), 0.0, 1.0, 1.0, 1.0]


def same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_transmission_kernel_is_synergy_transmission_to_the_last_bit(seed: int) -> None:
    # Small and large counts, empty cells and single non-empty ones (T cancels to 0 there).
    rng = np.random.default_rng(seed)
    for k in range(3000):
        high = (3, 50, 10**6, 10**12)[k % 4]
        cells = rng.integers(0, high, 8) * (rng.random(8) < rng.uniform(0.2, 1.0))
        assert same_float(kernels.transmission_bits(cells), transmission(cells)), cells


def test_transmission_kernel_without_outputs_or_with_one_cell_is_zero() -> None:
    assert kernels.transmission_bits(np.zeros(8, dtype=np.int64)) == 0.0
    for cell in range(8):
        cells = np.zeros(8, dtype=np.int64)
        cells[cell] = 17
        assert kernels.transmission_bits(cells) == transmission(cells) == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_python_sum_is_pythons_compensated_sum(seed: int) -> None:
    # Values of every magnitude and sign, negative zeros among them: the same float as sum().
    rng = np.random.default_rng(seed)
    for k in range(5000):
        n = int(rng.integers(0, 12))
        x = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, n)
        x[rng.random(n) < 0.2] = -0.0
        if k % 9 == 0:
            x[:] = -0.0
        assert same_float(_python_sum(x, n), sum(x.tolist())), x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_totals_are_numpys_sums_to_the_last_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n_unis, n_domains in ((1, 5), (3, 12), (9, 20), (100, 12)):
        enrolled = rng.integers(0, 5000, (n_unis, 3)).astype(float)
        knowledge = rng.uniform(0.0, 50.0, (n_unis, n_domains)) ** 2
        publications = rng.integers(0, 9000, n_unis).astype(float)
        spent_month, balance, spent = rng.uniform(0.0, 30.0, (3, 8)) ** 3
        balance[rng.random(8) < 0.3] = 0.0
        got = kernels.small_totals(enrolled, knowledge, publications, spent_month, balance,
                                   spent).tolist()
        want = [*enrolled.sum(axis=0).tolist(), float(knowledge.sum(axis=1).mean()),
                float(publications.sum()), float(spent_month.sum()), float(balance.sum()),
                float(spent.sum())]
        assert all(same_float(a, b) for a, b in zip(got, want, strict=True)), (got, want)
    # Nothing spent: numpy's sum is 0.0, not the -0.0 of a pairwise sum of negative zeros.
    zeros = -np.zeros(8)
    got = kernels.small_totals(np.zeros((2, 3)), np.ones((2, 4)), np.zeros(2), zeros, zeros,
                               zeros).tolist()
    assert all(same_float(a, b) for a, b in zip(got[5:], [0.0, 0.0, 0.0], strict=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorted_values_are_numpys_sorted_values(seed: int) -> None:
    # Every digit of the bits matters: values of many magnitudes and both signs, zeros of
    # both signs, repeats, and sizes from none to several thousand.
    rng = np.random.default_rng(seed)
    for k in range(300):
        n = int(rng.integers(0, 4000)) if k % 10 else int(rng.integers(0, 4))
        x = rng.pareto(1.3, n) * 10.0 ** rng.integers(-30, 30, n)
        x[rng.random(n) < 0.05] = 0.0
        if k % 3 == 0:
            x = -x
        elif k % 3 == 1 and n:
            x = x - np.median(x)  # both signs
        if k % 5 == 0:
            x[rng.random(n) < 0.1] = -0.0
        if k % 7 == 0 and n:
            x = np.repeat(x[: max(n // 50, 1)], 50)
        if k % 11 == 0:
            # Values that share their top 32 bits: sorted by the low ones too (the insertion
            # sort, and past its budget the passes over every digit).
            x = 1.0 + rng.random(n) * 10.0 ** -float(rng.integers(7, 15))
        np.testing.assert_array_equal(kernels.sorted_values(x), np.sort(x))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorted_values_of_a_metro_region_are_numpys_sorted_values(seed: int) -> None:
    # More than 20,000 values take the 11-bit passes: value added's spread, values that share
    # the top bits of their spread (the insertion sort finishes them), repeats, near-equal
    # values that exhaust the insertion's budget (the passes over every digit), both signs.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20_001, 150_000))
    for x in (rng.lognormal(0.0, 2.0, n),
              np.repeat(rng.lognormal(0.0, 1.0, n // 100 + 1), 100)[:n],
              1.0 + rng.random(n) * 1e-9,
              rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n),
              np.concatenate((rng.lognormal(0.0, 1.0, n), [0.0, -0.0, 1e300, 5e-324]))):
        np.testing.assert_array_equal(kernels.sorted_values(x), np.sort(x))
        assert kernels.gini_of_values(np.abs(x)) == kernels.gini_of_sorted(np.sort(np.abs(x)))


def _running_sum(values) -> float:
    # Python floats added one by one from 0.0, in the order given.
    total = 0.0
    for v in values:
        total += float(v)
    return total


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_firm_totals_are_the_living_rows_sums_in_row_order(seed: int) -> None:
    # A region with exits (dead rows among the living) and start-ups; every total is the
    # running sum of its column in row order, the knowledge row by row, domain by domain.
    from simulation import EcosystemModel
    from simulation.indicators import STARTUP_ORIGINS

    model = EcosystemModel(rng=seed, n_universities=2, n_firms=200, intake_per_university=150,
                           horizon_months=24, entry_rate=0.03, platform_on=True)
    for month in range(24):
        model.step()
        if month % 6:
            continue
        f = model.world.firms
        n = f.n
        alive = f.alive[:n]
        got = kernels.firm_totals(alive, f.employees, f.knowledge, f.digital, f.absorptive,
                                  f.platform_member, f.origin, f.grad_employees, f.grad_skill,
                                  STARTUP_ORIGINS).tolist()
        rows = np.flatnonzero(alive)
        expected = [float(len(rows)), _running_sum(f.employees[rows]),
                    _running_sum(f.knowledge[rows].ravel()), _running_sum(f.digital[rows]),
                    _running_sum(f.absorptive[rows]), _running_sum(f.platform_member[rows]),
                    float(np.isin(f.origin[rows], STARTUP_ORIGINS).sum()),
                    _running_sum(f.grad_employees[:n]), _running_sum(f.grad_skill[:n])]
        assert got == expected
    assert (~alive).any() and np.isin(f.origin[rows], STARTUP_ORIGINS).any()
    assert f.platform_member[rows].any() and (f.grad_employees[rows] > 0).any()
