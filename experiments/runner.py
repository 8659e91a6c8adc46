"""The batch runner: every command's model runs go through ``run_many``.

A ``RunSpec`` names one run: a label, the model's keyword arguments, the replication index j,
the root seed and the horizon. Replication j runs on ``experiments.seeding.seed_sequence(
root_seed, j)``, so configurations compared on the same j share their random numbers (common
random numbers).

``run_many(specs, task=..., executor=..., out_dir=..., progress=..., chunk_size=...)`` runs a
list of specs and returns a ``RunSet``: each run's result (``results``, by run id), the failures
(``failures``) and, for the default task, the per-month table of every run (``steps``) and its
last row (``summary``).

- **Task.** What a run returns. The default (``task=None``) runs the model and returns its
  per-month indicator table (``run_one``). Another task is any picklable module-level function
  ``RunSpec -> result`` (validation's observer of firm sizes, say): the runner does not care
  what it returns, unless an output folder is given, when it must return a table.
- **Executors.** Any ``concurrent.futures.Executor`` (``experiments.executors.executor_for``:
  in this process, a local process pool, or Dask). Without one, ``run_many`` makes one for the
  batch with ``workers`` workers (default: one per CPU, never more than tasks). Workers
  receive only specifications, never model objects.
- **Chunks.** ``chunk_size`` runs go to a worker as one task (default 1): raise it when single
  runs take well under a second, so that a Dask task is seconds of work. A run that raises is
  a failure of that run only; a chunk whose worker is lost fails all its runs.
- **Resume.** With ``out_dir``, this process (the one writer of the folder) stores each run's
  table in ``runs/`` as it comes back, several runs a Parquet file (``experiments.run_files``:
  a temporary name, then a rename, so a file holds complete runs only), and a rerun reads the
  stored runs instead of running them again. A batch killed without warning (even SIGKILL)
  loses at most the runs it finished in its last second, never more than 64, and resumes with
  only the missing runs; an exception (Ctrl-C included) loses none. ``failures.json`` lists the
  runs that failed and have no result; temporary files a killed writer left behind are ignored
  by resume and removed at the end of the next batch. Folders of earlier versions (one file
  per run) are read as they are.
- **Machine kinds.** Each worker says, with its chunk's results, which kind of vector maths
  made them (``experiments.machine_kind``: the same seed gives the same run only on machines
  of one kind); the run files keep it, and ``RunSet.kinds`` lists the kind of each run, for
  the report's "How this report was made".
- **Failures** never stop a batch: each is a ``RunFailure`` with its traceback.
  ``RunSet.raise_failures()`` turns them into one ``RuntimeError`` for commands that need
  every run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import machine_kind, run_files
from .executors import default_workers, executor_for
from .seeding import seed_sequence
from .storage import remove_stale_temps, to_plain, write_json

if TYPE_CHECKING:
    from simulation.parameters import Parameters

Progress = Callable[[int, int], None]
Task = Callable[["RunSpec"], Any]


@functools.cache
def model_version() -> str:
    """The package version plus a hash of the model's source (and its calibration file): any
    change gives new run ids, so a resumed batch never reuses results of an older model.
    Computed when a run id is first needed, once per process."""
    import simulation

    root = Path(simulation.__file__).parent
    digest = hashlib.sha256()
    # calibration.toml holds calibrated defaults: model behaviour as much as the code is.
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.toml")]):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{simulation.__version__}+{digest.hexdigest()[:12]}"


def __getattr__(name: str) -> Any:
    # The old constant, computed on first use like model_version().
    if name == "MODEL_VERSION":
        return model_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Columns of every run table besides the indicators.
KEY_COLUMNS = ("run_id", "label", "replication", "step")


@dataclass(frozen=True)
class RunSpec:
    """One model run: ``label`` (scenario or configuration), parameters, replication, seed.

    ``parameters`` is a resolved ``simulation.parameters.Parameters`` (a scenario's, say: used
    as it is) or a mapping of overrides of the defaults (resolved once, by ``resolved``).
    """

    label: str
    parameters: Mapping[str, Any]
    replication: int
    root_seed: int
    horizon: int

    @cached_property  # resolved once per spec; a pickled spec carries it to its worker
    def resolved(self) -> Parameters:
        """The run's parameters with its horizon. Raises ``ParameterError``."""
        from simulation.parameters import resolve

        return resolve(self.parameters, horizon_months=self.horizon)

    @cached_property  # hashed once: resolving and hashing the parameters is not free
    def run_id(self) -> str:
        """Hash of model version, parameters, seed and horizon (not the label).

        Parameters are hashed fully resolved, so a run that sets a parameter to its default
        is the same run as one that leaves it out. Invalid parameters do not raise here (the
        run raises in its worker and is recorded as a failure): they are hashed as given,
        marked unresolved, so such an id never equals the id of a valid run.
        """
        from simulation.parameters import ParameterError

        try:
            params = self.resolved
        except ParameterError:
            text = json.dumps({"version": model_version(),
                               "unresolved": to_plain(self.parameters),
                               "seed": [self.root_seed, self.replication],
                               "horizon": self.horizon}, sort_keys=True, default=repr)
            return hashlib.sha256(text.encode()).hexdigest()[:16]
        text = json.dumps({"version": model_version(), "parameters": to_plain(params),
                           "seed": [self.root_seed, self.replication],
                           "horizon": self.horizon}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def seed(self) -> np.random.SeedSequence:
        """The seed of this run: the seeding rule of ``experiments.seeding``."""
        return seed_sequence(self.root_seed, self.replication)


def run_one(spec: RunSpec) -> pd.DataFrame:
    """Build and run the model of ``spec``; one row per month (0..horizon)."""
    from simulation.model import EcosystemModel

    model = EcosystemModel(rng=spec.seed(), parameters=spec.resolved)
    model.run()
    return run_table(spec, *model.indicator_values())


def run_table(spec: RunSpec, names: Sequence[str], values: np.ndarray) -> pd.DataFrame:
    """The table of one run: the key columns (``KEY_COLUMNS``: run id and label as text,
    replication and step as int64, step being the month), then each indicator of ``names``
    (one row of ``values`` each) as a float column, one row per month.

    Built as two frames joined side by side: the indicators as one 2-D block, and the keys
    from arrays. Why: pandas checks each column of a dict on its own and broadcasts scalars
    slowly, so the dict of 60 columns, or a frame with the keys inserted one by one, cost
    0.5-1 ms a run, a percent or two of a small run; this costs a third of that. The table is
    the same (columns, order, dtypes, values: ``tests/test_runner.py`` checks it against the
    construction of inserted scalar keys).
    """
    names = list(names)
    n = values.shape[1]
    # pandas' text dtype as it infers it for a str (made here, not looked up as "str" by
    # name: that costs more than building the column).
    text = pd.StringDtype(na_value=np.nan)
    keys = pd.DataFrame({
        "run_id": pd.array([spec.run_id] * n, dtype=text),
        "label": pd.array([spec.label] * n, dtype=text),
        "replication": np.full(n, spec.replication, dtype=np.int64),
        "step": values[names.index("month")].astype(np.int64),
    })
    return pd.concat([keys, pd.DataFrame(values.T, columns=names)], axis=1)


@dataclass
class RunFailure:
    """A run that raised: its spec and the traceback (``error``)."""

    spec: RunSpec
    error: str

    @property
    def message(self) -> str:
        """The last line of the traceback: the exception type and message."""
        lines = self.error.strip().splitlines()
        return lines[-1] if lines else ""

    def record(self) -> dict[str, Any]:
        """The failure as a JSON-ready dict, as written to ``failures.json``."""
        return {"run_id": self.spec.run_id, "label": self.spec.label,
                "replication": self.spec.replication, "error": self.error,
                "message": self.message}


FAILURES_FILE = "failures.json"


@dataclass
class RunSet:
    """The results of a batch, for the specs asked (in their order)."""

    specs: list[RunSpec]
    results: dict[str, Any] = field(default_factory=dict)  # run id -> what the task returned
    failures: list[RunFailure] = field(default_factory=list)
    # run id -> the kind of machine that made it (experiments.machine_kind; None: a stored
    # run whose file does not say)
    machine_kinds: dict[str, str | None] = field(default_factory=dict)

    @property
    def kinds(self) -> list[str | None]:
        """The machine kind of each distinct run asked that succeeded (None where unknown),
        for ``report.run_meta(kinds=...)``."""
        return [self.machine_kinds.get(run_id) for run_id in self.run_ids
                if run_id in self.results]

    def result(self, spec: RunSpec) -> Any:
        """What ``spec``'s run returned; KeyError if it failed."""
        return self.results[spec.run_id]

    @property
    def run_ids(self) -> list[str]:
        """The distinct run ids of the specs asked, in their order: the runs this batch is made
        of (its output folder may hold others: an earlier model's, say)."""
        return list(dict.fromkeys(spec.run_id for spec in self.specs))

    def completed(self) -> list[tuple[RunSpec, Any]]:
        """(spec, result) of every spec asked whose run succeeded, in the order asked."""
        return [(s, self.results[s.run_id]) for s in self.specs if s.run_id in self.results]

    @cached_property
    def steps(self) -> pd.DataFrame:
        """Per-month tables of the runs (default task), one block per spec asked, labelled by
        that spec (one run may serve several labels)."""
        frames = [df if df["label"].iat[0] == spec.label else df.assign(label=spec.label)
                  for spec, df in self.completed()]
        return (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame(columns=list(KEY_COLUMNS)))

    @property
    def summary(self) -> pd.DataFrame:
        """One row per run: the indicators at the last step."""
        # One run may serve several labels (e.g. a scenario and its all-channels-open
        # configuration), so group by both.
        last = self.steps.sort_values("step").groupby(["run_id", "label"], sort=False).tail(1)
        return last.sort_values(["label", "replication"]).reset_index(drop=True)

    def failure_records(self) -> list[dict[str, Any]]:
        """The failures of this batch as JSON-ready dicts (run_id, label, replication, error,
        message)."""
        return [f.record() for f in self.failures]

    def raise_failures(self, what: str = "run") -> None:
        """Raise one ``RuntimeError`` naming the first failure, if any run failed."""
        if self.failures:
            first = self.failures[0]
            raise RuntimeError(f"{len(self.failures)} {what}(s) failed; first: "
                               f"{first.spec.label} replication {first.spec.replication}: "
                               f"{first.message}")


def run_many(specs: Sequence[RunSpec], *, task: Task | None = None,
             executor: Executor | None = None, workers: int | None = None,
             out_dir: str | Path | None = None, progress: Progress | None = None,
             chunk_size: int = 1, stored: run_files.StoredTables | None = None
             ) -> RunSet:
    """Run every spec (each distinct run once) and collect results and failures.

    ``task`` maps a spec to its result (default: the model's per-month table, ``run_one``);
    ``executor`` runs the tasks and is left running (default: one made by
    ``executor_for(None, workers)`` for this batch, with no more workers than tasks);
    ``progress(done, total)`` is called at the start and after each chunk; ``chunk_size``
    runs make one task.

    With ``out_dir``: the task must return a table; runs stored in ``out_dir/runs`` are read,
    not rerun (``stored``: what ``run_files.read_runs`` returned, their tables and kinds,
    when the caller has read them already, as an experiment does to check its folder before
    it writes anything: the folder is not read twice); this process stores the others' tables there
    as they come back, several runs a file (``experiments.run_files``: at most about a
    second's worth of finished runs is lost if the batch is killed); at the end
    ``failures.json`` lists every run of the folder that failed and has no result (this
    batch's failures replace earlier entries of the same runs, and a run that now succeeded
    is dropped), and stale temporary files of killed writers are removed.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    started = time.time()
    specs = list(specs)
    unique = _unique(specs)
    results: dict[str, Any] = {}
    kinds: dict[str, str | None] = {}
    todo: list[RunSpec] = unique
    if out_dir is not None:
        if stored is None:
            stored = run_files.read_runs(out_dir, [spec.run_id for spec in unique])
        stored_kinds = stored.kinds
        todo = []
        for spec in unique:
            df = stored.get(spec.run_id)
            if df is not None:
                df["label"] = spec.label  # the same run may serve several labels
                results[spec.run_id] = df
                kinds[spec.run_id] = stored_kinds.get(spec.run_id)
            else:
                todo.append(spec)
    total, finished = len(results) + len(todo), len(results)
    failures: list[RunFailure] = []
    writer = run_files.RunWriter(out_dir) if out_dir is not None else None
    by_id = {spec.run_id: spec for spec in todo}

    def stored_failures(failed: list[tuple[str, str]]) -> None:
        # Runs whose table could not be written: failures, as a run that raised.
        for run_id, error in failed:
            results.pop(run_id, None)
            failures.append(RunFailure(by_id[run_id], error))

    def collect(fut: Future, chunk: Sequence[RunSpec]) -> None:
        nonlocal finished
        if fut.cancelled() and getattr(pool, "lost", None):
            raise pool.lost  # every Dask worker gone (executors.WatchedExecutor)
        for spec, ok, value, kind in _chunk_outcomes(chunk, fut):
            if ok:
                results[spec.run_id] = value
                kinds[spec.run_id] = kind
                if writer is not None:
                    stored_failures(writer.add(spec.run_id, value, kind))
            else:
                failures.append(RunFailure(spec, value))
        finished += len(chunk)
        if progress:
            progress(finished, total)

    if progress:
        progress(finished, total)
    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    if chunks:
        n = default_workers() if workers is None else max(1, int(workers))
        context = (executor_for(None, min(n, len(chunks))) if executor is None
                   else nullcontext(executor))
        try:
            with context as pool:
                pending: dict[Future, Sequence[RunSpec]] = {}

                def submit(chunk: Sequence[RunSpec], to: Executor) -> None:
                    fut = to.submit(_run_chunk, chunk, task, out_dir is not None)
                    if fut.done():  # run at submission (in this process): collected at once
                        collect(fut, chunk)
                    else:
                        pending[fut] = chunk

                for chunk in chunks:
                    submit(chunk, pool)
                while pending:
                    # Wakes up when the tables kept are due, so that they are written even
                    # while no run comes back.
                    done, _ = wait(pending, timeout=writer.due_in() if writer else None,
                                   return_when=FIRST_COMPLETED)
                    for fut in done:
                        collect(fut, pending.pop(fut))
                    if writer is not None:
                        stored_failures(writer.flush_due())
        finally:
            # Also when the batch is interrupted (Ctrl-C, a lost cluster): every finished
            # run is stored before the exception goes on.
            if writer is not None:
                stored_failures(writer.flush())
    if out_dir is not None:
        out = Path(out_dir)
        _update_failures(out, {spec.run_id for spec in unique}, failures)
        remove_stale_temps(run_files.runs_folder(out), ".*.parquet.*.tmp", started)
        remove_stale_temps(out, f".{FAILURES_FILE}.*.tmp", started)
    return RunSet(specs=specs, results=results, failures=failures,
                  machine_kinds={k: v for k, v in kinds.items() if k in results})


def _run_chunk(chunk: Sequence[RunSpec], task: Task | None, tables: bool
               ) -> tuple[str, list[tuple[bool, Any]]]:
    """Runs in a worker: the worker's machine kind (``machine_kind.vector_maths``) and every
    spec of ``chunk``, each (True, result) or (False, traceback); with ``tables`` (an output
    folder) a result that is not a table is a failure."""
    done: list[tuple[bool, Any]] = []
    for spec in chunk:
        try:
            # Looked up at call time, not bound as a default, so that a replaced run_one is
            # the one the worker runs.
            value = (task or run_one)(spec)
            if tables and not isinstance(value, pd.DataFrame):
                raise TypeError("with an output folder a task must return a table, got "
                                f"{type(value).__name__}")
            done.append((True, value))
        except Exception:
            done.append((False, traceback.format_exc()))
    return machine_kind.vector_maths(), done


def _chunk_outcomes(chunk: Sequence[RunSpec], future: Any
                    ) -> Iterator[tuple[RunSpec, bool, Any, str | None]]:
    """(spec, succeeded, result or traceback, the worker's machine kind) of every run of a
    finished chunk; when the task itself failed (a lost worker), every run of the chunk fails
    with its traceback."""
    kind: str | None = None
    try:
        result = future.result()
        if isinstance(result, tuple):
            kind, outcomes = result
        else:  # a worker of a version before machine kinds: the outcomes alone
            outcomes = result
    except Exception as err:
        # The worker's traceback is lost with it; the parent's says nothing (and one exception
        # object shared by many futures would collect a traceback per re-raise).
        outcomes = [(False, "".join(traceback.format_exception_only(err)))] * len(chunk)
    for spec, (ok, value) in zip(chunk, outcomes, strict=True):
        yield spec, ok, value, kind


def _update_failures(out: Path, batch: set[str], failures: list[RunFailure]) -> None:
    """Rewrite ``out/failures.json``: earlier entries of runs outside this batch that still
    have no result, then this batch's failures."""
    path = out / FAILURES_FILE
    earlier: list[dict[str, Any]] = []
    if path.exists():
        try:
            earlier = [r for r in json.loads(path.read_text()) if isinstance(r, dict)]
        except (OSError, ValueError, TypeError):
            earlier = []
    if earlier:
        stored = run_files.index(out)
        earlier = [r for r in earlier if r.get("run_id") not in batch
                   and r.get("run_id") not in stored]
    write_json(earlier + [f.record() for f in failures], path)


def _unique(specs: Iterable[RunSpec]) -> list[RunSpec]:
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.run_id not in seen:
            seen.add(spec.run_id)
            out.append(spec)
    return out


def replications(label: str, parameters: Mapping[str, Any], n: int, root_seed: int,
                 horizon: int, start: int = 0) -> list[RunSpec]:
    """Specs of replications start..start+n-1 of one configuration (a ``Parameters`` is
    shared by them as it is; other mappings are copied)."""
    from simulation.parameters import Parameters

    if not isinstance(parameters, Parameters):
        parameters = dict(parameters)
    return [RunSpec(label, parameters, j, root_seed, horizon)
            for j in range(start, start + n)]
