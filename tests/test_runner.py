"""The one batch runner: chunks, tasks, the executor factory, and the shared writers."""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from experiments import validation
from experiments.executors import InlineExecutor, executor_for
from experiments.runner import RunSpec, run_many
from experiments.seeding import seed_sequence
from experiments.storage import atomic_write, to_plain, write_json

TINY = {"n_firms": 60, "intake_per_university": 50, "n_universities": 1}
# Resolves, but the model raises when it is built (the timeline takes 2.0 + 3.0 above 1).
BAD = {**TINY, "share_edu_2_0": 0.5, "timeline": [[3, "share_edu_3_0", 0.9]]}


def specs() -> list[RunSpec]:
    good = [RunSpec(f"n{n}", {**TINY, "n_firms": n}, j, 3, 6) for n in (60, 80) for j in range(2)]
    return [*good[:2], RunSpec("bad", BAD, 0, 3, 6), *good[2:]]


@pytest.mark.parametrize("chunk_size", [2, 3, 5])
def test_chunks_give_the_same_runs_and_fail_only_the_run_that_raised(chunk_size):
    one = run_many(specs(), workers=1)
    with executor_for(None, 2) as pool:
        chunked = run_many(specs(), executor=pool, chunk_size=chunk_size)
    for runs in (one, chunked):
        assert [f.spec.label for f in runs.failures] == ["bad"]
        assert "ParameterError" in runs.failures[0].message
    pd.testing.assert_frame_equal(one.summary, chunked.summary)
    assert sorted(chunked.summary["label"].unique()) == ["n60", "n80"]


def test_progress_counts_every_run_once_whatever_the_chunks():
    seen: list[tuple[int, int]] = []
    run_many(specs(), workers=1, chunk_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_factory_always_yields_an_executor():
    with executor_for(None, 1) as inline:
        assert isinstance(inline, InlineExecutor)
        assert inline.submit(pow, 2, 5).result() == 32
        with pytest.raises(ZeroDivisionError):
            inline.submit(divmod, 1, 0).result()
    with executor_for(None, 2) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
    with pytest.raises(ValueError, match="scheduler"), executor_for("  "):
        pass


def test_a_task_of_its_own_returns_its_results_in_the_order_asked():
    asked = [RunSpec("validation", TINY, j, 9, 14) for j in (2, 0, 1)]
    runs = run_many(asked, task=validation.observe, workers=1)
    got = [data for _, data in runs.completed()]
    assert [d.replication for d in got] == [2, 0, 1]
    assert all(isinstance(d, validation.SeedData) for d in got)
    # The same seeding rule as the default task: the firms alive at the end agree.
    tables = run_many(asked, workers=1)
    alive = tables.summary.set_index("replication")["firms_alive"]
    for d in got:
        assert d.extra["firms_alive"] == alive[d.replication]


def test_a_task_that_returns_no_table_cannot_be_stored(tmp_path):
    runs = run_many([RunSpec("v", TINY, 0, 9, 6)], task=validation.observe, workers=1,
                    out_dir=tmp_path)
    assert len(runs.failures) == 1 and "TypeError" in runs.failures[0].message
    assert not list(tmp_path.rglob("*.parquet"))


def test_chunk_size_below_one_is_refused():
    with pytest.raises(ValueError, match="chunk_size"):
        run_many(specs(), chunk_size=0)


def test_the_seeding_rule_is_the_spawn_key_of_the_replication():
    for root, j in ((1, 0), (20261128, 7), (5, 2**32 - 1)):
        a = np.random.default_rng(seed_sequence(root, j)).integers(0, 2**62, 4)
        b = np.random.default_rng(np.random.SeedSequence(root, spawn_key=(j,))).integers(
            0, 2**62, 4)
        assert (a == b).all()
    assert RunSpec("x", {}, 3, 11, 6).seed().spawn_key == (3,)


def test_plain_json_unwraps_numpy_and_writes_no_nan(tmp_path):
    data = {1: np.float64(0.5), "a": (np.int64(3), math.nan), "b": np.array([1, 2]),
            "c": [math.inf, np.bool_(True)]}
    assert to_plain(data) == {"1": 0.5, "a": [3, None], "b": [1, 2], "c": [None, True]}
    path = write_json(data, tmp_path / "x.json")
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
    assert json.loads(path.read_text())["a"] == [3, None]


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "f.txt", "old")

    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # neither text nor bytes: fails while writing
    assert path.read_text() == "old"
    assert not list(tmp_path.glob(".*.tmp"))
