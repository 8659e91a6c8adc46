"""The triple-helix indicator on more cases worked out by hand (found by mutation testing)."""

import math

import numpy as np
import pytest

from simulation.synergy import entropy, synergy_millibits, transmission


def test_entropy_of_shares_that_sum_to_one_or_less():
    # Counts may be shares: what matters is their proportions, not that they are >= 1.
    assert entropy(np.array([0.5, 0.5])) == pytest.approx(1.0)
    assert entropy(np.array([0.25, 0.25])) == pytest.approx(1.0)
    assert entropy(np.array([0.1, 0.3, 0.6])) == pytest.approx(
        -(0.1 * math.log2(0.1) + 0.3 * math.log2(0.3) + 0.6 * math.log2(0.6)))
    assert entropy(np.array([[1, 1], [1, 1]])) == pytest.approx(2.0)  # any shape


def test_independent_helices_give_exactly_zero():
    """Round-off of the seven entropies is cleared: independence reads as 0, not 1e-16."""
    # Without the clearing these give +-4.4e-16 bits (checked when the test was written).
    for pu, pi, pg in (((0.3, 0.7), (0.6, 0.4), (0.1, 0.9)),
                       ((0.2, 0.8), (0.35, 0.65), (0.45, 0.55)),
                       ((1 / 3, 2 / 3), (1 / 7, 6 / 7), (0.3, 0.7))):
        cells = np.einsum("a,b,c->abc", pu, pi, pg).ravel()
        assert transmission(cells) == 0.0
        assert synergy_millibits(cells * 13) == 0.0


def test_two_aligned_helices_and_an_independent_third():
    # u = i (a fair coin), g independent with P(g) = 0.25: T = H(u) + H(i) + H(g) - H(ui)
    # - H(ug) - H(ig) + H(uig) = 1 + 1 + h - 1 - (1 + h) - (1 + h) + (1 + h) = 0.
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    cells = np.zeros(8)
    for u in (0, 1):
        for g, pg in ((0, 0.75), (1, 0.25)):
            cells[4 * u + 2 * u + g] = 0.5 * pg * 400
    assert h > 0
    assert transmission(cells) == pytest.approx(0.0, abs=1e-12)


def test_an_asymmetric_case_by_hand():
    # Outputs: 2 in (u,i,g) = (1,1,1), 1 in (1,0,0), 1 in (0,1,0): N = 4.
    cells = np.zeros(8)
    cells[7], cells[4], cells[2] = 2, 1, 1
    h = lambda *p: -sum(q * math.log2(q) for q in p if q > 0)  # noqa: E731
    h_u, h_i, h_g = h(.75, .25), h(.75, .25), h(.5, .5)
    h_ui = h(.5, .25, .25)
    h_ug = h(.5, .25, .25)  # (1,1): 2, (1,0): 1, (0,0): 1
    h_ig = h(.5, .25, .25)
    h_uig = h(.5, .25, .25)
    want = h_u + h_i + h_g - h_ui - h_ug - h_ig + h_uig
    assert transmission(cells) == pytest.approx(want)
    assert synergy_millibits(cells) == pytest.approx(-1000 * want)
    # Swapping the roles of industry and government leaves T as it is (it is symmetric in
    # the helices); moving the industry-only output to "no helix" does not.
    swapped = np.zeros(8)
    swapped[7], swapped[4], swapped[1] = 2, 1, 1
    assert transmission(swapped) == pytest.approx(want)
    moved = np.zeros(8)
    moved[7], moved[4], moved[0] = 2, 1, 1
    assert transmission(moved) != pytest.approx(want)
