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
from experiments.runner import KEY_COLUMNS, RunSpec, run_many, run_table
from experiments.seeding import seed_sequence
from experiments.storage import arrow_table, atomic_write, to_plain, write_json, write_parquet

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
            "c": [math.inf, np.bool_(True)], "d": [True, None, "x", 2, -1.5, -math.inf]}
    plain = to_plain(data)
    assert plain == {"1": 0.5, "a": [3, None], "b": [1, 2], "c": [None, True],
                     "d": [True, None, "x", 2, -1.5, None]}
    assert [type(v) for v in plain["d"]] == [bool, type(None), str, int, float, type(None)]
    path = write_json(data, tmp_path / "x.json")
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
    assert json.loads(path.read_text())["a"] == [3, None]


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "f.txt", "old")

    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # neither text nor bytes: fails while writing
    assert path.read_text() == "old"
    assert not list(tmp_path.glob(".*.tmp"))


def tables() -> dict[str, pd.DataFrame]:
    """Tables of every kind the writers meet: a run table, and columns of each dtype."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=7)
    x[[1, 5]] = np.nan
    text = pd.Series(["a", None, "c", "d", "e", "f", "g"], dtype="str")
    plain = pd.DataFrame({"run_id": "r1", "x": x, "n": np.arange(7), "ok": x > 0,
                          "label": text, "small": np.arange(7, dtype=np.int32)})
    return {
        "run table": run_many([RunSpec("n60", TINY, 1, 3, 6)], workers=1).steps,
        "every plain dtype, NaN and a missing text": plain,
        "a shuffled index": plain.iloc[::-1],
        "category": plain.assign(label=plain["label"].astype("category")),
        "dates": plain.assign(when=pd.date_range("2026-01-01", periods=7)),
        "objects": plain.assign(label=plain["label"].astype(object)),
        "nullable integers": plain.assign(n=pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64")),
        "a number as a column name": plain.rename(columns={"x": 3}),
    }


@pytest.mark.parametrize("kind", list(tables()))
def test_a_parquet_table_reads_back_as_pandas_wrote_it(tmp_path, kind):
    import pyarrow.parquet as pq

    df = tables()[kind]
    ours = write_parquet(df, tmp_path / "ours.parquet")
    theirs = tmp_path / "pandas.parquet"
    df.to_parquet(theirs, index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(ours), pd.read_parquet(theirs),
                                  check_exact=True)
    # The same columns, types and nulls for any other reader (NaN is stored as null).
    a, b = pq.read_table(ours), pq.read_table(theirs)
    assert a.schema.remove_metadata() == b.schema.remove_metadata()
    assert [c.null_count for c in a.columns] == [c.null_count for c in b.columns]


def test_the_fast_conversion_covers_the_run_tables_and_leaves_the_rest_to_pandas():
    kinds = tables()
    assert arrow_table(kinds["run table"]) is not None
    assert arrow_table(kinds["every plain dtype, NaN and a missing text"]) is not None
    for kind in ("category", "dates", "objects", "nullable integers",
                 "a number as a column name"):
        assert arrow_table(kinds[kind]) is None, kind


@pytest.mark.parametrize("seed", [1, 5, 12])
def test_the_run_table_is_the_model_table_with_the_keys_inserted_in_front(seed):
    from simulation.model import EcosystemModel

    spec = RunSpec(f"n{seed}", {**TINY, "n_firms": 60 + 10 * seed}, seed % 3, seed, 14)
    model = EcosystemModel(rng=spec.seed(), parameters=spec.resolved).run()
    # What the runner built before: pandas' own inference of every key column's dtype.
    expected = model.dataframe().reset_index()
    expected.insert(0, "run_id", spec.run_id)
    expected.insert(1, "label", spec.label)
    expected.insert(2, "replication", spec.replication)
    got = run_table(spec, *model.indicator_values())
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.columns[:4]) == list(KEY_COLUMNS)
    assert list(got.dtypes) == list(expected.dtypes)
    # The runner's table is this one, and so is what its Parquet file reads back as.
    runs = run_many([spec], workers=1)
    pd.testing.assert_frame_equal(runs.steps, expected, check_exact=True)


def test_the_float_columns_are_written_without_dictionaries_or_statistics(tmp_path):
    import pyarrow.parquet as pq

    df = tables()["every plain dtype, NaN and a missing text"]
    meta = pq.ParquetFile(write_parquet(df, tmp_path / "t.parquet")).metadata.row_group(0)
    for i, name in enumerate(df.columns):
        column = meta.column(i)
        floats = df[name].dtype.kind == "f"
        assert column.is_stats_set != floats, name
        if df[name].dtype.kind != "b":  # (Parquet never dictionary-encodes booleans)
            assert ("RLE_DICTIONARY" in column.encodings) != floats, name
