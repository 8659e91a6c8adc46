"""Batch commands: options checked before anything is written, a results folder belongs to one
job, a dead job shows as interrupted, and a batch whose Dask workers all die stops with a
clear error instead of waiting for ever."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from experiments.executors import SchedulerError, check_scheduler
from experiments.run_files import STORE_ENV, stored_runs

HELIXSIM = str(Path(sys.executable).with_name("helixsim"))
DASK = str(Path(sys.executable).with_name("dask"))

SPEC = """
description = "a small sweep"
replications = 2
horizon_months = {months}
[design]
type = "factorial"
[[factors]]
parameter = "matching_rate"
levels = {levels}
"""


def _spec(folder: Path, name: str = "spec.toml", months: int = 3,
          levels: str = "[0.2, 0.6]") -> Path:
    f = folder / name
    f.write_text(textwrap.dedent(SPEC.format(months=months, levels=levels)))
    (folder / "tiny.toml").write_text("[parameters]\nn_firms = 60\nintake_per_university = 40\n")
    f.write_text('scenario = "tiny.toml"\n' + f.read_text())
    return f


def _helixsim(*args: str, timeout: float = 300, env: dict | None = None
              ) -> subprocess.CompletedProcess:
    return subprocess.run([HELIXSIM, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _one_line_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, out.stderr
    lines = [x for x in out.stderr.splitlines() if x.strip() and not x.startswith("runs ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out.stderr
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("scheduler", ["bogus", "", "   ", "inproc://x", "tcp://host",
                                       "http://127.0.0.1:8786", "tcp://127.0.0.1:PORT"])
def test_a_bad_scheduler_is_refused_before_anything_is_written(tmp_path, scheduler):
    scheduler = scheduler.replace("PORT", str(_closed_port()))
    out = tmp_path / "out"
    line = _one_line_error(_helixsim("experiment", str(_spec(tmp_path)), "--scheduler",
                                     scheduler, "--out", str(out), timeout=120))
    assert "--scheduler" in line
    assert not out.exists()  # no folder, so no _manifest.json and no design.parquet


def test_something_that_is_not_a_dask_scheduler_is_refused(tmp_path):
    """A port that accepts connections but speaks another protocol (here: a plain HTTP
    server) is not a scheduler: refused in seconds, not with a traceback."""
    server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind",
                               "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        port = int(server.stdout.readline().split("port ")[1].split()[0])
        with pytest.raises(SchedulerError, match=r"not a Dask scheduler|no Dask scheduler"):
            check_scheduler(f"tcp://127.0.0.1:{port}", timeout=3)
    finally:
        server.kill()
        server.wait()


def test_local_and_none_need_no_network():
    assert check_scheduler(None) is None
    assert check_scheduler(" local ") == "local"


@pytest.mark.parametrize("where", ["", "/proc/x", "FILE/sub", "/sys/x"])
def test_a_bad_out_folder_is_refused_with_one_line(tmp_path, where):
    (tmp_path / "FILE").write_text("a regular file")
    where = where.replace("FILE", str(tmp_path / "FILE"))
    before = sorted(os.listdir(tmp_path))
    line = _one_line_error(_helixsim("experiment", str(_spec(tmp_path)), "--workers", "1",
                                     "--out", where, timeout=120))
    assert "--out" in line
    assert sorted(os.listdir(tmp_path)) == sorted({*before, "spec.toml", "tiny.toml"})


def test_run_refuses_an_empty_out_too(tmp_path):
    line = _one_line_error(_helixsim("run", "baseline", "--out", "", "--seeds", "2",
                                     timeout=120))
    assert "empty" in line


def test_a_folder_belongs_to_one_experiment(tmp_path):
    out = tmp_path / "exp"
    first = _helixsim("experiment", str(_spec(tmp_path)), "--workers", "1", "--out", str(out))
    assert first.returncode == 0, first.stderr
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["command"] == "experiment" and len(manifest["fingerprint"]) == 16
    assert manifest["spec"].startswith('scenario = "tiny.toml"')
    files = sorted(p.name for p in (out / "runs").iterdir())
    # The same spec again: a resume, nothing rerun.
    again = _helixsim("experiment", str(_spec(tmp_path)), "--workers", "1", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == files
    # Another spec into the same folder: refused, nothing of it written.
    other = _spec(tmp_path, "other.toml", months=4)
    line = _one_line_error(_helixsim("experiment", str(other), "--workers", "1", "--out",
                                     str(out)))
    assert "holds another job" in line and f"--out {out}-2" in line
    assert sorted(p.name for p in (out / "runs").iterdir()) == files
    assert json.loads((out / "_manifest.json").read_text())["fingerprint"] == \
        manifest["fingerprint"]


def test_a_second_job_into_a_folder_being_written_is_refused(tmp_path):
    from experiments import ownership

    out = tmp_path / "busy"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from experiments import ownership
        ownership.claim(Path({str(out)!r}), command="experiment", name="x", job="abc")
        print("held", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ownership.FolderInUseError, match="another job is writing"):
            ownership.claim(out, command="experiment", name="x", job="abc")
    finally:
        holder.kill()
        holder.wait()
    ownership.claim(out, command="experiment", name="x", job="abc")  # free once it is gone
    ownership.release(out)


def test_a_job_that_died_is_shown_as_interrupted(tmp_path):
    out = tmp_path / "killed"
    # Enough runs, long enough, that the kill lands mid-batch: a tiny region's run takes a
    # few tens of milliseconds, so a short batch could be over between two looks.
    spec = _spec(tmp_path, months=120,
                 levels="[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]")
    job = subprocess.Popen([HELIXSIM, "experiment", str(spec), "--workers", "1", "--out",
                            str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, STORE_ENV: "0"})  # each run stored as it ends
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    shown = _helixsim("results", str(out), "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["status"] == "interrupted"
    assert 0 < info["finished_runs"] < info["planned_runs"]
    # ... and the same command resumes it to the end.
    again = _helixsim("experiment", str(spec), "--workers", "1", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert json.loads(_helixsim("results", str(out), "--json").stdout)["status"] == "complete"


def test_an_interrupted_rerun_is_not_shown_with_the_earlier_jobs_result(tmp_path):
    # A folder that holds a finished experiment, run again by the same command after its runs
    # no longer count (a model change gives new run ids; here the run files are removed), and
    # killed mid-batch: results says interrupted and does not show the earlier job's tables as
    # this one's, though _result.json and summary.parquet are still on disk.
    out = tmp_path / "again"
    spec = _spec(tmp_path, months=120,
                 levels="[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]")
    first = _helixsim("experiment", str(spec), "--workers", "1", "--out", str(out))
    assert first.returncode == 0, first.stderr
    finished = json.loads(_helixsim("results", str(out), "--json").stdout)
    assert finished["status"] == "complete" and finished["tables"]
    for run in (out / "runs").glob("*.parquet"):
        run.unlink()
    job = subprocess.Popen([HELIXSIM, "experiment", str(spec), "--workers", "1", "--out",
                            str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, STORE_ENV: "0"})
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    assert (out / "_result.json").is_file() and (out / "summary.parquet").is_file()
    shown = _helixsim("results", str(out), "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["status"] == "interrupted"
    assert info["tables"] == {}
    assert 0 < info["finished_runs"] < info["planned_runs"]
    assert any("earlier finished job" in line for line in info["lines"])
    again = _helixsim("experiment", str(spec), "--workers", "1", "--out", str(out))
    assert again.returncode == 0, again.stderr
    done = json.loads(_helixsim("results", str(out), "--json").stdout)
    assert done["status"] == "complete" and done["tables"]
    assert done["finished_runs"] == done["planned_runs"]


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_a_batch_whose_workers_all_die_stops_with_a_clear_error(tmp_path):
    """Two workers without nannies (nothing restarts them) are SIGKILLed mid-batch: the
    command says so and exits within the stated wait instead of idling for good."""
    port = _closed_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--no-dashboard"])
    workers = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                check_scheduler(address, timeout=2)
                break
            except SchedulerError:
                assert time.monotonic() < deadline, "the test scheduler did not start"
                time.sleep(0.5)
        workers = [_start([DASK, "worker", address, "--no-nanny", "--nthreads", "1",
                           "--no-dashboard"]) for _ in range(2)]
        out = tmp_path / "lost"
        spec = _spec(tmp_path, months=48, levels="[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]")
        job = subprocess.Popen([HELIXSIM, "experiment", str(spec), "--scheduler", address,
                                "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HELIXSIM_WORKER_TIMEOUT": "5",
                                    STORE_ENV: "0"})  # each run stored as it ends
        deadline = time.monotonic() + 180
        while not list((out / "runs").glob("*.parquet")) and time.monotonic() < deadline:
            assert job.poll() is None, job.stderr.read()
            time.sleep(0.2)
        for w in workers:
            w.kill()
        killed = time.monotonic()
        try:
            _, stderr = job.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            job.kill()
            pytest.fail("the batch hung after its workers died")
        assert time.monotonic() - killed < 60
        assert job.returncode != 0
        assert "every Dask worker has been gone for 5 s" in stderr
        assert "rerun the same command to resume" in stderr
        assert "Traceback" not in stderr, stderr[-3000:]
        done = len(stored_runs(out))
        assert 0 < done < 16
        # New workers: the same command resumes and finishes.
        workers = [_start([DASK, "worker", address, "--no-nanny", "--nthreads", "1",
                           "--no-dashboard"])]
        again = _helixsim("experiment", str(spec), "--scheduler", address, "--out", str(out))
        assert again.returncode == 0, again.stderr
        assert len(stored_runs(out)) == 16
    finally:
        for p in (*workers, scheduler):
            p.kill()
            p.wait()
