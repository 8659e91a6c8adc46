"""The run files of an output folder: several runs a file, when they are written, what reads
them back (this layout and the one of earlier versions), and what is refused."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from experiments import run_files
from experiments.machine_kind import vector_maths
from experiments.run_files import RunFileError, RunWriter, stored_runs
from experiments.runner import RunSpec, run_many
from experiments.storage import write_parquet

TINY = {"n_firms": 60, "intake_per_university": 50, "n_universities": 1}


def batch(n: int = 3, horizon: int = 6) -> list[RunSpec]:
    return [RunSpec(label, {**TINY, "n_firms": f}, j, 5, horizon)
            for label, f in (("a", 60), ("b", 75)) for j in range(n)]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    runs = run_many(batch(), workers=1)
    assert not runs.failures
    return runs.steps


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def table(run: int, rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"run": np.full(rows, run), "x": np.arange(rows) / 7.0})


def test_the_writer_writes_once_it_holds_max_runs_or_its_oldest_run_has_waited(tmp_path):
    clock = Clock()
    writer = RunWriter(tmp_path, max_runs=3, linger=1.0, clock=clock)
    assert writer.due_in() is None
    for i in range(2):
        assert writer.add(f"{i:016x}", table(i)) == []
        clock.now += 0.4
    assert stored_runs(tmp_path) == []  # two runs, the oldest 0.8 s old: kept
    assert writer.due_in() == pytest.approx(0.2)
    writer.add(f"{2:016x}", table(2))  # the third: written at once
    assert stored_runs(tmp_path) == [f"{i:016x}" for i in range(3)] and len(writer) == 0
    writer.add(f"{3:016x}", table(3))
    clock.now += 0.99
    assert writer.flush_due() == [] and len(writer) == 1
    clock.now += 0.01  # the oldest has waited its second
    assert writer.due_in() == 0.0
    writer.flush_due()
    assert len(writer) == 0 and len(stored_runs(tmp_path)) == 4
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 2


def test_runs_of_different_columns_go_to_different_files_and_read_back_as_written(tmp_path):
    writer = RunWriter(tmp_path, max_runs=100)
    tables = {"00000000000000a1": table(1, 4), "00000000000000a2": table(2, 2),
              "00000000000000b1": table(3).assign(label=pd.array(["p", None, "q"], dtype="str")),
              "00000000000000c1": table(4).astype({"x": np.float32}),
              "00000000000000a3": table(5, 1)}
    for run_id, df in tables.items():
        writer.add(run_id, df)
    assert writer.flush() == []
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 3  # a*, b1, c1
    back = run_files.read_runs(tmp_path, tables)
    assert back.keys() == tables.keys()
    for run_id, df in tables.items():
        pd.testing.assert_frame_equal(back[run_id], df, check_exact=True)


def test_a_run_without_rows_is_not_stored():
    writer = RunWriter("unused", max_runs=1)
    assert writer.add("00000000000000e1", table(1, 0)) == [] and len(writer) == 0


def test_the_runner_writes_due_runs_while_no_other_run_comes_back(tmp_path, monkeypatch):
    monkeypatch.setattr(run_files, "FILE_SECONDS", 0.2)
    specs = [RunSpec("slow" if j == 0 else "quick", TINY, j, 5, 6) for j in range(4)]
    release = threading.Event()
    seen: list[list[str]] = []

    def watch() -> None:
        # The quick runs are stored while the slow one still runs (it waits for this).
        deadline = time.monotonic() + 30
        while len(stored_runs(tmp_path)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        seen.append(stored_runs(tmp_path))
        release.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(2) as pool:
        runs = run_many(specs, task=held_table(release), executor=pool, out_dir=tmp_path)
    watcher.join()
    assert not runs.failures
    assert seen == [sorted(s.run_id for s in specs[1:])]
    assert stored_runs(tmp_path) == sorted(s.run_id for s in specs)


def held_table(release: threading.Event):
    def task(spec: RunSpec) -> pd.DataFrame:
        if spec.label == "slow":
            release.wait(60)
        return table(spec.replication)
    return task


@pytest.mark.parametrize("writer", ["pandas", "helixsim"])
def test_a_folder_of_one_file_per_run_resumes_without_running_and_reads_back_the_same(
        tmp_path, reference, writer):
    """The layout of earlier versions: ``runs/<run_id>.parquet``, one run each, written by
    pandas (the start of the fast path) or by the runner's own writer (the third round)."""
    specs = batch()
    for spec in specs:
        df = reference[reference["run_id"] == spec.run_id].reset_index(drop=True)
        path = tmp_path / "runs" / f"{spec.run_id}.parquet"
        if writer == "pandas":
            path.parent.mkdir(exist_ok=True)
            df.to_parquet(path, index=False)
        else:
            write_parquet(df, path)
    (tmp_path / "runs" / f"{specs[-1].run_id}.parquet").unlink()  # one run missing
    seen: list[tuple[int, int]] = []
    runs = run_many(specs, workers=1, out_dir=tmp_path,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (len(specs) - 1, len(specs))  # only the missing run ran
    pd.testing.assert_frame_equal(runs.steps, reference, check_exact=True)
    # The missing run went to a file of the new layout, beside the old ones.
    assert len(list((tmp_path / "runs").glob("part-*.parquet"))) == 1
    assert stored_runs(tmp_path) == sorted(s.run_id for s in specs)
    again = run_many(specs, workers=1, out_dir=tmp_path)
    pd.testing.assert_frame_equal(again.steps, reference, check_exact=True)
    # And the mixed folder still reads as one table.
    folder = pd.read_parquet(tmp_path / "runs").sort_values(["run_id", "step"])
    expected = reference.sort_values(["run_id", "step"])
    assert folder["value_added"].tolist() == expected["value_added"].tolist()


def test_several_runs_a_file_read_back_the_same_and_the_folder_is_one_table(
        tmp_path, reference):
    specs = batch()
    first = run_many(specs, workers=1, out_dir=tmp_path)
    (part,) = (tmp_path / "runs").glob("*.parquet")
    info = json.loads(__import__("pyarrow.parquet").parquet.read_metadata(part)
                      .metadata[run_files.META_KEY.encode()])
    assert info == {"format": 1, "runs": [[s.run_id, 7] for s in specs],
                    "kinds": [vector_maths()] * len(specs)}
    again = run_many(specs, workers=1, out_dir=tmp_path, task=never_run)
    for runs in (first, again):
        pd.testing.assert_frame_equal(runs.steps, reference, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "runs"), reference,
                                  check_exact=True)


def never_run(spec: RunSpec) -> pd.DataFrame:
    raise AssertionError(f"{spec.label} ran again")


def test_a_run_file_of_another_format_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "runs" / "part-0123456789abcdef.parquet"
    write_parquet(table(1), path, metadata={run_files.META_KEY: json.dumps(
        {"format": 2, "runs": [["00000000000000f1", 3]]})})
    with pytest.raises(RunFileError, match=r"part-0123456789abcdef.parquet: helixsim.runs: a "
                                           r"run file of format 2.*this one reads format 1"):
        run_many(batch(1), workers=1, out_dir=tmp_path)
    assert path.is_file()  # left as it was


def test_a_file_whose_footer_lists_other_rows_than_it_holds_is_damaged(tmp_path):
    path = tmp_path / "runs" / "part-0123456789abcdef.parquet"
    write_parquet(table(1), path, metadata={run_files.META_KEY: json.dumps(
        {"format": 1, "runs": [["00000000000000f1", 4]]})})
    assert stored_runs(tmp_path) == [] and path.is_file()  # (a reader only reads)
    assert run_files.read_runs(tmp_path, ["00000000000000f1"]) == {}
    assert not path.exists() and path.with_name(f".{path.name}.damaged").is_file()


def _cut_in_half(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # its footer is lost


def _no_run_list(path):
    write_parquet(pd.read_parquet(path), path)  # a part file whose footer names no runs


def _data_unreadable(path):
    # The footer (most of a small file: the schema) stays whole and lists the runs; the
    # first column's first page header is overwritten.
    data = bytearray(path.read_bytes())
    data[4:68] = bytes(64)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "what"), [
    (_cut_in_half, "footer unreadable"), (_no_run_list, "no helixsim.runs list"),
    (_data_unreadable, "(unreadable: ")])
def test_a_damaged_run_file_is_set_aside_with_one_line_on_stderr(tmp_path, capsys, damage,
                                                                 what):
    """The runner runs a damaged file's runs again; it says so once, on stderr: the file,
    what was wrong with it and where it was moved."""
    specs = batch(2)
    run_many(specs, workers=1, out_dir=tmp_path)
    (path,) = (tmp_path / "runs").glob("*.parquet")
    damage(path)
    capsys.readouterr()
    again = run_many(specs, workers=1, out_dir=tmp_path)
    assert not again.failures and len(again.results) == len(specs)
    moved = path.with_name(f".{path.name}.damaged")
    assert moved.is_file()  # (and the runs run again, stored under the same name)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert str(path) in err and what in err and str(moved) in err
    assert stored_runs(tmp_path) == sorted(s.run_id for s in specs)  # stored again
    run_many(specs, workers=1, out_dir=tmp_path)
    assert capsys.readouterr().err == ""  # said once: the file is out of the way


def test_a_batch_stopped_by_an_exception_stores_every_run_it_finished(tmp_path, monkeypatch):
    monkeypatch.setattr(run_files, "FILE_SECONDS", 3600.0)  # nothing due before the end
    specs = batch()

    def stop_after_three(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt  # Ctrl-C after the third run

    with pytest.raises(KeyboardInterrupt):
        run_many(specs, workers=1, out_dir=tmp_path, progress=stop_after_three)
    assert stored_runs(tmp_path) == sorted(s.run_id for s in specs[:3])
    seen: list[tuple[int, int]] = []
    run_many(specs, workers=1, out_dir=tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (3, len(specs))


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("0.25", 0.25), ("-3", 0.0),
                                                ("soon", run_files.FILE_SECONDS)])
def test_the_wait_before_a_run_is_stored_is_set_by_the_environment(monkeypatch, value,
                                                                    seconds):
    monkeypatch.setenv(run_files.STORE_ENV, value)
    assert RunWriter("unused").linger == seconds
    monkeypatch.delenv(run_files.STORE_ENV)
    assert RunWriter("unused").linger == run_files.FILE_SECONDS == 1.0


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_the_folder_reads_the_same_however_its_runs_were_grouped_into_files(tmp_path, reference,
                                                                              seed):
    # Which runs share a file depends on when they finished; the folder read as one table,
    # and the per-year means over replications made from it, must not.
    from experiments import export

    tables = [(run_id, df.reset_index(drop=True)) for run_id, df in reference.groupby(
        "run_id", sort=False)]
    order = np.random.default_rng(seed).permutation(len(tables))
    one_each, grouped = tmp_path / "one_each", tmp_path / "grouped"
    for i in range(len(tables)):
        run_files.write_runs(one_each, [tables[i]])
    shuffled = [tables[i] for i in order]
    run_files.write_runs(grouped, shuffled[:2])
    run_files.write_runs(grouped, shuffled[2:])
    a, b = export.read_runs(one_each), export.read_runs(grouped)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(export.per_year(a), export.per_year(b), check_exact=True)
