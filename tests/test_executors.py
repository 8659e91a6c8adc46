"""run_many on every executor: identical results, failures, resume after SIGKILL, lost workers.

One Dask LocalCluster (two worker processes) serves the whole module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from experiments import run_files as files
from experiments.executors import ONE_THREAD, executor_for, process_pool, thread_environ
from experiments.run_files import stored_runs
from experiments.runner import FAILURES_FILE, RunSpec, run_many

ROOT = Path(__file__).resolve().parent.parent
TINY = {"n_firms": 60, "intake_per_university": 50, "n_universities": 1}
# Passes RunSpec construction and parameter resolution; fails only when the model is built
# (the timeline would raise the 2.0 + 3.0 shares above 1 at month 3).
BAD_TIMELINE = {**TINY, "share_edu_2_0": 0.5, "timeline": [[3, "share_edu_3_0", 0.9]]}
# An unknown parameter: RunSpec.run_id must still work (it cannot resolve the parameters).
UNKNOWN = {**TINY, "no_such_parameter": 1}


def batch(n: int = 4, horizon: int = 8) -> list[RunSpec]:
    """Two configurations x n replications, plus a second label on the same runs."""
    return [RunSpec(label, params, j, 7, horizon)
            for label, params in (("a", TINY), ("b", {**TINY, "n_firms": 90}))
            for j in range(n)] + [RunSpec("a_again", TINY, 0, 7, horizon)]


def finished(out: Path) -> list[str]:
    """The run ids stored in ``out``, one entry per stored copy."""
    return stored_runs(out)


def temps(out: Path) -> list[Path]:
    return sorted(out.rglob("*.tmp"))


@pytest.fixture(scope="module")
def dask_executor():
    with executor_for("local", 2) as executor:
        yield executor


@pytest.fixture(scope="module")
def reference():
    """The batch run in this process, without an output folder."""
    runs = run_many(batch(), workers=1)
    assert not runs.failures
    return runs


def test_the_same_results_in_process_on_a_process_pool_and_on_dask(
        tmp_path, reference, dask_executor):
    pool = run_many(batch(), workers=2, out_dir=tmp_path / "pool")
    dask = run_many(batch(), out_dir=tmp_path / "dask", executor=dask_executor)
    for runs in (pool, dask):
        assert not runs.failures
        pd.testing.assert_frame_equal(runs.summary, reference.summary)
        pd.testing.assert_frame_equal(runs.steps, reference.steps)
    # The workers wrote the files; reading them back (a resume) gives the same again.
    ids = sorted({s.run_id for s in batch()})
    assert finished(tmp_path / "pool") == finished(tmp_path / "dask") == ids
    again = run_many(batch(), workers=2, out_dir=tmp_path / "dask")
    pd.testing.assert_frame_equal(again.summary, reference.summary)
    assert not temps(tmp_path)


def test_dask_workers_use_one_thread_and_identical_submissions_stay_separate(dask_executor):
    from distributed import default_client

    found = default_client().run(thread_environ)
    assert len(found) == 2
    assert all(env == ONE_THREAD for env in found.values()), found
    blas = dask_executor.submit(threadpool_info).result(timeout=30)
    assert blas and all(lib["num_threads"] == 1 for lib in blas), blas
    # pure=False: two submissions of the same call are two tasks, not one cached result.
    first, second = dask_executor.submit(uuid.uuid4), dask_executor.submit(uuid.uuid4)
    assert first.result(timeout=30) != second.result(timeout=30)


@pytest.mark.parametrize("how", ["in-process", "pool", "dask"])
def test_a_run_that_raises_is_a_failure_and_the_others_complete(tmp_path, how, dask_executor):
    specs = [*batch(2), RunSpec("bad_timeline", BAD_TIMELINE, 0, 7, 8),
             RunSpec("unknown", UNKNOWN, 1, 7, 8)]
    kwargs = {"in-process": {"workers": 1}, "pool": {"workers": 2},
              "dask": {"executor": dask_executor}}[how]
    runs = run_many(specs, out_dir=tmp_path, **kwargs)

    failed = {f.spec.label: f for f in runs.failures}
    assert sorted(failed) == ["bad_timeline", "unknown"]
    assert "ParameterError" in failed["bad_timeline"].message
    assert "'timeline': after the changes at month 3" in failed["bad_timeline"].message
    assert "unknown parameter 'no_such_parameter'" in failed["unknown"].message
    assert "Traceback" in failed["unknown"].error
    assert sorted(runs.summary["label"].unique()) == ["a", "a_again", "b"]
    assert len(finished(tmp_path)) == 4

    records = json.loads((tmp_path / FAILURES_FILE).read_text())
    assert sorted((r["label"], r["replication"]) for r in records) == [
        ("bad_timeline", 0), ("unknown", 1)]
    assert {r["run_id"] for r in records} == {f.spec.run_id for f in runs.failures}
    assert all("ParameterError" in r["error"] for r in records)
    assert not temps(tmp_path)


def test_failures_json_is_cleared_when_a_resume_succeeds(tmp_path):
    specs = batch(2)
    ids = sorted({s.run_id for s in specs})
    # Something in the way of the run files' folder: every run fails when it is stored.
    (tmp_path / "runs").write_text("in the way")
    elsewhere = {"run_id": "0123456789abcdef", "label": "other batch", "replication": 0,
                 "error": "Traceback ...\nValueError: x", "message": "ValueError: x"}
    (tmp_path / FAILURES_FILE).write_text(json.dumps([elsewhere]))

    runs = run_many(specs, workers=1, out_dir=tmp_path)
    assert sorted(f.spec.run_id for f in runs.failures) == ids
    assert not runs.results  # a run that could not be stored is not a result either
    assert all("Error" in f.message for f in runs.failures)
    records = json.loads((tmp_path / FAILURES_FILE).read_text())
    # A failure of another batch in the same folder is kept; this batch's are added.
    assert records[0]["run_id"] == "0123456789abcdef"
    assert sorted(r["run_id"] for r in records[1:]) == ids
    assert not temps(tmp_path)

    (tmp_path / "runs").unlink()
    seen: list[tuple[int, int]] = []
    again = run_many(specs, workers=1, out_dir=tmp_path,
                     progress=lambda done, total: seen.append((done, total)))
    assert not again.failures
    assert seen[0] == (0, len(ids))
    assert finished(tmp_path) == ids
    assert [r["run_id"] for r in json.loads((tmp_path / FAILURES_FILE).read_text())] == [
        "0123456789abcdef"]
    assert again.failure_records() == []


def test_a_run_whose_file_is_lost_runs_again_and_only_it(tmp_path, monkeypatch):
    specs = batch(3)
    ids = sorted({s.run_id for s in specs})
    monkeypatch.setattr(files, "FILE_RUNS", 2)  # several files, of two runs each
    run_many(specs, workers=1, out_dir=tmp_path)
    parts = sorted((tmp_path / "runs").glob("*.parquet"))
    assert len(parts) == (len(ids) + 1) // 2
    lost = files.index(tmp_path)
    parts[0].unlink()
    lost_ids = sorted(i for i, where in lost.items() if where.path == parts[0])
    assert len(lost_ids) == 2
    seen: list[tuple[int, int]] = []
    again = run_many(specs, workers=1, out_dir=tmp_path,
                     progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (len(ids) - 2, len(ids))  # only the lost runs ran
    assert finished(tmp_path) == ids
    pd.testing.assert_frame_equal(again.steps, run_many(specs, workers=1).steps,
                                  check_exact=True)


# A batch that a test kills: every run is slowed down (also in spawned workers, which import
# this script as __mp_main__), so the kill lands while some but not all results exist.
KILLED_BATCH = textwrap.dedent("""
    import sys
    import time

    import experiments.runner as runner
    from experiments.executors import executor_for

    _run_one = runner.run_one


    def slow_run_one(spec):
        time.sleep(0.25)
        return _run_one(spec)


    runner.run_one = slow_run_one
    TINY = {tiny!r}
    SPECS = [runner.RunSpec(label, {{**TINY, "n_firms": n}}, j, 11, 6)
             for label, n in (("a", 60), ("b", 70), ("c", 80)) for j in range(4)]

    if __name__ == "__main__":
        out, workers, scheduler = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        with executor_for(None if scheduler == "none" else scheduler, workers) as executor:
            runner.run_many(SPECS, workers=workers, out_dir=out, executor=executor)
""").format(tiny=TINY)


def killed_specs() -> list[RunSpec]:
    return [RunSpec(label, {**TINY, "n_firms": n}, j, 11, 6)
            for label, n in (("a", 60), ("b", 70), ("c", 80)) for j in range(4)]


def start_and_kill(script: Path, out: Path, workers: int, scheduler: str, at: int) -> None:
    """Start the batch, SIGKILL its main process once ``at`` runs are stored, wait for it."""
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(workers), scheduler],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(finished(out)) < at and time.monotonic() < deadline:
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.01)
        children = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert at <= len(finished(out)) < len(killed_specs())
    # Its worker processes notice and exit instead of living on as orphans.
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if _running(pid)]


def _children(pid: int) -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(("workers", "scheduler", "kills"),
                         [(1, "none", (2, 6)), (2, "none", (4,)), (2, "local", (4,))],
                         ids=["in-process", "pool", "dask"])
def test_a_batch_killed_with_sigkill_resumes_with_only_the_missing_runs(
        tmp_path, workers, scheduler, kills):
    script = tmp_path / "batch.py"
    script.write_text(KILLED_BATCH)
    out = tmp_path / "out"
    for at in kills:  # killed, restarted, killed again: each time a little further
        start_and_kill(script, out, workers, scheduler, at)
    specs = killed_specs()
    stored = finished(out)
    # What a writer killed in mid-write leaves: a temporary file of a dead process, for a
    # finished run and for a missing one. Resume must ignore both and then remove them.
    missing = [s.run_id for s in specs if s.run_id not in stored]
    dead = _dead_pid()
    for run_id in (stored[0], missing[0]):
        (out / "runs" / f".{run_id}.parquet.{dead}.tmp").write_bytes(b"PAR1 half a file")

    seen: list[int] = []
    runs = run_many(specs, workers=workers, out_dir=out, progress=lambda d, t: seen.append(d))
    assert not runs.failures
    assert seen[0] == len(stored)  # only the missing runs ran
    assert finished(out) == sorted(s.run_id for s in specs)  # each run exactly once
    assert not temps(out)
    assert json.loads((out / FAILURES_FILE).read_text()) == []
    clean = run_many(specs, workers=1)
    pd.testing.assert_frame_equal(runs.summary, clean.summary)
    pd.testing.assert_frame_equal(runs.steps, clean.steps)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("damage", ["not parquet", "truncated", "a run file of old"])
def test_a_damaged_result_file_is_set_aside_and_its_runs_run_again(tmp_path, reference,
                                                                    damage):
    specs = batch()
    run_many(specs, workers=1, out_dir=tmp_path)
    (part,) = (tmp_path / "runs").glob("*.parquet")
    if damage == "a run file of old":
        # The layout of earlier versions, one file per run named by its run id, damaged.
        part = part.with_name(f"{specs[0].run_id}.parquet")
        bad = b"not parquet"
    else:
        whole = part.read_bytes()
        bad = b"not parquet" if damage == "not parquet" else whole[:len(whole) // 2]
    part.write_bytes(bad)
    runs = run_many(specs, workers=1, out_dir=tmp_path)
    pd.testing.assert_frame_equal(runs.summary, reference.summary)
    pd.testing.assert_frame_equal(runs.steps, reference.steps)
    # Kept for a look, under a name no reader of the folder takes for a run file.
    assert part.with_name(f".{part.name}.damaged").read_bytes() == bad
    if damage == "a run file of old":
        assert not part.exists()  # (its run was read from the other file that holds it)
    assert finished(tmp_path) == sorted({s.run_id for s in specs})
    # The folder reads as one table again: the damaged file no longer in the way.
    assert len(pd.read_parquet(tmp_path / "runs")) == 9 * len(finished(tmp_path))


def kill_after_first_result(out: Path, victim: int) -> tuple[threading.Thread, list[int]]:
    """Start a thread that SIGKILLs process ``victim`` once the first run file exists; the
    list receives the number of run files stored at that moment."""
    stored_at_kill: list[int] = []

    def kill() -> None:
        deadline = time.monotonic() + 60
        while not finished(out) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(victim, signal.SIGKILL)
        stored_at_kill.append(len(finished(out)))

    killer = threading.Thread(target=kill)
    killer.start()
    return killer, stored_at_kill


def test_a_lost_dask_worker_costs_nothing_but_time(tmp_path, dask_executor, monkeypatch):
    from distributed import default_client

    monkeypatch.setattr(files, "FILE_SECONDS", 0.0)  # each run stored as it comes back

    client = default_client()
    specs = [RunSpec("default", {"n_universities": 1}, j, 3, 24) for j in range(12)]
    out = tmp_path / "out"
    victim = next(iter(client.run(os.getpid).values()))
    killer, stored_at_kill = kill_after_first_result(out, victim)
    runs = run_many(specs, out_dir=out, executor=dask_executor)
    killer.join()
    assert 1 <= stored_at_kill[0] < len(specs)  # the worker was lost in mid-batch
    assert not runs.failures, runs.failures[0].error
    assert finished(out) == sorted(s.run_id for s in specs)
    assert not temps(out)
    pd.testing.assert_frame_equal(runs.summary, run_many(specs, workers=1).summary)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert victim not in client.run(os.getpid).values()


def test_a_lost_pool_worker_fails_its_runs_without_hanging_and_a_rerun_completes(
        tmp_path, monkeypatch):
    monkeypatch.setattr(files, "FILE_SECONDS", 0.0)  # each run stored as it comes back
    specs = [RunSpec("default", {"n_universities": 1}, j, 5, 24) for j in range(12)]
    out = tmp_path / "out"
    pool = process_pool(2)
    try:
        ready = [pool.submit(os.getpid) for _ in range(2)]
        victim = ready[0].result(timeout=60)
        killer, stored_at_kill = kill_after_first_result(out, victim)
        runs = run_many(specs, out_dir=out, executor=pool)
        killer.join()
    finally:
        pool.shutdown(cancel_futures=True)
    assert 1 <= stored_at_kill[0] < len(specs)
    # The pool is broken: its unfinished runs are failures, the batch still ends.
    assert runs.failures
    assert all("BrokenProcessPool" in f.message for f in runs.failures)
    assert len(json.loads((out / FAILURES_FILE).read_text())) == len(runs.failures)

    again = run_many(specs, workers=2, out_dir=out)
    assert not again.failures
    assert finished(out) == sorted(s.run_id for s in specs)
    assert json.loads((out / FAILURES_FILE).read_text()) == []
    assert not temps(out)
    pd.testing.assert_frame_equal(again.summary, run_many(specs, workers=1).summary)


def several_seeds() -> list[RunSpec]:
    """Runs on three root seeds and two replications each, a small region with entry, exit
    and a graduation within its 14 months."""
    region = {"n_firms": 150, "intake_per_university": 120, "n_universities": 2}
    return [RunSpec(f"seed{root}", region, j, root, 14) for root in (3, 41, 20261128)
            for j in range(2)]


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_pool_of_either_start_method_gives_the_serial_results_bit_for_bit(method):
    specs = several_seeds()
    serial = run_many(specs, workers=1)
    pool = process_pool(2, method)
    try:
        pooled = run_many(specs, executor=pool)
    finally:
        pool.shutdown(cancel_futures=True)
    assert not serial.failures and not pooled.failures
    pd.testing.assert_frame_equal(pooled.steps, serial.steps, check_exact=True)
    # Not a batch of copies: the seeds differ, and so do their runs.
    assert serial.summary["value_added"].nunique() == len(specs)


def worker_state(pause: float) -> dict:
    """Task: what a worker had before its first run (module level, so a worker can load it)."""
    from experiments import worker_warmup
    from simulation import kernels

    time.sleep(pause)  # keeps this worker busy, so the next task starts a second one
    return {"pid": os.getpid(), "ppid": os.getppid(), "warmed_in": worker_warmup.WARMED_IN,
            "server_threads": worker_warmup.THREADS,
            "loaded": [k for k in kernels._MODULES if getattr(kernels, k).signatures],
            "mark": os.environ.get("HELIXSIM_TEST_MARK"), "cwd": os.getcwd()}


def kernels_a_run_calls() -> list[str]:
    """The kernels that a three-year run of the warm-up region (longer than the warm-up
    itself: every yearly step twice) compiles or loads, found in a fresh process (in this
    one, other tests may have called kernels that only outputs use, such as the student
    table's skills)."""
    code = ("import json\nfrom experiments import worker_warmup as w\n"
            "from simulation import EcosystemModel, kernels\n"
            "EcosystemModel(rng=1, horizon_months=36, **w.WARM_REGION).run()\n"
            "print(json.dumps([k for k in kernels._MODULES if getattr(kernels, k).signatures]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    names = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(names) > 20  # the run calls most kernels: the probe itself works
    return names


def test_forked_workers_start_warm_from_one_fork_server_and_take_the_parents_settings(
        tmp_path, monkeypatch):
    first = process_pool(2, "forkserver")  # the fork server starts (if no test started it)
    first.shutdown()
    # Set after the server started: the workers of a new pool must still see them.
    mark = uuid.uuid4().hex
    monkeypatch.setenv("HELIXSIM_TEST_MARK", mark)
    monkeypatch.chdir(tmp_path)
    pool = process_pool(2, "forkserver")
    try:
        states = [f.result(timeout=120) for f in [pool.submit(worker_state, 1.0)
                                                  for _ in range(2)]]
    finally:
        pool.shutdown(cancel_futures=True)
    assert len({s["pid"] for s in states}) == 2
    server = {s["ppid"] for s in states}
    assert len(server) == 1 and os.getpid() not in server  # forked by one server, not by us
    for s in states:
        # The kernels were loaded once, in the server, before either worker existed.
        assert s["warmed_in"] == s["ppid"] != s["pid"]
        assert set(kernels_a_run_calls()) <= set(s["loaded"])
        assert s["server_threads"] in (1, None)  # one thread when forked (None: no /proc)
        assert s["mark"] == mark and Path(s["cwd"]) == tmp_path
