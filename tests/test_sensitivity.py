"""Sensitivity analysis and scenario discovery on analytic functions with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from SALib.test_functions import Ishigami

from experiments.report import figure_png
from experiments.sensitivity import (
    DISCOVERY_COLUMNS,
    MORRIS_COLUMNS,
    SOBOL2_COLUMNS,
    SOBOL_COLUMNS,
    average_replications,
    box_mask,
    discover,
    lhs_sample,
    morris_indices,
    morris_sample,
    problem,
    ranked_bars,
    rule_text,
    sobol_indices,
    sobol_sample,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def unit_problem(d: int = 3) -> dict:
    return problem([{"name": f"x{i + 1}", "low": 0.0, "high": 1.0} for i in range(d)])


def linear(x: np.ndarray) -> np.ndarray:
    """y = x1 + 2 x2 (x3 unused): Var = 1/12 + 4/12, so S1 = ST = (1/5, 4/5, 0), S2 = 0."""
    return x[:, 0] + 2.0 * x[:, 1]


# --- problem and designs -------------------------------------------------------------------------

def test_problem_keeps_order_and_bounds():
    p = problem([{"name": "b", "low": 1, "high": 3, "extra": "ignored"},
                 {"name": "a", "low": -1.5, "high": 0}])
    assert p == {"num_vars": 2, "names": ["b", "a"], "bounds": [[1.0, 3.0], [-1.5, 0.0]]}


@pytest.mark.parametrize("factors, match", [
    ([], "no factors"),
    ([{"name": "a", "low": 0}], "no high"),
    ([{"name": "a", "low": 0, "high": 1}, {"name": "a", "low": 0, "high": 1}], "twice"),
    ([{"name": "a", "low": 1, "high": 1}], "low < high"),
    ([{"name": "a", "low": 0, "high": float("inf")}], "finite"),
])
def test_problem_rejects_bad_factors(factors, match):
    with pytest.raises(ValueError, match=match):
        problem(factors)


def test_samplers_shapes_bounds_and_determinism():
    p = problem([{"name": "a", "low": 0.0, "high": 1.0}, {"name": "b", "low": 10.0, "high": 20.0},
                 {"name": "c", "low": -2.0, "high": -1.0}])
    before = repr(p)
    designs = {
        "sobol1": (lambda s: sobol_sample(p, 64, second_order=False, seed=s), 64 * 5),
        "sobol2": (lambda s: sobol_sample(p, 64, second_order=True, seed=s), 64 * 8),
        "morris": (lambda s: morris_sample(p, 10, levels=4, seed=s), 10 * 4),
        "lhs": (lambda s: lhs_sample(p, 50, s), 50),
    }
    low, high = np.array([0.0, 10.0, -2.0]), np.array([1.0, 20.0, -1.0])
    for name, (draw, rows) in designs.items():
        x = draw(3)
        assert x.shape == (rows, 3), name
        assert ((x >= low) & (x <= high)).all(), name
        np.testing.assert_array_equal(x, draw(3), err_msg=name)
        assert not np.array_equal(x, draw(4)), name
    assert repr(p) == before  # SALib writes into the dict it gets: the wrappers pass a copy


def test_lhs_is_a_latin_hypercube():
    x = lhs_sample(unit_problem(2), 20, seed=1)
    for j in range(2):  # one point in each of the 20 strata of every factor
        assert sorted(np.floor(x[:, j] * 20).astype(int)) == list(range(20))


def test_sobol_sample_needs_a_power_of_two():
    with pytest.raises(ValueError, match=r"power of 2.*1000.*512 or 1024"):
        sobol_sample(unit_problem(), 1000, second_order=False, seed=0)


def test_morris_sample_needs_even_levels():
    with pytest.raises(ValueError, match="even"):
        morris_sample(unit_problem(), 10, levels=5, seed=0)


# --- replications --------------------------------------------------------------------------------

def test_average_replications():
    values = np.array([[1.0, 3.0, 5.0], [2.0, np.nan, 4.0], [np.nan, np.nan, np.nan]])
    mean = average_replications(values)
    np.testing.assert_array_equal(mean[:2], [3.0, 3.0])  # failed runs (NaN) are skipped
    assert np.isnan(mean[2])  # every replication failed
    np.testing.assert_array_equal(average_replications(np.array([1, 2])), [1.0, 2.0])
    with pytest.raises(ValueError, match="samples, replications"):
        average_replications(np.zeros((2, 2, 2)))


def test_indices_average_over_replications_first():
    """Noise that cancels in the mean over replications does not change any index."""
    p = unit_problem()
    x = sobol_sample(p, 256, second_order=False, seed=2)
    y = linear(x)
    noise = np.random.default_rng(0).normal(0.0, 5.0, size=len(y))
    reps = np.column_stack([y + noise, y - noise, y])
    by_reps, _ = sobol_indices(p, reps, second_order=False, seed=1)
    by_mean, _ = sobol_indices(p, y, second_order=False, seed=1)
    pd.testing.assert_frame_equal(by_reps, by_mean, rtol=1e-9)

    xm = morris_sample(p, 10, levels=4, seed=2)
    ym = linear(xm)
    pd.testing.assert_frame_equal(
        morris_indices(p, xm, np.column_stack([ym + 1.0, ym - 1.0]), levels=4, seed=1),
        morris_indices(p, xm, ym, levels=4, seed=1), rtol=1e-9)


# --- Sobol ---------------------------------------------------------------------------------------

def test_sobol_linear_function_with_second_order():
    p = unit_problem()
    x = sobol_sample(p, 1024, second_order=True, seed=1)
    first, second = sobol_indices(p, linear(x), second_order=True, seed=1)
    assert tuple(first.columns) == SOBOL_COLUMNS
    assert list(first["factor"]) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(first["S1"], [0.2, 0.8, 0.0], atol=0.03)
    np.testing.assert_allclose(first["ST"], [0.2, 0.8, 0.0], atol=0.03)
    assert (first[["S1_conf", "ST_conf"]] >= 0).all().all()
    assert second is not None
    assert tuple(second.columns) == SOBOL2_COLUMNS
    assert list(zip(second["factor_a"], second["factor_b"], strict=True)) == [
        ("x1", "x2"), ("x1", "x3"), ("x2", "x3")]
    np.testing.assert_allclose(second["S2"], 0.0, atol=0.03)
    assert second["S2_conf"].notna().all()


def test_sobol_ishigami_against_published_values():
    """Ishigami (a = 7, b = 0.1) on [-pi, pi]^3; N = 4096 base samples (20480 evaluations)."""
    p = problem([{"name": f"x{i}", "low": -np.pi, "high": np.pi} for i in (1, 2, 3)])
    x = sobol_sample(p, 4096, second_order=False, seed=5)
    first, second = sobol_indices(p, Ishigami.evaluate(x), second_order=False, seed=5)
    assert second is None
    s1, st = np.array([0.3139, 0.4424, 0.0]), np.array([0.5576, 0.4424, 0.2437])
    np.testing.assert_allclose(first["S1"], s1, atol=0.04)
    np.testing.assert_allclose(first["ST"], st, atol=0.04)
    # The intervals are honest at this size: the truth lies within the estimate ± 2 conf.
    assert (np.abs(first["S1"] - s1) <= 2 * first["S1_conf"]).all()
    assert (np.abs(first["ST"] - st) <= 2 * first["ST_conf"]).all()
    assert (first["ST_conf"] < 0.06).all()


def test_sobol_confidence_level_widens_intervals():
    p = unit_problem()
    x = sobol_sample(p, 256, second_order=False, seed=3)
    y = x[:, 0] * x[:, 1] + x[:, 2]
    narrow, _ = sobol_indices(p, y, second_order=False, seed=3, confidence=0.5)
    wide, _ = sobol_indices(p, y, second_order=False, seed=3, confidence=0.99)
    assert (wide["S1_conf"] > narrow["S1_conf"]).all()
    pd.testing.assert_series_equal(wide["S1"], narrow["S1"])


@pytest.mark.parametrize("seed", [0, 11])
def test_sobol_indices_deterministic_for_a_seed(seed):
    """Seed 0 included: SALib alone would treat it as no seed and use numpy's global state."""
    p = unit_problem()
    x = sobol_sample(p, 128, second_order=True, seed=seed)
    y = np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2]
    np.random.seed(1)
    a = sobol_indices(p, y, second_order=True, seed=seed)
    np.random.seed(2)
    b = sobol_indices(p, y, second_order=True, seed=seed)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    c = sobol_indices(p, y, second_order=True, seed=seed + 1)
    assert not np.array_equal(a[0]["S1_conf"], c[0]["S1_conf"])


def test_sobol_indices_rejects_bad_outputs():
    p = unit_problem()
    x = sobol_sample(p, 64, second_order=False, seed=0)
    y = linear(x)
    with pytest.raises(ValueError, match=r"320 outputs is not n x 8"):
        sobol_indices(p, y, second_order=True, seed=0)
    with pytest.raises(ValueError, match="constant"):
        sobol_indices(p, np.ones_like(y), second_order=False, seed=0)
    y[7] = np.nan
    with pytest.raises(ValueError, match="rows 7"):
        sobol_indices(p, y, second_order=False, seed=0)


# --- Morris --------------------------------------------------------------------------------------

def test_morris_ranks_factors():
    p = unit_problem()
    x = morris_sample(p, 20, levels=4, seed=4)
    table = morris_indices(p, x, 10 * x[:, 0] + x[:, 1] + 0 * x[:, 2], levels=4, seed=4)
    assert tuple(table.columns) == MORRIS_COLUMNS
    ranked = table.sort_values("mu_star", ascending=False)["factor"].tolist()
    assert ranked == ["x1", "x2", "x3"]
    np.testing.assert_allclose(table["mu_star"], [10.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["mu"], [10.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["sigma"], 0.0, atol=1e-9)  # linear: no interactions


def test_morris_effects_are_per_factor_range_and_sigma_flags_interactions():
    p = problem([{"name": "a", "low": 0.0, "high": 2.0}, {"name": "b", "low": 0.0, "high": 1.0},
                 {"name": "c", "low": 5.0, "high": 6.0}])
    x = morris_sample(p, 30, levels=4, seed=8)
    table = morris_indices(p, x, 10 * x[:, 0], levels=4, seed=8)
    np.testing.assert_allclose(table["mu_star"], [20.0, 0.0, 0.0], atol=1e-9)
    inter = morris_indices(p, x, x[:, 0] * x[:, 1], levels=4, seed=8).set_index("factor")
    assert inter.loc["a", "sigma"] > 0.1 and inter.loc["b", "sigma"] > 0.1
    assert inter.loc["c", "sigma"] == pytest.approx(0.0, abs=1e-12)
    assert (inter["mu_star_conf"] >= 0).all()


def test_morris_deterministic_and_checks_shapes():
    p = unit_problem()
    x = morris_sample(p, 12, levels=4, seed=1)
    y = np.exp(x[:, 0]) * x[:, 1]
    pd.testing.assert_frame_equal(morris_indices(p, x, y, levels=4, seed=0),
                                  morris_indices(p, x, y, levels=4, seed=0))
    with pytest.raises(ValueError, match="whole number of trajectories"):
        morris_indices(p, x[:-1], y[:-1], levels=4, seed=0)
    with pytest.raises(ValueError, match="47 outputs for 48"):
        morris_indices(p, x, y[:-1], levels=4, seed=0)


# --- scenario discovery --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def boxed() -> tuple[pd.DataFrame, np.ndarray]:
    """y > 1 exactly when x1 > 0.6 and x2 < 0.3; x3 is noise that does not matter."""
    x = pd.DataFrame(lhs_sample(unit_problem(), 2000, seed=3), columns=["x1", "x2", "x3"])
    inside = (x["x1"] > 0.6) & (x["x2"] < 0.3)
    y = np.where(inside, 2.0, 0.0) + 0.5 * x["x3"].to_numpy()
    return x, y


def test_discover_finds_the_box(boxed):
    x, y = boxed
    table = discover(x, y, 1.0)
    assert tuple(table.columns) == DISCOVERY_COLUMNS
    best = table.iloc[0]
    assert best["density"] == pytest.approx(1.0)
    assert best["coverage"] == pytest.approx(1.0, abs=0.02)
    assert "x1 >" in best["rule"] and "x2 <=" in best["rule"] and "x3" not in best["rule"]
    assert set(best["bounds"]) == {"x1", "x2"}
    assert best["bounds"]["x1"][0] == pytest.approx(0.6, abs=0.01)
    assert best["bounds"]["x2"][1] == pytest.approx(0.3, abs=0.01)
    assert table.attrs["base_rate"] == pytest.approx((y > 1.0).mean())


def test_discover_numbers_check_out_with_box_mask(boxed):
    x, y = boxed
    rng = np.random.default_rng(0)
    noisy = y + rng.normal(0.0, 0.6, size=len(y))  # impure boxes, several leaves
    table = discover(x, noisy, 1.0, max_depth=3, min_leaf=0.03)
    assert len(table) >= 1
    above = noisy > 1.0
    for row in table.itertuples():
        mask = box_mask(x, row.bounds)
        assert row.n == mask.sum()
        assert row.density == pytest.approx(above[mask].mean())
        assert row.coverage == pytest.approx((mask & above).sum() / above.sum())
        assert row.density > 0.5  # leaves the tree predicts "above"
        assert row.n >= 0.03 * len(x)
    keys = list(zip(-table["density"], -table["coverage"], strict=True))
    assert keys == sorted(keys)
    pd.testing.assert_frame_equal(table, discover(x, noisy, 1.0, max_depth=3, min_leaf=0.03))


def test_discover_edge_cases(boxed):
    x, y = boxed
    none = discover(x, y, 100.0)
    assert none.empty and tuple(none.columns) == DISCOVERY_COLUMNS
    everything = discover(x, y, -1.0)
    assert everything["rule"].tolist() == ["all cases"]
    assert everything.loc[0, ["coverage", "density"]].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="non-numeric"):
        discover(x.assign(model=["3.0"] * len(x)), y, 1.0)
    with pytest.raises(ValueError, match="1999 outputs for 2000"):
        discover(x, y[:-1], 1.0)


def test_rule_text_and_box_mask():
    bounds = {"a": (0.2, 0.61234567), "b": (-np.inf, 3.0), "c": (1234.5678, np.inf)}
    assert rule_text(bounds) == "0.2 < a <= 0.6123 and b <= 3 and c > 1235"
    assert rule_text({}) == "all cases"
    x = pd.DataFrame({"a": [0.2, 0.3, 0.7], "b": [0.0, 3.0, 0.0], "c": [2000.0, 2000.0, 2000.0]})
    assert box_mask(x, bounds).tolist() == [False, True, False]  # low exclusive, high inclusive


# --- figure --------------------------------------------------------------------------------------

def test_ranked_bars_orders_factors(tmp_path):
    table = pd.DataFrame({"factor": ["a", "b", "c", "d"], "mu_star": [1.0, 5.0, np.nan, 3.0],
                          "mu_star_conf": [0.1, 0.5, np.nan, 0.2], "sigma": [0.5, 1.0, 0.0, 4.0]})
    fig = ranked_bars(table, "mu_star", "mu_star_conf", "Morris screening")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "d", "a", "c"]  # NaN last
    assert ax.yaxis_inverted()  # the first tick (largest value) is on top
    assert [p.get_width() for p in ax.patches] == [5.0, 3.0, 1.0, 0.0]
    centres = [p.get_y() + p.get_height() / 2 for p in ax.patches]
    assert centres == sorted(centres)  # drawn in rank order from the top
    assert ax.get_title() == "Morris screening" and ax.get_xlabel()

    two = ranked_bars(table, "mu_star", "mu_star_conf", "Morris", secondary="sigma")
    ax2 = two.axes[0]
    assert len(ax2.patches) == 8
    assert [p.get_width() for p in ax2.patches[4:]] == [1.0, 4.0, 0.5, 0.0]  # same ranking
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == [
        "μ* (mean |elementary effect|) ± conf. interval", "σ (std of elementary effects)"]
    png = figure_png(two)
    assert png.startswith(PNG_MAGIC)
    (tmp_path / "ranked.png").write_bytes(png)


def test_ranked_bars_of_sobol_indices():
    p = unit_problem()
    x = sobol_sample(p, 256, second_order=False, seed=0)
    first, _ = sobol_indices(p, linear(x), second_order=False, seed=0)
    fig = ranked_bars(first, "ST", "ST_conf", "Sobol' indices", secondary="S1",
                      secondary_conf="S1_conf")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x2", "x1", "x3"]
    assert len(ax.patches) == 6
    assert "Sobol" in ax.get_xlabel()
    with pytest.raises(ValueError, match="no column 'S9'"):
        ranked_bars(first, "S9", None, "x")
