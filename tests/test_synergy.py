"""Leydesdorff's triple-helix transmission on distributions whose value is known by hand."""

import numpy as np
import pytest

from simulation.synergy import entropy, synergy_millibits, transmission


def cells_from(prob: dict[tuple[int, int, int], float]) -> np.ndarray:
    cells = np.zeros(8)
    for (u, i, g), q in prob.items():
        cells[4 * u + 2 * i + g] = q * 1000
    return cells


def test_entropy_of_uniform_and_certain():
    assert entropy(np.ones(8)) == pytest.approx(3.0)
    assert entropy(np.array([0, 5, 0])) == 0.0
    assert entropy(np.zeros(4)) == 0.0


def test_independent_helices_transmit_nothing():
    pu, pi, pg = np.array([0.3, 0.7]), np.array([0.6, 0.4]), np.array([0.1, 0.9])
    cells = np.einsum("a,b,c->abc", pu, pi, pg).ravel()
    assert transmission(cells) == pytest.approx(0.0, abs=1e-12)


def test_perfectly_aligned_helices_give_one_bit():
    # u = i = g: every marginal and pair entropy is 1 bit, the triple too: T = 3 - 3 + 1.
    assert transmission(cells_from({(0, 0, 0): 0.5, (1, 1, 1): 0.5})) == pytest.approx(1.0)


def test_exclusive_or_is_pure_synergy():
    # g = u XOR i with u, i fair coins: pairs are independent, the triple is not: T = -1 bit.
    cells = cells_from({(0, 0, 0): .25, (0, 1, 1): .25, (1, 0, 1): .25, (1, 1, 0): .25})
    assert transmission(cells) == pytest.approx(-1.0)
    assert synergy_millibits(cells) == pytest.approx(1000.0)


def test_no_outputs_no_synergy():
    assert transmission(np.zeros(8)) == 0.0
