"""Executors of the batch runner: in this process, a local process pool, or Dask distributed.

``executor_for(scheduler, workers)`` is a context manager that always yields a
``concurrent.futures.Executor``:

- ``scheduler=None``: the local machine. With one worker, an ``InlineExecutor`` that runs each
  task in this process when it is submitted (no process start-up for a single run); with more,
  a spawn process pool of ``workers`` processes (default: one per CPU), see ``process_pool``.
- ``"local"``: starts a ``dask.distributed.LocalCluster`` on this machine (``workers`` worker
  processes, default one per CPU, one thread each, bound to 127.0.0.1, no dashboard) and
  yields ``client.get_executor(pure=False)``.
- any other string: the address of a running Dask scheduler (``tcp://host:8786``, or one
  started by dask-jobqueue on Slurm/PBS); yields the same kind of executor.

On leaving the context, tasks still pending (an interrupted batch) are cancelled, not waited for.

The Dask executor's ``submit`` returns plain ``concurrent.futures.Future`` objects, so the
runner's ``as_completed`` / ``result()`` loop is the same for all three. ``pure=False`` gives
every submission its own task key: two identical submissions are two runs, never one cached
result. Each Dask worker writes its runs' Parquet files itself, so the output folder must be one
every worker can see (a shared file system on a cluster). A task whose worker is lost is rerun
by the scheduler on another worker (after ``distributed.scheduler.allowed-failures`` such
losses, 3 by default, it fails with ``KilledWorker`` and is recorded as a failure); either way a
rerun of the batch runs only what is missing.

Worker processes use one BLAS/OpenMP thread: the process pool sets ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` to 1 before its workers start; the
``LocalCluster`` sets them through ``distributed.nanny.pre-spawn-environ`` (which is Dask's
default too); on an existing cluster a warning names the workers where that is not so. The
LocalCluster also turns off two Dask defaults that slow the model down in its workers (see
``LOCAL_CONFIG``); on an existing cluster set them in the workers' Dask configuration:
``distributed.worker.profile.enabled: false`` and no ``MALLOC_TRIM_THRESHOLD_`` in
``distributed.nanny.pre-spawn-environ``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LOCAL = "local"
# Dask settings of the LocalCluster's workers (nannies pass them on, also to restarted workers).
LOCAL_CONFIG: dict[str, Any] = {
    # In the environment before a worker process starts (numpy reads them at import),
    # whatever the user's Dask configuration says.
    **{f"distributed.nanny.pre-spawn-environ.{var}": value for var, value in ONE_THREAD.items()},
    # Dask's default MALLOC_TRIM_THRESHOLD_=65536 turns off glibc's adaptive mmap threshold,
    # so the model's large temporary numpy arrays are mapped and unmapped at every step: runs
    # measured ~15% slower. Unset it (None removes it from the workers' environment).
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # The statistical profiler samples the running task every 10 ms for the dashboard, which
    # is off: runs measured ~15% slower with it.
    "distributed.worker.profile.enabled": False,
}


def default_workers() -> int:
    """One worker per CPU."""
    return max(1, os.cpu_count() or 1)


class InlineExecutor(Executor):
    """An executor that runs each task in this process, when it is submitted.

    The batch runner then has one code path for every executor; a task that raises gives a
    future holding the exception, as a pool would.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:  # the caller's result() raises it, as with a pool
            future.set_exception(err)
        return future


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A spawn process pool whose workers use one BLAS/OpenMP thread each.

    Its workers exit when the process that started them dies (a batch killed with SIGKILL
    would otherwise leave them behind, idle or finishing their run, for good).
    """
    for var, value in ONE_THREAD.items():
        os.environ.setdefault(var, value)
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Pool initializer: a daemon thread that ends this worker once ``parent`` is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def executor_for(scheduler: str | None = None, workers: int | None = None
                 ) -> Iterator[Executor]:
    """The executor for ``scheduler`` (None, ``"local"`` or a Dask scheduler address) with
    ``workers`` workers (default: one per CPU); see the module docstring."""
    if scheduler is None:
        n = default_workers() if workers is None else max(1, int(workers))
        if n == 1:
            yield InlineExecutor()
            return
        pool = process_pool(n)
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)
        return
    scheduler = scheduler.strip()
    if not scheduler:
        raise ValueError("scheduler: expected 'local' or a Dask scheduler address, got ''")
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler == LOCAL:
        n = max(1, workers) if workers else default_workers()
        with dask.config.set(LOCAL_CONFIG), LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None) as cluster, Client(cluster) as client, \
                _client_executor(client) as executor:
            yield executor
    else:
        with Client(scheduler) as client, _client_executor(client) as executor:
            _warn_threads(client)
            yield executor


@contextmanager
def _client_executor(client: Any) -> Iterator[Executor]:
    executor = client.get_executor(pure=False)
    try:
        yield executor
    finally:
        # Tasks still pending (the batch was interrupted) are cancelled, not waited for.
        executor.shutdown(wait=False)


def worker_threads(client: Any) -> dict[str, dict[str, str | None]]:
    """The BLAS/OpenMP thread variables of every worker of ``client``'s cluster."""
    return client.run(thread_environ)


def thread_environ() -> dict[str, str | None]:
    """The BLAS/OpenMP thread variables of this process."""
    return {var: os.environ.get(var) for var in ONE_THREAD}


def _warn_threads(client: Any) -> None:
    try:
        found = worker_threads(client)
    except Exception:  # a cluster without workers yet, or one that forbids run()
        return
    bad = sorted(w for w, env in found.items() if any(v != "1" for v in env.values()))
    if bad:
        warnings.warn(f"Dask workers without one BLAS/OpenMP thread ({', '.join(bad)}): set "
                      f"{', '.join(ONE_THREAD)} to 1 in their environment", stacklevel=3)
