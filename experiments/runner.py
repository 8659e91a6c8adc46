"""Running many model runs: run specifications, parallel execution, Parquet results, resume.

A ``RunSpec`` names one run: a label, the model's keyword arguments, the replication index j
and the root seed. Replication j of every label uses ``SeedSequence(root_seed,
spawn_key=(j,))``, so scenarios compared on the same j share their random numbers (common
random numbers). Runs execute behind the ``concurrent.futures.Executor`` interface (a spawn
process pool by default, one thread per worker); workers receive only specifications, never
model objects, and when an output folder is given each worker writes its own run's table to
``runs/<run_id>.parquet`` (temporary name, then rename), so an interrupted batch resumes by
skipping finished runs.

Robustness (see ``run_many``): a run that raises is recorded as a failure, never stops the
batch, and with an output folder the failures are kept in ``failures.json``; a batch killed at
any moment (even with SIGKILL) resumes with only the missing runs, because a result file
exists under its final name only once complete; temporary files a killed writer left behind
are ignored by resume and removed at the end of the next batch. Dask distributed executors
(``experiments.executors.executor_for``) plug in through the same ``Executor`` interface.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _model_fingerprint() -> str:
    """The package version plus a hash of the model's source: any code change gives new run
    ids, so a resumed batch never reuses results of an older model."""
    import simulation

    root = Path(simulation.__file__).parent
    digest = hashlib.sha256()
    # calibration.toml holds calibrated defaults: model behaviour as much as the code is.
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.toml")]):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{simulation.__version__}+{digest.hexdigest()[:12]}"


MODEL_VERSION = _model_fingerprint()
# Columns of every run table besides the indicators.
KEY_COLUMNS = ("run_id", "label", "replication", "step")


@dataclass(frozen=True)
class RunSpec:
    """One model run: ``label`` (scenario or configuration), parameters, replication, seed."""

    label: str
    parameters: dict[str, Any]
    replication: int
    root_seed: int
    horizon: int

    @cached_property  # hashed once: resolving and hashing the parameters is not free
    def run_id(self) -> str:
        """Hash of model version, parameters, seed and horizon (not the label).

        Parameters are hashed fully resolved, so a run that sets a parameter to its default
        is the same run as one that leaves it out. Invalid parameters do not raise here (the
        run raises in its worker and is recorded as a failure): they are hashed as given,
        marked unresolved, so such an id never equals the id of a valid run.
        """
        from simulation.parameters import ParameterError, resolve

        try:
            params = resolve({**self.parameters, "horizon_months": self.horizon})
        except ParameterError:
            text = json.dumps({"version": MODEL_VERSION, "unresolved": _plain(self.parameters),
                               "seed": [self.root_seed, self.replication],
                               "horizon": self.horizon}, sort_keys=True, default=repr)
            return hashlib.sha256(text.encode()).hexdigest()[:16]
        text = json.dumps({"version": MODEL_VERSION, "parameters": _plain(params),
                           "seed": [self.root_seed, self.replication],
                           "horizon": self.horizon}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def seed(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.root_seed, spawn_key=(self.replication,))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_one(spec: RunSpec) -> pd.DataFrame:
    """Build and run the model of ``spec``; one row per month (0..horizon)."""
    from simulation import EcosystemModel

    params = {**spec.parameters, "horizon_months": spec.horizon}
    model = EcosystemModel(rng=spec.seed(), **params)
    model.run()
    df = model.dataframe().reset_index()
    df.insert(0, "run_id", spec.run_id)
    df.insert(1, "label", spec.label)
    df.insert(2, "replication", spec.replication)
    return df


def _worker(spec: RunSpec, out_dir: str | None) -> tuple[str, pd.DataFrame | None, float]:
    """Runs in a worker process: run, then write the table if asked; returns (id, table, s)."""
    started = time.perf_counter()
    df = run_one(spec)
    if out_dir is not None:
        write_parquet(df, Path(out_dir) / "runs" / f"{spec.run_id}.parquet")
    return spec.run_id, df, time.perf_counter() - started


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write atomically: a temporary file in the same folder, then a rename.

    The final name only ever holds a complete file. A writer that raises removes its
    temporary file; one that is killed leaves ``.<name>.<pid>.tmp``, which resume ignores and
    ``run_many`` removes at the end of a batch.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically, like ``write_parquet``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _remove_stale_temps(folder: Path, pattern: str, started: float) -> None:
    """Remove temporary files (``.<name>.<pid>.tmp``) that no writer will rename any more.

    A file is stale if it predates this batch (by 2 s, for coarse file clocks) or its writer
    is no longer a living process on this machine; a temporary file of a living writer
    created during the batch (say, a worker orphaned by a killed batch that still finishes
    its run) is left to that writer.
    """
    for tmp in folder.glob(pattern):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        try:
            if tmp.stat().st_mtime < started - 2.0 or not _alive(pid):
                tmp.unlink(missing_ok=True)
        except OSError:
            pass  # renamed or removed meanwhile


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A spawn process pool whose workers use one BLAS/OpenMP thread each.

    Its workers exit when the process that started them dies (a batch killed with SIGKILL
    would otherwise leave them behind, idle or finishing their run, for good).
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Pool initializer: a daemon thread that ends this worker once ``parent`` is gone."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


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
    """The results of a batch: per-step table (long), per-run summary, failures."""

    steps: pd.DataFrame
    failures: list[RunFailure] = field(default_factory=list)

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


def run_many(specs: Sequence[RunSpec], *, workers: int | None = None,
             out_dir: str | Path | None = None, executor: Executor | None = None,
             progress: Callable[[int, int], None] | None = None) -> RunSet:
    """Run every spec (in parallel when workers > 1); resume from ``out_dir`` if given.

    A run that raises is recorded as a failure with its traceback; the others go on.
    ``executor`` may be any ``concurrent.futures.Executor`` whose ``submit`` returns
    ``concurrent.futures.Future`` objects, e.g. a Dask ``client.get_executor(pure=False)``
    (see ``experiments.executors``); with Dask, ``out_dir`` must be visible to the workers.

    With ``out_dir``: finished runs (``runs/<run_id>.parquet``) are read, not rerun; at the
    end ``failures.json`` lists every run of the folder that failed and has no result (this
    batch's failures replace earlier entries of the same runs, and a run that now succeeded
    is dropped), and stale temporary files of killed writers are removed.
    """
    started = time.time()
    out = str(out_dir) if out_dir is not None else None
    tables: dict[str, pd.DataFrame] = {}
    todo: list[RunSpec] = []
    unique = _unique(specs)
    for spec in unique:
        done = Path(out) / "runs" / f"{spec.run_id}.parquet" if out else None
        df = _read_finished(done) if done is not None else None
        if df is not None:
            df["label"] = spec.label  # the same run may serve several labels
            tables[spec.run_id] = df
        else:
            todo.append(spec)
    total, finished = len(tables) + len(todo), len(tables)
    failures: list[RunFailure] = []
    if progress:
        progress(finished, total)
    workers = default_workers() if workers is None else max(1, workers)
    def collect(spec: RunSpec, result: Callable[[], tuple[str, pd.DataFrame, float]]) -> None:
        nonlocal finished
        try:
            run_id, df, _ = result()
            tables[run_id] = df
        except Exception:
            failures.append(RunFailure(spec, traceback.format_exc()))
        finished += 1
        if progress:
            progress(finished, total)

    if executor is None and (workers == 1 or len(todo) <= 1):
        for spec in todo:
            collect(spec, lambda spec=spec: _worker(spec, out))
    else:
        own = executor is None
        pool = process_pool(min(workers, len(todo))) if own else executor
        try:
            futures = {pool.submit(_worker, spec, out): spec for spec in todo}
            for fut in as_completed(futures):
                collect(futures[fut], fut.result)
        finally:
            if own:
                pool.shutdown(cancel_futures=True)
    frames = []
    for spec in specs:  # every requested label, in the order asked
        if spec.run_id in tables:
            df = tables[spec.run_id]
            if df["label"].iat[0] != spec.label:
                df = df.assign(label=spec.label)
            frames.append(df)
    steps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(KEY_COLUMNS))
    if out is not None:
        _update_failures(Path(out), {spec.run_id for spec in unique}, failures)
        _remove_stale_temps(Path(out) / "runs", ".*.parquet.*.tmp", started)
        _remove_stale_temps(Path(out), f".{FAILURES_FILE}.*.tmp", started)
    return RunSet(steps=steps, failures=failures)


def _read_finished(path: Path) -> pd.DataFrame | None:
    """The table of a finished run, or None if there is none, or it cannot be read, or it
    is empty (a run table has at least step 0): such a run is run again, overwriting it."""
    if not path.is_file():  # (pandas would read a folder of that name as an empty table)
        return None
    try:
        df = pd.read_parquet(path)
    except Exception:  # e.g. damaged on disk
        return None
    return df if len(df) else None


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
    keep = [r for r in earlier if r.get("run_id") not in batch
            and not (out / "runs" / f"{r.get('run_id')}.parquet").exists()]
    write_json(keep + [f.record() for f in failures], path)


def _unique(specs: Iterable[RunSpec]) -> list[RunSpec]:
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.run_id not in seen:
            seen.add(spec.run_id)
            out.append(spec)
    return out


def replications(label: str, parameters: dict[str, Any], n: int, root_seed: int, horizon: int,
                 start: int = 0) -> list[RunSpec]:
    """Specs of replications start..start+n-1 of one configuration."""
    return [RunSpec(label, dict(parameters), j, root_seed, horizon)
            for j in range(start, start + n)]
