"""experiments/analysis.py pinned by small cases worked out by hand.

Bonferroni: k comparisons at 95% use the t quantile at 1 - 0.05 / (2k); with four paired
differences (3 degrees of freedom) the textbook values are t(0.975; 3) = 3.1824 and
t(1 - 0.05/6; 3) = 4.8567 (k = 3), so the half-widths can be written down.

Shapley: the game v(S) = 1 if S is exactly T (else 0) gives each member of T the weight of
one coalition of size |T| - 1, (|T| - 1)! (n - |T|)! / n!, and each outsider minus the
weight of one coalition of size |T|, |T|! (n - |T| - 1)! / n!. With five players that is
1/20 and -1/30 for |T| = 2, 1/30 and -1/20 for |T| = 3: every coalition size has its own
weight, so a wrong factorial shows.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import (
    Interval,
    compare_table,
    configurations,
    dividend_table,
    finals,
    paired_interval,
    seeds_needed,
    shapley,
    shapley_table,
)
from simulation.parameters import CHANNELS

D = np.array([1.0, 2.0, 4.0, 7.0])  # mean 3.5, sd sqrt(7) = 2.6458, n = 4
T_975_3 = 3.182446   # t(0.975; 3)
T_BONF3_3 = 4.856657  # t(1 - 0.05/6; 3)
T_BONF2_3 = 4.176535  # t(1 - 0.05/4; 3)


def test_interval_half_width_by_hand():
    iv = paired_interval(D)
    assert (iv.mean, iv.sd, iv.n) == pytest.approx((3.5, math.sqrt(7.0), 4))
    assert iv.half_width == pytest.approx(T_975_3 * math.sqrt(7.0) / 2.0, rel=1e-6)
    assert (iv.low, iv.high) == pytest.approx((3.5 - iv.half_width, 3.5 + iv.half_width))


@pytest.mark.parametrize(("k", "t"), [(1, T_975_3), (2, T_BONF2_3), (3, T_BONF3_3)])
def test_bonferroni_divides_alpha_by_the_number_of_comparisons(k, t):
    iv = paired_interval(D, comparisons=k)
    assert iv.half_width == pytest.approx(t * math.sqrt(7.0) / 2.0, rel=1e-6)
    assert iv.mean == 3.5


def test_bonferroni_at_another_confidence():
    # 90% with 2 comparisons is the 97.5% quantile: the same as an uncorrected 95% interval.
    assert paired_interval(D, confidence=0.90, comparisons=2).half_width == pytest.approx(
        paired_interval(D).half_width, rel=1e-12)
    assert paired_interval(D, comparisons=0).half_width == paired_interval(D).half_width


def summary_of(values: dict[str, list[float]], indicator: str = "welfare") -> pd.DataFrame:
    rows = [{"label": label, "replication": r, indicator: v}
            for label, vs in values.items() for r, v in enumerate(vs)]
    return pd.DataFrame(rows)


def test_compare_table_corrects_for_every_scenario_compared():
    base = [10.0, 20.0, 30.0, 40.0]
    others = {name: [b + d * (j + 1) for b, d in zip(base, D, strict=True)]
              for j, name in enumerate(("a", "b", "c"))}
    summary = summary_of({"base": base, **others})
    table = compare_table(summary, "base", ["a", "b", "c"], ["welfare"]).set_index("scenario")
    for j, name in enumerate(("a", "b", "c")):
        row = table.loc[name]
        scale = j + 1  # differences are D x scale
        half = T_BONF3_3 * math.sqrt(7.0) * scale / 2.0
        assert row["difference"] == pytest.approx(3.5 * scale)
        assert (row["low"], row["high"]) == pytest.approx((3.5 * scale - half,
                                                           3.5 * scale + half), rel=1e-6)
        assert row["baseline_mean"] == 25.0
        assert row["scenario_mean"] == pytest.approx(25.0 + 3.5 * scale)
        assert row["relative"] == pytest.approx(3.5 * scale / 25.0)
        assert (row["rel_low"], row["rel_high"]) == pytest.approx(
            ((3.5 * scale - half) / 25.0, (3.5 * scale + half) / 25.0), rel=1e-6)
        assert row["n"] == 4
    # One comparison alone: no correction.
    alone = compare_table(summary, "base", ["a"], ["welfare"]).iloc[0]
    assert alone["high"] - alone["difference"] == pytest.approx(
        T_975_3 * math.sqrt(7.0) / 2.0, rel=1e-6)


def test_dividend_is_one_comparison_and_pairs_by_replication():
    # Replications listed out of order and one unpaired: pairing is by replication index.
    rows = [{"label": "s", "replication": r, "welfare": 100.0 + d}
            for r, d in zip((3, 1, 0, 2), (D[3], D[1], D[0], D[2]), strict=True)]
    rows += [{"label": "silo", "replication": r, "welfare": 100.0} for r in range(5)]
    table = pd.DataFrame(rows)
    for ind in ("value_added", "jobs", "startups_alive", "university_knowledge",
                "publications_total", "alumni_employed", "graduate_skill", "gov_net_fiscal"):
        table[ind] = 1.0
    out = dividend_table(table, "s", "silo").set_index("indicator")
    row = out.loc["welfare"]
    assert row["dividend"] == pytest.approx(3.5)
    assert row["high"] - row["dividend"] == pytest.approx(T_975_3 * math.sqrt(7.0) / 2, rel=1e-6)
    assert row["n"] == 4
    assert row["relative"] == pytest.approx(0.035)
    assert row["helix"] == "region"
    assert (out.loc["jobs", ["dividend", "low", "high"]] == 0.0).all()


def test_finals_are_indexed_and_sorted_by_replication():
    summary = pd.DataFrame({"label": ["x", "x", "y"], "replication": [2, 0, 0],
                            "welfare": [5.0, 7.0, 1.0]})
    got = finals(summary, "x", "welfare")
    assert got.index.tolist() == [0, 2] and got.tolist() == [7.0, 5.0]


def test_relative_to_uses_the_magnitude_of_the_reference():
    iv = Interval(2.0, 1.0, 3.0, 1.0, 5)
    assert iv.relative_to(-4.0) == (0.5, 0.25, 0.75)
    assert all(math.isnan(x) for x in iv.relative_to(0.0))
    assert all(math.isnan(x) for x in iv.relative_to(math.inf))
    assert iv.half_width == 1.0


def test_seeds_needed_by_hand_with_bonferroni():
    # sd 1, mean 1, precision 0.5: smallest n with t(q; n-1) / sqrt(n) <= 0.5.
    from scipy import stats

    for k in (1, 3, 20):  # n = 18, 27 and 42: past the first 10% steps
        q = 1 - 0.05 / (2 * k)
        n = seeds_needed(1.0, 1.0, 0.5, comparisons=k)
        assert stats.t.ppf(q, n - 1) / math.sqrt(n) <= 0.5 < stats.t.ppf(q, n - 2) / math.sqrt(
            n - 1)
    assert seeds_needed(1.0, 1.0, 0.5, comparisons=3) > seeds_needed(1.0, 1.0, 0.5)
    assert seeds_needed(1.0, 0.0, 0.5) == -1
    assert seeds_needed(math.nan, 1.0, 0.5) == -1
    assert seeds_needed(1.0, -1.0, 0.5) == seeds_needed(1.0, 1.0, 0.5)
    # A tiny sd needs no more than the smallest start.
    assert seeds_needed(1e-9, 1.0, 0.5) == 2
    assert seeds_needed(1e-9, 1.0, 0.5, start=5) == 5
    # Precision 0.01 of the mean with sd = mean needs n ~ (1.96 / 0.01)^2 = 38,416 and more.
    n = seeds_needed(1.0, 1.0, 0.01)
    assert stats.t.ppf(0.975, n - 1) / math.sqrt(n) <= 0.01 < stats.t.ppf(0.975, n - 2) / \
        math.sqrt(n - 1)


def exactly(team: set[int], n: int = 5) -> dict[tuple[bool, ...], np.ndarray]:
    return {c: np.array([1.0 if {i for i in range(n) if c[i]} == team else 0.0])
            for c in itertools.product((False, True), repeat=n)}


@pytest.mark.parametrize(("team", "inside", "outside"), [
    ({0, 1}, Fraction(1, 20), Fraction(-1, 30)),
    ({1, 2, 4}, Fraction(1, 30), Fraction(-1, 20)),
    ({3}, Fraction(1, 5), Fraction(-1, 20)),
    ({0, 1, 2, 3}, Fraction(1, 20), Fraction(-1, 5)),
])
def test_shapley_weights_of_each_coalition_size(team, inside, outside):
    phi = shapley(exactly(team))[:, 0]
    want = [float(inside if i in team else outside) for i in range(5)]
    np.testing.assert_allclose(phi, want, rtol=1e-12, atol=1e-15)


def test_shapley_of_three_players_by_hand():
    # v: {0}: 1, {1}: 2, {0,1}: 6, {2}: 0, {0,2}: 1, {1,2}: 2, all: 9.
    v = {(False, False, False): 0.0, (True, False, False): 1.0, (False, True, False): 2.0,
         (True, True, False): 6.0, (False, False, True): 0.0, (True, False, True): 1.0,
         (False, True, True): 2.0, (True, True, True): 9.0}
    # phi_0 = 1/3 (1 - 0) + 1/6 (6 - 2) + 1/6 (1 - 0) + 1/3 (9 - 2) = 1/3 + 2/3 + 1/6 + 7/3
    want0 = 1 / 3 + 4 / 6 + 1 / 6 + 7 / 3
    want1 = 1 / 3 * 2 + 1 / 6 * (6 - 1) + 1 / 6 * 2 + 1 / 3 * (9 - 1)
    want2 = 1 / 3 * 0 + 1 / 6 * 0 + 1 / 6 * 0 + 1 / 3 * (9 - 6)
    phi = shapley({c: np.array([x, 2 * x]) for c, x in v.items()})
    np.testing.assert_allclose(phi[:, 0], [want0, want1, want2])
    np.testing.assert_allclose(phi[:, 1], [2 * want0, 2 * want1, 2 * want2])
    assert phi.shape == (3, 2)


def test_configurations_are_every_switch_combination_all_closed_first():
    configs = configurations(3)
    assert len(configs) == 8 == len(set(configs))
    assert configs[0] == (False, False, False) and configs[-1] == (True, True, True)
    assert len(configurations()) == 2 ** len(CHANNELS)


def test_shapley_table_by_hand():
    """Additive channels 1..5 plus noise-free replications: values, shares and intervals."""
    weights = [1.0, 2.0, 3.0, 4.0, -2.0]
    rows = []
    labels = {}
    for c in configurations(5):
        labels[c] = "".join("1" if on else "0" for on in c)
        for r, scale in enumerate((1.0, 2.0, 3.0)):
            rows.append({"label": labels[c], "replication": r,
                         "welfare": scale * sum(w for w, on in zip(weights, c, strict=True)
                                                if on)})
    table = shapley_table(pd.DataFrame(rows), labels).set_index("channel")
    assert list(table.index) == list(CHANNELS)
    for name, w in zip(CHANNELS, weights, strict=True):
        row = table.loc[name]
        per_rep = np.array([w, 2 * w, 3 * w])
        iv = paired_interval(per_rep)
        assert row["mean"] == pytest.approx(2 * w)
        assert (row["low"], row["high"]) == pytest.approx((iv.low, iv.high))
        assert row["share"] == pytest.approx(w / sum(weights))
        assert row["n"] == 3
    # Replications missing from one configuration are left out of every configuration.
    partial = pd.DataFrame([r for r in rows if not (r["label"] == "00000"
                                                    and r["replication"] == 2)])
    assert (shapley_table(partial, labels)["n"] == 2).all()


def test_shapley_table_share_is_nan_without_a_dividend():
    rows = [{"label": str(c), "replication": r, "welfare": 5.0}
            for c in configurations(5) for r in range(3)]
    table = shapley_table(pd.DataFrame(rows), {c: str(c) for c in configurations(5)})
    assert table["share"].isna().all()
    assert (table["mean"] == 0).all()


# --- edge cases found by mutation testing (benchmarks/mutation.py) ----------------------------

def test_two_replications_have_an_interval_and_one_or_none_do_not():
    iv = paired_interval([1.0, 3.0])  # sd sqrt(2), t(0.975; 1) = 12.7062
    assert iv.half_width == pytest.approx(12.7062047362 * math.sqrt(2.0) / math.sqrt(2.0), rel=1e-6)
    one = paired_interval([3.0])
    assert (one.n, one.mean) == (1, 3.0) and math.isnan(one.sd)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" on the way
        empty = paired_interval([])
    assert empty.n == 0 and math.isnan(empty.mean) and math.isnan(empty.low)


def test_seeds_needed_at_small_n_on_the_exact_boundary_and_at_the_limit():
    from scipy import stats

    t3 = float(stats.t.ppf(0.975, 3))
    # Precision 2 x the mean with sd = mean: n = 4 (t(0.975; 3) / 2 = 1.59 <= 2, while
    # t(0.975; 2) / sqrt(3) = 2.48 > 2); with n + 1 degrees of freedom it would say 3.
    assert seeds_needed(1.0, 1.0, 2.0) == 4
    # Exactly on the boundary at n = 4: "at most" the precision counts as enough.
    assert seeds_needed(t3, 1.0, t3 * t3 / 2.0) == 4
    n = seeds_needed(1.0, 1.0, 0.05)
    assert isinstance(n, int)
    # Noise no affordable number of seeds can beat: the search stops at its limit.
    assert seeds_needed(1e9, 1.0, 0.01) == 10_000_000


def unequal_summary() -> pd.DataFrame:
    """Baseline with a fifth, unpaired replication; differences D on the four paired ones."""
    base = [10.0, 20.0, 30.0, 40.0, 1000.0]
    other = [b + d for b, d in zip(base, D, strict=False)]
    rows = [{"label": "base", "replication": r, "welfare": v} for r, v in enumerate(base)]
    rows += [{"label": "a", "replication": r, "welfare": v} for r, v in enumerate(other)]
    return pd.DataFrame(rows)


def test_compare_table_pairs_only_common_replications_and_keeps_the_confidence():
    table = compare_table(unequal_summary(), "base", ["a"], ["welfare"], confidence=0.90)
    row = table.iloc[0]
    assert list(table.columns)[:2] == ["scenario", "indicator"]
    assert (row["scenario"], row["indicator"], row["n"]) == ("a", "welfare", 4)
    assert row["difference"] == pytest.approx(3.5)
    half = 2.3533634348 * math.sqrt(7.0) / 2.0  # t(0.95; 3)
    assert row["high"] - row["difference"] == pytest.approx(half, rel=1e-6)
    assert row["baseline_mean"] == pytest.approx(25.0)


def test_dividend_table_keeps_the_confidence_and_every_column():
    summary = unequal_summary().replace({"base": "silo", "a": "s"})
    for ind in ("value_added", "jobs", "startups_alive", "university_knowledge",
                "publications_total", "alumni_employed", "graduate_skill", "gov_net_fiscal"):
        summary[ind] = 1.0
    table = dividend_table(summary, "s", "silo", confidence=0.90)
    row = table.set_index("indicator").loc["welfare"]
    half = 2.3533634348 * math.sqrt(7.0) / 2.0
    assert (row["low"], row["high"]) == pytest.approx((3.5 - half, 3.5 + half), rel=1e-6)
    assert (row["rel_low"], row["rel_high"]) == pytest.approx(
        ((3.5 - half) / 25.0, (3.5 + half) / 25.0), rel=1e-6)
    assert row["component"] == "W: discounted value added net of link outlays"
    assert list(table.columns) == ["component", "indicator", "helix", "scenario_mean",
                                   "siloed_mean", "dividend", "low", "high", "relative",
                                   "rel_low", "rel_high", "n"]


def additive_summary(weights, scales=(1.0, 2.0, 3.0)) -> tuple[pd.DataFrame, dict]:
    rows, labels = [], {}
    for c in configurations(5):
        labels[c] = "".join("1" if on else "0" for on in c)
        for r, scale in enumerate(scales):
            rows.append({"label": labels[c], "replication": r,
                         "welfare": scale * sum(w for w, on in zip(weights, c, strict=True)
                                                if on)})
    return pd.DataFrame(rows), labels


def test_shapley_table_keeps_the_confidence_and_a_total_of_one():
    summary, labels = additive_summary([0.5, 0.25, 0.25, 0.0, 0.0], scales=(0.5, 1.0, 1.5))
    table = shapley_table(summary, labels, confidence=0.90).set_index("channel")
    # The total dividend has mean exactly 1: shares are the weights.
    np.testing.assert_allclose(table["share"], [0.5, 0.25, 0.25, 0.0, 0.0])
    row = table.iloc[0]  # per replication 0.25, 0.5, 0.75: sd 0.25
    half = 2.9199855804 * 0.25 / math.sqrt(3.0)  # t(0.95; 2)
    assert (row["low"], row["high"]) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-6)


def test_shapley_table_without_a_dividend_divides_by_nothing():
    import warnings

    rows = [{"label": str(c), "replication": r, "welfare": 5.0}
            for c in configurations(5) for r in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 on the way to the NaN share
        table = shapley_table(pd.DataFrame(rows), {c: str(c) for c in configurations(5)})
    assert table["share"].isna().all()
