"""Global sensitivity analysis and scenario discovery of experiment outputs.

Pure functions on arrays and tables: nothing here runs the model. The experiment runner draws a
design with one of the samplers, runs every row (with several seeds), and hands the outputs back
here, averaged over replications first (``average_replications``).

- ``problem``: a SALib problem dict from factors ``{"name", "low", "high"}`` (uniform on the
  bounds).
- ``sobol_sample`` / ``morris_sample`` / ``lhs_sample``: thin, seeded wrappers over SALib 1.6's
  ``SALib.sample.sobol`` (Saltelli's scheme on a scrambled Sobol' sequence),
  ``SALib.sample.morris`` and ``SALib.sample.latin``.
- ``sobol_indices``: first-order ``S1``, total ``ST`` and optionally second-order ``S2`` Sobol'
  indices with bootstrap confidence intervals (``SALib.analyze.sobol``).
- ``morris_indices``: Morris elementary-effect screening ``mu``, ``mu_star``, ``sigma``
  (``SALib.analyze.morris``).
- ``discover`` / ``box_mask``: scenario discovery with a shallow scikit-learn decision tree: the
  boxes of the factor space where the output is above a threshold, with coverage and density.
- ``ranked_bars``: a ranked horizontal bar chart of any of these tables (matplotlib object API,
  like ``experiments.report``).

SALib quirks handled here (SALib 1.6): its samplers and analysers add keys to the problem dict
they are given (``sample_scaled``, ``groups``), so they always get a copy; ``sobol.analyze``
treats ``seed=0`` as "no seed" (``if seed:``) and then draws from numpy's global state, so it is
given a ``numpy.random.Generator`` instead, which makes every seed, 0 included, reproducible.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import latin as latin_sample
from SALib.sample import morris as morris_sampler
from SALib.sample import sobol as sobol_sampler
from sklearn.tree import DecisionTreeClassifier

from experiments.report import new_figure

SOBOL_COLUMNS = ("factor", "S1", "S1_conf", "ST", "ST_conf")
SOBOL2_COLUMNS = ("factor_a", "factor_b", "S2", "S2_conf")
MORRIS_COLUMNS = ("factor", "mu", "mu_star", "mu_star_conf", "sigma")
DISCOVERY_COLUMNS = ("rule", "coverage", "density", "n", "bounds")

PRIMARY, SECONDARY = "#1c3d6e", "#7fa7d1"
# Legend labels and axis wording of the known index columns.
_INDEX_LABELS = {
    "S1": "S1 (first order)",
    "ST": "ST (total order)",
    "S2": "S2 (second order)",
    "mu_star": "μ* (mean |elementary effect|)",
    "mu": "μ (mean elementary effect)",
    "sigma": "σ (std of elementary effects)",
}
_SOBOL_INDICES = {"S1", "ST", "S2"}
_MORRIS_INDICES = {"mu_star", "mu", "sigma"}


# --- problem and designs -------------------------------------------------------------------------

def problem(factors: Sequence[Mapping[str, Any]]) -> dict:
    """A SALib problem dict from factors given as ``{"name", "low", "high"}``.

    ``name`` is the model parameter name; every factor is uniform on ``[low, high]``. Names keep
    their order, which is the column order of every sample and the row order of every index
    table. Other keys of a factor are ignored. Raises ``ValueError`` on an empty list, a missing
    key, a duplicate name or bounds that are not finite with ``low < high``.

    >>> problem([{"name": "a", "low": 0, "high": 2}])
    {'num_vars': 1, 'names': ['a'], 'bounds': [[0.0, 2.0]]}
    """
    if not factors:
        raise ValueError("problem: no factors")
    names: list[str] = []
    bounds: list[list[float]] = []
    for i, factor in enumerate(factors):
        missing = [k for k in ("name", "low", "high") if k not in factor]
        if missing:
            raise ValueError(f"problem: factor {i} has no {', '.join(missing)}")
        name = str(factor["name"])
        low, high = float(factor["low"]), float(factor["high"])
        if name in names:
            raise ValueError(f"problem: factor {name!r} appears twice")
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"problem: factor {name!r} needs finite bounds with low < high, "
                             f"got low={low}, high={high}")
        names.append(name)
        bounds.append([low, high])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _copy(problem_: Mapping[str, Any]) -> dict:
    """A deep copy of a problem: SALib writes keys into the dict it is given."""
    for key in ("num_vars", "names", "bounds"):
        if key not in problem_:
            raise ValueError(f"not a SALib problem: no {key!r} (build it with problem())")
    return copy.deepcopy(dict(problem_))


def sobol_sample(problem: Mapping[str, Any], n: int, *, second_order: bool,
                 seed: int) -> np.ndarray:
    """Saltelli's design for Sobol' indices (``SALib.sample.sobol.sample``), scrambled.

    ``n`` is the base sample size and must be a power of 2 (the balance of the Sobol' sequence
    needs it; SALib only warns). The design has ``n * (D + 2)`` rows, or ``n * (2 D + 2)`` with
    ``second_order``, and D columns in the problem's order, scaled to the bounds. Rows come in
    blocks of ``D + 2`` (or ``2 D + 2``) that ``sobol_indices`` relies on: keep their order.
    The same seed gives the same design.
    """
    n = int(n)
    if n < 2 or n & (n - 1):
        lower = 1 << max(n.bit_length() - 1, 1)
        raise ValueError(f"sobol_sample: n must be a power of 2 (2, 4, ..., 512, 1024, ...) for "
                         f"the Sobol' sequence to stay balanced; got {n}, use {lower} or "
                         f"{lower * 2}")
    return sobol_sampler.sample(_copy(problem), n, calc_second_order=second_order,
                                scramble=True, seed=seed)


def morris_sample(problem: Mapping[str, Any], trajectories: int, *, levels: int,
                  seed: int) -> np.ndarray:
    """Morris one-at-a-time trajectories (``SALib.sample.morris.sample``).

    ``trajectories`` random trajectories on a grid of ``levels`` levels per factor (even, 4 is
    usual); the design has ``trajectories * (D + 1)`` rows, each trajectory's D + 1 rows in a
    block that ``morris_indices`` relies on: keep their order. Pass the same ``levels`` to
    ``morris_indices``. The same seed gives the same design.
    """
    trajectories, levels = int(trajectories), int(levels)
    if trajectories < 2:
        raise ValueError(f"morris_sample: need at least 2 trajectories, got {trajectories}")
    if levels < 2 or levels % 2:
        raise ValueError(f"morris_sample: levels must be even and >= 2, got {levels}")
    return morris_sampler.sample(_copy(problem), trajectories, num_levels=levels, seed=seed)


def lhs_sample(problem: Mapping[str, Any], n: int, seed: int) -> np.ndarray:
    """A Latin hypercube of ``n`` rows in the bounds (``SALib.sample.latin.sample``).

    Useful for scenario discovery and sweeps. The same seed gives the same design.
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"lhs_sample: n must be positive, got {n}")
    return latin_sample.sample(_copy(problem), n, seed=seed)


# --- outputs ------------------------------------------------------------------------------------

def average_replications(values: np.ndarray) -> np.ndarray:
    """The mean over replications of outputs shaped (samples, replications).

    The sensitivity measures are computed on this mean, one value per design row. NaN entries
    (failed runs) are skipped: a row's mean is over its finite replications, and a row whose
    replications all failed is NaN (which the analysers below reject with a clear error). A
    1-D array is taken as one replication per row and returned as a float copy.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        return arr.copy()
    if arr.ndim != 2:
        raise ValueError(f"average_replications: expected (samples, replications), "
                         f"got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError("average_replications: no replications")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows -> NaN, quietly
        return np.nanmean(arr, axis=1)


def _outputs(y: np.ndarray, rows: int | None, what: str) -> np.ndarray:
    """y as a finite 1-D float array (2-D is averaged over replications first)."""
    out = average_replications(y)
    if rows is not None and out.shape[0] != rows:
        raise ValueError(f"{what}: {out.shape[0]} outputs for {rows} design rows")
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        shown = ", ".join(map(str, bad[:8])) + (", ..." if bad.size > 8 else "")
        raise ValueError(f"{what}: outputs of {bad.size} design row(s) are missing or not "
                         f"finite (rows {shown}); every row needs at least one successful run")
    return out


# --- sensitivity indices -------------------------------------------------------------------------

def sobol_indices(problem: Mapping[str, Any], y: np.ndarray, *, second_order: bool, seed: int,
                  confidence: float = 0.95, resamples: int = 1000
                  ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Sobol' indices of the outputs of a ``sobol_sample`` design (``SALib.analyze.sobol``).

    ``y`` holds one output per design row, in design order, or (rows, replications), which is
    averaged over replications first. ``second_order`` must be the value used for sampling, and
    the design's base size n a power of 2 (as ``sobol_sample`` makes it).

    Returns ``(first, second)``:

    - ``first``: one row per factor in problem order, columns ``factor``, ``S1``, ``S1_conf``,
      ``ST``, ``ST_conf``;
    - ``second``: with ``second_order``, one row per pair of factors (a before b in problem
      order), columns ``factor_a``, ``factor_b``, ``S2``, ``S2_conf``; otherwise ``None``.

    A ``*_conf`` column is the half-width of the ``confidence`` interval SALib gives: z times
    the standard deviation of the index over ``resamples`` bootstrap resamples of the base
    sample (the estimate ± conf). The bootstrap uses ``seed``, so the same inputs give the same
    tables. Estimates are not clipped: small negative values are sampling noise around 0.
    Raises ``ValueError`` when the length does not fit the design, when an output is missing,
    or when the output is constant (the indices are then undefined).
    """
    prob = _copy(problem)
    d = int(prob["num_vars"])
    names = list(prob["names"])
    out = _outputs(y, None, "sobol_indices")
    block = 2 * d + 2 if second_order else d + 2
    base = out.size // block
    if out.size % block or base < 2 or base & (base - 1):
        # sobol_sample's n is a power of 2, which also tells the two layouts apart (a plain
        # multiple does not: 320 rows is 64 x (3 + 2) and 40 x (2 x 3 + 2)).
        raise ValueError(f"sobol_indices: {out.size} outputs is not n x {block} "
                         f"({'2D + 2' if second_order else 'D + 2'} with D = {d}) for n a power "
                         f"of 2; was the design drawn by sobol_sample with "
                         f"second_order={second_order}?")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"sobol_indices: confidence must be in (0, 1), got {confidence}")
    if np.ptp(out) <= np.finfo(float).eps * max(1.0, float(np.abs(out).max())):
        raise ValueError("sobol_indices: the output is constant over the design; its Sobol' "
                         "indices are undefined")
    # A Generator, not the int: SALib's `if seed:` would ignore seed 0 and use global state.
    si = sobol_analyze.analyze(prob, out, calc_second_order=second_order,
                               num_resamples=int(resamples), conf_level=confidence,
                               seed=np.random.default_rng(seed))
    first = pd.DataFrame({
        "factor": names,
        "S1": np.asarray(si["S1"], dtype=float),
        "S1_conf": np.asarray(si["S1_conf"], dtype=float),
        "ST": np.asarray(si["ST"], dtype=float),
        "ST_conf": np.asarray(si["ST_conf"], dtype=float),
    })
    if not second_order:
        return first, None
    s2, s2_conf = np.asarray(si["S2"], dtype=float), np.asarray(si["S2_conf"], dtype=float)
    pairs = [(j, k) for j in range(d) for k in range(j + 1, d)]
    second = pd.DataFrame({
        "factor_a": [names[j] for j, _ in pairs],
        "factor_b": [names[k] for _, k in pairs],
        "S2": [s2[j, k] for j, k in pairs],
        "S2_conf": [s2_conf[j, k] for j, k in pairs],
    }, columns=list(SOBOL2_COLUMNS))
    second[["S2", "S2_conf"]] = second[["S2", "S2_conf"]].astype(float)
    return first, second


def morris_indices(problem: Mapping[str, Any], x: np.ndarray, y: np.ndarray, *, levels: int,
                   seed: int, confidence: float = 0.95, resamples: int = 1000) -> pd.DataFrame:
    """Morris screening measures of a ``morris_sample`` design (``SALib.analyze.morris``).

    ``x`` is the design exactly as sampled (rows in trajectory order), ``y`` one output per row,
    or (rows, replications), averaged over replications first; ``levels`` as used for sampling.

    Returns one row per factor in problem order, columns ``factor``, ``mu`` (mean elementary
    effect), ``mu_star`` (mean absolute elementary effect: the importance ranking),
    ``mu_star_conf`` (half-width of the bootstrap ``confidence`` interval of ``mu_star``,
    ``resamples`` resamples drawn with ``seed``) and ``sigma`` (standard deviation of the
    elementary effects: interactions or non-linearity). Elementary effects are output changes
    per whole factor range (SALib measures the step in the unit-scaled space), so factors with
    different units compare directly: y = 10 x1 with x1 on [0, 2] gives mu_star = 20.
    """
    prob = _copy(problem)
    d = int(prob["num_vars"])
    xs = np.asarray(x, dtype=float)
    if xs.ndim != 2 or xs.shape[1] != d:
        raise ValueError(f"morris_indices: x must have shape (rows, {d}), got {xs.shape}")
    if xs.shape[0] == 0 or xs.shape[0] % (d + 1):
        raise ValueError(f"morris_indices: {xs.shape[0]} rows is not a whole number of "
                         f"trajectories of D + 1 = {d + 1} rows")
    if xs.shape[0] // (d + 1) < 2:
        raise ValueError("morris_indices: need at least 2 trajectories")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"morris_indices: confidence must be in (0, 1), got {confidence}")
    out = _outputs(y, xs.shape[0], "morris_indices")
    si = morris_analyze.analyze(prob, xs, out, num_resamples=int(resamples),
                                conf_level=confidence, num_levels=int(levels), seed=seed)
    return pd.DataFrame({
        "factor": list(prob["names"]),
        "mu": np.ma.filled(np.ma.asarray(si["mu"], dtype=float), np.nan),
        "mu_star": np.ma.filled(np.ma.asarray(si["mu_star"], dtype=float), np.nan),
        "mu_star_conf": np.ma.filled(np.ma.asarray(si["mu_star_conf"], dtype=float), np.nan),
        "sigma": np.ma.filled(np.ma.asarray(si["sigma"], dtype=float), np.nan),
    })


# --- scenario discovery -------------------------------------------------------------------------

def _number(value: float) -> str:
    """A threshold as short text: 4 significant digits, positional unless tiny."""
    if value != 0.0 and abs(value) < 1e-4:
        return f"{value:.3e}"
    return np.format_float_positional(value, precision=4, unique=True, fractional=False,
                                      trim="-")


def rule_text(bounds: Mapping[str, tuple[float, float]]) -> str:
    """Human-readable box: ``"x1 > 0.6 and x2 <= 0.3"``; ``"0.2 < x1 <= 0.6"`` for two sides.

    Lower bounds are exclusive and upper bounds inclusive, as in the decision tree; numbers are
    rounded to 4 significant digits (``bounds`` keeps the exact values). An empty box is the
    whole factor space, ``"all cases"``.
    """
    parts = []
    for name, (low, high) in bounds.items():
        has_low, has_high = math.isfinite(low), math.isfinite(high)
        if has_low and has_high:
            parts.append(f"{_number(low)} < {name} <= {_number(high)}")
        elif has_low:
            parts.append(f"{name} > {_number(low)}")
        elif has_high:
            parts.append(f"{name} <= {_number(high)}")
    return " and ".join(parts) if parts else "all cases"


def box_text(bounds: Mapping[str, Sequence[float | None]] | None) -> str:
    """A box for people: ``{'founder_rate': (0.006222, inf)}`` -> "founder_rate > 0.00622";
    "0.2 < x ≤ 0.6" for two sides; numbers to 3 significant digits
    (``formatting.format_number``). An open side may be ``inf`` or ``None`` (as JSON keeps
    it); no bound at all is "all cases"."""
    from .formatting import format_number

    parts = []
    for name, (low, high) in (bounds or {}).items():
        lo = None if low is None or not math.isfinite(float(low)) else float(low)
        hi = None if high is None or not math.isfinite(float(high)) else float(high)
        if lo is not None and hi is not None:
            parts.append(f"{format_number(lo)} < {name} ≤ {format_number(hi)}")
        elif lo is not None:
            parts.append(f"{name} > {format_number(lo)}")
        elif hi is not None:
            parts.append(f"{name} ≤ {format_number(hi)}")
    return " and ".join(parts) if parts else "all cases"


def box_mask(x: pd.DataFrame, bounds: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """Boolean mask of the rows of ``x`` inside a box ``{factor: (low, high)}``.

    A row is inside when ``low < x[factor] <= high`` for every factor of the box (use
    ``-inf``/``inf`` for an open side); factors not named are unconstrained.
    """
    mask = np.ones(len(x), dtype=bool)
    for name, (low, high) in bounds.items():
        if name not in x.columns:
            raise ValueError(f"box_mask: no column {name!r} in x")
        col = x[name].to_numpy(dtype=float)
        mask &= (col > low) & (col <= high)
    return mask


def discover(x: pd.DataFrame, y: np.ndarray, threshold: float, *, max_depth: int = 3,
             min_leaf: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Regions of the factor space where the output is above ``threshold``.

    Fits a shallow ``sklearn.tree.DecisionTreeClassifier`` (depth ``max_depth``, leaves of at
    least ``min_leaf`` of the cases if < 1, else that many cases; ``random_state=seed``) to the
    class ``y > threshold`` from the factor columns of ``x`` (numeric or boolean; encode
    categorical levers as numbers first). Each leaf the tree predicts "above" (most of its
    cases above) is a box, one row each, with columns:

    - ``rule``: the box as text, e.g. ``"share_edu_3_0 > 0.42 and matching_rate <= 0.61"``;
    - ``coverage``: share of all above-threshold cases that fall in the box;
    - ``density``: share of the cases in the box that are above the threshold;
    - ``n``: number of cases in the box;
    - ``bounds``: the box as ``{factor: (low, high)}`` with exact thresholds, for ``box_mask``.

    Rows are sorted by density, then coverage, both descending. Coverage, density and n are
    counted with ``box_mask`` on ``x``, so they can be checked. ``y`` may be (cases,
    replications), averaged over replications first. No case above gives an empty table; every
    case above gives the single box ``"all cases"``. ``attrs["base_rate"]`` is the share of all
    cases above the threshold (the density to beat).
    """
    if not isinstance(x, pd.DataFrame):
        raise TypeError("discover: x must be a DataFrame with one column per factor")
    if x.shape[1] == 0 or len(x) == 0:
        raise ValueError("discover: x has no columns or no rows")
    if not min_leaf > 0:
        raise ValueError(f"discover: min_leaf must be positive, got {min_leaf}")
    non_numeric = [str(c) for c in x.columns
                   if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))]
    if non_numeric:
        raise ValueError(f"discover: non-numeric factor column(s) {', '.join(non_numeric)}; "
                         "encode them as numbers first")
    features = x.astype(float)
    if not np.isfinite(features.to_numpy()).all():
        raise ValueError("discover: x has missing or non-finite values")
    out = _outputs(y, len(x), "discover")
    above = out > float(threshold)
    n_above = int(above.sum())
    base_rate = n_above / len(out)
    names = [str(c) for c in x.columns]

    rows: list[dict[str, Any]] = []
    if n_above:
        leaf: float | int = float(min_leaf) if min_leaf < 1 else int(min_leaf)
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf,
                                      random_state=seed)
        tree.fit(features.to_numpy(), above)
        for leaf_bounds in _above_leaves(tree, names):
            inside = box_mask(features, leaf_bounds)
            n_in = int(inside.sum())
            hits = int((inside & above).sum())
            rows.append({
                "rule": rule_text(leaf_bounds),
                "coverage": hits / n_above,
                "density": hits / n_in if n_in else float("nan"),
                "n": n_in,
                "bounds": leaf_bounds,
            })
    table = pd.DataFrame(rows, columns=list(DISCOVERY_COLUMNS))
    if not table.empty:
        table = (table.sort_values(["density", "coverage", "rule"],
                                   ascending=[False, False, True], kind="stable")
                 .reset_index(drop=True))
    table["n"] = table["n"].astype(int)
    table[["coverage", "density"]] = table[["coverage", "density"]].astype(float)
    table.attrs["threshold"] = float(threshold)
    table.attrs["base_rate"] = base_rate
    return table


def _above_leaves(tree: DecisionTreeClassifier, names: list[str]
                  ) -> list[dict[str, tuple[float, float]]]:
    """The boxes ``{factor: (low, high)}`` of the leaves that predict the class True."""
    t = tree.tree_
    true_col = list(tree.classes_).index(True) if True in tree.classes_ else None
    if true_col is None:
        return []
    boxes: list[dict[str, tuple[float, float]]] = []

    def walk(node: int, box: dict[str, tuple[float, float]]) -> None:
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            if int(np.argmax(t.value[node][0])) == true_col:
                boxes.append({n: box[n] for n in names if n in box})  # factor order
            return
        name, cut = names[t.feature[node]], float(t.threshold[node])
        low, high = box.get(name, (-math.inf, math.inf))
        walk(left, {**box, name: (low, min(high, cut))})
        walk(right, {**box, name: (max(low, cut), high)})

    walk(0, {})
    return boxes


# --- figure --------------------------------------------------------------------------------------

def _values(table: pd.DataFrame, column: str | None) -> np.ndarray | None:
    if column is None:
        return None
    if column not in table.columns:
        raise ValueError(f"ranked_bars: no column {column!r}; got "
                         f"{', '.join(map(str, table.columns))}")
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)


def _xlabel(columns: list[str]) -> str:
    if set(columns) <= _SOBOL_INDICES:
        return "Sobol' index (share of output variance)"
    if set(columns) <= _MORRIS_INDICES:
        return "Elementary effect (output change over the factor's range)"
    return " / ".join(_INDEX_LABELS.get(c, c) for c in columns)


def ranked_bars(table: pd.DataFrame, value: str, conf: str | None, title: str, *,
                secondary: str | None = None, secondary_conf: str | None = None,
                label: str = "factor") -> Figure:
    """Horizontal bars of ``value`` per factor, ranked: the largest on top.

    ``table`` has one row per factor (``label`` column, ``"factor"`` by default) such as the
    tables of ``sobol_indices`` or ``morris_indices``. ``conf`` names the column of half-widths
    drawn as error bars (± conf), or ``None``. ``secondary`` adds a second, lighter bar per
    factor just below the first (e.g. ``S1`` next to ``ST``, or ``sigma`` next to
    ``mu_star``), with error bars from ``secondary_conf``; the ranking is by ``value`` only.
    A value that is not a number gets an empty bar marked "n/a".

    The axes hold one bar (``ax.patches``) per factor, top to bottom in rank order, then the
    secondary bars in the same order; ``ax.get_yticklabels()`` are the factor names.
    """
    if label not in table.columns:
        raise ValueError(f"ranked_bars: no column {label!r}")
    if table.empty:
        raise ValueError("ranked_bars: empty table")
    main = _values(table, value)
    assert main is not None
    order = np.argsort(np.where(np.isnan(main), np.inf, -main), kind="stable")
    names = [str(v) for v in table[label].to_numpy()[order]]
    series = [(value, main[order], _values(table, conf), PRIMARY)]
    if secondary is not None:
        sec = _values(table, secondary)
        assert sec is not None
        series.append((secondary, sec[order], _values(table, secondary_conf), SECONDARY))
    n, k = len(names), len(series)
    height = 0.72 / k
    y = np.arange(n, dtype=float)

    fig = new_figure(8.0, 1.5 + 0.36 * n * (1 + 0.45 * (k - 1)))
    ax = fig.axes[0]
    extent_hi, extent_lo = 0.0, 0.0
    ends: list[tuple[float, float, float, bool]] = []
    for i, (column, vals, errs, colour) in enumerate(series):
        finite = np.isfinite(vals)
        widths = np.where(finite, vals, 0.0)
        pos = y + (i - (k - 1) / 2) * height
        ax.barh(pos, widths, height=height * 0.92, color=colour, zorder=2,
                label=_INDEX_LABELS.get(column, column))
        half = np.zeros(n)
        if errs is not None:
            half = np.nan_to_num(errs[order], nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
            half[~finite] = 0.0
            if half.any():
                ax.errorbar(widths, pos, xerr=half, fmt="none", ecolor="0.15",
                            elinewidth=1.0, capsize=2.5, zorder=3)
        extent_hi = max(extent_hi, float((widths + half).max()))
        extent_lo = min(extent_lo, float((widths - half).min()))
        ends += [(float(w + h if w >= 0 else w - h), float(p), float(w), bool(f))
                 for w, h, p, f in zip(widths, half, pos, finite, strict=True)]
    span = max(extent_hi - extent_lo, 1e-12)
    decimals = max(0, 2 - math.floor(math.log10(span)))  # same decimals on every label
    for end, pos, width, finite in ends:
        right = width >= 0
        shown = 0.0 if abs(width) < 1e-9 * span else width  # floating-point noise -> 0
        ax.annotate(f"{shown:.{decimals}f}" if finite else "n/a", (end if finite else 0.0, pos),
                    xytext=(3 if right else -3, 0), textcoords="offset points",
                    ha="left" if right else "right", va="center", fontsize=7.5, color="0.25")
    ax.axvline(0.0, color="0.2", linewidth=1.0, zorder=1)
    ax.set_yticks(y, names)
    ax.invert_yaxis()  # rank 1 on top
    ax.set_xlim(extent_lo - (0.12 * span if extent_lo < 0 else 0.0), extent_hi + 0.14 * span)
    ax.set_xlabel(_xlabel([value] + ([secondary] if secondary else [])))
    ax.set_ylabel("Factor")
    ax.set_title(title, fontweight="bold")
    ax.grid(True, axis="x", color="0.9", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    handles = [Patch(color=c, label=_INDEX_LABELS.get(col, col)) for col, _, _, c in series]
    texts = [h.get_label() for h in handles]
    if conf is not None or secondary_conf is not None:
        texts[0] += " ± conf. interval" if conf is not None else ""
        if k > 1 and secondary_conf is not None:
            texts[1] += " ± conf. interval"
    ax.legend(handles, texts, loc="lower right", fontsize=8, frameon=False)
    return fig
