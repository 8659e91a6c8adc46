"""Statistics of paired runs: intervals, Shapley values, precision, on cases known by hand."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from experiments.analysis import (
    compare_table,
    configurations,
    paired_interval,
    seeds_needed,
    shapley,
    shapley_table,
)


def test_paired_interval_matches_the_t_formula():
    d = np.array([1.0, 2.0, 4.0, 7.0])
    iv = paired_interval(d)
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2.0
    assert iv.mean == pytest.approx(3.5)
    assert (iv.low, iv.high) == pytest.approx((3.5 - half, 3.5 + half))


def test_bonferroni_widens_the_interval():
    d = np.random.default_rng(0).normal(1.0, 1.0, 20)
    assert paired_interval(d, comparisons=3).half_width > paired_interval(d).half_width


def test_identical_runs_give_an_exact_zero_interval():
    iv = paired_interval(np.zeros(7))
    assert (iv.mean, iv.low, iv.high) == (0.0, 0.0, 0.0)


def test_one_replication_has_no_interval():
    iv = paired_interval([3.0])
    assert iv.mean == 3.0 and math.isnan(iv.low) and math.isnan(iv.high)


def test_compare_a_with_itself_is_exactly_zero():
    summary = pd.DataFrame({"label": ["a"] * 5 + ["b"] * 5, "replication": list(range(5)) * 2,
                            "welfare": [3.0, 1.0, 4.0, 1.0, 5.0] * 2})
    table = compare_table(summary, "a", ["b"], ["welfare"])
    row = table.iloc[0]
    assert (row["difference"], row["low"], row["high"]) == (0.0, 0.0, 0.0)


def test_seeds_needed_shrinks_with_precision_and_grows_with_noise():
    assert seeds_needed(1.0, 10.0, 0.05) < seeds_needed(1.0, 10.0, 0.01)
    assert seeds_needed(1.0, 10.0, 0.05) < seeds_needed(3.0, 10.0, 0.05)
    n = seeds_needed(1.0, 10.0, 0.05)
    t = stats.t.ppf(0.975, n - 1)
    assert t / math.sqrt(n) <= 0.5 < stats.t.ppf(0.975, n - 2) / math.sqrt(n - 1)


def game(weights, pair_bonus=0.0):
    """Additive game plus a bonus when players 0 and 1 are both in."""
    def v(config):
        return sum(w for w, on in zip(weights, config, strict=True) if on) + (
            pair_bonus if config[0] and config[1] else 0.0)
    return {c: np.array([v(c)]) for c in itertools.product((False, True),
                                                            repeat=len(weights))}


def test_shapley_of_an_additive_game_is_each_players_weight():
    phi = shapley(game([1.0, 2.0, -0.5, 4.0, 0.0]))
    np.testing.assert_allclose(phi[:, 0], [1.0, 2.0, -0.5, 4.0, 0.0])


def test_shapley_splits_an_interaction_equally():
    phi = shapley(game([0.0, 0.0, 0.0], pair_bonus=6.0))
    np.testing.assert_allclose(phi[:, 0], [3.0, 3.0, 0.0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=32, max_size=32),
       st.integers(1, 4))
def test_shapley_values_add_up_to_the_total(values, reps):
    configs = configurations(5)
    rng = np.random.default_rng(len(values))
    v = {c: np.array(values[i]) + rng.normal(0, 1, reps) for i, c in enumerate(configs)}
    phi = shapley(v)
    total = v[(True,) * 5] - v[(False,) * 5]
    np.testing.assert_allclose(phi.sum(axis=0), total, rtol=1e-9, atol=1e-6)


def test_shapley_table_shares_sum_to_one():
    configs = configurations(5)
    rng = np.random.default_rng(3)
    rows = []
    for c in configs:
        for j in range(4):
            rows.append({"label": str(c), "replication": j,
                         "welfare": sum(c) * 10 + rng.normal(0, 1)})
    table = shapley_table(pd.DataFrame(rows), {c: str(c) for c in configs})
    assert table["share"].sum() == pytest.approx(1.0)
