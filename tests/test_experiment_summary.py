"""The experiment report's opening summary follows its numbers (issue 15: every report opens
with a summary in plain words)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from experiments.experiment import summary_section


def _spec(design: str, **kw):
    base = dict(design=design, analysed="welfare", outputs=["welfare"], dividend=False,
                reference=None, factor_names=["a", "b"], scenario=SimpleNamespace(name="tiny"),
                replications=2, threshold=None)
    return SimpleNamespace(**{**base, **kw})


def _sweep(effect: float, seed: int) -> pd.DataFrame:
    """A 4 x 4 factorial: welfare = effect x a + a checkerboard that no factor orders (its
    rank correlation with a and with b is exactly 0) + replication noise that averages out."""
    rng = np.random.default_rng(seed)
    rows = []
    for point, (a, b) in enumerate(itertools.product(range(4), range(4))):
        noise = rng.normal(0, 1)
        for rep, sign in enumerate((1, -1)):
            rows.append({"lever": "base", "point": point, "replication": rep, "a": a, "b": b,
                         "welfare": 100 + effect * a + ((a + b) % 2) + sign * noise})
    return pd.DataFrame(rows)


EMPTY = {"by_output": {}, "discovery": {}}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_sweep_names_the_factor_that_moves_the_output_and_its_direction(seed):
    text = summary_section(_spec("factorial"), _sweep(-5.0, seed), EMPTY).text
    assert "responds most to a (falls with it" in text
    assert "1 other factor(s) show no clear effect" in text
    assert "2 replications per point" in text and "MCU = million currency units" in text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_sweep_of_pure_noise_says_no_effect_is_distinguishable(seed):
    text = summary_section(_spec("factorial"), _sweep(0.0, seed), EMPTY).text
    assert "no factor's effect is distinguishable from the noise" in text
    assert "responds most" not in text


def test_morris_ranks_by_mu_star_and_needs_its_interval_clear_of_zero():
    table = pd.DataFrame({"factor": ["a", "b"], "mu": [0.0, 0.0], "mu_star": [3.0, 40.0],
                          "sigma": [1.0, 1.0], "mu_star_conf": [5.0, 10.0]})
    results = {"by_output": {"base": {"welfare": table}}, "discovery": {}}
    summary = _sweep(0.0, 1)
    text = summary_section(_spec("morris"), summary, results).text
    assert "responds most to b (μ* 40)" in text and "a (μ*" not in text
    table["mu_star_conf"] = [5.0, 50.0]  # b's interval now reaches zero too
    text = summary_section(_spec("morris"), summary, results).text
    assert "no factor's effect is distinguishable" in text


def test_the_discovery_box_is_said_in_words():
    boxes = pd.DataFrame({"coverage": [0.8], "density": [0.9], "n": [10],
                          "bounds": [{"a": (1.5, float("inf"))}]})
    results = {"by_output": {}, "discovery": {"base": boxes}}
    text = summary_section(_spec("lhs", threshold=105.0), _sweep(5.0, 1), results).text
    assert "exceeds 105 mostly where a > 1.5" in text
    assert "80%" in text and "90%" in text
