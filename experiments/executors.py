"""Executors of the batch runner: in this process, a local process pool, or Dask distributed.

``executor_for(scheduler, workers)`` is a context manager that always yields a
``concurrent.futures.Executor``:

- ``scheduler=None``: the local machine. With one worker, an ``InlineExecutor`` that runs each
  task in this process when it is submitted (no process start-up for a single run); with more,
  a process pool of ``workers`` processes (default: one per CPU) forked from a fork server
  that imported the model and loaded numba's kernels once (spawn where the platform has no
  fork server), see ``process_pool``.
- ``"local"``: starts a ``dask.distributed.LocalCluster`` on this machine (``workers`` worker
  processes, default one per CPU, one thread each, bound to 127.0.0.1, no dashboard) and
  yields ``client.get_executor(pure=False)``.
- any other string: the address of a running Dask scheduler (``tcp://host:8786``, or one
  started by dask-jobqueue on Slurm/PBS); yields the same kind of executor.

On leaving the context, tasks still pending (an interrupted batch) are cancelled, not waited for.

``check_scheduler`` validates a ``--scheduler`` before anything is written (``local``, or a Dask
scheduler that completes Dask's handshake within 5 s). Dask executors are ``WatchedExecutor``:
when every worker has been gone for ``HELIXSIM_WORKER_TIMEOUT`` seconds (120) while tasks are
pending, the batch stops with ``WorkersLostError`` instead of waiting for ever.

The Dask executor's ``submit`` returns plain ``concurrent.futures.Future`` objects, so the
runner's ``as_completed`` / ``result()`` loop is the same for all three. ``pure=False`` gives
every submission its own task key: two identical submissions are two runs, never one cached
result. Workers send each run's table back and the runner's process stores it, so the output
folder need not be one the workers can see. A task whose worker is lost is rerun
by the scheduler on another worker (after ``distributed.scheduler.allowed-failures`` such
losses, 3 by default, it fails with ``KilledWorker`` and is recorded as a failure); either way a
rerun of the batch runs only what is missing.

Worker processes use one BLAS/OpenMP thread: the process pool sets ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` to 1 before its fork server and workers start; the
``LocalCluster`` sets them through ``distributed.nanny.pre-spawn-environ`` (which is Dask's
default too); on an existing cluster a warning names the workers where that is not so. The
LocalCluster also turns off two Dask defaults that slow the model down in its workers (see
``LOCAL_CONFIG``); on an existing cluster set them in the workers' Dask configuration:
``distributed.worker.profile.enabled: false`` and no ``MALLOC_TRIM_THRESHOLD_`` in
``distributed.nanny.pre-spawn-environ``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
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


# multiprocessing's start methods, fastest first: see process_pool.
START_METHODS = ("forkserver", "spawn")
# Imported once by the fork server, so that every worker forked from it starts with the model
# imported and numba's kernels loaded (experiments/worker_warmup.py says how).
WARMUP_MODULE = "experiments.worker_warmup"
# pyarrow (which pandas imports) starts a jemalloc background thread at import; without it
# the fork server stays at one thread, so forking it is safe (a fork copies no other thread,
# and a lock such a thread held would stay locked in the child for good).
SERVER_ENV = {"JE_ARROW_MALLOC_CONF": "background_thread:false"}


def start_method() -> str:
    """The start method of the local process pool: ``forkserver`` where the platform has it
    (Linux, macOS and the other POSIX systems), else ``spawn`` (Windows)."""
    available = multiprocessing.get_all_start_methods()
    return next(m for m in START_METHODS if m in available)


def process_pool(workers: int, method: str | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers use one BLAS/OpenMP thread each.

    ``method`` is the start method (default ``start_method()``). With ``forkserver``, a fork
    server process imports what a run needs and loads numba's kernels once (``WARMUP_MODULE``),
    and every worker is a fork of it: a worker starts in milliseconds instead of importing
    numba and loading the kernels itself (a second or more each, several seconds on a loaded
    machine), and the kernels are loaded once, not once per worker. The server lives as long
    as this process, so later pools of the same process start at once too. It is started
    here, so its warm-up overlaps with what the caller does before the first run.

    Why not ``fork`` of this process: this process may run threads (Dask, the progress
    display, pyarrow's allocator), which a fork does not copy, and a lock held by one would
    stay locked in the child; and its BLAS was set up before the one-thread variables were.
    The fork server is a fresh interpreter started with those variables, at one thread.
    ``spawn`` (each worker a fresh interpreter that imports everything itself) is what the
    pool used first, the one method every platform has; it is the fallback.

    As with spawn, each worker starts in this process's working directory, with its module
    search path and its main module (imported as ``__mp_main__``), and with its environment
    variables as they are when the pool is made (``_start_worker``); but variables that C
    libraries read when they load (the BLAS thread count, numba's settings) are those of the
    moment the fork server started. Workers exit when this process dies (a batch killed with
    SIGKILL would otherwise leave them behind, idle or finishing their run, for good).
    """
    for var, value in {**ONE_THREAD, **SERVER_ENV}.items():
        os.environ.setdefault(var, value)
    method = method or start_method()
    context = multiprocessing.get_context(method)
    forked = method == "forkserver"
    if forked:
        from multiprocessing import forkserver

        context.set_forkserver_preload([WARMUP_MODULE])  # only before the server starts
        forkserver.ensure_running()
    parent = _Parent.of_this_process(forked)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_start_worker, initargs=(parent,))


@dataclass(frozen=True)
class _Parent:
    """The process that made a pool, as its workers see it."""

    pid: int
    created: float  # psutil's create_time: a reused process id is not the parent
    # The environment variables a forked worker takes over (None: a spawned worker, which
    # inherits them when it starts).
    environ: dict[str, str] | None = None

    @classmethod
    def of_this_process(cls, forked: bool) -> _Parent:
        import psutil

        me = psutil.Process()
        return cls(me.pid, me.create_time(), dict(os.environ) if forked else None)


def _start_worker(parent: _Parent) -> None:
    """Pool initializer: a forked worker takes over the parent's environment (multiprocessing
    hands it the working directory, module search path and main module, not that); then
    every worker watches its parent."""
    if parent.environ is not None:
        for var in set(os.environ) - set(parent.environ):
            del os.environ[var]
        os.environ.update(parent.environ)
    _exit_with_parent(parent.pid, parent.created)


def _exit_with_parent(parent: int, created: float, interval: float = 0.5) -> None:
    """A daemon thread that ends this worker once process ``parent`` is gone (or a zombie).

    A forked worker's parent process is the fork server, which outlives the pool's process as
    long as workers live, so the watch is on the pool's process itself, by id and start time.
    """
    import psutil

    def gone() -> bool:
        try:
            proc = psutil.Process(parent)
            return (abs(proc.create_time() - created) > 0.01
                    or proc.status() == psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return True
        except psutil.Error:  # e.g. access denied: it exists
            return False

    def watch() -> None:
        while not gone():
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class SchedulerError(ValueError):
    """A ``--scheduler`` that is neither ``local`` nor a reachable Dask scheduler; one line."""


SCHEDULER_SCHEMES = ("tcp", "tls")
CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before the address is refused


def check_scheduler(scheduler: str | None, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """The scheduler as ``executor_for`` takes it, checked before anything is written.

    ``None`` and ``"local"`` need no network. Anything else must be ``tcp://host:port`` or
    ``tls://host:port`` (a bare ``host:port`` means tcp) that accepts a TCP connection within
    ``timeout`` seconds; ``inproc://`` addresses live inside one process and cannot be
    reached from a command. Raises ``SchedulerError`` with one line otherwise.
    """
    import socket
    from urllib.parse import urlsplit

    if scheduler is None:
        return None
    text = scheduler.strip()
    if text == LOCAL:
        return LOCAL
    shown = repr(scheduler[:80])
    if not text:
        raise SchedulerError("--scheduler: expected 'local' or a Dask scheduler address such "
                             "as tcp://host:8786, got ''")
    address = text if "://" in text else f"tcp://{text}"
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None:
        raise SchedulerError(f"--scheduler {shown}: expected 'local' or a Dask scheduler "
                             f"address such as tcp://host:8786 (tcp or tls, with a port)")
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SchedulerError(f"--scheduler {shown}: no Dask scheduler answers there within "
                             f"{timeout:g} s ({reason})") from None
    # Something listens; is it a Dask scheduler? (A proxy or another service may accept any
    # connection and answer garbage, which Dask's handshake turns into odd errors.)
    _connect(address, shown, timeout)
    return address


def _connect(address: str, shown: str, timeout: float) -> None:
    """Dask's own connection handshake with ``address``, or ``SchedulerError`` within about
    ``timeout`` seconds."""
    import asyncio

    from distributed.comm import connect

    async def handshake() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()
    try:
        asyncio.run(asyncio.wait_for(handshake(), timeout + 1))
    except (TimeoutError, OSError) as err:
        reason = " ".join(str(err).split())[:120] or type(err).__name__
        raise SchedulerError(f"--scheduler {shown}: no Dask scheduler answers there within "
                             f"{timeout:g} s ({reason})") from None
    except Exception:  # a garbled handshake: MemoryError, ValueError, struct.error, ...
        raise SchedulerError(f"--scheduler {shown}: something answers there, but not a Dask "
                             f"scheduler") from None


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


class WorkersLostError(RuntimeError):
    """Every Dask worker was gone for longer than the wait; ``str`` is one line."""


WORKER_ENV = "HELIXSIM_WORKER_TIMEOUT"
WORKER_WAIT = 120.0  # seconds a batch waits for new workers once every worker is gone


def worker_wait() -> float:
    """Seconds to wait for new Dask workers (``HELIXSIM_WORKER_TIMEOUT``, default 120)."""
    try:
        return max(1.0, float(os.environ.get(WORKER_ENV, WORKER_WAIT)))
    except ValueError:
        return WORKER_WAIT


class WatchedExecutor(Executor):
    """A Dask executor that does not wait forever for workers that are gone.

    Dask keeps tasks whose workers all died until new workers join, so a batch whose cluster
    lost every worker would sit idle for good. A watchdog thread asks the scheduler for its
    workers every ``poll`` seconds; once there have been none for ``wait`` seconds while tasks
    are pending, it records ``lost`` (a ``WorkersLostError``) and cancels the pending tasks, so
    the runner stops with that error (finished runs are already on disk: a rerun resumes).
    Workers that come back within the wait (a nanny restarting them, a job scheduler starting
    new ones) reset the clock.
    """

    def __init__(self, client: Any, wait: float, poll: float = 1.0) -> None:
        self._client = client
        self._inner = client.get_executor(pure=False)
        self._futures: list[Future] = []
        self.wait, self.poll = wait, poll
        self.lost: WorkersLostError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dask-worker-watchdog",
                                        daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future = self._inner.submit(fn, *args, **kwargs)
        self._futures.append(future)
        return future

    def _workers(self) -> int | None:
        try:
            return len(self._client.nthreads())
        except Exception:  # the scheduler itself is unreachable: count it as no workers
            return 0

    def _watch(self) -> None:
        empty_since: float | None = None
        while not self._stop.wait(self.poll):
            pending = sum(not f.done() for f in self._futures)
            if not pending or self._workers():
                empty_since = None
                continue
            now = time.monotonic()
            if empty_since is None:
                empty_since = now
                # From here the batch either recovers or stops with one line: Dask's and
                # tornado's tracebacks of callbacks cut short by the lost workers (and by the
                # teardown) would only bury it.
                for name in ("distributed", "distributed.client", "tornado",
                             "tornado.application"):
                    logging.getLogger(name).setLevel(logging.CRITICAL)
                sys.stderr.write(f"warning: every Dask worker is gone; waiting up to "
                                 f"{self.wait:g} s for new ones\n")
            elif now - empty_since >= self.wait:
                done = sum(f.done() and not f.cancelled() for f in self._futures)
                self.lost = WorkersLostError(
                    f"every Dask worker has been gone for {self.wait:g} s ({done} of "
                    f"{len(self._futures)} tasks done, their runs kept); start workers and "
                    f"rerun the same command to resume (HELIXSIM_WORKER_TIMEOUT sets the wait)")
                self._inner.shutdown(wait=False)  # cancels the pending tasks
                return

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        # Tasks still pending (the batch was interrupted) are cancelled, not waited for.
        self._inner.shutdown(wait=False)


@contextmanager
def _client_executor(client: Any) -> Iterator[Executor]:
    executor = WatchedExecutor(client, worker_wait())
    try:
        yield executor
    finally:
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
