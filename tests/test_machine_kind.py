"""Which kind of machine made each run: the worker says, the run files keep it, the RunSet
lists it and a report's "How this report was made" names it (mixed kinds said as such), since
the same seed gives the same run only on machines of one kind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from run_kinds import relabel, two_kinds

from experiments import commands, machine_kind, run_files
from experiments.machine_kind import KINDS, MIXED, WORDS, describe, vector_maths
from experiments.runner import RunSpec, run_many

TINY = {"n_firms": 60, "intake_per_university": 50, "n_universities": 1}
HERE = vector_maths()
OTHER = next(kind for kind in KINDS if kind != HERE)
BOTH = two_kinds(HERE, OTHER)


def batch(n: int = 3) -> list[RunSpec]:
    return [RunSpec("a", TINY, j, 5, 6) for j in range(n)]


def footer(path: Path) -> dict:
    import pyarrow.parquet as pq

    return json.loads(pq.read_metadata(path).metadata[run_files.META_KEY.encode()])


def test_describe_names_one_kind_both_kinds_and_unknown_runs():
    assert describe() == WORDS[HERE]
    assert describe([OTHER, OTHER]) == WORDS[OTHER]
    both = describe([HERE, OTHER, OTHER])
    assert both == f"{BOTH}: {MIXED}"
    # Runs that did not say (None, or a kind a later version knows) are counted beside.
    assert describe([HERE, None, "arm64"]) == (f"{WORDS[HERE]} (2 of the 3 runs did not "
                                               "record their kind)")
    # No run said: this machine's words, marked as a guess.
    assert describe([None]) == f"{WORDS[HERE]}, this machine's (no run recorded its kind)"
    assert machine_kind.known([None, "x86_v3", "x86_v4", "x86_v3"]) == ["x86_v4", "x86_v3"]


def test_a_machine_that_is_not_x86_64_is_of_the_other_kind(monkeypatch):
    import platform

    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    machine_kind.vector_maths.cache_clear()
    try:
        assert vector_maths() == "other"
    finally:
        monkeypatch.undo()
        machine_kind.vector_maths.cache_clear()
    assert vector_maths() == HERE


@pytest.mark.parametrize("workers", [1, 2])
def test_every_fresh_run_records_the_kind_of_the_worker_that_made_it(tmp_path, workers):
    runs = run_many(batch(), workers=workers, out_dir=tmp_path)
    assert runs.kinds == [HERE] * 3
    # One file or several (runs coming back more than a second apart), in the order the
    # runs came back, which two workers may change.
    metas = [footer(f) for f in run_files.runs_folder(tmp_path).glob("*.parquet")]
    assert [k for m in metas for k in m["kinds"]] == [HERE] * 3
    assert sorted(r for m in metas for r, _ in m["runs"]) == sorted(runs.run_ids)
    # The kind is the runner's record, not left on the tables (pandas would carry it into
    # the batch's tables only when every run had the same).
    assert all(not df.attrs for df in runs.results.values())
    again = run_many(batch(), workers=workers, out_dir=tmp_path)
    assert again.kinds == [HERE] * 3 and not again.steps.attrs


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_records_its_workers_kind_not_the_submitting_processs(tmp_path, monkeypatch,
                                                                    workers):
    """The submitting process here says it is of the other kind. The pool's workers are
    processes of their own (forkserver or spawn: they do not inherit the patch), which find
    this machine's kind; one worker is the submitting process itself."""
    monkeypatch.setattr(machine_kind, "vector_maths", lambda: OTHER)
    runs = run_many(batch(), workers=workers, out_dir=tmp_path)
    assert runs.kinds == [OTHER if workers == 1 else HERE] * 3


def test_a_stored_run_keeps_the_kind_it_was_made_on_when_a_batch_resumes(tmp_path):
    specs = batch()
    first = run_many(specs, workers=1, out_dir=tmp_path)
    relabel(tmp_path, [first.run_ids[1]], OTHER)
    again = run_many([*specs, RunSpec("a", TINY, 3, 5, 6)], workers=1, out_dir=tmp_path)
    # The relabelled run was read, not rerun, and keeps its kind; the new one is this
    # machine's; the files say the same.
    assert again.kinds == [HERE, OTHER, HERE, HERE]
    stored = run_files.index(tmp_path)
    assert [stored[r].kind for r in again.run_ids] == again.kinds
    pd.testing.assert_frame_equal(again.results[first.run_ids[1]].drop(columns="label"),
                                  first.results[first.run_ids[1]].drop(columns="label"))


def test_run_files_without_kinds_read_whole_with_unknown_kinds(tmp_path):
    runs = run_many(batch(2), workers=1)
    tables = [(r, runs.results[r]) for r in runs.run_ids]
    path = run_files.write_runs(tmp_path, tables)  # no kinds given: unknown
    assert footer(path)["kinds"] == [None, None]
    # An earlier version's footer has no "kinds"; a damaged list is ignored, not the runs.
    for kinds in ("absent", "not a list", [HERE], ["arm64", None]):
        info = {"format": run_files.FORMAT, "runs": [[r, len(t)] for r, t in tables]}
        if kinds != "absent":
            info["kinds"] = kinds
        from experiments.storage import write_parquet

        path.unlink()
        write_parquet(pd.concat([t for _, t in tables], ignore_index=True), path,
                      metadata={run_files.META_KEY: json.dumps(info)})
        read = run_files.read_runs(tmp_path, runs.run_ids)
        assert sorted(read) == sorted(runs.run_ids)
        assert [read.kinds[r] for r in runs.run_ids] == [None, None]
    with pytest.raises(ValueError, match="2 machine kinds for 1 runs"):
        run_files.write_runs(tmp_path, tables[:1], [HERE, HERE])


SMALL = """
n_universities = 2
n_firms = 100
intake_per_university = 100
horizon_months = 14
"""


@pytest.mark.parametrize("command", ["run", "compare", "dividend"])
def test_a_report_of_runs_from_two_kinds_of_machine_says_so(tmp_path, command):
    paths = []
    for name, extends in (("k", "model_3_0"), ("b", "baseline")):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'description = "{name}"\nextends = "{extends}"\n[parameters]\n{SMALL}')
        paths.append(str(path))
    out = tmp_path / "out"

    def run() -> None:
        if command == "run":
            commands.run_scenario(paths[0], seeds=2, workers=1, out=out)
        elif command == "compare":
            commands.compare_scenarios(paths[::-1], seeds=2, workers=1, out=out)
        else:
            commands.dividend(paths[0], seeds=2, workers=1, out=out)
    run()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"| Vector maths | {WORDS[HERE]} |" in md
    relabel(out, run_files.stored_runs(out)[:1], OTHER)
    run()  # every run read back
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"| Vector maths | {BOTH}: runs made on machines of several kinds" in md


def test_results_counts_the_runs_of_each_machine_kind(tmp_path):
    from typer.testing import CliRunner

    from helixsim.cli import app

    path = tmp_path / "k.toml"
    path.write_text(f'description = "k"\nextends = "model_3_0"\n[parameters]\n{SMALL}')
    out = tmp_path / "out"

    def results(*extra: str) -> str:
        done = CliRunner().invoke(app, ["results", str(out), *extra])
        assert done.exit_code == 0, done.output
        return done.stdout

    ran = CliRunner().invoke(app, ["run", str(path), "--seeds", "3", "--workers", "1",
                                   "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert f"runs stored: 3 (runs/*.parquet), made on {HERE}\n" in results()
    last = json.loads((out / "_result.json").read_text())["run_ids"][2]  # replication 2
    relabel(out, [last], OTHER)
    counts = {HERE: 2, OTHER: 1}
    first, second = BOTH.split(" and ")
    assert (f"made on {first} ({counts[first]}) and {second} ({counts[second]}) "
            f"({MIXED})") in results()
    assert json.loads(results("--json"))["machine_kinds"] == counts
    # Run again on two seeds: the result is made of replications 0 and 1 only, whose kinds
    # are counted; the third run stays on disk, apart.
    ran = CliRunner().invoke(app, ["run", str(path), "--seeds", "2", "--workers", "1",
                                   "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert f"runs stored: 2 (runs/*.parquet), made on {HERE}\n" in results()
    assert json.loads(results("--json"))["machine_kinds"] == {HERE: 2}


def test_a_worker_of_an_earlier_version_gives_runs_of_unknown_kind():
    """A Dask worker whose helixsim predates machine kinds sends its chunk's outcomes alone:
    its runs are of unknown kind, not failures."""
    from concurrent.futures import Future

    from experiments.runner import _chunk_outcomes

    chunk = batch(2)
    for sent, kind in (([(True, "a"), (True, "b")], None), (("x86_v3", [(True, "a"),
                                                                       (True, "b")]), "x86_v3")):
        future: Future = Future()
        future.set_result(sent)
        got = list(_chunk_outcomes(chunk, future))
        assert [(ok, value, k) for _, ok, value, k in got] == [(True, "a", kind),
                                                                 (True, "b", kind)]


# A child process's numpy against the C library's routines (numba's scalar exp, pow, log and
# log1p call them) on the same values: the kind it reports and how many results differ in
# their bits. Values as a run meets them: exponents around 0, sizes and ratios of any scale.
_MATHS_CHILD = """
import json, math, sys
import numpy as np
from numba import njit
from experiments.machine_kind import vector_maths

@njit(cache=False)
def scalar(y, x, e, out):
    for i in range(len(x)):
        out[0, i] = math.exp(y[i])
        out[1, i] = x[i] ** e
        out[2, i] = math.log(x[i])
        out[3, i] = math.log1p(x[i])

rng = np.random.default_rng(int(sys.argv[1]))
y, x, e = rng.normal(0.0, 3.0, 200_000), rng.lognormal(0.0, 2.0, 200_000), -0.35
out = np.empty((4, len(x)))
scalar(y, x, e, out)
vector = np.stack([np.exp(y), x ** e, np.log(x), np.log1p(x)])
print(json.dumps([vector_maths(), int((out.view(np.int64) != vector.view(np.int64)).sum())]))
"""


def _child_maths(seed: int, portable: bool) -> tuple[str, int]:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != machine_kind.PORTABLE_VARIABLE}
    if portable:
        env[machine_kind.PORTABLE_VARIABLE] = machine_kind.portable_setting()
    done = subprocess.run([sys.executable, "-c", _MATHS_CHILD, str(seed)], env=env,
                          capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    kind, differ = json.loads(done.stdout.splitlines()[-1])
    return kind, differ


def _svml() -> bool:
    from numba.core import config

    return bool(config.USING_SVML)


@pytest.mark.skipif(HERE == "other", reason="no x86-64 vector maths to switch off")
@pytest.mark.skipif(_svml(), reason="numba vectorises the scalar loop with Intel's SVML here")
@pytest.mark.parametrize("seed", [1, 2])
def test_the_portable_setting_gives_the_c_librarys_maths_and_kind_x86_v3(seed):
    """With ``portable_setting()`` in NPY_DISABLE_CPU_FEATURES, numpy's exp, pow, log and log1p
    are the C library's to the last bit and the process says it is x86_v3, on either x86
    kind. On an AVX-512 machine, where the setting changes something, the same child without
    it is x86_v4 and differs in some values (so the comparison can see a difference); on
    another x86 machine both children are the C library's, and the test checks no more than
    that."""
    kind, differ = _child_maths(seed, portable=True)
    assert (kind, differ) == ("x86_v3", 0)
    natural, differ = _child_maths(seed, portable=False)
    if machine_kind.PORTABLE_VARIABLE not in os.environ:  # else this process is x86_v3 too
        assert natural == HERE
    assert natural in ("x86_v4", "x86_v3")
    if natural == "x86_v4":
        assert differ > 0
    else:
        assert differ == 0


@pytest.mark.skipif(HERE != "x86_v4", reason="the x86_v3 tables are test_fast_path's own here")
def test_an_avx512_machine_with_the_portable_setting_gives_the_x86_v3_reference_runs():
    """The fast path's reference runs (tests/test_fast_path.py) on this AVX-512 machine with
    numpy's AVX-512 routines switched off: the test then holds them to the tables made on an
    AVX2 machine (tests/fast_path_reference/x86_v3/), and they pass."""
    import os
    import subprocess
    import sys

    root = Path(__file__).parent.parent
    env = dict(os.environ, **{machine_kind.PORTABLE_VARIABLE: machine_kind.portable_setting()})
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(root / "tests" / "test_fast_path.py")],
                          env=env, capture_output=True, text=True, timeout=900, cwd=root)
    assert done.returncode == 0, done.stdout[-3000:]
    # Every reference test ran, the x86_v3-only one included (skipped on x86_v4 otherwise).
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-1000:]
