"""Robust policy design: a many-objective evolutionary search over the policy levers.

``helixsim optimise SPEC`` (spec format: ``experiments.optimise_spec``) searches the levers of
a starting scenario (budget shares, rates, education mixes, the platform's launch year) for
policies that do well on several objectives at once *across* an uncertain future:

- **Paired evaluation.** Every candidate is run on the same cells: ``uncertainty.draws``
  Latin-hypercube draws of the uncertain parameters times ``replications`` seeds (replication
  j uses the same seed for every candidate and draw). Differences between candidates are then
  differences of policy, not of luck. A dividend objective runs each cell twice, integrated
  and siloed, on the same seed.
- **Robustness metrics** turn a candidate's values over the cells into one number per
  objective: ``mean``; ``percentile`` (e.g. the 10th: how bad the bad futures are);
  ``satisficing`` (the share of cells where the value beats a threshold, e.g. P(D > 0));
  ``regret`` (the largest shortfall, over the cells, from the best candidate evaluated so far
  in that cell: Savage's minimax regret).
- **Search.** NSGA-II (or NSGA-III for many objectives) from pymoo through its ask/tell
  interface; ``random`` is the baseline of the same budget. The starting scenario is one of
  the first generation. Budget shares and education mixes lie on their simplex exactly: the
  search works on weights that a repair normalises, and the last share is the total minus
  the others, so the shares sum to the scenario's total to rounding.
- **Checkpoints.** After every generation its candidates and their values on every cell go
  to ``checkpoint/generation_NNN.parquet`` and ``checkpoint/checkpoint.json`` (atomic
  writes). A rerun replays the stored generations through a fresh algorithm with the same
  seed (no model runs) and checks that it asks for the same candidates; model runs of an
  interrupted generation are read back from ``runs/``. Nothing is pickled.
- **Output** (``--out``): ``candidates.parquet`` (every candidate: levers, robust objectives,
  constraints, Pareto flag), ``pareto.parquet``, ``recommended.parquet`` (the recommended
  policies and the starting scenario re-evaluated on fresh seeds and draws: D(W) with its
  interval and P(D > 0)), ``report.md`` / ``report.html`` with the trade-off plot and the
  parallel coordinates, and ``_manifest.json``.

The search is deterministic for a given spec and root seed on any number of workers: the
model runs are, and everything else happens in this process in a fixed order.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.parameters import PARAMETERS, PROGRAMMES, resolve

from . import machine_kind, run_files
from .optimise_spec import DERIVED, EDU_MIX, LAUNCH_YEAR, OptimiseSpec, Outcome
from .ownership import MANIFEST_FILE
from .runner import RunSet, RunSpec
from .storage import write_json, write_parquet

Progress = Callable[[int, int], None]
# Quantities every recommended policy is re-evaluated on, besides the objectives.
HEADLINE = ("welfare", True)
FRESH_REPLICATION = 100_000  # fresh seeds: replications far from the search's
START = "start"


class OptimiseError(ValueError):
    """An output folder that cannot hold this search (another spec's checkpoint)."""


def launch_month(year: float) -> int:
    """The month the platform opens in when it opens in year ``year`` (a September)."""
    return 12 * (round(year) - 1) + 1


# --- decision variables ------------------------------------------------------------------------

@dataclass(frozen=True)
class Variable:
    name: str  # column of the candidates table
    low: float
    high: float
    integer: bool
    group: int  # -1: free; otherwise the simplex group it belongs to


class Encoding:
    """Decision vector <-> model parameters of a spec's levers.

    Numeric levers are one variable each. The budget lever is one weight per listed
    instrument and each university's mix one weight per programme; a group of weights is
    normalised to sum to 1 (``repair``), then scaled to the group's total.
    """

    def __init__(self, spec: OptimiseSpec) -> None:
        self.spec = spec
        self.base = resolve({**spec.base, "horizon_months": spec.horizon})
        self.variables: list[Variable] = []
        self.groups: list[list[int]] = []
        self.budget: tuple[str, ...] = ()
        self.budget_total = 0.0
        self.universities = int(self.base["n_universities"])
        for lv in spec.levers:
            if lv.kind == "number":
                self.variables.append(Variable(lv.parameter, lv.low, lv.high, lv.integer, -1))
            elif lv.kind == "budget":
                self.budget = lv.instruments
                self.budget_total = math.fsum(self.base[f"budget_share_{i}"]
                                              for i in lv.instruments)
                self._group([f"budget_share_{i}" for i in lv.instruments])
            else:
                for u in range(self.universities):
                    self._group([f"edu_mix_U{u + 1}_{p}" for p in PROGRAMMES])
        self.xl = np.array([v.low for v in self.variables], dtype=float)
        self.xu = np.array([v.high for v in self.variables], dtype=float)

    def _group(self, names: list[str]) -> None:
        first = len(self.variables)
        self.variables += [Variable(n, 0.0, 1.0, False, len(self.groups)) for n in names]
        self.groups.append(list(range(first, len(self.variables))))

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def searched(self) -> set[str]:
        """Model parameters the levers set (their scenario timeline events are dropped)."""
        out = {v.name for v in self.variables if v.group < 0 and v.name != LAUNCH_YEAR}
        out |= {f"budget_share_{i}" for i in self.budget}
        if any(v.name == LAUNCH_YEAR for v in self.variables):
            out |= {"platform_on", "platform_launch_month"}
        if any(lv.kind == "edu_mix" for lv in self.spec.levers):
            out |= {EDU_MIX, "share_edu_2_0", "share_edu_3_0"}
        return out

    def repair(self, X: np.ndarray) -> np.ndarray:  # noqa: N803 - pymoo's name
        """Round integer variables, clip to bounds, and put every group on its simplex."""
        X = np.clip(np.array(X, dtype=float, ndmin=2), self.xl, self.xu)
        for i, v in enumerate(self.variables):
            if v.integer:
                X[:, i] = np.rint(X[:, i])
        for group in self.groups:
            w = X[:, group]
            total = w.sum(axis=1, keepdims=True)
            X[:, group] = np.where(total > 0, w / np.where(total > 0, total, 1.0),
                                   1.0 / len(group))
        return X

    @staticmethod
    def _split(total: float, weights: np.ndarray) -> list[float]:
        """``total`` split by ``weights`` (summing to 1); the last part is the rest, so the
        parts sum to ``total`` to rounding and none is negative."""
        parts = [float(total * w) for w in weights[:-1]]
        parts.append(max(0.0, total - math.fsum(parts)))
        return parts

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Model parameters (overrides on top of the spec's base) of one decision vector."""
        x = self.repair(x)[0]
        params: dict[str, Any] = {}
        for i, v in enumerate(self.variables):
            if v.group >= 0:
                continue
            if v.name == LAUNCH_YEAR:
                params.update(platform_on=True, platform_launch_month=launch_month(x[i]))
            else:
                params[v.name] = int(x[i]) if PARAMETERS[v.name].kind == "int" else float(x[i])
        g = 0
        if self.budget:
            shares = self._split(self.budget_total, x[self.groups[0]])
            params.update({f"budget_share_{i}": s for i, s in zip(self.budget, shares,
                                                                   strict=True)})
            g = 1
        if len(self.groups) > g:
            params[EDU_MIX] = tuple(tuple(self._split(1.0, x[grp])) for grp in self.groups[g:])
        timeline = tuple(e for e in self.base["timeline"] if e[1] not in self.searched)
        if timeline != tuple(self.base["timeline"]):
            params["timeline"] = timeline
        return params

    def levers(self, params: dict[str, Any]) -> dict[str, float]:
        """The levers of a policy as named columns (shares, rates, launch year)."""
        p = {**self.base, **params}
        out: dict[str, float] = {}
        for v in self.variables:
            if v.group >= 0:
                continue
            if v.name == LAUNCH_YEAR:
                out[v.name] = float((p["platform_launch_month"] - 1) // 12 + 1) \
                    if p["platform_on"] else math.nan
            else:
                out[v.name] = float(p[v.name])
        for i in self.budget:
            out[f"budget_share_{i}"] = float(p[f"budget_share_{i}"])
        if self.groups[1 if self.budget else 0:]:
            for u, triple in enumerate(edu_mixes(p)):
                for prog, share in zip(PROGRAMMES, triple, strict=True):
                    out[f"edu_mix_U{u + 1}_{prog}"] = float(share)
        return out

    def start(self) -> np.ndarray:
        """The decision vector nearest to the starting scenario (clipped to the bounds)."""
        p = self.base
        x = []
        for v in self.variables:
            if v.group >= 0:
                continue
            if v.name == LAUNCH_YEAR:
                x.append((p["platform_launch_month"] - 1) // 12 + 1 if p["platform_on"]
                         else v.low)
            else:
                x.append(p[v.name])
        if self.budget:
            x += [p[f"budget_share_{i}"] for i in self.budget]
        if self.groups[1 if self.budget else 0:]:
            x += [s for triple in edu_mixes(p) for s in triple]
        return self.repair(np.array(x, dtype=float))[0]

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` space-filling decision vectors (Latin hypercube, then repaired)."""
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(self.variables), seed=np.random.default_rng(seed)
                               ).random(n)
        return self.repair(self.xl + u * (self.xu - self.xl))


def edu_mixes(params: dict[str, Any]) -> list[tuple[float, float, float]]:
    """Each university's (1.0, 2.0, 3.0) intake shares."""
    mix = params[EDU_MIX]
    if mix:
        return [tuple(t) for t in mix]
    s2, s3 = params["share_edu_2_0"], params["share_edu_3_0"]
    return [(1.0 - s2 - s3, s2, s3)] * int(params["n_universities"])


# --- the cells of the future -------------------------------------------------------------------

@dataclass(frozen=True)
class Cells:
    """Uncertainty draws x seeds: every candidate is run on each."""

    draws: pd.DataFrame  # one row per draw, one column per uncertain parameter
    replications: tuple[int, ...]

    @property
    def keys(self) -> list[tuple[int, int]]:
        return [(d, j) for d in range(max(len(self.draws), 1)) for j in self.replications]

    def __len__(self) -> int:
        return len(self.keys)

    def values(self, d: int) -> dict[str, Any]:
        if self.draws.empty:
            return {}
        row = self.draws.iloc[d]
        return {c: (round(row[c]) if PARAMETERS[c].kind == "int" else float(row[c]))
                for c in self.draws.columns}


def make_cells(spec: OptimiseSpec, *, fresh: bool = False) -> Cells:
    """The search's cells, or fresh ones (other draws, other seeds) for re-evaluation."""
    from scipy.stats import qmc

    n = spec.recommend_draws if fresh else spec.draws
    reps = spec.recommend_replications if fresh else spec.replications
    start = FRESH_REPLICATION if fresh else 0
    if not spec.ranges:
        return Cells(pd.DataFrame(), tuple(range(start, start + reps)))
    rng = np.random.default_rng([spec.seed, 1 if fresh else 0])
    u = qmc.LatinHypercube(d=len(spec.ranges), seed=rng).random(n)
    lo = np.array([r.low for r in spec.ranges])
    hi = np.array([r.high for r in spec.ranges])
    draws = pd.DataFrame(lo + u * (hi - lo), columns=[r.parameter for r in spec.ranges])
    return Cells(draws, tuple(range(start, start + reps)))


# --- evaluation --------------------------------------------------------------------------------

Quantity = tuple[str, bool]  # (indicator, dividend)


def quantities(spec: OptimiseSpec, extra: Sequence[Quantity] = ()) -> list[Quantity]:
    """The distinct (indicator, dividend) pairs the objectives and constraints need."""
    out: list[Quantity] = []
    for q in [*((o.indicator, o.dividend) for o in (*spec.objectives, *spec.constraints)),
              *extra]:
        if q not in out:
            out.append(q)
    return out


Evaluate = Callable[[list[dict[str, Any]], Cells, list[Quantity]], np.ndarray]


def run_batch(specs: list[RunSpec], *, workers: int | None, executor: Any, out: Path,
              progress: Progress | None) -> RunSet:
    """The one call into the project's runner (re-point it here if the runner moves)."""
    from .runner import run_many

    return run_many(specs, workers=workers, out_dir=out, executor=executor, progress=progress)


class ModelEvaluator:
    """Runs policies on cells through the runner; values (policy, cell, quantity)."""

    def __init__(self, spec: OptimiseSpec, out: Path, workers: int | None = None,
                 executor: Any = None, progress: Progress | None = None,
                 total: int = 0, planned: Callable[[list[str]], None] | None = None) -> None:
        self.spec, self.out, self.workers, self.executor = spec, out, workers, executor
        self.progress, self.total, self.done = progress, total, 0
        # Told the runs of the search so far before each batch runs (the running manifest).
        self.planned = planned
        # The runs of the search so far (those of generations read back from a checkpoint
        # included): the search's per-year tables are of these runs only.
        self.run_ids: dict[str, None] = {}

    def specs(self, policies: list[dict[str, Any]], cells: Cells, wanted: list[Quantity]
              ) -> list[RunSpec]:
        """The runs that value ``policies`` on ``cells`` (siloed twins for a dividend)."""
        spec = self.spec
        siloed = any(div for _, div in wanted)
        specs: list[RunSpec] = []
        for i, policy in enumerate(policies):
            for d in range(max(len(cells.draws), 1)):
                params = {**spec.base, **policy, **cells.values(d)}
                for j in cells.replications:
                    specs.append(RunSpec(f"p{i}|{d}", params, j, spec.seed, spec.horizon))
                    if siloed:
                        specs.append(RunSpec(f"p{i}|{d}|siloed", {**params, "siloed": True}, j,
                                             spec.seed, spec.horizon))
        return specs

    def skip(self, policies: list[dict[str, Any]], cells: Cells, wanted: list[Quantity]
             ) -> None:
        """Policies read back from a checkpoint: their runs are not asked for again, but are
        counted (progress on resume) and are the search's (its per-year tables)."""
        specs = self.specs(policies, cells, wanted)
        self.run_ids.update(dict.fromkeys(s.run_id for s in specs))
        if self.planned:  # a kill while replaying still counts these runs as the search's
            self.planned(list(self.run_ids))
        self.done += len(specs)
        if self.progress:
            self.progress(self.done, max(self.total, self.done))

    def __call__(self, policies: list[dict[str, Any]], cells: Cells,
                 wanted: list[Quantity]) -> np.ndarray:
        siloed = any(div for _, div in wanted)
        specs = self.specs(policies, cells, wanted)
        self.run_ids.update(dict.fromkeys(s.run_id for s in specs))
        if self.planned:
            self.planned(list(self.run_ids))
        offset = self.done

        def tick(done: int, _total: int) -> None:
            if self.progress:
                self.progress(offset + done, max(self.total, offset + len(specs)))
        runs = run_batch(specs, workers=self.workers, executor=self.executor, out=self.out,
                         progress=tick)
        self.done = offset + len(specs)
        if runs.failures:
            first = runs.failures[0]
            raise RuntimeError(f"{len(runs.failures)} run(s) failed; first: {first.spec.label} "
                               f"replication {first.spec.replication}: {first.message}")
        final = runs.summary.set_index(["label", "replication"])
        values = np.empty((len(policies), len(cells), len(wanted)))
        for i in range(len(policies)):
            for k, (d, j) in enumerate(cells.keys):
                row = final.loc[(f"p{i}|{d}", j)]
                sil = final.loc[(f"p{i}|{d}|siloed", j)] if siloed else None
                for q, (indicator, dividend) in enumerate(wanted):
                    v = _indicator(row, indicator)
                    values[i, k, q] = v - _indicator(sil, indicator) if dividend else v
        return values


def _indicator(row: pd.Series, name: str) -> float:
    if name in DERIVED:
        a, b = DERIVED[name]
        return float(row[a]) - float(row[b])
    return float(row[name])


# --- robustness --------------------------------------------------------------------------------

def robust(values: np.ndarray, outcome: Outcome, reference: np.ndarray | None = None
           ) -> np.ndarray:
    """The robustness metric of ``outcome`` per candidate, in its natural orientation.

    ``values`` is (candidates, cells). mean and percentile are in the outcome's unit;
    satisficing is the share of cells whose value beats the threshold (> for max, < for
    min); regret is the largest shortfall over the cells from the best of ``reference``
    (candidates, cells) in that cell (default: the candidates themselves).
    """
    values = np.asarray(values, dtype=float)
    maximise = outcome.sense == "max"
    if outcome.robustness == "mean":
        return values.mean(axis=1)
    if outcome.robustness == "percentile":
        return np.percentile(values, outcome.percentile, axis=1)
    if outcome.robustness == "satisficing":
        hit = values > outcome.threshold if maximise else values < outcome.threshold
        return hit.mean(axis=1)
    ref = values if reference is None else np.asarray(reference, dtype=float)
    best = ref.max(axis=0) if maximise else ref.min(axis=0)
    shortfall = best - values if maximise else values - best
    return np.maximum(shortfall, 0.0).max(axis=1)


def to_minimise(metric: np.ndarray, outcome: Outcome) -> np.ndarray:
    """pymoo minimises: the metric turned so that smaller is better."""
    if outcome.robustness == "regret":
        return metric
    if outcome.robustness == "satisficing" or outcome.sense == "max":
        return -metric
    return metric


def _violation(metric: np.ndarray, o: Outcome) -> np.ndarray:
    """pymoo's inequality constraint: <= 0 when the bound(s) are met."""
    parts = [o.at_least - metric] if o.at_least is not None else []
    parts += [metric - o.at_most] if o.at_most is not None else []
    return np.max(parts, axis=0)


def scores(spec: OptimiseSpec, values: np.ndarray, reference: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(objective metrics, constraint metrics, F to minimise, G <= 0 when met)."""
    wanted = quantities(spec)
    ref = values if reference is None else reference

    def metric(o: Outcome) -> np.ndarray:
        q = wanted.index((o.indicator, o.dividend))
        return robust(values[:, :, q], o, ref[:, :, q])
    objectives = np.column_stack([metric(o) for o in spec.objectives])
    F = np.column_stack([to_minimise(objectives[:, i], o)
                         for i, o in enumerate(spec.objectives)])
    if not spec.constraints:
        empty = np.zeros((len(values), 0))
        return objectives, empty, F, empty
    cons = np.column_stack([metric(o) for o in spec.constraints])
    G = np.column_stack([_violation(cons[:, i], o) for i, o in enumerate(spec.constraints)])
    return objectives, cons, F, G


# --- the search --------------------------------------------------------------------------------

@dataclass
class Generation:
    X: np.ndarray  # (candidates, variables), repaired
    values: np.ndarray  # (candidates, cells, quantities)


def _problem(spec: OptimiseSpec, enc: Encoding):
    from pymoo.core.problem import Problem

    return Problem(n_var=len(enc.variables), n_obj=len(spec.objectives),
                   n_ieq_constr=len(spec.constraints), xl=enc.xl, xu=enc.xu)


def _algorithm(spec: OptimiseSpec, enc: Encoding):
    from pymoo.core.repair import Repair

    class Simplex(Repair):
        def _do(self, problem, X, **kwargs):  # noqa: N803 - pymoo's signature
            return enc.repair(X)

    initial = enc.sample(spec.population, spec.seed)
    initial[0] = enc.start()  # the search starts from the scenario (MORDM's status quo)
    if spec.algorithm == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3
        from pymoo.util.ref_dirs import get_reference_directions

        dirs = get_reference_directions("energy", len(spec.objectives), spec.population,
                                        seed=spec.seed % 2**32)
        return NSGA3(ref_dirs=dirs, pop_size=spec.population, sampling=initial,
                     repair=Simplex())
    from pymoo.algorithms.moo.nsga2 import NSGA2

    return NSGA2(pop_size=spec.population, sampling=initial, repair=Simplex())


def planned_runs(spec: OptimiseSpec) -> dict[str, int]:
    """Model runs of a spec, at most (duplicates and stored runs are not run twice)."""
    per_cell = 2 if spec.needs_siloed else 1
    candidates = 1 + spec.population * spec.generations
    search = candidates * spec.draws * spec.replications * per_cell
    fresh = (spec.recommend_count + 1) * spec.recommend_draws * spec.recommend_replications * 2
    return {"candidates": candidates, "cells": spec.draws * spec.replications,
            "search_runs": search, "fresh_runs": fresh, "runs": search + fresh}


def _checkpoint_dir(out: Path) -> Path:
    return out / "checkpoint"


def _identity(spec: OptimiseSpec) -> dict[str, Any]:
    from .runner import MODEL_VERSION

    return {"spec": spec.digest, "seed": spec.seed, "model": MODEL_VERSION,
            "algorithm": spec.algorithm}


def _save_generation(out: Path, g: int | str, gen: Generation, enc: Encoding,
                     cells: Cells, wanted: list[Quantity]) -> None:
    rows = []
    for c in range(len(gen.X)):
        for k, (d, j) in enumerate(cells.keys):
            row = {"candidate": c, "draw": d, "replication": j}
            row.update({f"x{i}": float(v) for i, v in enumerate(gen.X[c])})
            row.update({f"q{q}": float(gen.values[c, k, q]) for q in range(len(wanted))})
            rows.append(row)
    name = f"generation_{g:03d}.parquet" if isinstance(g, int) else f"generation_{g}.parquet"
    write_parquet(pd.DataFrame(rows), _checkpoint_dir(out) / name)


def _load_generation(path: Path, n_var: int, cells: Cells, wanted: list[Quantity]
                     ) -> Generation:
    df = pd.read_parquet(path).sort_values(["candidate", "draw", "replication"])
    n = int(df["candidate"].max()) + 1
    X = df.groupby("candidate")[[f"x{i}" for i in range(n_var)]].first().to_numpy()
    values = df[[f"q{q}" for q in range(len(wanted))]].to_numpy().reshape(
        n, len(cells), len(wanted))
    return Generation(X, values)


def _read_checkpoint(out: Path, spec: OptimiseSpec) -> int:
    """Generations stored in ``out`` for this spec (0 if none); raises on another spec's."""
    path = _checkpoint_dir(out) / "checkpoint.json"
    if not path.is_file():
        return 0
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise OptimiseError(f"{path}: unreadable checkpoint ({err}); remove the folder or "
                            "choose another --out") from None
    mine = _identity(spec)
    for key, value in mine.items():
        if stored.get(key) != value:
            raise OptimiseError(f"{out}: holds a search with another {key} "
                                f"({stored.get(key)!r}, this one {value!r}); choose another "
                                "--out or remove the folder")
    return int(stored.get("generations", 0))


@dataclass
class SearchResult:
    start_values: np.ndarray  # (cells, quantities) of the exact starting scenario
    generations: list[Generation]


def search(spec: OptimiseSpec, enc: Encoding, evaluate: Evaluate, out: Path,
           log: Callable[[str], None] | None = None) -> SearchResult:
    """Run (or resume) the search; every generation is checkpointed in ``out``."""
    from pymoo.core.evaluator import Evaluator
    from pymoo.problems.static import StaticProblem

    cells = make_cells(spec)
    wanted = quantities(spec)
    skip = getattr(evaluate, "skip", lambda *args: None)
    done = _read_checkpoint(out, spec)
    ckpt = _checkpoint_dir(out)
    if done and (ckpt / "generation_start.parquet").is_file():
        start = _load_generation(ckpt / "generation_start.parquet", len(enc.variables), cells,
                                 wanted)
        skip([{}], cells, wanted)
    else:
        start = Generation(enc.start()[None, :], evaluate([{}], cells, wanted))
        _save_generation(out, "start", start, enc, cells, wanted)
    problem = _problem(spec, enc)
    algorithm = None
    if spec.algorithm != "random":
        algorithm = _algorithm(spec, enc)
        algorithm.setup(problem, termination=("n_gen", spec.generations + 1),
                        seed=spec.seed % 2**32, verbose=False)
    random_x = enc.sample(spec.population * spec.generations, spec.seed + 1)
    random_x[0] = enc.start()
    generations: list[Generation] = []
    regret = any(o.robustness == "regret" for o in (*spec.objectives, *spec.constraints))
    for g in range(spec.generations):
        pop = algorithm.ask() if algorithm is not None else None
        X = pop.get("X") if pop is not None else \
            random_x[g * spec.population:(g + 1) * spec.population]
        X = enc.repair(X)
        path = ckpt / f"generation_{g:03d}.parquet"
        if g < done and path.is_file():
            gen = _load_generation(path, len(enc.variables), cells, wanted)
            if gen.X.shape != X.shape or not np.allclose(gen.X, X, rtol=0, atol=1e-12):
                raise OptimiseError(f"{path}: the replayed search asks for other candidates "
                                    "than the checkpoint holds (another pymoo version?); "
                                    "choose another --out")
            skip([enc.decode(x) for x in X], cells, wanted)
        else:
            started = time.perf_counter()
            gen = Generation(X, evaluate([enc.decode(x) for x in X], cells, wanted))
            _save_generation(out, g, gen, enc, cells, wanted)
            write_json({**_identity(spec), "generations": g + 1}, ckpt / "checkpoint.json")
            if log:
                log(f"generation {g + 1}/{spec.generations}: {len(X)} candidates in "
                    f"{time.perf_counter() - started:.1f} s")
        generations.append(gen)
        if algorithm is None:
            continue
        archive = np.concatenate([start.values, *(x.values for x in generations)])
        _, _, F, G = scores(spec, gen.values, archive)
        pop.set("V", list(gen.values))
        if regret and algorithm.pop is not None and len(algorithm.pop):
            # Regret is measured against the best candidate so far: the survivors' regrets
            # grow as better candidates appear, so they are recomputed before survival.
            old = np.stack(algorithm.pop.get("V", to_numpy=False))
            _, _, F_old, G_old = scores(spec, old, archive)
            algorithm.pop.set("F", F_old)
            if G_old.shape[1]:
                algorithm.pop.set("G", G_old)
        kwargs = {"F": F} | ({"G": G} if G.shape[1] else {})
        Evaluator().eval(StaticProblem(problem, **kwargs), pop)
        algorithm.tell(infills=pop)
    return SearchResult(start.values[0], generations)


# --- results -----------------------------------------------------------------------------------

def candidates_table(spec: OptimiseSpec, enc: Encoding, result: SearchResult) -> pd.DataFrame:
    """Every evaluated candidate (the starting scenario first): levers, robust objectives,
    constraints, feasibility and the Pareto flag (non-dominated among the feasible)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    values = np.concatenate([result.start_values[None], *(g.values for g in result.generations)])
    objectives, cons, F, G = scores(spec, values)
    rows = [{"candidate": START, "generation": -1, **enc.levers({})}]
    for g, gen in enumerate(result.generations):
        for c, x in enumerate(gen.X):
            rows.append({"candidate": f"g{g}c{c}", "generation": g,
                         **enc.levers(enc.decode(x))})
    table = pd.DataFrame(rows)
    for i, o in enumerate(spec.objectives):
        table[o.name] = objectives[:, i]
    for i, o in enumerate(spec.constraints):
        table[f"constraint_{o.name}"] = cons[:, i]
    feasible = (G <= 1e-12).all(axis=1) if G.shape[1] else np.ones(len(table), bool)
    table["feasible"] = feasible
    # The same policy asked twice (e.g. the start and its copy in generation 0) counts once,
    # and so do policies with the same objectives to 9 digits (levers the model does not
    # respond to): the first found represents them; the others stay in the table.
    lever_cols = list(enc.levers({}))
    rounded = np.nan_to_num(np.round(table[lever_cols].to_numpy(dtype=float), 12), nan=-1.0)
    first = ~pd.Series([tuple(r) for r in rounded]).duplicated()
    same = pd.Series([tuple(r) for r in np.round(F, 9)]).duplicated()
    first &= ~same
    pareto = np.zeros(len(table), bool)
    idx = np.flatnonzero(feasible & first.to_numpy())
    if len(idx):
        front = NonDominatedSorting().do(F[idx], only_non_dominated_front=True)
        pareto[idx[front]] = True
    table["pareto"] = pareto
    return table


def choose(spec: OptimiseSpec, table: pd.DataFrame) -> list[str]:
    """Recommended candidates: the most robust on the chosen objective first, then the best
    on each other objective, then the compromise (nearest the ideal point), up to count."""
    front = table[table["pareto"]]
    if front.empty:
        return []
    F = np.column_stack([to_minimise(front[o.name].to_numpy(), o) for o in spec.objectives])
    order = [o.name for o in spec.objectives]
    picks: list[str] = []

    def add(i: int) -> None:
        name = front["candidate"].iloc[i]
        if name not in picks:
            picks.append(name)
    add(int(np.argmin(F[:, order.index(spec.recommend_objective)])))
    for j in range(F.shape[1]):
        add(int(np.argmin(F[:, j])))
    span = F.max(axis=0) - F.min(axis=0)
    norm = (F - F.min(axis=0)) / np.where(span > 0, span, 1.0)
    add(int(np.argmin(np.linalg.norm(norm, axis=1))))
    return picks[:spec.recommend_count]


def _policy(enc: Encoding, result: SearchResult, name: str) -> dict[str, Any]:
    if name == START:
        return {}
    g, c = (int(s) for s in name[1:].split("c"))
    return enc.decode(result.generations[g].X[c])


def fresh_table(spec: OptimiseSpec, enc: Encoding, result: SearchResult, picks: list[str],
                evaluate: Evaluate) -> pd.DataFrame:
    """The recommended policies and the starting scenario on fresh draws and seeds."""
    from scipy import stats

    cells = make_cells(spec, fresh=True)
    wanted = quantities(spec, [HEADLINE])
    names = [*picks, START] if START not in picks else list(picks)
    values = evaluate([_policy(enc, result, n) for n in names], cells, wanted)
    d = values[:, :, wanted.index(HEADLINE)]
    n = d.shape[1]
    rows = []
    for i, name in enumerate(names):
        mean = float(d[i].mean())
        half = float(stats.t.ppf(0.975, n - 1) * d[i].std(ddof=1) / math.sqrt(n)) \
            if n > 1 else math.nan
        p = float((d[i] > 0).mean())
        lo, hi = wilson(int((d[i] > 0).sum()), n)
        diff = d[i] - d[names.index(START)]
        dhalf = float(stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n)) \
            if n > 1 else math.nan
        row = {"candidate": name, "role": _role(spec, picks, name),
               "dividend_welfare": mean, "dividend_low": mean - half,
               "dividend_high": mean + half, "p_dividend_positive": p, "p_low": lo,
               "p_high": hi, "vs_start": float(diff.mean()),
               "vs_start_low": float(diff.mean() - dhalf) if name != START else math.nan,
               "vs_start_high": float(diff.mean() + dhalf) if name != START else math.nan,
               "p_beats_start": float((diff > 0).mean()) if name != START else math.nan,
               "cells": n}
        for o in spec.objectives:
            q = wanted.index((o.indicator, o.dividend))
            row[o.name] = float(robust(values[i:i + 1, :, q], o, values[:, :, q])[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _role(spec: OptimiseSpec, picks: list[str], name: str) -> str:
    if name == START:
        return "starting scenario" + (f" (also the most robust on {spec.recommend_objective})"
                                      if picks[0] == START else "")
    return f"most robust ({spec.recommend_objective})" if name == picks[0] else "recommended"


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (95% by default)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# --- plain words -------------------------------------------------------------------------------

def _label(name: str) -> str:
    if name.startswith("budget_share_"):
        return name[len("budget_share_"):].replace("_", " ")
    return name.replace("_", " ")


def describe_change(start: dict[str, float], policy: dict[str, float]) -> list[str]:
    """How ``policy`` differs from ``start``, in plain words, largest changes first.

    Budget shares are paired greedily into transfers ("move 10 points of the budget from
    block grants to matching grants"); so are the education mixes of each university.
    """
    out: list[str] = []
    budget = {k: 100 * (policy[k] - start[k]) for k in policy if k.startswith("budget_share_")}
    out += [f"move {_points(pts)} of the budget from {_label(a)} to {_label(b)}"
            for a, b, pts in _transfers(budget)]
    unis = sorted({k.split("_")[2] for k in policy if k.startswith("edu_mix_")})
    for u in unis:
        mix = {k: 100 * (policy[k] - start[k]) for k in policy if k.startswith(f"edu_mix_{u}_")}
        out += [f"at {u}, move {_points(pts)} of the intake from Education Model "
                f"{a.rsplit('_', 1)[1]} to {b.rsplit('_', 1)[1]}" for a, b, pts in
                _transfers(mix)]
    for k, v in policy.items():
        if k.startswith(("budget_share_", "edu_mix_")):
            continue
        old = start.get(k, math.nan)
        if k == LAUNCH_YEAR:
            if math.isnan(old) and not math.isnan(v):
                out.append(f"launch the platform in year {v:.0f} (the scenario has none)")
            elif not math.isnan(v) and v != old:
                out.append(f"launch the platform in year {v:.0f} instead of year {old:.0f}")
            continue
        if not math.isclose(v, old, rel_tol=0.01, abs_tol=1e-9):
            verb = "raise" if v > old else "lower"
            out.append(f"{verb} the {_label(k)} from {old:.3g} to {v:.3g}")
    return out or ["keep the starting scenario's levers (no change of 1 point or more)"]


def _points(pts: float) -> str:
    return "1 point" if round(pts) == 1 else f"{pts:.0f} points"


def _transfers(change: dict[str, float], min_points: float = 1.0
               ) -> list[tuple[str, str, float]]:
    """Greedy pairs (from, to, points) that turn ``change`` (points, summing to 0) into
    transfers: the largest cut goes to the largest rise first."""
    change = dict(change)
    out = []
    while True:
        down = min(change, key=change.get, default=None)
        up = max(change, key=change.get, default=None)
        if down is None or change[down] > -min_points / 2 or change[up] < min_points / 2:
            return out
        pts = min(-change[down], change[up])
        if pts >= min_points / 2:
            out.append((down, up, pts))
        change[down] += pts
        change[up] -= pts


# --- the command -------------------------------------------------------------------------------

def optimise(spec: OptimiseSpec, *, out: Path, workers: int | None = None,
             scheduler: str | None = None, progress: Progress | None = None,
             evaluate: Evaluate | None = None, report: bool = True,
             log: Callable[[str], None] | None = None, complete: bool = True
             ) -> dict[str, Any]:
    """Run (or resume) the search into ``out``, re-evaluate the recommended policies on fresh
    seeds and write the tables and the report; returns a summary for the command line.

    ``evaluate`` replaces the model (tests use a small function with a known optimum). With
    ``complete=False`` the manifest is left "running" and the result's ``_complete`` marks it
    complete: the command line calls it once per_year.parquet and ``_result.json`` are
    written, so the folder never says complete before it holds them.
    """
    from .executors import executor_for
    from .report import run_meta

    started = time.perf_counter()
    enc = Encoding(spec)
    out.mkdir(parents=True, exist_ok=True)
    _read_checkpoint(out, spec)  # another spec's folder is refused before anything is written
    plan = planned_runs(spec)

    def running(run_ids: list[str] | None) -> None:
        # The search asks for its runs generation by generation: the manifest lists those
        # asked for so far, rewritten before each batch runs, so that results counts an
        # interrupted search's own runs apart from others the folder holds.
        write_json({**_manifest(spec, plan, "running"),
                    **({"run_ids": run_ids} if run_ids is not None else {})},
                   out / MANIFEST_FILE)
    running(None if evaluate else [])
    with executor_for(scheduler, workers) as executor:
        ev = evaluate or ModelEvaluator(spec, out, workers, executor, progress, plan["runs"],
                                        planned=running)
        result = search(spec, enc, ev, out, log)
        table = candidates_table(spec, enc, result)
        picks = choose(spec, table)
        fresh = fresh_table(spec, enc, result, picks, ev) if picks else pd.DataFrame()
    write_parquet(table, out / "candidates.parquet")
    write_parquet(table[table["pareto"]].reset_index(drop=True), out / "pareto.parquet")
    write_parquet(fresh, out / "recommended.parquet")
    start_levers = enc.levers({})
    best = table.set_index("candidate").loc[picks[0]] if picks else None
    words = describe_change(start_levers, {k: float(best[k]) for k in start_levers}) \
        if best is not None else []
    # The machine kinds of the search's runs, from their files (a resumed search's earlier
    # runs included); a search without runs of its own (a custom evaluator): this machine's.
    searched = getattr(ev, "run_ids", None)
    stored = run_files.index(out) if searched else {}
    kinds = [stored[r].kind for r in searched if r in stored] if searched else None
    meta = run_meta("optimise", spec.replications, workers, started, kinds=kinds,
                    spec=str(spec.path),
                 scenario=spec.scenario.name, algorithm=spec.algorithm,
                 population=spec.population, generations=spec.generations,
                 draws=spec.draws, candidates=len(table), pareto=int(table["pareto"].sum()),
                 runs_planned=plan["runs"], root_seed=spec.seed,
                 scheduler=scheduler or "process pool")
    path = None
    if report:
        from .optimise_report import write

        path = write(out, spec, enc, table, fresh, picks, words, meta)
    def mark_complete() -> None:
        write_json({**_manifest(spec, plan, "complete"), "elapsed_s": meta["elapsed_s"],
                    "recommended": picks, "change": words, "git_commit": meta["git_commit"],
                    "machine_kinds": machine_kind.known(kinds or [])},
                   out / MANIFEST_FILE)
    if complete:
        mark_complete()
    return {**({} if complete else {"_complete": mark_complete}), "spec": spec.name,
            "folder": str(out), "report": str(path) if path else None,
            "candidates": len(table), "pareto": int(table["pareto"].sum()),
            "recommended": picks, "change": words, "runs": plan,
            "fresh": fresh.to_dict(orient="records"),
            "pareto_set": table[table["pareto"]].to_dict(orient="records"), "meta": meta,
            **({"_run_ids": list(ev.run_ids)} if isinstance(ev, ModelEvaluator) else {})}


def _manifest(spec: OptimiseSpec, plan: dict[str, int], status: str) -> dict[str, Any]:
    from .runner import MODEL_VERSION

    return {"kind": "optimise", "experiment": spec.name, "description": spec.description,
            "spec_file": str(spec.path), "spec": spec.text, "scenario": spec.scenario.name,
            "objectives": [o.name for o in spec.objectives],
            "senses": {o.name: o.sense for o in spec.objectives},
            "robustness": {o.name: o.robustness for o in spec.objectives},
            "outcomes": [asdict(o) for o in spec.objectives],
            "seed": spec.seed, "status": status, "runs": plan["runs"], "plan": plan,
            "model": MODEL_VERSION}


def command(path: Path, *, workers: int | None, out: Path | None, scheduler: str | None,
            seed: int | None, dry_run: bool, as_json: bool, fail: Callable[[str], Exception],
            execute: Callable[..., dict], plan: Callable[..., Any] | None = None) -> None:
    """``helixsim optimise``: validate, then plan (``--dry-run``) or run, then print.

    ``fail`` and ``execute`` are the command line's (one-line error with exit code 2; the
    progress bar, the output folder and ``--json``), so every batch command behaves alike.
    """
    from dataclasses import replace

    from rich.console import Console
    from rich.table import Table

    from .optimise_spec import OptimiseSpecError, load

    try:
        spec = load(path)
    except OptimiseSpecError as err:
        raise fail(str(err)) from None
    if seed is not None:
        spec = replace(spec, seed=seed)
    if plan is not None:  # the command line's plan line (and --dry-run), as for every command
        counts = planned_runs(spec)
        plan(counts["runs"], f"{counts['candidates']} candidates x {counts['cells']} cells x "
             f"{2 if spec.needs_siloed else 1} for the search, {counts['fresh_runs']} to "
             "re-evaluate the recommended policies on fresh seeds",
             region={**spec.scenario.parameters, **spec.fixed}, horizon=spec.horizon,
             at_most=True)
    plan = planned_runs(spec)
    if dry_run:
        if as_json:
            print(json.dumps(plan, indent=2))
        else:
            Console(highlight=False, soft_wrap=True).print(
                f"{spec.name}: at most {plan['runs']} model runs: {plan['candidates']} "
                f"candidates x {plan['cells']} cells x {2 if spec.needs_siloed else 1} "
                f"(integrated{' and siloed' if spec.needs_siloed else ''}) = "
                f"{plan['search_runs']} for the search, {plan['fresh_runs']} to re-evaluate "
                "the recommended policies on fresh seeds", markup=False)
        return
    console = Console(stderr=True, highlight=False)
    try:
        result = execute("optimise", path.stem, out, as_json, lambda folder, cb: optimise(
            spec, out=folder, workers=workers, scheduler=scheduler, progress=cb,
            log=None if as_json else lambda text: console.print(text, markup=False),
            complete=False))
    except OptimiseError as err:
        raise fail(str(err)) from None
    if as_json:
        return
    names = [o.name for o in spec.objectives]
    table = Table(title=f"{spec.name}: Pareto set ({result['pareto']} of "
                        f"{result['candidates']} candidates)")
    for head in ("candidate", *names):
        table.add_column(head, justify="left" if head == "candidate" else "right")
    for row in result["pareto_set"][:20]:
        table.add_row(row["candidate"], *(f"{row[n]:,.4g}" for n in names))
    Console().print(table)
    out_console = Console(highlight=False)
    if result["recommended"]:
        best = result["recommended"][0]
        out_console.print(f"most robust on {spec.recommend_objective}: {best}", markup=False)
        for line in result["change"]:
            out_console.print(f"  - {line}", markup=False)
        for row in result["fresh"]:
            out_console.print(
                f"fresh cells: {row['candidate']}: D(W) {row['dividend_welfare']:,.1f} MCU "
                f"[{row['dividend_low']:,.1f}, {row['dividend_high']:,.1f}], P(D > 0) "
                f"{row['p_dividend_positive']:.0%}", markup=False)
    out_console.print(f"report: {result['report']}", markup=False)
