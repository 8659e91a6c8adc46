"""The dividend and comparisons under parameter uncertainty (``--uncertainty N``).

Seed noise is not the only uncertainty of a simulated dividend: most effect sizes are
assumptions with a plausible range (``simulation.priors``). This module draws N parameter sets
from the priors and runs each as the command would run the defaults, on common seeds:

- **Design.** N points of a scrambled Sobol' sequence (N a power of 2) or a Latin hypercube
  (otherwise) in the unit cube of the uncertain parameters (``scipy.stats.qmc``, scrambled with
  a stream of the root seed that no replication uses), mapped to parameter values by each
  prior's quantile function. Parameters a posterior file gives (``--posterior``: one column per
  parameter plus ``weight``) take their values jointly from N rows resampled by weight
  (systematic resampling, deterministic by seed), replacing their priors. A parameter that a
  scenario sets in ``[parameters]`` is fixed by that scenario; its ``[priors]`` table narrows or
  widens a prior.
- **Runs.** Every draw runs on the same S replications (common random numbers across draws and
  arms): ``dividend`` runs the scenario and its siloed counterfactual (2 N S runs); ``compare``
  runs each scenario (K N S runs, the same uniform numbers mapped by each scenario's priors);
  ``--attribution`` adds, per draw, one random ordering of the five channels opened one by one
  (5 more configurations: all closed, then one, two, three, four channels open; all open is the
  scenario itself), whose marginal contributions are an unbiased estimate of that draw's Shapley
  values (the mean of marginal contributions over uniformly random orderings is the Shapley
  value): 7 N S runs instead of 33 N S.
- **Analysis.** Per draw the dividend is the mean over seeds of the paired differences. Across
  draws: median, 50% and 90% intervals and P(D > 0) of D(W) and of each component; seed noise
  (the within-draw variance of one run's dividend) against parameter uncertainty (the
  between-draw variance less its seed part: a one-way random-effects split); which parameters
  decide it (Spearman rank correlations and a random forest's permutation importance over the
  draws); and scenario-discovery boxes where D < 0 (``experiments.sensitivity.discover``).
  ``compare`` reports P(A beats B) for every pair, the share of draws in which each option ranks
  first, and each option's expected regret (the mean shortfall of its W from the best option's
  in the same draw).
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from simulation.parameters import CHANNELS, PARAMETERS, ParameterError, resolve
from simulation.priors import Prior, table
from simulation.scenarios import Scenario, ScenarioError, load

from . import report
from .analysis import COMPONENTS
from .executive_summary import uncertainty_summary
from .formatting import format_number, format_percent, parameter_label
from .runner import Progress, RunSet, RunSpec, run_many
from .scenario_reports import uncertainty_people_table
from .seeding import AUXILIARY_STREAM, ROOT_SEED
from .storage import write_parquet

HEADLINE = "welfare"
# Sub-streams of the auxiliary stream: the design, the posterior resampling, the channel
# orderings and the random forest each draw from their own.
_DESIGN, _RESAMPLE, _ORDERS, _FOREST = 1, 2, 3, 4
TOP_DRIVERS = 10


class UncertaintyError(ScenarioError):
    """A bad input of an uncertainty run (the posterior file, the number of draws): one line
    ``file: key: what is wrong``; a ScenarioError, so every front door reports it as one."""


def _rng(root_seed: int, what: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(root_seed,
                                                        spawn_key=(AUXILIARY_STREAM, what)))


# --- posterior -----------------------------------------------------------------------------------

def read_posterior(path: str | Path) -> pd.DataFrame:
    """Weighted posterior samples: one column per parameter plus ``weight`` (normalised to sum
    to 1). Every value is checked against its parameter's valid range. Raises
    UncertaintyError naming the file and the column."""
    path = Path(path)
    if not path.is_file():
        raise UncertaintyError(path, "", "file not found" if not path.exists()
                               else "not a file")
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise UncertaintyError(path, "", f"not a Parquet table ({type(err).__name__})") from None
    if "weight" not in df.columns:
        raise UncertaintyError(path, "weight", "missing: a posterior has one column per "
                                               "parameter plus weight")
    weight = pd.to_numeric(df["weight"], errors="coerce").to_numpy(dtype=float)
    if len(weight) == 0 or not np.isfinite(weight).all() or (weight < 0).any() \
            or weight.sum() <= 0:
        raise UncertaintyError(path, "weight", "expected finite weights >= 0 with a positive "
                                               "sum")
    names = [str(c) for c in df.columns if c != "weight"]
    if not names:
        raise UncertaintyError(path, "", "no parameter columns besides weight")
    for name in names:
        p = PARAMETERS.get(name)
        if p is None:
            hint = difflib.get_close_matches(name, PARAMETERS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise UncertaintyError(path, name, f"unknown parameter{extra}")
        if p.kind not in ("int", "float"):
            raise UncertaintyError(path, name, f"not a numeric parameter ({p.kind})")
        x = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        if p.low is not None:
            bad |= x < p.low
        if p.high is not None:
            bad |= x > p.high
        if bad.any():
            row = int(np.argmax(bad))
            raise UncertaintyError(path, name, f"row {row}: {x[row]!r} is outside the valid "
                                               f"range {p.range_text()} ({p.unit})")
    out = df[names].astype(float).reset_index(drop=True)
    out["weight"] = weight / weight.sum()
    return out


def resample(posterior: pd.DataFrame, n: int, root_seed: int) -> pd.DataFrame:
    """``n`` rows of the posterior drawn by weight (systematic resampling, then shuffled so the
    draw order says nothing about the file's order); deterministic for a root seed."""
    rng = _rng(root_seed, _RESAMPLE)
    cum = np.cumsum(posterior["weight"].to_numpy(dtype=float))
    cum[-1] = 1.0
    positions = (rng.random() + np.arange(n)) / n
    rows = np.searchsorted(cum, positions, side="right").clip(max=len(cum) - 1)
    rows = rows[rng.permutation(n)]
    return posterior.drop(columns="weight").iloc[rows].reset_index(drop=True)


# --- the design ----------------------------------------------------------------------------------

def scenario_priors(sc: Scenario, exclude: Sequence[str] = ()) -> dict[str, Prior]:
    """The priors a scenario's draws use: the table's, less what the scenario fixes in
    ``[parameters]``, with its ``[priors]`` on top; ``exclude`` (posterior parameters) left out."""
    priors = {n: p for n, p in table().items() if n not in sc.overrides}
    priors.update(sc.priors)
    for name in exclude:
        priors.pop(name, None)
    return priors


def unit_design(n: int, d: int, root_seed: int) -> tuple[np.ndarray, str]:
    """(n x d points in [0, 1), method): scrambled Sobol' when n is a power of 2 (balanced),
    else a Latin hypercube; scrambled with the root seed's design stream."""
    from scipy.stats import qmc

    if d == 0:
        return np.zeros((n, 0)), "none"
    rng = _rng(root_seed, _DESIGN)
    if n >= 2 and n & (n - 1) == 0:
        return qmc.Sobol(d, scramble=True, seed=rng).random(n), "scrambled Sobol'"
    return qmc.LatinHypercube(d, seed=rng).random(n), "Latin hypercube"


@dataclass(frozen=True)
class Design:
    """N parameter draws, as uniform numbers per uncertain parameter and as values per
    scenario."""

    names: tuple[str, ...]  # parameters with a prior in at least one scenario (columns of u)
    u: np.ndarray  # (draws, len(names))
    posterior: pd.DataFrame | None  # (draws, posterior parameters), resampled
    priors: tuple[dict[str, Prior], ...]  # per scenario
    method: str
    orders: np.ndarray | None  # (draws, channels): the channel ordering of each draw

    @property
    def draws(self) -> int:
        return int(self.u.shape[0])

    def values(self, k: int, sc: Scenario) -> list[dict[str, Any]]:
        """The parameter values of every draw for scenario ``k`` (``sc``)."""
        out: list[dict[str, Any]] = [{} for _ in range(self.draws)]
        for col, name in enumerate(self.names):
            prior = self.priors[k].get(name)
            if prior is None:
                continue
            for i, v in enumerate(prior.values(self.u[:, col], default=sc.parameters[name])):
                out[i][name] = v
        if self.posterior is not None:
            for name in self.posterior.columns:
                if name in sc.overrides:
                    continue
                integer = PARAMETERS[name].kind == "int"
                for i, v in enumerate(self.posterior[name].to_numpy()):
                    out[i][name] = round(float(v)) if integer else float(v)
        return out

    def frame(self, k: int = 0) -> pd.DataFrame:
        """One row per draw, one column per uncertain parameter of scenario ``k``: its value,
        or for a vector its scale factor (what the analysis of drivers reads)."""
        cols: dict[str, Any] = {"draw": np.arange(self.draws)}
        for col, name in enumerate(self.names):
            prior = self.priors[k].get(name)
            if prior is not None:
                x = prior.distribution.ppf(self.u[:, col])
                cols[name] = np.round(x) if PARAMETERS[name].kind == "int" else x
        if self.posterior is not None:
            for name in self.posterior.columns:
                cols[name] = self.posterior[name].to_numpy(dtype=float)
        return pd.DataFrame(cols)


def make_design(scenarios: Sequence[Scenario], draws: int, root_seed: int, *,
                posterior: pd.DataFrame | None = None, attribution: bool = False,
                fixed: Sequence[str] = ()) -> Design:
    """The design of ``draws`` draws shared by every scenario (common uniform numbers);
    ``fixed`` parameters (set by the caller, e.g. the dashboard's levers) are not drawn."""
    post = resample(posterior, draws, root_seed) if posterior is not None else None
    if post is not None:
        post = post.drop(columns=[c for c in post.columns if c in fixed])
    exclude = [*fixed, *(post.columns if post is not None else [])]
    priors = tuple(scenario_priors(sc, exclude) for sc in scenarios)
    order = list(table())
    names = tuple(dict.fromkeys([n for n in order if any(n in p for p in priors)]
                                + [n for p in priors for n in p]))
    u, method = unit_design(draws, len(names), root_seed)
    if post is not None:
        method += f" and {len(post.columns)} parameter(s) resampled from the posterior"
    orders = None
    if attribution:
        rng = _rng(root_seed, _ORDERS)
        orders = np.array([rng.permutation(len(CHANNELS)) for _ in range(draws)])
    return Design(names, u, post, priors, method, orders)


# --- the plan: runs before they run --------------------------------------------------------------

def channel_code(open_: Sequence[bool]) -> str:
    return "".join("1" if c else "0" for c in open_)


@dataclass
class Plan:
    """Every run of an uncertainty command, known before anything runs (``--dry-run``)."""

    command: str  # "dividend" or "compare"
    scenarios: list[Scenario]
    design: Design
    seeds: int
    horizon: int
    root_seed: int
    specs: list[RunSpec]
    index: pd.DataFrame  # label -> scenario, draw, arm, config

    @property
    def runs(self) -> int:
        return len({s.run_id for s in self.specs})

    def describe(self) -> str:
        n, s = self.design.draws, self.seeds
        if self.command == "compare":
            what = f"{len(self.scenarios)} scenarios"
        else:
            what = ("2 configurations (scenario, siloed)" if self.design.orders is None else
                    f"{len(CHANNELS) + 2} configurations (scenario, siloed, and {len(CHANNELS)} "
                    "more along one random channel ordering; all open is the scenario)")
        return (f"{n} parameter draws x {s} seeds x {what} = {self.runs:,} runs of "
                f"{self.horizon} months ({len(self.design.names)} uncertain parameters; "
                f"{self.design.method})")


def _check_draws(draws: int, seeds: int) -> None:
    if not isinstance(draws, int) or draws < 1:
        raise UncertaintyError("--uncertainty", "", f"expected a number of draws >= 1, got "
                                                    f"{draws!r}")
    if not isinstance(seeds, int) or seeds < 1:
        raise UncertaintyError("--seeds", "", f"expected a number of seeds >= 1, got {seeds!r}")


def _horizon(scenarios: Sequence[Scenario], months: int | None) -> int:
    horizon = int(months if months is not None else scenarios[0].horizon)
    for sc in scenarios:
        try:
            resolve({**sc.overrides, "horizon_months": horizon})
        except ParameterError as err:
            raise ScenarioError(sc.path or sc.name, err.key or "horizon_months",
                                f"with --months {horizon}: {err.reason or err}") from None
    return horizon


def _checked_params(sc: Scenario, params: dict[str, Any], draw: int) -> dict[str, Any]:
    try:
        resolve({**params})
    except ParameterError as err:  # a prior's draw breaks a joint constraint of the scenario
        raise ScenarioError(sc.path or sc.name, f"priors.{err.key}" if err.key else "priors",
                            f"draw {draw}: {err.reason or err}") from None
    return params


def plan_dividend(name: str, *, draws: int, seeds: int, root_seed: int = ROOT_SEED,
                  months: int | None = None, attribution: bool = False,
                  posterior: str | Path | None = None,
                  changes: dict[str, Any] | None = None) -> Plan:
    """The runs of ``dividend NAME --uncertainty draws``; validates everything, runs nothing.

    ``changes`` are parameters set on top of the scenario's in every run (the dashboard's
    levers); like the scenario's own, they are fixed, not drawn."""
    _check_draws(draws, seeds)
    sc = load(name)
    changes = dict(changes or {})
    horizon = _horizon([sc], months)
    post = read_posterior(posterior) if posterior is not None else None
    design = make_design([sc], draws, root_seed, posterior=post, attribution=attribution,
                         fixed=list(changes))
    specs, rows = [], []
    for i, drawn in enumerate(design.values(0, sc)):
        vals = {**drawn, **changes}
        arms: list[tuple[str, str, dict[str, Any]]] = [
            (f"{sc.name} #{i}", "scenario", {}), (f"{sc.name} #{i} (siloed)", "siloed",
                                                  {"siloed": True})]
        if design.orders is not None:
            # All open is usually the scenario itself: the runner runs such a spec once.
            opened = [False] * len(CHANNELS)
            arms.append((f"{sc.name} #{i} [{channel_code(opened)}]", "config", _switches(opened)))
            for c in design.orders[i]:
                opened[c] = True
                arms.append((f"{sc.name} #{i} [{channel_code(opened)}]", "config",
                             _switches(opened)))
        for label, arm, extra in arms:
            params = _checked_params(sc, sc.model_kwargs(**vals, **extra), i)
            specs += [RunSpec(label, params, j, root_seed, horizon) for j in range(seeds)]
            rows.append({"label": label, "scenario": sc.name, "draw": i, "arm": arm,
                         "config": label.rsplit("[", 1)[-1].rstrip("]") if arm == "config"
                         else ""})
    return Plan("dividend", [sc], design, seeds, horizon, root_seed, specs, pd.DataFrame(rows))


def _switches(opened: Sequence[bool]) -> dict[str, bool]:
    return {f"channel_{ch}": bool(on) for ch, on in zip(CHANNELS, opened, strict=True)}


def plan_compare(names: Sequence[str], *, draws: int, seeds: int, root_seed: int = ROOT_SEED,
                 months: int | None = None, posterior: str | Path | None = None) -> Plan:
    """The runs of ``compare A B ... --uncertainty draws``; validates everything."""
    _check_draws(draws, seeds)
    scenarios = [load(n) for n in names]
    if len({sc.name for sc in scenarios}) != len(scenarios):
        raise ScenarioError(names[0], "", "each scenario may be named only once in a comparison")
    horizon = _horizon(scenarios, months)
    post = read_posterior(posterior) if posterior is not None else None
    design = make_design(scenarios, draws, root_seed, posterior=post)
    specs, rows = [], []
    for k, sc in enumerate(scenarios):
        for i, vals in enumerate(design.values(k, sc)):
            label = f"{sc.name} #{i}"
            params = _checked_params(sc, sc.model_kwargs(**vals), i)
            specs += [RunSpec(label, params, j, root_seed, horizon) for j in range(seeds)]
            rows.append({"label": label, "scenario": sc.name, "draw": i, "arm": "scenario",
                         "config": ""})
    return Plan("compare", scenarios, design, seeds, horizon, root_seed, specs,
                pd.DataFrame(rows))


# --- statistics over draws (pure functions of arrays) ------------------------------------------

def spread(x: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Median, 50% and 90% intervals (quantiles over draws), mean and P(x > 0)."""
    a = np.asarray(x, dtype=float)
    q = np.quantile(a, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(a) else [math.nan] * 5
    return {"median": float(q[2]), "p25": float(q[1]), "p75": float(q[3]),
            "p05": float(q[0]), "p95": float(q[4]), "mean": float(a.mean()) if len(a)
            else math.nan, "p_positive": float((a > 0).mean()) if len(a) else math.nan}


def variance_split(d: np.ndarray) -> dict[str, float]:
    """Seed noise against parameter uncertainty of one run's value ``d`` (draws x seeds).

    ``seed_var`` is the mean within-draw variance; ``parameter_var`` the variance of the draw
    means less its seed part (seed_var / seeds), floored at 0 (one-way random effects, method of
    moments); ``parameter_share`` = parameter_var / (parameter_var + seed_var). With one seed
    per draw the two cannot be told apart (nan)."""
    d = np.asarray(d, dtype=float)
    n, s = d.shape
    means = d.mean(axis=1)
    between = float(means.var(ddof=1)) if n > 1 else math.nan
    if s < 2:
        return {"seed_sd": math.nan, "parameter_sd": math.nan, "parameter_share": math.nan,
                "draw_mean_sd": math.sqrt(between) if n > 1 else math.nan,
                "seed_sd_of_draw_mean": math.nan, "seeds": s, "draws": n}
    within = float(d.var(axis=1, ddof=1).mean())
    param = max(between - within / s, 0.0) if n > 1 else math.nan
    total = param + within
    return {"seed_sd": math.sqrt(within), "parameter_sd": math.sqrt(param),
            "parameter_share": param / total if total > 0 else math.nan,
            "draw_mean_sd": math.sqrt(between) if n > 1 else math.nan,
            "seed_sd_of_draw_mean": math.sqrt(within / s), "seeds": s, "draws": n}


def dominance_text(split: dict[str, float], what: str = "D(W)") -> str:
    """The variance split in plain words."""
    share = split["parameter_share"]
    if not math.isfinite(share):
        return (f"With one seed per draw, seed noise and parameter uncertainty of {what} "
                "cannot be told apart: run with --seeds 2 or more.")
    which = ("Parameter uncertainty dominates" if share > 0.5
             else "Seed noise dominates")
    return (f"**{which}**: across parameter draws {what} varies with a standard deviation of "
            f"{split['parameter_sd']:,.4g} (the parameters' part), against {split['seed_sd']:,.4g}"
            f" from seed to seed within a draw; the parameters account for {share:.0%} of the "
            f"variance of one run's {what}. Each draw's mean over its {split['seeds']} seeds "
            f"still carries seed noise of about {split['seed_sd_of_draw_mean']:,.4g}.")


def drivers(x: pd.DataFrame, y: np.ndarray, root_seed: int, priors: dict[str, Prior]
            ) -> pd.DataFrame:
    """Which parameters decide ``y`` over the draws: Spearman rank correlation and a random
    forest's permutation importance (share of the total), sorted by |rank correlation|."""
    from scipy.stats import spearmanr
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    cols = [c for c in x.columns if c != "draw" and np.ptp(x[c].to_numpy(dtype=float)) > 0]
    y = np.asarray(y, dtype=float)
    if len(y) < 4 or not cols or np.ptp(y) == 0:
        return pd.DataFrame(columns=["parameter", "prior", "spearman", "importance",
                                     "direction"])
    X = x[cols].to_numpy(dtype=float)
    rho = [float(spearmanr(X[:, j], y).statistic) for j in range(len(cols))]
    seed = int(_rng(root_seed, _FOREST).integers(2**31 - 1))
    forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=seed,
                                   n_jobs=1).fit(X, y)
    perm = permutation_importance(forest, X, y, n_repeats=5, random_state=seed, n_jobs=1)
    imp = np.clip(perm.importances_mean, 0.0, None)
    share = imp / imp.sum() if imp.sum() > 0 else imp
    out = pd.DataFrame({"parameter": cols,
                        "prior": [priors[c].text() if c in priors else "posterior"
                                  for c in cols],
                        "spearman": rho, "importance": share,
                        "direction": ["rises with it" if r > 0 else "falls with it"
                                      for r in rho]})
    # Ranked by |rank correlation| (robust with few draws), the forest's importance breaking
    # ties; the forest also catches effects that are not monotone.
    key = out["spearman"].abs().round(6) + 1e-3 * out["importance"]
    return out.loc[key.sort_values(ascending=False).index].reset_index(drop=True)


def sign_boxes(x: pd.DataFrame, y: np.ndarray, candidates: Sequence[str]) -> pd.DataFrame:
    """Boxes of the parameter space where y < 0 (scenario discovery on the draws)."""
    from .sensitivity import discover

    y = np.asarray(y, dtype=float)
    cols = [c for c in candidates if c in x.columns]
    if not cols or not (0 < (y < 0).sum() < len(y)):
        return pd.DataFrame(columns=["rule", "coverage", "density", "n", "bounds"])
    leaf = max(2, math.ceil(0.05 * len(y)))
    boxes = discover(x[cols], -y, 0.0, max_depth=2, min_leaf=leaf, seed=0)
    return boxes[boxes["density"] > (y < 0).mean()].reset_index(drop=True)


def sign_text(boxes: pd.DataFrame, y: np.ndarray, what: str = "D(W)") -> str:
    y = np.asarray(y, dtype=float)
    neg = int((y < 0).sum())
    if neg == 0:
        return f"No draw gave {what} < 0: within these priors the sign does not change."
    if neg == len(y):
        return f"Every draw gave {what} < 0: within these priors the sign does not change."
    if boxes.empty:
        return (f"{neg} of {len(y)} draws gave {what} < 0, but no box of one or two parameters "
                "separates them from the others better than chance.")
    lines = [f"{neg} of {len(y)} draws gave {what} < 0. Where:"]
    for b in boxes.head(3).itertuples():
        lines.append(f"- **{what} < 0 when {b.rule}**: {b.density:.0%} of the {b.n} draws in "
                     f"this box have {what} < 0 (against {neg / len(y):.0%} of all draws); the "
                     f"box holds {b.coverage:.0%} of the draws with {what} < 0.")
    return "\n".join(lines)


def driver_text(table_: pd.DataFrame, what: str = "D(W)") -> str:
    if table_.empty:
        return f"Too few draws, or {what} did not vary, to say which parameters decide it."
    top = table_.head(3)
    parts = [f"`{r.parameter}` ({what} {r.direction}; rank correlation {r.spearman:+.2f}, "
             f"{r.importance:.0%} of the forest's importance)" for r in top.itertuples()]
    return (f"What decides {what} across the draws, strongest rank correlation first: "
            + "; ".join(parts)
            + ". With fewer draws than parameters these rankings are indicative: a parameter "
              "with a weak rank correlation may still matter jointly with others.")


def ranking(w: np.ndarray, names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(P(row beats column) matrix, per-option share ranked first and regret) from W per draw
    (draws x options). Ties split the first place."""
    w = np.asarray(w, dtype=float)
    k = w.shape[1]
    beats = np.array([[float((w[:, a] > w[:, b]).mean()) if a != b else math.nan
                       for b in range(k)] for a in range(k)])
    best = w.max(axis=1, keepdims=True)
    is_best = np.isclose(w, best, rtol=0, atol=0)
    first = (is_best / is_best.sum(axis=1, keepdims=True)).mean(axis=0)
    regret = best - w
    matrix = pd.DataFrame(beats, columns=list(names))
    matrix.insert(0, "P(row beats column)", list(names))
    options = pd.DataFrame({"scenario": list(names), "ranked_first": first,
                            "expected_regret": regret.mean(axis=0),
                            "p95_regret": np.quantile(regret, 0.95, axis=0),
                            "median_W": np.median(w, axis=0)})
    return matrix, options


def ordering_shapley(v: dict[str, np.ndarray], orders: np.ndarray) -> np.ndarray:
    """Per-draw Shapley estimates from one channel ordering each (draws x channels).

    ``v[code]`` is the outcome per draw of the configuration with channel code ``code`` (nan
    where a draw did not run it); along draw i's ordering, each channel gets the change of the
    outcome when it opens. Averaged over uniformly random orderings this is the Shapley value;
    one ordering gives an unbiased estimate per draw, and the contributions of a draw add up to
    v(all open) - v(all closed)."""
    n, m = orders.shape
    phi = np.zeros((n, m))
    for i in range(n):
        opened = [False] * m
        before = v[channel_code(opened)][i]
        for c in orders[i]:
            opened[c] = True
            after = v[channel_code(opened)][i]
            phi[i, c] = after - before
            before = after
    return phi


# --- running and reporting -----------------------------------------------------------------------

def _values_by(summary: pd.DataFrame, index: pd.DataFrame, indicators: Sequence[str]
               ) -> pd.DataFrame:
    cols = ["label", "replication", *indicators]
    return summary[cols].merge(index, on="label", how="inner")


def _draw_matrix(rows: pd.DataFrame, value: str, draws: int, seeds: int) -> np.ndarray:
    """(draws x seeds) of ``value`` (nan where a run is missing)."""
    m = np.full((draws, seeds), np.nan)
    m[rows["draw"].to_numpy(int), rows["replication"].to_numpy(int)] = rows[value].to_numpy(float)
    return m


def execute(plan: Plan, *, out: Path, workers: int | None = None,
            executor: Executor | None = None, progress: Progress | None = None,
            task: Callable[[RunSpec], Any] | None = None) -> RunSet:
    """Run the plan's specs through the one runner (resumable in ``out/runs``)."""
    runs = run_many(plan.specs, task=task, workers=workers, executor=executor, out_dir=out,
                    progress=progress)
    runs.raise_failures()
    return runs


def dividend(plan: Plan, runs: RunSet, *, out: Path, workers: int | None = None,
             started: float | None = None) -> dict[str, Any]:
    """Analyse and report a dividend plan's runs (see the module docstring)."""
    started = time.perf_counter() if started is None else started
    sc, design, n, s = plan.scenarios[0], plan.design, plan.design.draws, plan.seeds
    indicators = [c for c, _, _ in COMPONENTS if c in runs.summary.columns]
    vals = _values_by(runs.summary, plan.index, indicators)
    scen = vals[vals["arm"] == "scenario"].set_index(["draw", "replication"])[indicators]
    silo = vals[vals["arm"] == "siloed"].set_index(["draw", "replication"])[indicators]
    diff = (scen - silo).dropna()
    per_draw = diff.groupby(level="draw").mean()
    silo_mean = silo.groupby(level="draw").mean()
    rows = []
    for ind, helix, meaning in COMPONENTS:
        if ind not in per_draw.columns:
            continue
        rel = per_draw[ind] / silo_mean[ind].abs().replace(0, np.nan)
        rows.append({"component": meaning, "indicator": ind, "helix": helix,
                     **spread(per_draw[ind]),
                     "relative_median": float(rel.median()),
                     "relative_p05": float(rel.quantile(0.05)),
                     "relative_p95": float(rel.quantile(0.95))})
    dist = pd.DataFrame(rows)
    y = per_draw[HEADLINE].reindex(range(n)).to_numpy(float)
    d_matrix = diff[HEADLINE].unstack("replication").reindex(range(n)).to_numpy(float)
    split = variance_split(d_matrix)
    x = design.frame(0)
    drv = drivers(x, y, plan.root_seed, design.priors[0])
    boxes = sign_boxes(x, y, list(drv["parameter"].head(8)))
    head = dist.iloc[0]
    p = float(head["p_positive"])
    se = math.sqrt(p * (1 - p) / n)
    seed_se = np.nanstd(d_matrix, axis=1, ddof=1) / math.sqrt(s) if s > 1 else np.full(n, np.nan)
    unsettled = int(np.sum(np.abs(y) < 2 * seed_se)) if s > 1 else None

    draws_table = x.merge(per_draw.add_prefix("D_").reset_index(), on="draw", how="left")
    write_parquet(draws_table, out / "draws.parquet")
    write_parquet(runs.summary, out / "summary.parquet")

    headline = (f"Across **{n} parameter draws** ({s} paired seeds each), the dividend D(W) of "
                f"{sc.name} has median **{head['median']:,.0f} MCU**, 50% interval "
                f"[{head['p25']:,.0f}, {head['p75']:,.0f}] and 90% interval "
                f"[{head['p05']:,.0f}, {head['p95']:,.0f}]. **P(D > 0) = {p:.2f}** "
                + (f"(± {2 * se:.2f}, two Monte Carlo standard errors over the draws)."
                   if 0 < p < 1 else
                   f"(in all {n} draws; with {n} draws that bounds P(D {'<' if p else '>'}= 0) "
                   f"below {min(1.0, 3 / n):.2f} at 95% confidence, the rule of three)."))
    if unsettled is not None:
        headline += (f" In {unsettled} of the {n} draws the seeds alone do not settle the sign "
                     "(|D| below two standard errors of the draw's seed mean).")
    sections = [
        report.Section(
            f"The dividend of {sc.name} under parameter uncertainty",
            f"{sc.description}\n\n{headline}\n\nEach draw sets every uncertain parameter from "
            f"its prior ({len(design.names)} parameters; design: {design.method}) and runs the "
            "scenario and its siloed counterfactual on the same seeds. The intervals are spreads "
            "over draws (what we do not know about the model), not confidence intervals of a "
            "mean.",
            tables=[("The dividend by component: quantiles over draws of each draw's mean "
                     "paired difference", uncertainty_people_table(dist))],
            data=[("dividend_over_draws.csv", dist)],
            figures=[("dividend_draws.png", "D(W) across parameter draws",
                      histogram(y, "D(W) (MCU)", f"D(W) of {sc.name} across {n} draws")),
                     ("components_uncertainty.png", "Relative dividend by component: median, "
                      "50% (thick) and 90% (thin) of the draws", component_intervals(dist))]),
        report.Section("Seed noise or parameter uncertainty?", dominance_text(split),
                       tables=[("Variance of one run's D(W)", pd.DataFrame([split]))]),
        report.Section(
            "What decides the dividend and its sign",
            driver_text(drv) + "\n\n" + sign_text(boxes, y),
            tables=[(f"Uncertain parameters that decide D(W) (top {TOP_DRIVERS} by |rank "
                     "correlation|)",
                     drivers_people_table(drv.head(TOP_DRIVERS)))]
            + ([("Scenario discovery: boxes where D(W) < 0", boxes.drop(columns="bounds"))]
               if not boxes.empty else []),
            data=[("drivers.csv", drv)],
            figures=[("drivers.png", "Rank correlation of D(W) with each parameter (top "
                      f"{TOP_DRIVERS})", driver_bars(drv.head(TOP_DRIVERS)))]
            + ([("drivers_scatter.png", "D(W) against the most important parameters",
                 scatter(x, y, list(drv["parameter"].head(2))))] if len(drv) else [])),
        report.Section("The priors of this run", "Every uncertain parameter, its distribution "
                       "and where it comes from (the parameter table, the scenario's [priors], "
                       "or the posterior).",
                       tables=[("Priors", priors_people_table(priors_frame(design, 0)))],
                       data=[("priors.csv", priors_frame(design, 0))]),
    ]
    result: dict[str, Any] = {"scenario": sc.name, "draws": n, "seeds": s, "runs": plan.runs,
                              "p_positive": p, "p_positive_se": se,
                              "draws_dividend": [float(v) for v in y],
                              "dividend": dist.to_dict(orient="records"), "variance": split,
                              "drivers": drv.head(TOP_DRIVERS).to_dict(orient="records"),
                              "sign_boxes": boxes.drop(columns="bounds").to_dict(orient="records"),
                              "design": design.method}
    if design.orders is not None:
        shap, total = _attribution(vals, design, n)
        sections.append(report.Section(
            "Through which channel, under uncertainty",
            f"Shapley values of D over the five channels, one random channel ordering per draw "
            f"({len(CHANNELS) + 2} configurations per draw instead of 33): each draw's estimate "
            "is unbiased for its Shapley values and they add up to that draw's v(all open) - "
            "v(all closed). Their spread across draws mixes parameter uncertainty with the "
            "ordering's sampling noise; the mean over draws is an unbiased estimate of the "
            f"expected Shapley value (mean total {total:,.0f} MCU).",
            tables=[("Shapley values of W by channel across draws", shap)],
            figures=[("shapley_draws.png", "Shapley value per channel across draws",
                      shapley_boxes(vals, design, n))]))
        result["shapley"] = shap.to_dict(orient="records")
    meta = report.run_meta(f"{plan.command} --uncertainty {n}", s, workers, started,
                           kinds=runs.kinds, scenario=sc.name, root_seed=plan.root_seed,
                           runs=plan.runs, design=design.method)
    summary = uncertainty_summary(sc.name, draws=n, seeds=s, median=float(head["median"]),
                                  p05=float(head["p05"]), p95=float(head["p95"]),
                                  p_positive=p, top_driver=next(iter(drv["parameter"]), None))
    path = report.write_report(out, f"Ecological dividend of {sc.name} under uncertainty",
                               sections, meta, summary=summary.markdown())
    result.update(report=str(path), meta=meta)
    return result


def _config_values(vals: pd.DataFrame, design: Design, n: int) -> dict[str, np.ndarray]:
    """Seed-mean W per draw for every channel code the draws ran."""
    rows = vals[vals["arm"] == "config"]
    means = rows.groupby(["config", "draw"])[HEADLINE].mean()
    out: dict[str, np.ndarray] = {}
    for code in means.index.get_level_values(0).unique():
        out[code] = means.loc[code].reindex(range(n)).to_numpy(float)
    return out


def _attribution(vals: pd.DataFrame, design: Design, n: int) -> tuple[pd.DataFrame, float]:
    from .analysis import paired_interval

    phi = ordering_shapley(_config_values(vals, design, n), design.orders)
    total = phi.sum(axis=1)
    rows = []
    for c, ch in enumerate(CHANNELS):
        iv = paired_interval(phi[:, c])
        rows.append({"channel": ch, **spread(phi[:, c]), "mean_low": iv.low,
                     "mean_high": iv.high,
                     "share_of_mean": float(phi[:, c].mean() / total.mean())
                     if total.mean() != 0 else math.nan})
    return pd.DataFrame(rows), float(total.mean())


def compare(plan: Plan, runs: RunSet, *, out: Path, workers: int | None = None,
            started: float | None = None) -> dict[str, Any]:
    """Analyse and report a compare plan's runs: P(A beats B), first place, regret."""
    started = time.perf_counter() if started is None else started
    names = [sc.name for sc in plan.scenarios]
    n, s = plan.design.draws, plan.seeds
    vals = _values_by(runs.summary, plan.index, [HEADLINE])
    mats = {k: _draw_matrix(vals[vals["scenario"] == k], HEADLINE, n, s) for k in names}
    w = np.column_stack([mats[k].mean(axis=1) for k in names])
    matrix, options = ranking(w, names)
    base = names[0]
    diffs, splits = [], []
    for k in names[1:]:
        d = mats[k] - mats[base]
        diffs.append({"scenario": k, "against": base, **spread(d.mean(axis=1))})
        splits.append({"scenario": k, **variance_split(d)})
    diffs_t, splits_t = pd.DataFrame(diffs), pd.DataFrame(splits)
    x = plan.design.frame(0)
    best = options.sort_values("ranked_first", ascending=False).iloc[0]
    least = options.sort_values("expected_regret").iloc[0]
    text = (f"{len(names)} options on the same {n} parameter draws and {s} seeds each. "
            f"**{best['scenario']}** ranks first in {best['ranked_first']:.0%} of the draws; "
            f"the smallest expected regret (mean shortfall of W from the best option in the "
            f"same draw) is **{least['scenario']}**'s, {least['expected_regret']:,.0f} MCU.")
    sections = [report.Section("Which option, under parameter uncertainty", text,
                               tables=[("Ranking stability and regret", options),
                                       ("P(row beats column) across draws", matrix),
                                       (f"Difference of W against {base} across draws", diffs_t)],
                               figures=[("compare_draws.png", f"W minus W({base}) across draws",
                                         difference_boxes(mats, names))])]
    split_text = "\n\n".join(f"{r['scenario']} against {base}: " + dominance_text(
        r, "the difference of W") for r in splits)
    sections.append(report.Section("Seed noise or parameter uncertainty?", split_text,
                                   tables=[("Variance of one run's difference", splits_t)]))
    for k in names[1:]:
        y = mats[k].mean(axis=1) - mats[base].mean(axis=1)
        drv = drivers(x, y, plan.root_seed, plan.design.priors[0])
        boxes = sign_boxes(x, y, list(drv["parameter"].head(8)))
        sections.append(report.Section(
            f"What decides whether {k} beats {base}",
            driver_text(drv, f"W({k}) - W({base})") + "\n\n"
            + sign_text(boxes, y, f"W({k}) - W({base})"),
            tables=[("Drivers", drivers_people_table(drv.head(TOP_DRIVERS)))],
            data=[(f"drivers_{k}.csv", drv)]))
    sections.append(report.Section("The priors of this run", "", tables=[
        ("Priors (of the first scenario; the others differ only where their files say)",
         priors_people_table(priors_frame(plan.design, 0)))],
        data=[("priors.csv", priors_frame(plan.design, 0))]))
    write_parquet(x.assign(**{f"W_{k}": w[:, i] for i, k in enumerate(names)}),
                  out / "draws.parquet")
    write_parquet(runs.summary, out / "summary.parquet")
    meta = report.run_meta(f"compare --uncertainty {n}", s, workers, started,
                           kinds=runs.kinds, baseline=base, scenarios=names[1:],
                           root_seed=plan.root_seed, runs=plan.runs, design=plan.design.method)
    path = report.write_report(out, f"Compare under uncertainty: {', '.join(names)}",
                               sections, meta)
    return {"baseline": base, "draws": n, "seeds": s, "runs": plan.runs,
            "options": options.to_dict(orient="records"),
            "p_beats": matrix.to_dict(orient="records"),
            "differences": diffs_t.to_dict(orient="records"),
            "variance": splits_t.to_dict(orient="records"), "report": str(path), "meta": meta}


def drivers_people_table(drv: pd.DataFrame) -> pd.DataFrame:
    """``drivers`` for people: each parameter by its label with its unit, the raw name kept
    beside it (so it can be found in the parameter table and the CSV), numbers formatted."""
    return pd.DataFrame([{
        "Parameter (unit)": parameter_label(str(r["parameter"])),
        "Name": str(r["parameter"]), "Prior": r["prior"],
        "Rank correlation": format_number(r["spearman"], 2, signed=True),
        "Share of the forest's importance": format_percent(r["importance"]),
        "The output": r["direction"]} for _, r in drv.iterrows()],
        columns=["Parameter (unit)", "Name", "Prior", "Rank correlation",
                 "Share of the forest's importance", "The output"])


def priors_people_table(priors: pd.DataFrame) -> pd.DataFrame:
    """``priors_frame`` for people: label with unit, the raw name, the prior and its source."""
    return pd.DataFrame([{
        "Parameter (unit)": parameter_label(str(r["parameter"])), "Name": str(r["parameter"]),
        "Prior": r["prior"], "From": r["from"], "Source": r["source"]}
        for _, r in priors.iterrows()],
        columns=["Parameter (unit)", "Name", "Prior", "From", "Source"])


def priors_frame(design: Design, k: int) -> pd.DataFrame:
    rows = [{"parameter": name, "prior": p.text(), "from": p.origin, "source": p.source}
            for name, p in design.priors[k].items()]
    if design.posterior is not None:
        rows += [{"parameter": name, "prior": "weighted posterior samples", "from": "posterior",
                  "source": "--posterior"} for name in design.posterior.columns]
    return pd.DataFrame(rows)


# --- figures -------------------------------------------------------------------------------------

def histogram(y: np.ndarray, xlabel: str, title: str) -> Figure:
    fig = report.new_figure(7.5, 3.6)
    ax = fig.axes[0]
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    width = (max(y.max(), 0.0) - min(y.min(), 0.0)) / max(5, min(30, len(y) // 2)) if len(y) \
        else 1.0
    width = width or 1.0
    # 0 is a bin edge, so that no bar mixes negative and positive draws.
    edges = np.arange(math.floor(min(y.min(), 0.0) / width) if len(y) else 0,
                      (math.ceil(max(y.max(), 0.0) / width) if len(y) else 1) + 1) * width
    ax.hist(y[y <= 0], bins=edges, color=report.NEGATIVE, alpha=0.85, label="D <= 0")
    ax.hist(y[y > 0], bins=edges, color=report.POSITIVE, alpha=0.85, label="D > 0")
    ax.axvline(0.0, color="black", linewidth=1)
    if len(y):
        ax.axvline(float(np.median(y)), color=report.TOTAL, linestyle="--", linewidth=1.2,
                   label=f"median {np.median(y):,.0f}")
    style_title = f"{title}: P(D > 0) = {(y > 0).mean():.2f}" if len(y) else title
    report.style_axes(ax, xlabel, "draws", style_title)
    return fig


def component_intervals(dist: pd.DataFrame) -> Figure:
    rows = dist.iloc[::-1]
    fig = report.new_figure(7.5, 0.45 * len(rows) + 1.2)
    ax = fig.axes[0]
    colours = report.helix_colours(rows["helix"])
    yy = np.arange(len(rows))
    # Relative to the siloed mean: the components have different units.
    for i, r in enumerate(rows.itertuples()):
        c = colours[r.helix]
        rel = r.relative_median
        lo90, hi90 = r.relative_p05, r.relative_p95
        scale = r.median / rel if rel and math.isfinite(rel) and rel != 0 else math.nan
        lo50 = r.p25 / scale if math.isfinite(scale) else math.nan
        hi50 = r.p75 / scale if math.isfinite(scale) else math.nan
        ax.plot([lo90, hi90], [i, i], color=c, linewidth=1.5)
        ax.plot([lo50, hi50], [i, i], color=c, linewidth=5, alpha=0.8)
        ax.plot([rel], [i], "o", color="white", markeredgecolor=c)
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_yticks(yy, [report.pretty(i) for i in rows["indicator"]])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    report.style_axes(ax, "dividend relative to the siloed value", "",
                      "Each component across parameter draws", legend=None)
    return fig


def driver_bars(drv: pd.DataFrame) -> Figure:
    rows = drv.iloc[::-1]
    fig = report.new_figure(7.5, 0.4 * max(len(rows), 1) + 1.2)
    ax = fig.axes[0]
    colours = [report.POSITIVE if r > 0 else report.NEGATIVE for r in rows["spearman"]]
    ax.barh(np.arange(len(rows)), rows["spearman"], color=colours)
    ax.set_yticks(np.arange(len(rows)), list(rows["parameter"]))
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_xlim(-1, 1)
    report.style_axes(ax, "Spearman rank correlation with the output", "",
                      "What decides it", legend=None)
    return fig


def scatter(x: pd.DataFrame, y: np.ndarray, names: Sequence[str]) -> Figure:
    fig = Figure(figsize=(7.5, 3.4), dpi=report.DPI, layout="constrained")
    axes = fig.subplots(1, max(len(names), 1), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=False):
        col = x[name].to_numpy(float)
        ax.scatter(col, y, c=[report.POSITIVE if v > 0 else report.NEGATIVE for v in y], s=16)
        ax.axhline(0.0, color="black", linewidth=1)
        unit = " (x default)" if name in table() and table()[name].scale else ""
        report.style_axes(ax, name + unit, "D(W) (MCU)", name, legend=None)
    return fig


def shapley_boxes(vals: pd.DataFrame, design: Design, n: int) -> Figure:
    phi = ordering_shapley(_config_values(vals, design, n), design.orders)
    fig = report.new_figure(7.5, 3.6)
    ax = fig.axes[0]
    ax.boxplot([phi[:, c] for c in range(len(CHANNELS))], tick_labels=list(CHANNELS),
               showmeans=True)
    ax.axhline(0.0, color="black", linewidth=1)
    report.style_axes(ax, "channel", "Shapley value of W (MCU)", "Channels across draws",
                      legend=None)
    return fig


def difference_boxes(mats: dict[str, np.ndarray], names: Sequence[str]) -> Figure:
    base = mats[names[0]].mean(axis=1)
    fig = report.new_figure(7.5, 3.6)
    ax = fig.axes[0]
    others = list(names[1:])
    ax.boxplot([mats[k].mean(axis=1) - base for k in others], tick_labels=others,
               showmeans=True)
    ax.axhline(0.0, color="black", linewidth=1)
    report.style_axes(ax, "option", f"W - W({names[0]}) (MCU)",
                      "Differences across parameter draws", legend=None)
    return fig
