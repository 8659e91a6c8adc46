"""The posterior calibration (experiments/posterior.py) on a stand-in model with a known answer:
a + b and a − b identify a and b, c changes nothing. The posterior must cover the true values,
be narrow for a and b and as wide as the prior for c; it must not depend on the number of
workers, and an interrupted calibration resumed must give the same posterior."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from typer.testing import CliRunner

from experiments.executors import InlineExecutor
from experiments.posterior import (
    POSTERIOR_FILE,
    SIMULATIONS_FILE,
    TOY_TRUTH,
    _log_interval,
    calibrate_posterior,
    history_match,
    parameter_summary,
    posterior_of,
    toy_problem,
    wave_sizes,
)
from helixsim.cli import app

BUDGET, WAVES, SEEDS = 36, 3, 2


def _posterior(root_seed: int):
    problem = toy_problem()
    hm = history_match(problem, budget=BUDGET, waves=WAVES, seeds=SEEDS, root_seed=root_seed,
                       executor=InlineExecutor())
    return hm, posterior_of(hm.emulators, problem.free, root_seed)


@pytest.mark.parametrize("root_seed", [1, 2, 3])
def test_posterior_covers_the_truth_narrow_where_identified_wide_where_not(root_seed):
    hm, post = _posterior(root_seed)
    summary = parameter_summary(post).set_index("parameter")
    for name, value in TOY_TRUTH.items():
        row = summary.loc[name]
        assert row.posterior_low <= value <= row.posterior_high, (name, row.to_dict())
    # The ranges of a + b and a − b (width 0.1 each) leave a and b about 0.1 of the prior's 1.
    assert summary.loc["a", "width_ratio"] < 0.25
    assert summary.loc["b", "width_ratio"] < 0.25
    assert summary.loc["c", "width_ratio"] > 0.8
    assert summary.loc["a", "reading"] == summary.loc["b", "reading"] == "identified"
    assert summary.loc["c", "reading"] == "not identified"
    assert len(hm.table) == BUDGET


def test_later_waves_refocus_on_the_region_the_targets_allow():
    hm, _ = _posterior(1)
    t = hm.table
    first, last = t[t["wave"] == 1], t[t["wave"] == WAVES]
    # Wave 1 fills the prior; the last wave lies (mostly) near a = 0.3, b = 0.6.

    def near(w: pd.DataFrame) -> float:
        return float((((w["a"] - 0.3).abs() < 0.15) & ((w["b"] - 0.6).abs() < 0.15)).mean())

    assert near(first) < 0.3
    assert near(last) > 0.7
    assert hm.waves[1]["nroy_share_before"] < 0.2


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    result = calibrate_posterior(toy_problem(), out=out, budget=BUDGET, waves=WAVES,
                                 seeds=SEEDS, check=4, root_seed=7, workers=1)
    return out, result


def test_posterior_file_has_one_column_per_parameter_and_weights(one_worker):
    out, result = one_worker
    post = pd.read_parquet(out / POSTERIOR_FILE)
    assert list(post.columns) == ["a", "b", "c", "weight"]
    assert (post["weight"] >= 0).all()
    assert math.isclose(post["weight"].sum(), 1.0, rel_tol=1e-9)
    assert post[["a", "b", "c"]].min().min() >= 0.0 and post[["a", "b", "c"]].max().max() <= 1
    assert result["simulations"] == BUDGET and result["check_draws"] == 4
    assert result["model_runs"] == (BUDGET + 4) * SEEDS
    for name in ("report.md", "report.html", "figures/intervals.png", "figures/corner.png",
                 "figures/predictive.png"):
        assert (out / name).exists(), name


def test_same_posterior_on_one_and_two_workers(one_worker, tmp_path):
    out, _ = one_worker
    calibrate_posterior(toy_problem(), out=tmp_path, budget=BUDGET, waves=WAVES, seeds=SEEDS,
                        check=4, root_seed=7, workers=2)
    pd.testing.assert_frame_equal(pd.read_parquet(out / POSTERIOR_FILE),
                                  pd.read_parquet(tmp_path / POSTERIOR_FILE))


class StopCalibrationError(Exception):
    pass


def test_resume_after_interruption_gives_the_same_posterior(one_worker, tmp_path):
    out, _ = one_worker

    def stop_midway(done: int, total: int) -> None:
        if done >= 30:  # inside wave 1 (18 simulations, 36 runs), after a few batches
            raise StopCalibrationError

    with pytest.raises(StopCalibrationError):
        calibrate_posterior(toy_problem(), out=tmp_path, budget=BUDGET, waves=WAVES,
                            seeds=SEEDS, check=4, root_seed=7, workers=1, progress=stop_midway)
    saved = pd.read_parquet(tmp_path / SIMULATIONS_FILE)
    assert 0 < len(saved) < BUDGET
    assert not (tmp_path / POSTERIOR_FILE).exists()
    seen: list[tuple[int, int]] = []
    result = calibrate_posterior(toy_problem(), out=tmp_path, budget=BUDGET, waves=WAVES,
                                 seeds=SEEDS, check=4, root_seed=7, workers=1,
                                 progress=lambda done, total: seen.append((done, total)))
    # Progress counts the replayed runs as done and ends at every run of the command.
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == ((BUDGET + 4) * SEEDS,) * 2
    assert done[1] >= len(saved) * SEEDS > 0
    assert result["reused"] == len(saved)
    assert result["simulated"] == BUDGET - len(saved)
    # A second rerun runs nothing: the waves and the predictive check are replayed.
    again: list[int] = []
    calibrate_posterior(toy_problem(), out=tmp_path, budget=BUDGET, waves=WAVES, seeds=SEEDS,
                        check=4, root_seed=7, workers=1,
                        progress=lambda done, total: again.append(done))
    assert again[0] == 0 and set(again[1:]) == {(BUDGET + 4) * SEEDS}
    pd.testing.assert_frame_equal(pd.read_parquet(out / POSTERIOR_FILE),
                                  pd.read_parquet(tmp_path / POSTERIOR_FILE))


def test_another_seed_gives_another_posterior_sample(one_worker, tmp_path):
    out, _ = one_worker
    calibrate_posterior(toy_problem(), out=tmp_path, budget=BUDGET, waves=WAVES, seeds=SEEDS,
                        check=0, root_seed=8, workers=1)
    a, b = pd.read_parquet(out / POSTERIOR_FILE), pd.read_parquet(tmp_path / POSTERIOR_FILE)
    assert len(a) != len(b) or not np.allclose(a.to_numpy(), b.to_numpy())


def test_wave_sizes_spend_the_budget():
    for budget, waves in [(36, 3), (120, 3), (150, 4), (12, 3), (10, 1)]:
        sizes = wave_sizes(budget, waves)
        assert sum(sizes) == budget and min(sizes) >= 1
        assert sizes[0] >= budget // 2


def test_log_interval_matches_the_normal_cdf_and_stays_finite_in_the_tails():
    lo = np.array([-1.0, -3.0, 0.5, 20.0, -40.0, 35.0])
    hi = np.array([1.0, -1.0, 2.0, 21.0, -39.0, np.inf])
    got = _log_interval(lo, hi, norm)
    direct = np.log(norm.cdf(hi[:3]) - norm.cdf(lo[:3]))
    np.testing.assert_allclose(got[:3], direct, rtol=1e-10)
    assert np.all(np.isfinite(got))
    # Farther out is less likely: the tails are ordered, not floored to one value.
    assert got[3] > got[5] and got[4] < got[1]
    np.testing.assert_allclose(got[3], norm.logsf(20.0), rtol=1e-3)


@pytest.mark.parametrize("args", [["--budget", "3"], ["--seeds", "0"], ["--waves", "0"],
                                  ["--check", "-1"], ["--workers", "0"], ["--months", "0"],
                                  ["--seed", "-1"]])
def test_cli_bad_option_exit_2_one_line_nothing_written(args, tmp_path):
    out = tmp_path / "p"
    result = CliRunner().invoke(app, ["posterior", "--out", str(out), *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: " + args[0]), result.output
    assert not out.exists()


def test_the_report_names_the_machine_kind_of_the_workers_runs(tmp_path, monkeypatch):
    """The provenance table gives the kinds of the workers that made the runs (on a Dask
    cluster not this machine's): here the runner's workers say the other kind for the
    history match's 12 runs and this machine's for the 2 posterior predictive runs."""
    from types import SimpleNamespace

    from run_kinds import two_kinds

    from experiments import runner
    from experiments.machine_kind import KINDS, MIXED, vector_maths

    here = vector_maths()
    other = next(k for k in KINDS if k != here)
    calls = []

    def worker_kind() -> str:
        calls.append(1)
        return other if len(calls) <= 12 else here
    monkeypatch.setattr(runner, "machine_kind", SimpleNamespace(vector_maths=worker_kind))
    calibrate_posterior(toy_problem(), out=tmp_path, budget=12, waves=1, seeds=1, check=2,
                        root_seed=7, workers=1)
    assert len(calls) == 14  # one chunk a run
    meta = json.loads((tmp_path / "posterior.json").read_text())["meta"]
    both = two_kinds(here, other)
    assert meta["vector_maths"] == f"{both}: {MIXED}"
    assert f"| Vector maths | {both}:" in (tmp_path / "report.md").read_text()
